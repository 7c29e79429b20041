"""Copies of an archive: a consistent one to share (:func:`backup`), and the intact
captures of a damaged one in a new file (:func:`recover_captures`), which ``reparse`` then
turns back into cards and articles.

:func:`backup` uses SQLite's online backup API in one step on a read-only connection: it
copies one snapshot, whatever a crawl commits meanwhile (WAL readers never block the
writer), so the copy holds what was committed when it started, ``-wal`` included. It is
written beside ``dest`` under another name and renamed over it at the end, so an existing
archive at ``dest`` is replaced whole or not at all.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from olyscrape.archive import health, paths, schema
from olyscrape.archive.errors import (
    ArchiveDamaged,
    ArchiveError,
    ArchiveRefused,
    damaged_line,
    detail_of,
    is_corruption,
    write_error,
)


@dataclass(frozen=True)
class Copied:
    """What a copy holds: articles, captures and crawls, and its size in bytes."""

    path: str
    articles: int
    captures: int
    crawls: int
    bytes: int


def _check_dest(source: Path, dest: Path) -> None:
    """``dest`` may be new, empty, or an olyscrape archive (replaced); anything else is
    refused and left unchanged."""
    if dest.is_dir():
        raise ArchiveError(f"{dest}: is a folder; give the copy's file name")
    if dest.exists() and source.exists() and dest.resolve() == source.resolve():
        raise ArchiveError(f"{dest}: is the archive itself")
    try:
        schema.identify(dest)
    except ArchiveRefused as exc:
        raise ArchiveError(f"{exc} (not overwritten)") from None
    if not health.wal_state(dest).empty:
        raise ArchiveError(
            f"{dest}: has a -wal beside it (in use, or not checkpointed): not overwritten"
        )
    folder = dest.parent
    if not folder.is_dir():
        raise ArchiveError(f"{dest}: its folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ArchiveError(f"{dest}: its folder {folder} cannot be written")


def _counts(conn: sqlite3.Connection, path: Path) -> Copied:
    def count(table: str) -> int:
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        except sqlite3.OperationalError:  # an older archive without that table
            return 0

    return Copied(str(path), count("articles"), count("captures"), count("crawls"),
                  path.stat().st_size)  # fmt: skip


def backup(source: str | Path, dest: str | Path) -> Copied:
    """Copy the archive at ``source`` to ``dest`` consistently, safe while a crawl writes.
    :class:`ArchiveError` (one line) for a source that is not a readable archive or a
    ``dest`` that may not be overwritten; nothing is left behind then."""
    source, dest = Path(source), Path(dest)
    identity = schema.identify(source)
    if identity.empty:
        raise ArchiveError(f"archive {source}: no such file" if not identity.exists
                           else f"archive {source}: an empty file, not an archive")  # fmt: skip
    _check_dest(source, dest)
    health.check_before_read(source)  # a copy of this file, never of another copy's -wal
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        src = schema.read_connection(source)
        try:
            out = sqlite3.connect(paths.sqlite_uri(partial), uri=True, isolation_level=None)
            try:
                src.backup(out)
                problems = health.integrity_problems(out, quick=True)
                if problems:  # never a damaged copy that looks like a good one
                    raise ArchiveDamaged(damaged_line(source, health.problems_text(
                        "quick_check", problems) + "; no copy made"))  # fmt: skip
                out.execute("PRAGMA journal_mode = WAL")  # as the archive was
                copied = _counts(out, partial)
            finally:
                out.close()  # the last connection: its -wal is checkpointed and removed
        finally:
            src.close()
        os.replace(partial, dest)
    except (sqlite3.Error, OSError, ArchiveDamaged) as exc:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        if isinstance(exc, ArchiveDamaged):
            raise
        if is_corruption(exc):
            raise ArchiveDamaged(damaged_line(source, f"{detail_of(exc)}; no copy made")) from None
        raise write_error(dest, exc) from None
    for stale in (Path(f"{dest}-wal"), Path(f"{dest}-shm")):  # an old archive's, empty
        stale.unlink(missing_ok=True)
    return Copied(str(dest), copied.articles, copied.captures, copied.crawls, copied.bytes)


# --- recovery ----------------------------------------------------------------------------


#: Failed reads after which a damaged table is given up on.
_FAILED_READS_MAX = 5000


@dataclass
class Recovered:
    """What :func:`recover_captures` copied, and what it left out as unreadable or damaged."""

    bodies: int = 0
    bad_bodies: int = 0
    captures: int = 0
    crawls: int = 0
    unreadable_rows: int = 0


def _readable(
    conn: sqlite3.Connection, table: str, columns: str, result: Recovered
) -> Iterator[tuple]:
    """Every row of ``table`` that can still be read, by rowid ranges: a range that fails
    is split until the rows that cannot be read are single, and skipped."""
    try:
        (top,) = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()
    except sqlite3.DatabaseError:
        top = None
    if top is None:
        top = 1 << 20  # the table's tree cannot say: probe a wide range
    ranges = [(1, int(top))]
    failures = 0
    while ranges:
        low, high = ranges.pop()
        if failures > _FAILED_READS_MAX:  # a tree too damaged to walk: the rest is lost
            result.unreadable_rows += high - low + 1
            continue
        try:
            rows = conn.execute(
                f"SELECT {columns} FROM {table} WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
                [low, high],
            ).fetchall()
        except sqlite3.DatabaseError:
            failures += 1
            if low == high:
                result.unreadable_rows += 1
                continue
            middle = (low + high) // 2
            ranges += [(middle + 1, high), (low, middle)]
            continue
        yield from rows


def recover_captures(source: str | Path, dest: str | Path) -> Recovered:
    """Copy the readable crawls, and the captures whose body is intact (it decompresses to
    its sha256), from the damaged archive at ``source`` into a new archive at ``dest``
    (which must not exist). ``source`` is only read."""
    source, dest = Path(source), Path(dest)
    if dest.exists():
        raise ArchiveError(f"{dest}: already exists; recover into a new file")
    if not source.exists():
        raise ArchiveError(f"archive {source}: no such file")
    result = Recovered()
    try:
        src = health.open_read_only(source)
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"archive {source}: cannot be opened ({detail_of(exc)})") from None
    try:
        out = sqlite3.connect(paths.sqlite_uri(dest), uri=True, isolation_level=None)
        try:
            out.execute("PRAGMA journal_mode = WAL")
            schema.migrate(out)
            out.execute("BEGIN IMMEDIATE")
            good: set[str] = set()
            for sha, size, body in _readable(src, "capture_bodies", "sha256, size, body", result):
                try:
                    data = zlib.decompress(body)
                except (zlib.error, TypeError):
                    data = None
                if data is None or hashlib.sha256(data).hexdigest() != sha or len(data) != size:
                    result.bad_bodies += 1
                    continue
                out.execute("INSERT INTO capture_bodies (sha256, size, body) VALUES (?, ?, ?)",
                            [sha, size, body])  # fmt: skip
                good.add(sha)
            result.bodies = len(good)
            columns = "id, url, canonical_url, fetched_at, status, content_type, sha256, crawl_id"
            for row in _readable(src, "captures", columns, result):
                if row[6] in good:
                    out.execute(f"INSERT INTO captures ({columns}) VALUES (?,?,?,?,?,?,?,?)", row)
                    result.captures += 1
            crawl_columns = "id, started_at, finished_at, status, stats, reasons"
            for row in _readable(src, "crawls", crawl_columns, result):
                out.execute(f"INSERT INTO crawls ({crawl_columns}) VALUES (?,?,?,?,?,?)", row)
                result.crawls += 1
            out.execute("COMMIT")
        finally:
            out.close()
    except (sqlite3.Error, OSError) as exc:
        for leftover in (dest, Path(f"{dest}-wal"), Path(f"{dest}-shm")):
            leftover.unlink(missing_ok=True)
        raise write_error(dest, exc) from None
    finally:
        src.close()
    return result
