"""One way to print rows and reports, in every format the commands offer.

csv, json and jsonl never change a value: text stays whole, numbers stay as SQLite gave
them, NULL is ``null`` in JSON and an empty field in CSV, and a BLOB is base64 (in JSON
as ``{"$base64": true, "encoded": ...}``, as sqlite-utils writes it). Tables are for
reading: NULL shows as ``NULL``, a BLOB as ``<Binary: N bytes>``, line breaks as spaces
(a row is one line), a control character as ``?``; on a terminal the table fits its
width as :mod:`olyscrape.cli.tables` lays it out (titles and snippets keep the most room,
numbers, dates and ids are never cut, a URL is cut only when the row cannot fit otherwise);
piped elsewhere, nothing is cut.

Reports (a crawl's summary, a probe's, the archive's figures) are objects with a text and
a JSON form; :func:`echo_report` prints one, fitted to the terminal it goes to, and their
fixed tables are drawn by :func:`aligned`.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, Protocol

import click

from olyscrape.cli import tables
from olyscrape.cli.tables import aligned, cut, visible_width

__all__ = ["FORMATS", "NULL", "aligned", "cut", "echo_report", "echo_rows", "render",
           "terminal_width", "visible_width"]  # fmt: skip

FORMATS = ("table", "csv", "json", "jsonl")
NULL = "NULL"
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
#: Control characters a table shows as ``?`` (a tab, a bell, an escape that is not a
#: colour): they would move the cursor or change the terminal, and the width be wrong.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f\x80-\x9f\t]|\x1b(?!\[[0-9;]*m)")
#: How long the terminal is assumed to be when it does not say.
FALLBACK_WIDTH = 80


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


def echo_report(report: Report, fmt: str, *, err: bool = False) -> None:
    """``report`` as one JSON object (``--format json``), else as its text, fitted to the
    terminal it goes to."""
    if fmt == "json":
        click.echo(report.to_json(), err=err)
    else:
        click.echo(report.render(width=terminal_width(sys.stderr if err else sys.stdout)), err=err)


def echo_rows(
    rows: list[dict[str, Any]], fmt: str, columns: list[str] | None = None, headers: bool = True
) -> None:
    """Rows on stdout; a table fits the terminal, and is cut nowhere when piped."""
    text = render(rows, fmt, columns, width=terminal_width(sys.stdout), headers=headers)
    if text:
        click.echo(text)
