"""Whose is the ``-wal`` beside an archive: this file's writers', or another copy's?

A -wal carries no name of the file it belongs to: SQLite copies any -wal whose frames are
intact into whatever file lies beside it. So every writer session marks the archive
(schema version 6): at open it puts a fresh random token into the one row of
``writer_session`` (the stamp it started from goes into the row's ``history``), then each
of its commits adds one to ``commits`` there, so every commit's WAL frames carry that
row's page. The file alone (``immutable=1``, the -wal ignored) and the file read through
the -wal (``mode=ro``) then say whose -wal it is: the same session further on, or a session
that started from the file's own stamp, is ours; anything else is another copy's.

A ``-wal`` judged another copy's is never written, checkpointed or answered from: the
writer (:func:`~olyscrape.archive.health.check_before_write`), the read commands and
``backup`` (:func:`check_before_read`) refuse it in one line, and ``verify`` names it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from olyscrape.archive import paths, traces
from olyscrape.archive.errors import (
    ArchiveDamaged,
    damaged_line,
    detail_of,
    is_corruption,
    size_text,
)
from olyscrape.archive.walfile import FRAME_HEADER, WAL_HEADER, WalState, wal_path, wal_state

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
        db = traces.kept_fd(path)  # never closed (see olyscrape.archive.traces)
        with open(wal_path(path), "rb") as wal:
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
                if wal.read(page_size) != os.pread(db, page_size, (page - 1) * page_size):
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
    try:  # a descriptor never closed: closing one would drop this process's own DMS lock
        fd = traces.kept_fd(shm)
        request = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, _DMS_BYTE, 1, 0)
        answer = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, request)
        return struct.unpack("hhqqi4x", answer)[0] != fcntl.F_UNLCK
    except OSError:
        return False


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


#: Does another process (a crawl, a re-parse) hold the archive's lock now? Asked with the
#: archive's path; ``olyscrape.lock.held_by_another`` answers. The lock belongs to whoever
#: runs crawls, above the archive, so a read command's caller brings it.
LockProbe = Callable[[str | Path], bool]


def check_before_read(path: str | Path, held_by_another: LockProbe | None = None) -> None:
    """What a read command runs before answering: refuse a foreign ``-wal`` (see
    :func:`refuse_foreign_wal`), unless a crawl or re-parse holds the archive now (its
    ``-wal`` is live, and its checkpoints would change the file under the check).
    ``held_by_another`` is asked only when a ``-wal`` lies beside the file; without it, no
    crawl is taken to hold the archive."""
    if wal_state(path).empty:
        return
    if held_by_another is None or not held_by_another(path):
        refuse_foreign_wal(path)
