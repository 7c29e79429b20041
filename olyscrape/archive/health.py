"""Is the archive file sound, and does the ``.db`` alone hold what was committed?

Checks that never write: SQLite's ``quick_check`` / ``integrity_check`` on a read-only
connection (a read-only connection cannot checkpoint, so a ``-wal`` that does not belong
to the file is never copied into it), with the ``-wal`` read from its header
(:mod:`~olyscrape.archive.walfile`) and judged by its writers' marks
(:mod:`~olyscrape.archive.walowner`). :func:`check_before_write` is what the writer runs
before its first write; :func:`checkpoint` is how the writer copies the WAL into the file
when it opens and closes.

Why the full ``integrity_check`` before writing: the quick check verifies each b-tree on
its own, not that an index holds the rows of its table, and a byte changed inside an
index page (or a ``-wal`` from another copy of the archive, which mixes pages of two
files) is exactly that kind of mismatch; a crawl writing through such an index makes it
worse. On a 250,000-article archive ``integrity_check`` took 1.2-1.4 s warm against
0.75 s for ``quick_check``; ``OLYSCRAPE_ARCHIVE_CHECK = "quick"`` trades that safety
for start-up time, and still runs the full check when a non-empty ``-wal`` lies beside
the file.

Why not at every start: the full check reads every page, 4.5 CPU s at a million articles,
three times the rest of a nightly crawl. A writer that checked the file in full and closed
it cleanly (its WAL copied in) leaves the file's :func:`fingerprint` (device, inode,
size, modification and change times); the next writer that finds the file with that very
fingerprint and no ``-wal`` skips the check: nothing wrote to the file since it was found
sound. Any write to it (a byte flipped by a program, a restore, a copy put in its place,
a ``-wal`` from elsewhere checkpointed into it) changes its change time, which no program
can set back; ``OLYSCRAPE_ARCHIVE_CHECK = "always"`` checks every time all the same (a
disk that rots bytes under an unchanged file is what only that, or ``verify``, sees).
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from olyscrape.archive import paths
from olyscrape.archive.errors import (
    ArchiveDamaged,
    ArchiveError,
    cause_of,
    damaged_line,
    detail_of,
    is_corruption,
    size_text,
    write_error,
)
from olyscrape.archive.traces import file_stamp, hot_journal
from olyscrape.archive.walfile import wal_state
from olyscrape.archive.walowner import refuse_foreign_wal

#: How many problems an integrity check lists at most.
PROBLEMS_LISTED = 100
#: How long closing writer waits for readers before leaving the rest of the WAL (ms).
CHECKPOINT_WAIT_MS = 2000


def open_read_only(path: str | Path) -> sqlite3.Connection:
    """A ``mode=ro`` connection that reads the ``-wal`` too (never ``immutable``, which
    would ignore it). It cannot write the file, nor checkpoint into it."""
    return paths.connect_read_only(path, mode="ro", timeout=30)


def integrity_problems(conn: sqlite3.Connection, quick: bool) -> list[str]:
    """SQLite's ``quick_check`` (``quick``) or ``integrity_check``: the problems, one line
    each (none for a sound file). A file too damaged to check raises SQLite's error."""
    pragma = "quick_check" if quick else "integrity_check"
    rows = conn.execute(f"PRAGMA {pragma}({PROBLEMS_LISTED})").fetchall()
    return [" ".join(str(row[0]).split()) for row in rows if row[0] != "ok"]


def problems_text(check: str, problems: list[str]) -> str:
    more = len(problems) - 1
    first = problems[0]
    if more:
        listed = f"{more}+" if len(problems) >= PROBLEMS_LISTED else str(more)
        return f"{check}: {first}, and {listed} more"
    return f"{check}: {first}"


#: The checks :func:`check_before_write` can run (``OLYSCRAPE_ARCHIVE_CHECK``): ``full``
#: unless the file is as the last writer that checked it left it, ``quick``, ``always``
#: the full check.
CHECKS = ("full", "quick", "always")
#: What :func:`check_before_write` says when the file was as the last check left it.
UNCHANGED = "unchanged"
#: How long after the file's last change its fingerprint is taken (see settled_fingerprint).
SETTLE_NS = 30_000_000


def fingerprint(path: str | Path) -> str | None:
    """The file's :func:`~olyscrape.archive.traces.file_stamp` as the lock file keeps it
    (``DEVICE:INODE:SIZE:MTIME:CTIME``); None when the file cannot be read."""
    try:
        return ":".join(map(str, file_stamp(path)))
    except OSError:
        return None


def settled_fingerprint(path: str | Path) -> str | None:
    """The :func:`fingerprint` taken once the clock is past the file's last change by
    :data:`SETTLE_NS`: the kernel stamps a change with a coarse clock (a tick of a few
    ms), so a write in the same tick as the writer's last one would keep the change time;
    one after this wait cannot. Waits 30 ms at most, at the end of a write session."""
    with suppress(OSError):
        wait = os.stat(path).st_ctime_ns + SETTLE_NS - time.time_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
    return fingerprint(path)


