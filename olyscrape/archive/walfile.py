"""The ``-wal`` beside an archive, read as SQLite's WAL format defines it
(https://www.sqlite.org/fileformat2.html#walformat), without SQLite: nothing is opened
through it, locked or created. :func:`wal_state`: its size and frames, from its header and
length; :func:`wal_frames`: how many pages of it are not yet in the file, from the ``-wal``
and its ``-shm``.

Why not trust the ``-shm`` (the WAL index) alone: it is a cache SQLite rebuilds from the
``-wal`` whenever its header does not check out. A ``-shm`` left from another generation of
the WAL (a checkpoint restarted it since), a garbage one, or one SQLite could not rebuild (a
read-only mount) would say "nothing left to copy" of a ``-wal`` full of commits. So the
commits are counted in the ``-wal`` itself: the frames whose salts match its header and whose
cumulative checksums hold, up to the last commit frame, as SQLite's recovery counts them. Of
the ``-shm`` only ``nBackfill`` (how many of those frames a checkpoint copied into the file)
is used, and only when its header is intact (both copies equal, checksum right) and belongs
to this ``-wal`` (the same salts); otherwise nothing is taken as copied.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from olyscrape.archive.traces import read_bytes

#: The WAL format's sizes and magic numbers (checksums little- or big-endian).
WAL_HEADER = 32
FRAME_HEADER = 24
_MAGIC_LITTLE, _MAGIC_BIG = 0x377F0682, 0x377F0683
MAGIC = (_MAGIC_LITTLE, _MAGIC_BIG)
_WAL_VERSION = 3007000
_MASK = 0xFFFFFFFF
#: The WAL index header (two copies of 48 bytes) and the checkpoint info after them.
_INDEX_HEADER = 48
_BACKFILL_AT = 2 * _INDEX_HEADER


@dataclass(frozen=True)
class WalFrames:
    """What the ``-wal`` holds: ``committed`` frames (valid, up to its last commit) and how
    many of them a checkpoint copied into the file (``backfilled``, from a ``-shm`` that
    checks out, else 0); ``shm_trusted`` says whether the ``-shm`` did."""

    committed: int = 0
    backfilled: int = 0
    shm_trusted: bool = False

    @property
    def not_copied(self) -> int:
        return max(0, self.committed - self.backfilled)


def _checksum(data: bytes, s0: int, s1: int, order: str) -> tuple[int, int]:
    """SQLite's WAL checksum of ``data`` (a multiple of 8 bytes) continued from
    ``(s0, s1)``, reading 32-bit words in byte order ``order`` (``<`` or ``>``)."""
    words = struct.unpack(f"{order}{len(data) // 4}I", data)
    pairs = iter(words)
    for first, second in zip(pairs, pairs, strict=False):
        s0 = (s0 + first + s1) & _MASK
        s1 = (s1 + second + s0) & _MASK
    return s0, s1


def committed_frames(wal: str | Path) -> tuple[int, bytes]:
    """The ``-wal``'s valid committed frames and its salts (8 bytes; empty for a ``-wal``
    that is missing, empty or has no valid header)."""
    try:
        fh = open(wal, "rb")  # noqa: SIM115 (closed below; read frame by frame)
    except OSError:
        return 0, b""
    with fh:
        header = fh.read(WAL_HEADER)
        if len(header) < WAL_HEADER:
            return 0, b""
        magic, version, page_size = struct.unpack(">III", header[:12])
        if magic not in (_MAGIC_LITTLE, _MAGIC_BIG) or version != _WAL_VERSION:
            return 0, b""
        if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
            return 0, b""
        order = ">" if magic == _MAGIC_BIG else "<"
        salts = header[16:24]
        s0, s1 = _checksum(header[:24], 0, 0, order)
        if struct.pack(">II", s0, s1) != header[24:32]:
            return 0, b""
        frames = committed = 0
        while True:
            frame = fh.read(FRAME_HEADER + page_size)
            if len(frame) < FRAME_HEADER + page_size:
                break
            page, db_size = struct.unpack(">II", frame[:8])
            if page == 0 or frame[8:16] != salts:
                break
            s0, s1 = _checksum(frame[:8], s0, s1, order)
            s0, s1 = _checksum(frame[FRAME_HEADER:], s0, s1, order)
            if struct.pack(">II", s0, s1) != frame[16:24]:
                break
            frames += 1
            if db_size:  # a commit frame: every frame up to here is committed
                committed = frames
    return committed, salts


def backfilled(shm: str | Path, salts: bytes) -> int | None:
    """``nBackfill`` of the ``-shm`` when its header is intact and belongs to the ``-wal``
    with ``salts``; ``None`` when it cannot be trusted (missing, garbage, stale)."""
    data = read_bytes(shm, _BACKFILL_AT + 4)  # never close() a -shm: see traces
    if len(data) < _BACKFILL_AT + 4 or not salts:
        return None
    first, second = data[:_INDEX_HEADER], data[_INDEX_HEADER:_BACKFILL_AT]
    if first != second or not first[12]:  # the two copies differ, or never initialised
        return None
    order = "<" if sys.byteorder == "little" else ">"  # the -shm is in native byte order
    (version,) = struct.unpack(order + "I", first[:4])
    if version != _WAL_VERSION:
        return None
    s0, s1 = _checksum(first[:40], 0, 0, order)
    if struct.pack(order + "II", s0, s1) != first[40:48]:
        return None
    if first[32:40] != salts:  # another generation of the WAL (or another WAL's)
        return None
    (max_frame,) = struct.unpack(order + "I", first[16:20])
    (count,) = struct.unpack(order + "I", data[_BACKFILL_AT : _BACKFILL_AT + 4])
    return count if count <= max_frame else None


def wal_frames(path: str | Path) -> WalFrames:
    """The ``-wal`` and ``-shm`` beside the archive at ``path``: see :class:`WalFrames`."""
    committed, salts = committed_frames(f"{path}-wal")
    if not committed:
        return WalFrames()
    copied = backfilled(f"{path}-shm", salts)
    if copied is None:
        return WalFrames(committed, 0, shm_trusted=False)
    return WalFrames(committed, min(copied, committed), shm_trusted=True)


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
