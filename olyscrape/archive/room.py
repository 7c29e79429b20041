"""The free space a migration needs, checked before it starts; the pages it freed, given back.

A migration (:mod:`~olyscrape.archive.migrations`) is one transaction in rollback-journal
mode: the file grows by what it builds (version 4's copy of the articles and links, new
indexes, ``partner_counts``), its ``-journal`` holds the pages it overwrites, and SQLite's
sorts (an index, a ``GROUP BY``) spill into its temporary folder. Version 4's rewrite then
leaves the old tables' pages free (44 % of the file), which :func:`give_back` returns to the
disk with a ``VACUUM``: a compacted copy in the temporary folder, then copied back over the
file with the ``-journal`` holding as much again. A disk too small was found out part-way,
the transaction rolled back: :func:`check` says so before anything starts, in one line with
both figures.

What each part costs, measured (``benchmarks/bench_migration.py``; ``U``: the bytes the
file's pages hold, its free pages not counted):

- version 3 to 8 (200,000 articles, 178 MB): the file grew by 0.56 ``U`` and its
  ``-journal`` reached 0.21 ``U``; the temporary folder 0.05 ``U``; the ``VACUUM`` after it
  a ``-journal`` of 0.90 ``U`` beside the grown file and 0.90 ``U`` in the temporary folder;
- version 3 to 8 (1,000,000 articles, 864 MB): 1.50 times the file beside it at the peak
  (the grown file and the ``VACUUM``'s ``-journal``), 0.93 times in the temporary folder;
- version 6 to 8 (1,000,000 articles, 2.0 GB): the file grew by 0.015 ``U``, the
  temporary folder 0.015 ``U``; no page left free.

:func:`needed` rounds those up (:data:`REWRITE`, :data:`ADDITIONS`) and adds a margin.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from olyscrape.archive import catalogue, paths, schema
from olyscrape.archive.errors import ArchiveError

logger = logging.getLogger(__name__)

#: Free pages (a share of the file) above which a migration's end gives them back.
FREE_LIMIT = 0.05
#: Version 4's rewrite: (the file's growth with its ``-journal``, the temporary folder), per
#: byte held.
REWRITE = (0.85, 0.10)
#: The additions of the later versions (indexes, small tables): the same.
ADDITIONS = (0.03, 0.03)
#: The full-text index, built whole for an archive made before it (the first versions):
#: the same. A file of 136 MB of 250-word bodies needed 353 MB beside it where the
#: rewrite alone asks 218 MB, and compacted to 231 MB: the index took about as much as the
#: text it indexes (more for bodies of words found once each: 259 MB of them needed 712 MB
#: beside the file). Its bytes are in the ``VACUUM``'s compacted copy too.
SEARCH_INDEX = (1.3, 0.1)
#: A ``VACUUM``'s compacted copy, per byte held (0.90 measured after version 4's rewrite,
#: which drops the links keyed by URL): in the temporary folder, and again in the
#: ``-journal``.
COMPACTED = 1.0
#: Added to every estimate: SQLite's own files (the ``-shm``, a journal's header), the
#: lock file, rounding.
MARGIN = 1024 * 1024


class NotEnoughRoom(ArchiveError):
    """A migration refused before it started: the disk has less room than it needs."""


@dataclass(frozen=True)
class Need:
    """Bytes a migration needs free: in the archive's folder and in SQLite's temporary
    folder (the same disk counts both), and whether it ends with a ``VACUUM``."""

    folder: int
    temp: int
    temp_dir: Path
    vacuum: bool


def _sizes(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """Page size, pages, free pages."""
    return tuple(
        conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("page_size", "page_count", "freelist_count")
    )


def _shape(conn: sqlite3.Connection) -> tuple[int, int, int, bool]:
    """Page size, pages, free pages, and whether the full-text index exists yet."""
    return (*_sizes(conn), catalogue.has_table(conn, "articles_fts"))


def temp_dir() -> Path:
    """The folder SQLite's unix VFS puts its temporary files in (``unixTempFileDir``): the
    first writable of ``SQLITE_TMPDIR``, ``TMPDIR``, ``/var/tmp``, ``/usr/tmp``, ``/tmp``."""
    candidates = [os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR"),
                  "/var/tmp", "/usr/tmp", "/tmp"]  # fmt: skip
    for candidate in candidates:
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return Path(candidate)
    return Path(".")


def needed(path: str | Path, version: int) -> Need:
    """What migrating the archive at ``path`` (schema ``version``) needs, read without
    writing: from its pages in use, the steps its version still lacks, and whether it will
    end with free pages to give back (version 4's rewrite, or free already)."""
    page_size, pages, free, indexed = paths.read_briefly(path, _shape)  # one look
    held = (pages - free) * page_size
    rewrite = version < 4
    grows, sorts = REWRITE if rewrite else ADDITIONS
    index, index_sorts = 0.0, 0.0
    if not indexed:  # an archive made before it
        index, index_sorts = SEARCH_INDEX[0] * held, SEARCH_INDEX[1] * held
    folder, temp = grows * held + index, sorts * held + index_sorts
    vacuum = rewrite or free > FREE_LIMIT * pages
    if vacuum:  # the compacted copy holds the new index too
        compacted = COMPACTED * (held + index)
        kept = (grows - 0.25 if rewrite else grows) * held + index
        folder, temp = max(folder, kept + compacted), max(temp, compacted)
    return Need(int(folder) + MARGIN, int(temp) + MARGIN, temp_dir(), vacuum)


def free_bytes(folder: Path) -> int:
    info = os.statvfs(folder)
    return info.f_bavail * info.f_frsize


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def check(path: str | Path, version: int) -> Need:
    """Raise :class:`NotEnoughRoom` (one line: the room needed and the room free) when the
    disk of the archive at ``path``, or of SQLite's temporary folder, has less free space
    than migrating it from ``version`` needs; nothing is written either way."""
    path = Path(path)
    need = needed(path, version)
    folder = path.resolve().parent
    what = f"archive {path}: not enough free space to migrate it (schema version {version} to"
    what += f" {schema.SCHEMA_VERSION}{', then compact it' if need.vacuum else ''})"
    end = "; nothing was changed (free some space, or move the archive to a larger disk)"
    free = free_bytes(folder)
    same_disk = os.stat(folder).st_dev == os.stat(need.temp_dir).st_dev
    if same_disk and need.folder + need.temp > free:
        raise NotEnoughRoom(
            f"{what}: it needs {_mb(need.folder + need.temp)} free on the disk of {folder}"
            f" (with SQLite's temporary files in {need.temp_dir}), {_mb(free)} are free{end}"
        )
    if need.folder > free:
        raise NotEnoughRoom(f"{what}: it needs {_mb(need.folder)} free in {folder},"
                            f" {_mb(free)} are free{end}")  # fmt: skip
    temp_free = free_bytes(need.temp_dir)
    if not same_disk and need.temp > temp_free:
        raise NotEnoughRoom(
            f"{what}: it needs {_mb(need.temp)} free in {need.temp_dir} for SQLite's"
            f" temporary files, {_mb(temp_free)} are free (SQLITE_TMPDIR can name another"
            f" folder){end}"
        )
    return need


def free_share(conn: sqlite3.Connection) -> float:
    """The file's free pages, as a share of its pages."""
    _, pages, free = _sizes(conn)
    return free / pages if pages else 0.0


def give_back(conn: sqlite3.Connection) -> bool:
    """``VACUUM`` the file on ``conn`` (autocommit, no transaction open) when more than
    :data:`FREE_LIMIT` of its pages are free; whether it did. A ``VACUUM`` that fails (a
    disk filled meanwhile, another connection holding the file) changes nothing: the
    migrated file stays as it was, its free pages reused by the next writes."""
    share = free_share(conn)
    if share <= FREE_LIMIT:
        return False
    try:
        conn.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        logger.warning(
            "the migration committed, but compacting the archive did not finish (%s): %.0f %%"
            " of its pages stay free, reused by later writes",
            exc,
            100 * share,
        )
        return False
    return True
