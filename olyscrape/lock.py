"""One writer at a time: an exclusive lock on ``<archive>.lock`` for a crawl's lifetime."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class ArchiveLocked(Exception):
    """Another process holds the archive's lock (a crawl or re-parse is running)."""


class ArchiveLock:
    """An advisory ``flock`` on ``<db>.lock``, released when the process ends, however it
    ends (a ``kill -9`` included), so a dead crawl never leaves a stale lock behind: a
    lock file left over holds no lock, and only its holder's pid is read from it.

    The lock belongs to the archive's real path (symlinks resolved), so ``alias.db``
    pointing at ``a.db`` takes the same lock as ``a.db``. When the archive was never
    created (a crawl stopped by a usage error), the lock file it made is removed too.
    """

    def __init__(self, db: str | Path) -> None:
        self.archive = Path(db).resolve()
        self.path = self.archive.with_name(f"{self.archive.name}.lock")
        self._file: IO[str] | None = None
        self._made = False
        #: The note the previous holder left (:meth:`note`), read when the lock is taken.
        self.previous_note: str | None = None

    def acquire(self) -> None:
        """Take the lock at once, or raise :class:`ArchiveLocked` naming its holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._made = not self.path.exists()
        handle = open(self.path, "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.readline().strip() or "another process"
            handle.close()
            raise ArchiveLocked(f"the archive is in use by {holder} (lock {self.path})") from None
        handle.seek(0)
        lines = handle.read().splitlines()
        self.previous_note = lines[1] if len(lines) > 1 else None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._file = handle

    def note(self, line: str) -> None:
        """Leave ``line`` in the lock file for the next holder (``previous_note``): the
        archive's fingerprint after a clean, checked write session. Taking the lock
        erases it, so a holder killed before its end leaves none."""
        if self._file is not None:
            self._file.write(f"{line}\n")
            self._file.flush()

    def release(self, discard: bool = False) -> None:
        """Give the lock back. The lock file goes too when this lock made it and the
        archive was never created, or (``discard``) the run was refused and wrote
        nothing: a refused run leaves no file behind."""
        if self._file is not None:
            if self._made and (discard or not self.archive.exists()):
                self.path.unlink(missing_ok=True)  # still held: nobody else has it
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> ArchiveLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def held_by_another(db: str | Path) -> bool:
    """True when another process (a crawl, a re-parse) holds the archive's lock now. Reads
    only: opens an existing lock file read-only, creates nothing."""
    try:
        handle = open(ArchiveLock(db).path)  # noqa: SIM115 - closed below
    except OSError:
        return False  # no lock file: nobody ever locked it here
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
