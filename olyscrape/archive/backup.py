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
from dataclasses import dataclass, field
from pathlib import Path

from olyscrape.archive import health, migrations, paths, schema, walowner
from olyscrape.archive.errors import (
    ArchiveDamaged,
    ArchiveError,
    ArchiveRefused,
    damaged_line,
    detail_of,
    is_corruption,
    write_error,
)
from olyscrape.archive.running import raise_if_interrupted


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
    what = paths.part_of_archive(dest, source)
    if what is not None:  # the archive, its lock, its -wal: never overwritten
        raise ArchiveError(f"{dest}: is {what}")
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


#: Pages copied per backup step: between two steps Python runs, so Ctrl-C stops a copy.
BACKUP_STEP_PAGES = 4096


def _copy_pages(src: sqlite3.Connection, out: sqlite3.Connection) -> None:
    """Copy ``src`` into ``out`` in steps, inside one read transaction of ``src`` (one
    snapshot, however many steps: a crawl's commits meanwhile neither enter nor restart
    the copy). A Ctrl-C between two steps stops it (the ``progress`` call lets Python
    run its signal handler)."""
    src.execute("BEGIN")
    try:
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts
        src.backup(out, pages=BACKUP_STEP_PAGES, progress=lambda *_: None)
    finally:
        src.execute("ROLLBACK")


def backup(
    source: str | Path, dest: str | Path, held_by_another: walowner.LockProbe | None = None
) -> Copied:
    """Copy the archive at ``source`` to ``dest`` consistently, safe while a crawl writes.
    :class:`ArchiveError` (one line) for a source that is not a readable archive or a
    ``dest`` that may not be overwritten; nothing is left behind then. ``held_by_another``:
    see :func:`~olyscrape.archive.walowner.check_before_read`."""
    source, dest = Path(source), Path(dest)
    identity = schema.identify(source)
    if identity.empty:
        raise ArchiveError(f"archive {source}: no such file" if not identity.exists
                           else f"archive {source}: an empty file, not an archive")  # fmt: skip
    _check_dest(source, dest)
    # A copy of this file, never of another copy's -wal.
    walowner.check_before_read(source, held_by_another)
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        src = paths.read_connection(source)
        try:
            out = sqlite3.connect(paths.sqlite_uri(partial), uri=True, isolation_level=None)
            try:
                _copy_pages(src, out)
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
    except BaseException as exc:  # Ctrl-C too: never a partial copy left behind
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        if not isinstance(exc, (sqlite3.Error, OSError)):
            raise
        raise_if_interrupted(exc)
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
#: How far rowids are probed in a table whose highest rowid cannot be read.
_PROBE_TOP = 1 << 20
#: What recovery copies of each table: the captures and their crawls (what ``reparse``
#: rebuilds cards and articles from) and the partners (the partner list, should the
#: capture of its page be lost).
_TABLES = {
    "capture_bodies": "sha256, size, body",
    "captures": "id, url, canonical_url, fetched_at, status, content_type, sha256, crawl_id",
    "crawls": "id, started_at, finished_at, status, stats, reasons",
    "partners": "slug, name, url",
}


@dataclass
class Recovered:
    """What :func:`recover_captures` copied, and what it left out as unreadable or damaged:
    per table, how many rows could not be read (``None``: some, how many is unknown)."""

    bodies: int = 0
    bad_bodies: int = 0
    captures: int = 0
    crawls: int = 0
    partners: int = 0
    unreadable: dict[str, int | None] = field(default_factory=dict)

    @property
    def unreadable_rows(self) -> int:
        """The unreadable rows counted (those of tables where the count is unknown not)."""
        return sum(count or 0 for count in self.unreadable.values())

    def left_out(self) -> str:
        """What was left out, in words: ``1 damaged body; up to 3 rows of captures and
        some rows of crawls could not be read``."""
        parts = [f"{self.bad_bodies} damaged bod{'y' if self.bad_bodies == 1 else 'ies'}"]
        lost = [
            f"some rows of {table}"
            if count is None
            else f"up to {count} row{'' if count == 1 else 's'} of {table}"
            for table, count in self.unreadable.items()
            if count != 0
        ]
        if lost:
            parts.append(f"{' and '.join(lost)} could not be read")
        else:
            parts.append("no unreadable rows")
        return "; ".join(parts)


