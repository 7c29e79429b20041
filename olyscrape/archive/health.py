"""Is the archive file sound, and does the ``.db`` alone hold what was committed?

Checks that never write: SQLite's ``quick_check`` / ``integrity_check`` on a read-only
connection (a read-only connection cannot checkpoint, so a ``-wal`` that does not belong
to the file is never copied into it), and the state of the ``-wal`` read from its header.
:func:`check_before_write` is what the writer runs before its first write;
:func:`checkpoint` is how the writer copies the WAL into the file when it opens and closes.

Why the full ``integrity_check`` before writing: the quick check verifies each b-tree on
its own, not that an index holds the rows of its table, and a byte changed inside an
index page (or a ``-wal`` from another copy of the archive, which mixes pages of two
files) is exactly that kind of mismatch; a crawl writing through such an index makes it
worse. On a 250,000-article archive ``integrity_check`` took 1.2-1.4 s warm against
0.75 s for ``quick_check``; ``OLYSCRAPE_ARCHIVE_CHECK = "quick"`` trades that safety
for start-up time, and still runs the full check when a non-empty ``-wal`` lies beside
the file.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import struct
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from olyscrape.archive import paths
from olyscrape.archive.errors import (
    ArchiveDamaged,
    ArchiveError,
    damaged_line,
    detail_of,
    is_corruption,
)
from olyscrape.archive.walfile import FRAME_HEADER, MAGIC, WAL_HEADER

#: How many problems an integrity check lists at most.
PROBLEMS_LISTED = 100
#: How long closing writer waits for readers before leaving the rest of the WAL (ms).
CHECKPOINT_WAIT_MS = 2000


def wal_path(path: str | Path) -> Path:
    return Path(f"{path}-wal")


@dataclass(frozen=True)
class WalState:
    """The ``-wal`` beside an archive: its size, its frames (pages written and not yet
    known to be copied into the file), and whether the ``-shm`` that indexes it exists."""

    bytes: int = 0
    frames: int = 0
    page_size: int = 0
    shm: bool = False

    @property
    def empty(self) -> bool:
        return self.frames == 0


def wal_state(path: str | Path) -> WalState:
    """Read from the ``-wal`` file itself (its header gives the page size, its length the
    frames), never through SQLite: nothing is opened, locked or created."""
    wal = wal_path(path)
    shm = Path(f"{path}-shm").exists()
    try:
        size = wal.stat().st_size
        with open(wal, "rb") as fh:
            header = fh.read(WAL_HEADER)
    except OSError:
        return WalState(shm=shm)
    if len(header) < WAL_HEADER or struct.unpack(">I", header[:4])[0] not in MAGIC:
        return WalState(bytes=size, shm=shm)
    page_size = struct.unpack(">I", header[8:12])[0] or 65536
    frames = max(0, (size - WAL_HEADER) // (FRAME_HEADER + page_size))
    return WalState(bytes=size, frames=frames, page_size=page_size, shm=shm)


def size_text(count: int) -> str:
    """``323.4 MB``, ``118 KB``, ``512 bytes``."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count // 1_000} KB"
    return f"{count} bytes"


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


#: The checks :func:`check_before_write` can run (``OLYSCRAPE_ARCHIVE_CHECK``).
CHECKS = ("full", "quick")


def check_before_write(path: str | Path, check: str = "full") -> WalState:
    """Raise :class:`ArchiveDamaged` (one line) unless the archive at ``path`` passes
    SQLite's ``integrity_check`` (``check="quick"``: the quick check, but still the full
    one when a non-empty ``-wal`` lies beside it), read through a read-only connection:
    nothing is written or checkpointed. The ``-wal``'s state back."""
    if check not in CHECKS:
        raise ArchiveError(f"OLYSCRAPE_ARCHIVE_CHECK: {check!r} is not one of {', '.join(CHECKS)}")
    wal = wal_state(path)
    refuse_foreign_wal(path, wal)  # before anything reads through a -wal not the file's own
    full = check == "full" or not wal.empty
    check = "integrity_check" if full else "quick_check"
    try:
        conn = open_read_only(path)
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            problems = [detail_of(exc)]
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
    return wal


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


