"""How archive text is read: as UTF-8, a byte that is not UTF-8 costing only its character.

SQLite stores TEXT as the bytes it was given and checks nothing (``quick_check`` and
``integrity_check`` do not look inside cells), so one byte changed by hand, by a disk or by
another program makes a cell that is not UTF-8. Python's default reading of such a cell
raises (``Could not decode to UTF-8 column ...``) for the whole query, and every command
reading that column fails for good. Every connection olyscrape opens to an archive reads
text through :func:`decode` instead: the bad byte becomes U+FFFD and the rest of the cell,
its row and the query are read as they are (a ``stats`` JSON with a bad byte is then
simply JSON that does not parse, which every reader shows as unreadable). ``olyscrape
verify`` lists such cells (:func:`text_damage`).

The cost: a Python call per text cell read, about 0.2 µs more than SQLite's own decoding
(timeit on 90,000 cells: ~0.43 µs → ~0.66 µs a cell); ``bytes.decode`` with positional
arguments is the cheapest of the ways tried (``functools.partial`` with keyword arguments
costs twice as much). On an archive of 20,000 articles, ``search`` (20 results),
``articles --limit 1000`` and ``stats`` show no difference above the noise of this
2-core machine; ``articles`` with no limit (every row) takes ~10 % longer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

#: What a byte that is not UTF-8 reads as.
REPLACEMENT = "\ufffd"


def decode(data: bytes) -> str:
    """A TEXT cell's bytes as a string, each byte that is not UTF-8 replaced by U+FFFD."""
    return data.decode("utf-8", "replace")


def read_text_leniently(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Make ``conn`` read TEXT through :func:`decode`; ``conn`` back."""
    conn.text_factory = decode
    return conn


def is_not_utf8(exc: BaseException) -> bool:
    """True for SQLite's complaint about a TEXT cell that is not UTF-8."""
    return isinstance(exc, sqlite3.OperationalError) and "Could not decode" in str(exc)


def on_bad_text_leniently(conn: sqlite3.Connection, read: Callable[[], T]) -> T:
    """``read()``, with the default (C) decoding of TEXT, which costs nothing; only when a
    cell is not UTF-8 again through :func:`decode`. The write path's reads take this way:
    decoding every cell in Python would cost a re-crawl a seventh of its speed."""
    try:
        return read()
    except sqlite3.OperationalError as exc:
        if not is_not_utf8(exc):
            raise
    factory = conn.text_factory
    conn.text_factory = decode
    try:
        return read()
    finally:
        conn.text_factory = factory


# --- finding the cells that are not UTF-8 (``olyscrape verify``) -------------------------


@dataclass(frozen=True)
class TextDamage:
    """The cells of one TEXT column that are not UTF-8: how many, and the first few rows
    (by rowid, or by primary key in a table without rowid)."""

    table: str
    column: str
    count: int
    rows: tuple[str, ...]

    def message(self) -> str:
        cells = "1 text cell is" if self.count == 1 else f"{self.count} text cells are"
        key = "rowid" if self.rows and "=" not in self.rows[0] else "row"
        more = ", ..." if self.count > len(self.rows) else ""
        return (
            f"{self.table}.{self.column}: {cells} not valid UTF-8 ({key}"
            f" {', '.join(self.rows)}{more}); each bad byte reads as U+FFFD"
        )


#: How many rows of a damaged TEXT column are named.
TEXT_ROWS_LISTED = 5


def _text_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """The columns of ``table`` with TEXT affinity (declared TEXT, CHAR or CLOB)."""
    return [
        name
        for _, name, declared, *_ in conn.execute(f"PRAGMA table_info({_quoted(table)})")
        if any(word in (declared or "").upper() for word in ("CHAR", "CLOB", "TEXT"))
    ]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text_damage(conn: sqlite3.Connection) -> list[TextDamage]:
    """Every TEXT cell of the archive's own tables that is not valid UTF-8, by column.

    SQLite checks no encoding (``integrity_check`` passes such a file), and reading the
    cell as text would replace the bad bytes, so each cell is read as its bytes
    (``CAST(col AS BLOB)``) and decoded here. It reads every text cell once: on a large
    archive about as long as ``integrity_check`` (the article bodies dominate). Virtual
    tables (the full-text index) and their shadow tables (no TEXT columns) are left out.
    Raises SQLite's error for a table too damaged to read."""
    tables = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")]  # fmt: skip
    found = []
    for table in tables:
        columns = _text_columns(conn, table)
        if not columns:
            continue
        keys = _row_key(conn, table)
        cells = ", ".join(
            f"CASE WHEN typeof({_quoted(c)}) = 'text' THEN CAST({_quoted(c)} AS BLOB) END"
            for c in columns
        )
        key_sql = (
            ", ".join(
                f"CASE WHEN typeof({_quoted(k)}) = 'text' THEN CAST({_quoted(k)} AS BLOB)"
                f" ELSE {_quoted(k)} END"
                for k in keys
            )
            or "rowid"
        )
        counts = [0] * len(columns)
        rows: list[list[str]] = [[] for _ in columns]
        width = len(keys) or 1
        for row in conn.execute(f"SELECT {key_sql}, {cells} FROM {_quoted(table)}"):
            for n, value in enumerate(row[width:]):
                if value is None:
                    continue
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    counts[n] += 1
                    if len(rows[n]) < TEXT_ROWS_LISTED:
                        rows[n].append(_key_text(keys, row[:width]))
        found += [
            TextDamage(table, column, count, tuple(listed))
            for column, count, listed in zip(columns, counts, rows, strict=True)
            if count
        ]
    return found


def _row_key(conn: sqlite3.Connection, table: str) -> list[str]:
    """The primary key's columns of a table without rowid; none for a rowid table."""
    (sql,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
    ).fetchone()
    if "WITHOUT ROWID" not in " ".join((sql or "").upper().split()):
        return []
    info = conn.execute(f"PRAGMA table_info({_quoted(table)})").fetchall()
    return [row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5])]


def _key_text(keys: list[str], values: tuple) -> str:
    if not keys:
        return str(values[0])
    return " ".join(f"{k}={decode(v)!r}" if isinstance(v, bytes) else f"{k}={v}"
                    for k, v in zip(keys, values, strict=True))  # fmt: skip