def _bound(conn: sqlite3.Connection, table: str, which: str) -> int | None:
    """``min`` or ``max`` rowid of ``table``; ``None`` when that part of its tree cannot
    be read (or it is empty)."""
    try:
        (value,) = conn.execute(f"SELECT {which}(rowid) FROM {table}").fetchone()
    except sqlite3.DatabaseError:
        return None
    return None if value is None else int(value)


def _readable(
    conn: sqlite3.Connection, table: str, columns: str, result: Recovered
) -> Iterator[tuple]:
    """Every row of ``table`` that can still be read, by rowid ranges: a range that fails
    is split until the rows that cannot be read are single, and skipped.

    What was lost is counted only where rows can have been (:func:`_lost_rows`); past
    the last row known it is "some rows" (``None``), never a guess."""
    low, high = _bound(conn, table, "min"), _bound(conn, table, "max")
    if low is not None and high is not None and low > high:
        low = high = None
    ranges = [(low if low is not None else 1, high if high is not None else _PROBE_TOP)]
    lost: list[tuple[int, int]] = []
    last_read: int | None = None
    failures = 0
    while ranges:
        start, stop = ranges.pop()
        if failures > _FAILED_READS_MAX:  # a tree too damaged to walk: the rest is lost
            lost.append((start, stop))
            continue
        # One row by equality: a range scan steps past its last row into the next page,
        # which may be the damaged one.
        where = "rowid = ?" if start == stop else "rowid BETWEEN ? AND ?"
        try:
            rows = conn.execute(
                f"SELECT rowid, {columns} FROM {table} WHERE {where} ORDER BY rowid",
                [start] if start == stop else [start, stop],
            ).fetchall()
        except sqlite3.DatabaseError:
            failures += 1
            if start == stop:
                lost.append((start, stop))
                continue
            middle = (start + stop) // 2
            ranges += [(middle + 1, stop), (start, middle)]
            continue
        if rows:
            last_read = rows[-1][0] if last_read is None else max(last_read, rows[-1][0])
        for row in rows:
            yield row[1:]
    if lost:
        result.unreadable[table] = _lost_rows(lost, low, high, last_read)