def refuse_stale_read(path: str | Path) -> None:
    """Before a read that must ignore the ``-wal`` (``immutable=1``, where no ``-shm`` can be
    made: a read-only disk or folder): refuse in one line if the ``-wal`` holds pages,
    since the file alone would answer from before those commits."""
    wal = wal_state(path)
    if not wal.empty:
        raise ArchiveError(
            f"archive {path}: its -wal ({size_text(wal.bytes)}) holds commits not yet in the"
            " file, and they cannot be read here (a read-only place without the -shm file);"
            " refusing to answer from the file alone. Copy the file with its -wal to a"
            " writable folder and query it there"
        )


# --- whose -wal is it? -------------------------------------------------------------------------
#
# A -wal carries no name of the file it belongs to: SQLite copies any -wal whose frames are
# intact into whatever file lies beside it. So every writer session marks the archive
# (schema version 6): at open it puts a fresh random token into the one row of
# ``writer_session`` (the stamp it started from goes into the row's ``history``), then each
# of its commits adds one to ``commits`` there, so every commit's WAL frames carry that
# row's page. The file alone (``immutable=1``, the -wal ignored) and the file read through
# the -wal (``mode=ro``) then say whose -wal it is: the same session further on, or a session
# that started from the file's own stamp, is ours; anything else is another copy's.

#: The row every writer session marks (see ``schema.SCHEMA``).
_STAMP = "SELECT token, commits, history FROM writer_session WHERE id = 1"


@dataclass(frozen=True)
class Stamp:
    """A writer session's mark: its ``token``, how many ``commits`` it made, and the stamps
    the sessions before it started from (newest first)."""

    token: str
    commits: int
    history: tuple[tuple[str, int], ...] = ()

    def follows(self, older: Stamp) -> bool:
        """True when this stamp's state was written on top of ``older``'s: the same session
        further on, or a session that started from ``older`` (or from later in it)."""
        if self.token == older.token:
            return self.commits >= older.commits
        return any(token == older.token and commits >= older.commits
                   for token, commits in self.history)  # fmt: skip


def history_of(text: object) -> tuple[tuple[str, int], ...]:
    try:
        value = json.loads(str(text)) if text else []
        return tuple((str(token), int(commits)) for token, commits in value)
    except (ValueError, TypeError):
        return ()


def _read_stamp(uri: str) -> Stamp | None:
    """The mark read through ``uri`` (a read-only connection); ``None`` for an archive that
    has none (older than version 6, or never opened by a writer since)."""
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        try:
            row = conn.execute(_STAMP).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
    finally:
        conn.close()
    if row is None or row[0] is None:
        return None
    return Stamp(str(row[0]), int(row[1] or 0), history_of(row[2]))


def _wal_changes_file(path: str | Path) -> bool:
    """True unless every page the ``-wal``'s committed frames hold is already the file's,
    byte for byte (a ``-wal`` checkpointed whole but not yet reset: copying it again changes
    nothing). Reads both files; frames of an older WAL generation (another salt) and after
    the last commit are not SQLite's either, and are skipped as SQLite skips them."""
    try:
        with open(wal_path(path), "rb") as wal, open(path, "rb") as db:
            header = wal.read(WAL_HEADER)
            page_size = struct.unpack(">I", header[8:12])[0] or 65536
            salts = header[16:24]
            size = wal_path(path).stat().st_size
            latest: dict[int, int] = {}  # page → offset of its newest committed frame
            pending: dict[int, int] = {}
            offset = WAL_HEADER
            while offset + FRAME_HEADER + page_size <= size:
                wal.seek(offset)
                frame = wal.read(FRAME_HEADER)
                if frame[8:16] != salts:
                    break
                page, commit = struct.unpack(">II", frame[:8])
                pending[page] = offset + FRAME_HEADER
                offset += FRAME_HEADER + page_size
                if commit:
                    latest.update(pending)
                    pending.clear()
            for page, at in sorted(latest.items()):
                wal.seek(at)
                db.seek((page - 1) * page_size)
                if wal.read(page_size) != db.read(page_size):
                    return True
    except (OSError, struct.error):
        return True
    return False


@dataclass(frozen=True)
class WalOwner:
    """Whose the ``-wal`` beside an archive is: ``none`` (no -wal, or an empty one),
    ``ours`` (a writer of this file left it), ``foreign`` (``why``), or ``unknown`` (an
    archive that keeps no mark yet, or a file that cannot be read so: the integrity check
    judges instead)."""

    verdict: str
    why: str = ""

    @property
    def foreign(self) -> bool:
        return self.verdict == "foreign"

    def line(self, path: str | Path, wal: WalState) -> str:
        """The one ``damaged`` line for a foreign ``-wal``."""
        return damaged_line(
            path,
            f"its -wal belongs to another copy of the archive: {self.why}; it holds"
            f" {wal.frames} page(s) ({size_text(wal.bytes)}). `olyscrape verify --db {path}`"
            " says more",
        )


