"""One way to print rows and reports, in every format the commands offer.

csv, json and jsonl never change a value: text stays whole, numbers stay as SQLite gave
them, NULL is ``null`` in JSON and an empty field in CSV, and a BLOB is base64 (in JSON
as ``{"$base64": true, "encoded": ...}``, as sqlite-utils writes it). Tables are for
reading: NULL shows as ``NULL``, a BLOB as ``<Binary: N bytes>``, line breaks as spaces
(a row is one line); on a terminal the
table fits its width, cutting the longest text cells (never a URL, never inside a
terminal escape code); piped elsewhere, nothing is cut.

Reports (a crawl's summary, a probe's, the archive's figures) are objects with a text and
a JSON form; :func:`echo_report` prints one, and their fixed tables are drawn by
:func:`aligned`.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import shutil
import sys
from collections.abc import Collection, Sequence
from typing import Any, Protocol

import click
from tabulate import tabulate

FORMATS = ("table", "csv", "json", "jsonl")
NULL = "NULL"
#: Columns never cut in a table: the archive's keys, to copy whole.
WHOLE = frozenset({"url", "article_url", "canonical_url", "image_url"})
_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
_NARROWEST = 12  # a cut cell keeps at least this many characters


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


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
    if fmt == "json":
        return json.dumps(
            [{c: _json_value(row.get(c)) for c in columns} for row in rows],
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "jsonl":
        return "\n".join(
            json.dumps({c: _json_value(row.get(c)) for c in columns}, ensure_ascii=False)
            for row in rows
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if headers:
            writer.writerow(columns)
        writer.writerows([_csv_value(row.get(c)) for c in columns] for row in rows)
        return buffer.getvalue().rstrip("\n")
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


def echo_report(report: Report, fmt: str, *, err: bool = False) -> None:
    """``report`` as one JSON object (``--format json``), else as its text."""
    click.echo(report.to_json() if fmt == "json" else report.render(), err=err)


def echo_rows(
    rows: list[dict[str, Any]], fmt: str, columns: list[str] | None = None, headers: bool = True
) -> None:
    """Rows on stdout; a table fits the terminal, and is cut nowhere when piped."""
    text = render(rows, fmt, columns, width=terminal_width(sys.stdout), headers=headers)
    if text:
        click.echo(text)