def _lost_rows(lost: list[tuple[int, int]], low: int | None, high: int | None,
               last_read: int | None) -> int | None:  # fmt: skip
    """At most how many rows the ``lost`` rowid ranges held: the rowids between the
    table's lowest rowid (1 when its tree cannot say: SQLite numbers rows from 1) and its
    highest (that of the last row read when its tree cannot say); ``None`` when some lost
    range lies past what is known of the table's end."""
    floor = low if low is not None else 1
    ceiling = high if high is not None else last_read
    count = 0
    for start, stop in lost:
        if ceiling is None or (stop > ceiling and high is None):
            return None
        count += max(0, min(stop, ceiling) - max(start, floor) + 1)
    return count


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def open_damaged(source: str | Path) -> tuple[sqlite3.Connection, set[str]]:
    """A read-only connection to a damaged archive, and the tables its schema names.

    ``writable_schema`` lets SQLite open what its checks at open would refuse, such as a
    file shorter than its header says (cut off by a full disk or a copy): the pages that
    are there are read as they are. It writes nothing on a read-only connection.
    :class:`ArchiveError` (one line) when not even the schema can be read."""
    # With no -wal to read, immutable: nothing is created beside the damaged file.
    read = {"immutable": 1} if health.wal_state(source).empty else {"mode": "ro"}
    try:
        conn = sqlite3.connect(paths.sqlite_uri(source, **read), uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise ArchiveError(f"archive {source}: cannot be opened ({detail_of(exc)})") from None
    try:
        conn.execute("PRAGMA writable_schema = ON")
        tables = _tables(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if not is_corruption(exc):
            raise ArchiveError(f"archive {source}: cannot be opened ({detail_of(exc)})") from None
        raise ArchiveError(unreadable_schema_line(source, detail_of(exc))) from None
    if "captures" not in tables or "capture_bodies" not in tables:
        conn.close()
        raise ArchiveError(unreadable_schema_line(source, "its schema names no captures"))
    return conn, tables


def unreadable_schema_line(source: str | Path, detail: str) -> str:
    """Why nothing can be recovered from a file whose schema is lost, and what is left."""
    return (
        f"archive {source}: damaged beyond recovery: its schema (the table of its tables)"
        f" cannot be read ({detail}), so no table can be found in it; restore it from a copy"
        f" (`olyscrape backup` makes one) or crawl again into a new file"
    )


def schema_readable(source: str | Path) -> bool:
    """Can :func:`recover_captures` find the tables of the damaged archive at ``source``?"""
    try:
        conn, _ = open_damaged(source)
    except ArchiveError:
        return False
    conn.close()
    return True


def recover_captures(source: str | Path, dest: str | Path) -> Recovered:
    """Copy the readable crawls and partners, and the captures whose body is intact (it
    decompresses to its sha256), from the damaged archive at ``source`` into a new archive
    at ``dest`` (which must not exist). ``source`` is only read."""
    source, dest = Path(source), Path(dest)
    if dest.exists():
        raise ArchiveError(f"{dest}: already exists; recover into a new file")
    if not source.exists():
        raise ArchiveError(f"archive {source}: no such file")
    try:  # another program's file, a folder, a newer archive: refused as every command does
        schema.identify(source)
    except ArchiveRefused:
        raise
    except (ArchiveDamaged, sqlite3.DatabaseError):
        pass  # damage is what recover is for
    result = Recovered()
    src, tables = open_damaged(source)
    try:
        out = sqlite3.connect(paths.sqlite_uri(dest), uri=True, isolation_level=None)
        try:
            out.execute("PRAGMA journal_mode = WAL")
            migrations.migrate(out)
            out.execute("BEGIN IMMEDIATE")
            _copy(src, out, tables, result)
            out.execute("COMMIT")
        finally:
            out.close()
    except BaseException as exc:  # Ctrl-C too: no half-made new archive left behind
        for leftover in (dest, Path(f"{dest}-wal"), Path(f"{dest}-shm")):
            leftover.unlink(missing_ok=True)
        if not isinstance(exc, (sqlite3.Error, OSError)):
            raise
        raise write_error(dest, exc) from None
    finally:
        src.close()
    return result


def _copy(src: sqlite3.Connection, out: sqlite3.Connection, tables: set[str],
          result: Recovered) -> None:  # fmt: skip
    """The readable rows of :data:`_TABLES` from ``src`` into ``out``: bodies that check
    out, the captures of those bodies, the crawls and the partners (name and URL)."""
    good: set[str] = set()
    for sha, size, body in _rows(src, tables, "capture_bodies", result):
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
    columns = _TABLES["captures"]
    for row in _rows(src, tables, "captures", result):
        if row[6] in good:
            out.execute(f"INSERT INTO captures ({columns}) VALUES (?,?,?,?,?,?,?,?)", row)
            result.captures += 1
    columns = _TABLES["crawls"]
    for row in _rows(src, tables, "crawls", result):
        out.execute(f"INSERT INTO crawls ({columns}) VALUES (?,?,?,?,?,?)", row)
        result.crawls += 1
    for slug, name, url in _rows(src, tables, "partners", result):
        if slug and url:  # a re-parse may take the partner list from these
            out.execute("INSERT OR IGNORE INTO partners (slug, name, url) VALUES (?, ?, ?)",
                        [slug, name, url])  # fmt: skip
            result.partners += 1


def _rows(src: sqlite3.Connection, tables: set[str], table: str, result: Recovered
          ) -> Iterator[tuple]:  # fmt: skip
    if table not in tables:  # an older archive without it (captures are checked on opening)
        return iter(())
    return _readable(src, table, _TABLES[table], result)
