"""One way to print rows and reports, in every format the commands offer.

The formats for programs (csv, tsv, json, jsonl) are written by
:mod:`~olyscrape.cli.writers`, a row at a time, and never change a value (strict JSON:
an infinite float is ``null``). Tables are for reading: NULL shows as ``NULL``, a BLOB as
``<Binary: N bytes>``, line breaks as spaces (a row is one line); on a terminal the
table fits its width, cutting the longest text cells (never a URL, never inside a
terminal escape code); piped elsewhere, nothing is cut. A long result is printed as
tables of :data:`TABLE_WINDOW` rows, each fitted on its own, so that memory stays bounded.

Rows and reports go through a sink of :mod:`~olyscrape.cli.sinks` (standard output or
``-o FILE``), which fails in one line on a write error.

Reports (a crawl's summary, a probe's, the archive's figures) are objects with a text and
a JSON form; :func:`echo_report` prints one, and their fixed tables are drawn by
:func:`aligned`.
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click
from tabulate import tabulate

from olyscrape.cli import sinks
from olyscrape.cli.writers import MACHINE_FORMATS, as_sequences, write_rows

FORMATS = ("table", *MACHINE_FORMATS)
#: Rows a streamed table holds at once: a longer result is printed as several tables.
TABLE_WINDOW = 1000
T = TypeVar("T")
NULL = "NULL"
#: Columns never cut in a table: the archive's keys, to copy whole.
WHOLE = frozenset({"url", "article_url", "canonical_url", "image_url"})
_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
_NARROWEST = 12  # a cut cell keeps at least this many characters


def _table_value(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bytes):
        return f"<Binary: {len(value):,} bytes>"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return repr(value)  # 1.0 stays 1.0
    return _LINE_BREAKS.sub(" ", str(value))  # a row stays one line (a body's paragraphs)


def visible_width(text: str) -> int:
    return len(_ESCAPE.sub("", text))


def cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` visible characters with an ellipsis, never inside an
    escape code; an escape left open is closed."""
    if visible_width(text) <= width:
        return text
    out, shown, pos, opened = [], 0, 0, False
    while pos < len(text) and shown < width - 1:
        match = _ESCAPE.match(text, pos)
        if match:
            out.append(match.group())
            opened = match.group() != "\x1b[0m"
            pos = match.end()
            continue
        out.append(text[pos])
        shown += 1
        pos += 1
    return "".join(out) + ("\x1b[0m" if opened else "") + "…"


def _fit(cells: list[list[str]], columns: list[str], width: int) -> list[list[str]]:
    """Cut the widest cuttable columns until the table fits ``width`` (if it can)."""
    widths = [
        max([visible_width(c), *(visible_width(row[i]) for row in cells)])
        for i, c in enumerate(columns)
    ]
    gaps = 2 * (len(columns) - 1)
    cuttable = [i for i, c in enumerate(columns) if c not in WHOLE]
    while sum(widths) + gaps > width and cuttable:
        widest = max(cuttable, key=lambda i: widths[i])
        target = max(_NARROWEST, widths[widest] - (sum(widths) + gaps - width))
        if target >= widths[widest]:
            break
        widths[widest] = target
        cuttable = [i for i in cuttable if widths[i] > _NARROWEST]
    return [[cut(cell, widths[i]) for i, cell in enumerate(row)] for row in cells]


