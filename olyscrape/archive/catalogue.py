"""What an archive holds, for ``olyscrape tables`` and ``olyscrape schema``: its tables and
views, their row counts, their CREATE statements. Read through an open
:class:`~olyscrape.archive.reader.ArchiveReader` (read-only), from SQLite's own catalogue,
so that an archive of any version answers as it is."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader


def objects(archive: ArchiveReader) -> list[dict[str, Any]]:
    """The archive's tables and views, by name: ``name``, ``type`` (``table``, ``view``,
    ``virtual table``) and ``hidden`` (an FTS index's own shadow tables and SQLite's
    internal ones, as sqlite-utils and Datasette hide them)."""
    rows = _read(
        archive,
        "SELECT name, type, coalesce(sql, '') FROM sqlite_master"
        " WHERE type IN ('table', 'view') ORDER BY name",
    )
    virtual = [name for name, _, sql in rows if sql.upper().startswith("CREATE VIRTUAL")]
    return [
        {
            "name": name,
            "type": "virtual table" if name in virtual else kind,
            "hidden": name.startswith("sqlite_") or any(name.startswith(v + "_") for v in virtual),
        }
        for name, kind, _ in rows
    ]


def row_count(archive: ArchiveReader, name: str) -> int:
    """How many rows the table or view ``name`` (one :func:`objects` lists) holds."""
    quoted = '"' + name.replace('"', '""') + '"'
    return int(_read(archive, f"SELECT count(*) FROM {quoted}")[0][0])


def create_statements(archive: ArchiveReader, name: str | None = None) -> list[str]:
    """The CREATE statements of the archive (tables, views, indexes, triggers, in the order
    SQLite keeps them), or of the table or view ``name`` (any case) and what belongs to it."""
    where, params = ("WHERE tbl_name = ? COLLATE NOCASE", [name]) if name else ("", [])
    rows = _read(archive, f"SELECT sql FROM sqlite_master {where} ORDER BY rowid", params)
    return [sql for (sql,) in rows if sql]


def _read(archive: ArchiveReader, sql: str, params: list[Any] | None = None) -> list[Any]:
    try:
        return archive.conn.execute(sql, params or []).fetchall()
    except sqlite3.DatabaseError as exc:  # damaged: one line, as every read says it
        raise archive._unreadable(exc) from None


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the file on ``conn`` has table ``name`` (a virtual one counts)."""
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return conn.execute(sql, [name]).fetchone() is not None
