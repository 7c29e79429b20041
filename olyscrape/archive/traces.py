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

Both rest on SQLite's POSIX locks, which a process loses on a file as soon as it closes
*any* descriptor of that file (https://www.sqlite.org/howtocorrupt.html, 2.2): a header read
with ``open()`` beside a live connection would drop that connection's shared lock, and
another process's last close could then remove the ``-wal`` and ``-shm`` in use. So the
archive's own reads of a file's bytes go through :func:`kept_fd`, never closed.
"""

from __future__ import annotations

import fcntl
import os
import struct
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
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


#: Descriptors kept open, by (device, inode): see the module's docstring. At most
#: :data:`_KEPT_MAX` (the oldest closed beyond that: a process reading that many archives
#: at once is not one of olyscrape's commands).
_KEPT: OrderedDict[tuple[int, int], int] = OrderedDict()
_KEPT_MAX = 256


def kept_fd(path: str | Path) -> int:
    """A read-only descriptor of the file at ``path``, opened once per file and kept open
    for the process's life, so that reading it never closes a descriptor of a file a
    SQLite connection of this process has locked. Raises :class:`OSError`."""
    info = os.stat(path)
    key = (info.st_dev, info.st_ino)
    fd = _KEPT.get(key)
    if fd is None:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        opened = os.fstat(fd)
        key = (opened.st_dev, opened.st_ino)  # the file opened, if it was just replaced
        if key in _KEPT:
            return fd  # (a race with a replacement: this one is left open too)
        _KEPT[key] = fd
        while len(_KEPT) > _KEPT_MAX:
            os.close(_KEPT.popitem(last=False)[1])
    _KEPT.move_to_end(key)
    return fd


def read_bytes(path: str | Path, size: int, offset: int = 0) -> bytes:
    """``size`` bytes of the file at ``path`` from ``offset`` (fewer at its end; none when
    it cannot be read), through :func:`kept_fd`."""
    try:
        return os.pread(kept_fd(path), size, offset)
    except OSError:
        return b""


def in_wal_mode(path: str | Path) -> bool:
    """True when the SQLite file at ``path`` is in WAL mode: its header's read and write
    versions (bytes 18 and 19) are 2 (https://www.sqlite.org/fileformat2.html)."""
    return read_bytes(path, 2, 18) == b"\x02\x02"


def file_stamp(path: str | Path) -> tuple[int, int, int, int, int]:
    """The file's device, inode, size, modification and change times (ns), as the
    filesystem tells them: any write, rename over it or copy in its place changes them
    (the change time no program can set back). Raises ``OSError``."""
    info = os.stat(path)
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _fingerprint(path: Path) -> tuple[object, ...]:
    """What changes when anything writes the file or starts a ``-wal`` beside it."""
    stamp = file_stamp(path)
    try:
        found = os.stat(f"{path}-wal")
        wal: tuple[int, int] | None = (found.st_size, found.st_mtime_ns)
    except OSError:
        wal = None
    return (*stamp, wal)


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


def _lock(fd: int, kind: int) -> bool:
    """Set (``F_RDLCK``) or clear (``F_UNLCK``) a read lock on SQLite's shared range as an
    open-file-description lock, which no close elsewhere in this process drops; False
    when a writer holds the range exclusively. Where there are no such locks, True: the
    fingerprint alone guards the read."""
    if not hasattr(fcntl, "F_OFD_SETLK"):
        return True
    request = struct.pack(_FLOCK, kind, os.SEEK_SET, _SHARED_FIRST, _SHARED_SIZE, 0)
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, request)
    except OSError:
        return False
    return True


def hot_journal(path: str | Path) -> bool:
    """Whether a ``-journal`` with content lies beside the file: a rollback-mode write cut
    short (a migration killed half-way) whose pages the file may hold half-written. Such a
    file is never at rest: ``immutable=1`` would ignore the journal, and only SQLite's own
    first read (which rolls it back) reads the file as it was."""
    try:
        return Path(f"{Path(path).resolve()}-journal").stat().st_size > 0
    except OSError:
        return False


@contextmanager
def at_rest(path: str | Path) -> Iterator[Rest | None]:
    """The WAL file at ``path`` held at rest for a short ``immutable=1`` read: no ``-wal``
    beside it, SQLite's shared lock on it (released on leaving), and its fingerprint
    before the read. ``None`` when it is not at rest (a ``-wal`` or a hot ``-journal`` is
    there, or a writer holds the file exclusively): read it through SQLite's own locking
    then."""
    real = Path(path).resolve()
    try:
        fd = None if Path(f"{real}-wal").exists() or hot_journal(real) else kept_fd(real)
    except OSError:
        fd = None
    if fd is None or not _lock(fd, fcntl.F_RDLCK):
        yield None
        return
    try:
        before = _fingerprint(real)
        # A -wal that appeared before the lock was taken: a writer started meanwhile.
        yield None if before[-1] is not None else Rest(real, before)
    finally:
        _lock(fd, fcntl.F_UNLCK)