def render(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    width: int | None = None,
    headers: bool = True,
) -> str:
    """``rows`` as an aligned table, CSV (with a header row unless ``headers=False``), one
    JSON array, or JSON lines. ``width`` fits a table to a terminal; None cuts nothing.

    List values (an article's partners) stay lists in JSON and are comma-joined elsewhere.
    """
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt in MACHINE_FORMATS:
        text = "".join(write_rows(as_sequences(rows, columns), fmt, columns, headers=headers))
        return text[:-1] if text.endswith("\n") else text
    if fmt == "table":
        if not rows:
            return "(no rows)"
        cells = [[_table_value(row.get(c)) for c in columns] for row in rows]
        if width:
            cells = _fit(cells, columns, width)
        numeric = [
            all(isinstance(row.get(c), (int, float)) or row.get(c) is None for row in rows)
            for c in columns
        ]
        align = ["right" if n else "left" for n in numeric]
        return tabulate(cells, headers=columns, disable_numparse=True, colalign=align)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def terminal_width(stream: Any) -> int | None:
    """The width to fit tables to: the terminal's, or None when ``stream`` is no terminal."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    return shutil.get_terminal_size((100, 24)).columns


def aligned(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Collection[int] = (),
    widths: Sequence[int] = (),
    totals: Sequence[Sequence[str]] = (),
) -> list[str]:
    """A plain-text table as lines, for a report read on one screen: columns two spaces
    apart, each as wide as its widest cell, its header or ``widths[i]``; the columns
    numbered in ``right`` aligned right; a dashed rule as long as the header under it,
    and another above the ``totals`` rows. A last column aligned left is not padded."""
    every = [*rows, *totals]
    sizes = [
        max(len(name), widths[i] if i < len(widths) else 0, *(len(row[i]) for row in every))
        for i, name in enumerate(columns)
    ]
    last = len(columns) - 1

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(sizes[i]) if i in right else cell if i == last else cell.ljust(sizes[i])
            for i, cell in enumerate(cells)
        )

    header = line(columns)
    rule = "-" * len(header)
    lines = [header, rule, *(line(row) for row in rows)]
    if totals:
        lines += [rule, *(line(row) for row in totals)]
    return lines


class Report(Protocol):
    """What a command prints: a text for people, one JSON object for programs."""

    def render(self) -> str: ...

    def to_json(self) -> str: ...


def echo_report(report: Report, fmt: str, *, err: bool = False, output: Path | None = None) -> None:
    """``report`` as one JSON object (``--format json``), else as its text: on stdout, or
    into ``output`` (see :func:`~olyscrape.cli.sinks.open_sink`)."""
    text = report.to_json() if fmt == "json" else report.render()
    if err:
        click.echo(text, err=True)
        return
    with sinks.open_sink(output) as sink:
        sink.write(text + "\n")


def echo_rows(
    rows: Iterable[dict[str, Any]],
    fmt: str,
    columns: list[str] | None = None,
    headers: bool = True,
    *,
    output: Path | None = None,
) -> None:
    """Rows on stdout (or into ``output``); a table fits the terminal, and is cut nowhere
    when piped."""
    rows = iter(rows)
    if columns is None:
        first = next(rows, None)
        columns = list(first) if first else []
        rows = itertools.chain([first] if first else [], rows)
    with sinks.open_sink(output) as sink:
        emit_rows(sink, as_sequences(rows, columns), fmt, columns, headers=headers)


def primed(rows: Iterator[T]) -> Iterator[T]:
    """``rows`` with its first row already read, so that a query's error (most come on its
    first step) is raised here, where the caller can name it, and not half-way through
    the output."""
    first = list(itertools.islice(rows, 1))
    return itertools.chain(first, rows)


def emit_rows(
    sink: sinks.Sink,
    rows: Iterable[Sequence[Any]],
    fmt: str,
    columns: Sequence[str],
    *,
    headers: bool = True,
) -> None:
    """``rows`` (sequences in the order of ``columns``) written to ``sink`` as they come:
    the machine formats a row at a time, a table :data:`TABLE_WINDOW` rows at a time."""
    if fmt in MACHINE_FORMATS:
        for piece in write_rows(rows, fmt, columns, headers=headers):
            sink.write(piece)
        return
    width = None if isinstance(sink, sinks.FileSink) else terminal_width(sink.stream)
    rows = iter(rows)
    window = list(itertools.islice(rows, TABLE_WINDOW))
    first = True
    while first or window:
        records = [dict(zip(columns, row, strict=True)) for row in window]
        text = render(records, fmt, columns, width=width, headers=headers)
        sink.write(("" if first else "\n") + text + "\n")
        first = False
        window = list(itertools.islice(rows, TABLE_WINDOW))
