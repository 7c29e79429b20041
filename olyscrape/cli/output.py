"""One way to print rows and reports, in every format the commands offer.

The formats for programs (csv, tsv, json, jsonl) are written by
:mod:`~olyscrape.cli.writers`, a row at a time, and never change a value (strict JSON:
an infinite float is ``null``). Tables are for reading: NULL shows as ``NULL``, a BLOB as
``<Binary: N bytes>``, line breaks as spaces (a row is one line), a control character as
``?``; on a terminal the table fits its width as :mod:`olyscrape.cli.tables` lays it out
(titles and snippets keep the most room, numbers, dates and ids are never cut, a URL is
cut only when the row cannot fit otherwise); piped elsewhere, nothing is cut. A long
result is printed as tables of :data:`TABLE_WINDOW` rows, each fitted on its own, so that
memory stays bounded.

Rows and reports go through a sink of :mod:`~olyscrape.cli.sinks` (standard output or
``-o FILE``), which fails in one line on a write error.

Reports (a crawl's summary, a probe's, the archive's figures) are objects with a text and
a JSON form; :func:`echo_report` prints one, fitted to the terminal it goes to, and their
fixed tables are drawn by :func:`aligned`.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from olyscrape.cli import sinks, tables
from olyscrape.cli.tables import aligned, cut, visible_width
from olyscrape.cli.writers import MACHINE_FORMATS, as_sequences, write_rows

__all__ = ["FORMATS", "NULL", "aligned", "cut", "echo_report", "echo_rows", "emit_rows",
           "primed", "render", "terminal_width", "visible_width"]  # fmt: skip

FORMATS = ("table", *MACHINE_FORMATS)
#: Rows a streamed table holds at once: a longer result is printed as several tables.
TABLE_WINDOW = 1000
T = TypeVar("T")
NULL = "NULL"
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
#: Control characters a table shows as ``?`` (a tab, a bell, an escape that is not a
#: colour): they would move the cursor or change the terminal, and the width be wrong.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f\x80-\x9f\t]|\x1b(?!\[[0-9;]*m)")
#: How long the terminal is assumed to be when it does not say.
FALLBACK_WIDTH = 80


def _table_value(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bytes):
        return f"<Binary: {len(value):,} bytes>"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return repr(value)  # 1.0 stays 1.0
    text = _LINE_BREAKS.sub(" ", str(value))  # a row stays one line (a body's paragraphs)
    return _CONTROLS.sub(lambda m: " " if m.group() == "\t" else "?", text)


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
        table = []
        for name in columns:
            values = [row.get(name) for row in rows]
            cells = [_table_value(v) for v in values]
            kind = tables.kind_of(name, values, cells)
            right = all(isinstance(v, (int, float)) or v is None for v in values)
            table.append(tables.Column(name, cells, right=right, kind=kind))
        return "\n".join(tables.draw(table, width))
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def terminal_width(stream: Any) -> int | None:
    """The width to fit tables to: the terminal's (``COLUMNS`` if set, else what the
    terminal says, else 80), or None when ``stream`` is no terminal (piped: nothing cut)."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    given = os.environ.get("COLUMNS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        return os.get_terminal_size(stream.fileno()).columns or FALLBACK_WIDTH
    except (AttributeError, OSError, ValueError):
        return FALLBACK_WIDTH


class Report(Protocol):
    """What a command prints: a text for people (its tables fitted to ``width``, None for
    no limit), one JSON object for programs."""

    def render(self, *, width: int | None = None) -> str: ...

    def to_json(self) -> str: ...


def echo_report(report: Report, fmt: str, *, err: bool = False, output: Path | None = None) -> None:
    """``report`` as one JSON object (``--format json``), else as its text: on stdout,
    fitted to the terminal it goes to, or into ``output`` uncut (see
    :func:`~olyscrape.cli.sinks.open_sink`)."""
    if err:
        width = terminal_width(sys.stderr)
        click.echo(report.to_json() if fmt == "json" else report.render(width=width), err=True)
        return
    with sinks.open_sink(output) as sink:
        width = None if isinstance(sink, sinks.FileSink) else terminal_width(sink.stream)
        text = report.to_json() if fmt == "json" else report.render(width=width)
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