def wal_owner(path: str | Path, wal: WalState | None = None) -> WalOwner:
    """Judge the ``-wal`` beside the archive at ``path`` by the writers' marks (see above),
    reading only: the file alone through ``immutable=1``, the file and its ``-wal`` through
    ``mode=ro`` (neither can checkpoint). Run it while no writer holds the archive: a live
    writer's checkpoint changes the file under ``immutable=1``."""
    wal = wal if wal is not None else wal_state(path)
    if wal.empty:
        return WalOwner("none")
    try:
        alone = _read_stamp(paths.sqlite_uri(path, immutable=1))
    except sqlite3.Error:
        return WalOwner("unknown", "the file alone cannot be read")
    if alone is None:
        return WalOwner("unknown", "an archive without writer marks (before schema version 6)")
    try:
        through = _read_stamp(paths.sqlite_uri(path, mode="ro"))
    except sqlite3.Error as exc:
        if is_corruption(exc):  # the file alone reads, and its own writers' -wal never breaks it
            return WalOwner("foreign", f"read with it, the file is unreadable ({detail_of(exc)})")
        return WalOwner("unknown", "the file cannot be read with its -wal here")
    if through is None:
        return WalOwner("foreign", "read with it, the file loses its writer's mark")
    if through.token == alone.token and through.commits == alone.commits:
        # No commit of a writer of this file in it: harmless only if it changes nothing.
        if _wal_changes_file(path):
            return WalOwner(
                "foreign",
                "its commits carry no mark of a crawl of this file (another copy's, or"
                " another program's write cut short)",
            )
        return WalOwner("ours")
    if through.follows(alone):
        return WalOwner("ours")
    return WalOwner("foreign", "it was written by a crawl of another copy (another writer's mark)")


#: Where SQLite keeps its "DMS" lock in the ``-shm`` file: every connection that has the
#: database open in WAL mode holds a shared lock on this byte (the 8 WAL lock bytes start
#: at 120; the DMS byte follows them).
_DMS_BYTE = 128


def open_elsewhere(path: str | Path) -> bool:
    """True when a connection (of any process, this one included) has the archive open in
    WAL mode now: its ``-wal`` is then live, being written or read, not a leftover.

    Asked with an open-file-description lock (``F_OFD_GETLK``), which conflicts with
    SQLite's own record locks even within one process and takes nothing: the probe only
    asks who could not be locked out."""
    shm = Path(f"{Path(path).resolve()}-shm")
    if not shm.exists() or not hasattr(fcntl, "F_OFD_GETLK"):
        return False
    try:
        fd = os.open(shm, os.O_RDONLY)
    except OSError:
        return False
    try:
        request = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, _DMS_BYTE, 1, 0)
        answer = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, request)
        return struct.unpack("hhqqi4x", answer)[0] != fcntl.F_UNLCK
    except OSError:
        return False
    finally:
        os.close(fd)


def refuse_foreign_wal(path: str | Path, wal: WalState | None = None) -> None:
    """Raise :class:`ArchiveDamaged` (the one line) when the ``-wal`` beside the archive is
    another copy's: never written, checkpointed or answered from. A ``-wal`` that a
    connection has open now (another program writing to this very file, a notebook say)
    is live, not a leftover, and is not judged."""
    wal = wal if wal is not None else wal_state(path)
    if not wal.empty and open_elsewhere(path):
        return
    owner = wal_owner(path, wal)
    if owner.foreign:
        raise ArchiveDamaged(owner.line(path, wal))


def check_before_read(path: str | Path) -> None:
    """What a read command runs before answering: refuse a foreign ``-wal`` (see
    :func:`refuse_foreign_wal`), unless a crawl or re-parse holds the archive now (its
    ``-wal`` is live, and its checkpoints would change the file under the check)."""
    if wal_state(path).empty:
        return
    from olyscrape.lock import held_by_another  # stdlib only; read only: creates nothing

    if not held_by_another(path):
        refuse_foreign_wal(path)
