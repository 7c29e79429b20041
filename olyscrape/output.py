"""One way to print rows, in every format the query commands offer."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

FORMATS = ("table", "csv", "json", "jsonl")
#: Table cells longer than this are cut (csv and json keep everything).
TABLE_CELL_MAX = 70


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value))
    if isinstance(value, str) and len(value) > TABLE_CELL_MAX:
        return value[: TABLE_CELL_MAX - 1] + "…"
    return value


def _flat(value: Any) -> Any:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def render(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> str:
    """``rows`` as an aligned table, CSV with a header row, one JSON array, or JSON lines.

    List values (an article's partners) stay lists in JSON and are comma-joined elsewhere.
    """
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        return json.dumps(
            [{c: row.get(c) for c in columns} for row in rows], ensure_ascii=False, indent=2
        )
    if fmt == "jsonl":
        return "\n".join(
            json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) for row in rows
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_flat(row.get(c)) for c in columns] for row in rows)
        return buffer.getvalue().rstrip("\n")
    if fmt == "table":
        if not rows:
            return "(no rows)"
        return tabulate([[_cell(row.get(c)) for c in columns] for row in rows], headers=columns)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
