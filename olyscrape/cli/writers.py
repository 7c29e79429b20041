"""Rows as text for programs, a row at a time: CSV, TSV, a JSON array, JSON lines.

They never change a value: text stays whole, numbers stay as SQLite gave them, NULL is
``null`` in JSON and an empty field in CSV and TSV, a BLOB is base64 (in JSON as
``{"$base64": true, "encoded": ...}``, as sqlite-utils writes it). One exception, since
JSON has no such numbers: an infinite float (``1e999``) or NaN is ``null`` in JSON, so
that every JSON output parses with a strict reader (``json.loads``, ``jq``); CSV and TSV
write ``inf``, ``-inf``, ``nan``, which spreadsheets and ``float()`` read.

Each writer yields its text row by row (each piece ends with a line break), holding
nothing but the row at hand, so a million rows cost the memory of one.
"""

from __future__ import annotations

import base64
import csv
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

MACHINE_FORMATS = ("csv", "tsv", "json", "jsonl")


def json_safe(value: Any) -> Any:
    """``value`` as strict JSON can hold it: bytes as base64, non-finite floats as None,
    lists, tuples and dicts walked."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def strict_json(value: Any, **options: Any) -> str:
    """``json.dumps`` that never writes ``Infinity`` or ``NaN`` (they become ``null``)."""
    options.setdefault("ensure_ascii", False)
    return json.dumps(json_safe(value), allow_nan=False, **options)


def _text_value(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is float or value is None:
        return value  # the common case first: a call per cell of a million rows
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


class _Line:
    """What a ``csv.writer`` writes for one row (it calls ``write`` once a row)."""

    text = ""

    def write(self, text: str) -> None:
        self.text = text


def _delimited(
    rows: Iterable[Sequence[Any]], columns: Sequence[str], headers: bool, dialect: str
) -> Iterator[str]:
    line = _Line()
    writer = csv.writer(line, dialect=dialect, lineterminator="\n")
    if headers and columns:
        writer.writerow(columns)
        yield line.text
    for row in rows:
        writer.writerow(map(_text_value, row))
        yield line.text


def _json_array(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> Iterator[str]:
    """The same text as ``json.dumps(list_of_rows, indent=2)``, a row at a time."""
    first = True
    for row in rows:
        text = strict_json(dict(zip(columns, row, strict=True)), indent=2)
        yield ("[\n  " if first else ",\n  ") + text.replace("\n", "\n  ")
        first = False
    yield "[]\n" if first else "\n]\n"


def _json_lines(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> Iterator[str]:
    for row in rows:
        yield strict_json(dict(zip(columns, row, strict=True))) + "\n"


def write_rows(
    rows: Iterable[Sequence[Any]], fmt: str, columns: Sequence[str], *, headers: bool = True
) -> Iterator[str]:
    """``rows`` (each a sequence in the order of ``columns``) as ``fmt``, piece by piece.
    ``headers=False`` leaves out the header row of CSV and TSV."""
    if fmt == "csv":
        return _delimited(rows, columns, headers, "excel")
    if fmt == "tsv":
        return _delimited(rows, columns, headers, "excel-tab")
    if fmt == "json":
        return _json_array(rows, columns)
    if fmt == "jsonl":
        return _json_lines(rows, columns)
    raise ValueError(f"not a machine format: {fmt!r}; choose from {', '.join(MACHINE_FORMATS)}")


def as_sequences(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> Iterator[tuple]:
    """Rows given as dicts, as sequences in the order of ``columns`` (None where absent)."""
    return (tuple(row.get(column) for column in columns) for row in rows)
