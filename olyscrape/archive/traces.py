"""What SQLite leaves beside a file it only reads, and how a look at a file leaves nothing.

SQLite (3.22 on) opens a WAL-mode file read-only (``mode=ro``) by creating its ``-wal`` and
``-shm`` when they are missing, and only a writable connection's close removes them. So a
read command that opened an archive at rest (checkpointed, its ``-wal`` removed by the
crawl that closed it) left two files beside it, and so did refusing another program's
WAL-mode file. Two ways out, each where it fits:

- A *look* at a file (is it SQLite, ours, which version, which tables) reads a few pages.
  A WAL file at rest is read then with ``immutable=1`` (no ``-wal``, no ``-shm``, no lock),
  guarded by :func:`at_rest`: the shared lock SQLite's readers take on the file (so no
  rollback-mode write or journal-mode change, such as a migration's, can start while it
  reads) and a fingerprint of the file and its ``-wal`` taken before and compared after,
  so a read during a crawl's first checkpoint is read again, or through SQLite after all.
- A *reader* that stays open (``articles``, ``sql``: a query may run for minutes while a
  crawl starts and checkpoints) must take part in SQLite's locking, so it opens
  ``mode=ro`` as before, and its close removes what SQLite made
  (:func:`olyscrape.archive.paths.leave_nothing`).
"""

from __future__ import annotations

import fcntl
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

#: SQLite's lock bytes in the file (``os_unix.c``): a reader holds a read lock on the 510
#: bytes of the shared range; a writer going exclusive (a rollback-mode commit, a
#: journal-mode change, the last close removing the ``-wal``) needs a write lock on them.
_PENDING_BYTE = 0x40000000
_SHARED_FIRST = _PENDING_BYTE + 2
_SHARED_SIZE = 510
#: ``struct flock`` as Linux lays it out (type, whence, start, len, pid).
_FLOCK = "hhqqi4x"


def in_wal_mode(path: str | Path) -> bool:
    """True when the SQLite file at ``path`` is in WAL mode: its header's read and write
    versions (bytes 18 and 19) are 2 (https://www.sqlite.org/fileformat2.html)."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18:20] == b"\x02\x02"


def _fingerprint(path: Path) -> tuple[object, ...]:
    """What changes when anything writes the file or starts a ``-wal`` beside it."""
    info = path.stat()
    try:
        found = os.stat(f"{path}-wal")
        wal: tuple[int, int] | None = (found.st_size, found.st_mtime_ns)
    except OSError:
        wal = None
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, wal)


@dataclass
class Rest:
    """A file at rest while :func:`at_rest` holds it: :meth:`unchanged` says whether a
    read since then read it in one state (nothing wrote it, no ``-wal`` appeared)."""

    path: Path
    before: tuple[object, ...]

    def unchanged(self) -> bool:
        try:
            return _fingerprint(self.path) == self.before
        except OSError:
            return False


def _shared_lock(fd: int) -> bool:
    """Take a read lock on SQLite's shared range as an open-file-description lock (which no
    other close of the same file in this process drops, unlike a POSIX one); False when a
    writer holds it exclusively, or where there are no such locks."""
    if not hasattr(fcntl, "F_OFD_SETLK"):
        return True  # the fingerprint alone guards the read
    request = struct.pack(_FLOCK, fcntl.F_RDLCK, os.SEEK_SET, _SHARED_FIRST, _SHARED_SIZE, 0)
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, request)
    except OSError:
        return False
    return True


@contextmanager
def at_rest(path: str | Path) -> Iterator[Rest | None]:
    """The WAL file at ``path`` held at rest for a short ``immutable=1`` read: no ``-wal``
    beside it, SQLite's shared lock on it (released on leaving), and its fingerprint
    before the read. ``None`` when it is not at rest (a ``-wal`` is there, or a writer holds
    the file exclusively): read it through SQLite's own locking then."""
    real = Path(path).resolve()
    if Path(f"{real}-wal").exists():
        yield None
        return
    try:
        fd = os.open(real, os.O_RDONLY)
    except OSError:
        yield None
        return
    try:
        if not _shared_lock(fd):
            yield None
            return
        before = _fingerprint(real)
        if before[-1] is not None:  # a -wal appeared before the lock was taken
            yield None
            return
        yield Rest(real, before)
    finally:
        with suppress(OSError):
            os.close(fd)  # and with it the lock