def check_before_write(path: str | Path, check: str = "full", checked: str | None = None) -> str:
    """Raise :class:`ArchiveDamaged` (one line) unless the archive at ``path`` passes
    SQLite's ``integrity_check`` (``check="quick"``: the quick check, but still the full
    one when a non-empty ``-wal`` lies beside it), read through a read-only connection:
    nothing is written or checkpointed. Which check ran back (``integrity_check``,
    ``quick_check``), or :data:`UNCHANGED` when none had to: ``check="full"``, no
    ``-wal``, and the file's :func:`fingerprint` is ``checked``, what the last writer that
    checked it left (see the module's docstring)."""
    if check not in CHECKS:
        raise ArchiveError(f"OLYSCRAPE_ARCHIVE_CHECK: {check!r} is not one of {', '.join(CHECKS)}")
    wal = wal_state(path)
    refuse_foreign_wal(path, wal)  # before anything reads through a -wal not the file's own
    if (
        check == "full" and checked and wal.bytes == 0 and not hot_journal(path)
        and fingerprint(path) == checked
    ):  # fmt: skip
        return UNCHANGED
    full = check != "quick" or not wal.empty
    check = "integrity_check" if full else "quick_check"
    try:
        conn = open_read_only(path)
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            problems = [detail_of(exc)]
        elif cause_of(exc) == "disk full":  # no room for the -shm a WAL file's reader needs
            raise write_error(path, exc) from None
        else:
            raise ArchiveError(f"archive {path}: cannot be read ({detail_of(exc)})") from None
    else:
        try:
            problems = integrity_problems(conn, quick=not full)
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise ArchiveError(f"archive {path}: cannot be read ({detail_of(exc)})") from None
            problems = [detail_of(exc)]
        finally:
            conn.close()
    if problems:
        what = problems_text(check, problems)
        if not wal.empty:
            what += (
                f"; read with the {size_text(wal.bytes)} -wal beside it, which may belong to"
                " another copy of the archive"
            )
        raise ArchiveDamaged(
            damaged_line(path, f"{what}; `olyscrape verify --db {path}` says more")
        )
    return check


@dataclass(frozen=True)
class Checkpoint:
    """What ``PRAGMA wal_checkpoint(TRUNCATE)`` did: ``busy`` when a reader kept it from
    finishing; ``frames`` in the WAL and ``copied`` into the file; ``error`` when it failed."""

    busy: bool
    frames: int
    copied: int
    wal_bytes: int = 0
    error: str | None = None

    @property
    def complete(self) -> bool:
        """True when the file alone holds every commit (the WAL may still be there)."""
        return self.error is None and self.frames == self.copied and self.frames >= 0

    @property
    def frames_left(self) -> int:
        return max(0, self.frames - max(self.copied, 0))

    def as_stats(self) -> dict[str, object]:
        return {"complete": self.complete, "busy": self.busy, "frames": self.frames,
                "copied": self.copied, "frames_left": self.frames_left,
                "wal_bytes": self.wal_bytes, "error": self.error}  # fmt: skip


def checkpoint(
    conn: sqlite3.Connection, path: str | Path, wait_ms: int = CHECKPOINT_WAIT_MS
) -> Checkpoint:
    """Copy the WAL into the file and truncate it, waiting at most ``wait_ms`` for readers
    of older snapshots. Never raises: a failure is the result's ``error``."""
    (previous,) = conn.execute("PRAGMA busy_timeout").fetchone()
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        result = Checkpoint(bool(busy), frames, copied)
    except sqlite3.Error as exc:
        result = Checkpoint(True, wal_state(path).frames, 0, error=detail_of(exc))
    finally:
        with suppress(sqlite3.Error):
            conn.execute(f"PRAGMA busy_timeout = {int(previous)}")
    return Checkpoint(result.busy, result.frames, result.copied,
                      wal_state(path).bytes, result.error)  # fmt: skip


def checkpoint_line(path: str | Path, state: dict[str, object]) -> str | None:
    """The summary's line when a writer's closing checkpoint left commits only in the WAL."""
    if not state or state.get("complete"):
        return None
    size = size_text(int(state.get("wal_bytes") or 0))  # type: ignore[call-overload]
    why = (
        f"it failed: {state['error']}" if state.get("error") else "a reader held an older snapshot"
    )
    where = f" {path}" if str(path) else ""
    return (
        f"archive{where}: {state.get('frames_left')} page(s) of the last commits are still"
        f" only in its -wal ({size}; {why}); the next crawl copies them into the file. Until"
        " then copy it with `olyscrape backup`, not cp"
    )
