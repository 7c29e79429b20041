"""Where an archive lives: one file, one name, reached as a path and never as a URI.

SQLite keeps an archive's journal, WAL and WAL index (``-journal``, ``-wal``, ``-shm``)
beside the *name* it was opened by, and this SQLite is built to read ``file:...`` names as
URIs (``file:x.db?mode=memory`` would write nothing anywhere). So every connection opens
:func:`sqlite_uri`: the real path (symlinks resolved) as an escaped ``file://`` URI, in
which ``?``, ``#`` and ``%`` are letters of the name; ``--db file:x.db`` is the file named
``file:x.db`` in the current folder. A file with a second name (a hard link) could be
written under each name with its own WAL, which corrupts it, and a device or a FIFO is
no archive: :func:`check_file` refuses both before anything is created beside them.
The read commands open :func:`read_connection`, which cannot write, and a look at what a
file is (:func:`read_briefly`) creates nothing beside it: see :mod:`olyscrape.archive.traces`
for why SQLite would, and how each is kept from leaving a file behind.

:func:`preflight` is the one early check of an archive's path, used by whoever must refuse
it before doing anything (the command before it starts a crawl, the archive keeper before
it takes the lock, :meth:`~olyscrape.archive.ArchiveWriter.open` before it connects).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

from olyscrape.archive.errors import ArchiveError, ArchiveRefused, size_text
from olyscrape.archive.running import watch_of
from olyscrape.archive.text import read_text_leniently
from olyscrape.archive.traces import at_rest, hot_journal, in_wal_mode
from olyscrape.archive.walfile import wal_state

logger = logging.getLogger(__name__)

T = TypeVar("T")

_KINDS = {
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
}


def sqlite_uri(path: str | Path, **params: str | int) -> str:
    """``path`` as the URI SQLite opens: absolute, symlinks resolved, every character that
    means something in a URI escaped, then ``params`` (``mode=ro``, ``immutable=1``)."""
    uri = Path(path).resolve().as_uri()
    return f"{uri}?{urlencode(params)}" if params else uri


def connect_read_only(
    path: str | Path, timeout: float = 5, **params: str | int
) -> sqlite3.Connection:
    """A connection to ``path`` opened with ``params`` (``mode="ro"`` or ``immutable=1``),
    reading TEXT that is not UTF-8 with its bad bytes replaced, checked to read the schema
    (closed again if it cannot). A ``mode=ro`` connection, closed, removes the empty ``-wal``
    and ``-shm`` SQLite made for it (:class:`LeavesNothing`)."""
    conn = sqlite3.connect(
        sqlite_uri(path, **params), uri=True, timeout=timeout, factory=LeavesNothing
    )
    if params.get("mode") == "ro":
        conn.leaves_nothing_beside = Path(path).resolve()
    read_text_leniently(conn)
    watch_of(conn)  # Ctrl-C reaches any statement on it (olyscrape.archive.running)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


#: The files an archive keeps beside itself: its crawl lock, and SQLite's own.
COMPANIONS = (".lock", "-wal", "-shm", "-journal")


def part_of_archive(path: str | Path, archive: str | Path) -> str | None:
    """What ``path`` is of the archive at ``archive`` ("the archive itself", "the archive's
    lock file", ...), followed through symlinks and hard links, or None if neither it nor
    a companion. Every file a command writes (``-o``, a feed, a log, a chart, a WARC, a
    backup) is checked with this one rule, before anything is written."""
    real, archive_real = Path(path).resolve(), Path(archive).resolve()
    same = real == archive_real
    if not same:
        with contextlib.suppress(OSError):
            same = os.path.samefile(path, archive)
    if same:
        return "the archive itself"
    for suffix in COMPANIONS:
        if real == archive_real.with_name(archive_real.name + suffix):
            return f"the archive's {suffix.lstrip('.-')} file"
    return None


class UnusablePath(ArchiveError):
    """A path that cannot name the file it is given for: a folder, a file's name under a
    file, or read-only where the file must be written. The caller's usage error (the
    command says so for its option, exit 2), before anything is opened."""


def kept_mode(path: str | Path) -> int:
    """The permissions of a file written beside ``path`` and renamed over it: a replaced
    file keeps its own; a new one gets the usual (umask) ones."""
    try:
        return Path(path).stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def nearest_folder(path: str | Path) -> Path:
    """The nearest existing ancestor of ``path`` (where creating it would start)."""
    folder = Path(path).absolute().parent
    while not folder.exists():
        folder = folder.parent
    return folder


def check_reachable(path: str | Path) -> None:
    """Refuse (:class:`UnusablePath`) a path whose name means two files: a ``..`` after a
    folder that does not exist (``missing/../a.db``: the kernel finds no such file, while
    SQLite and the lock, which resolve the path, open ``a.db``, so a crawl took an archive
    for new and wrote over its rows), or a dangling symlink on the way whose target's folder
    is missing (creating through it would make that folder, far from the path given).
    Reads only."""
    path = Path(path)
    parts = path.parts
    for i, part in enumerate(parts):
        prefix = Path(*parts[: i + 1])
        if part == ".." and i and not Path(*parts[:i]).is_dir():
            raise UnusablePath(
                f"{path}: {Path(*parts[:i])} is not an existing folder, so the '..' after it"
                " leads nowhere; give the path without it"
            )
        if prefix.is_symlink() and not prefix.exists():
            if i == len(parts) - 1 and prefix.resolve().parent.is_dir():
                continue  # a link to a file yet to be made in a folder that exists: fine
            raise UnusablePath(
                f"{path}: {prefix} is a dangling symlink (to {os.readlink(prefix)}, whose"
                " folder does not exist); create it or give another path"
            )


def check_creatable(path: str | Path, *, writable: bool = True) -> None:
    """A file a path names must be creatable: reachable (:func:`check_reachable`), not a
    folder, its nearest existing ancestor a folder, and (``writable``) the file, or that
    folder, writable. Raises :class:`UnusablePath`; reads only."""
    check_reachable(path)
    path = Path(path)
    if path.is_dir():
        raise UnusablePath(f"{path} is a folder")
    folder = nearest_folder(path)
    if not folder.is_dir():
        raise UnusablePath(f"cannot create {path}: {folder} is not a folder")
    target = path if path.exists() else folder
    if writable and not os.access(target, os.W_OK):
        raise UnusablePath(f"cannot write {path}: {target} is read-only")


def preflight(path: str | Path) -> None:
    """The one check of an archive's path before anything is done with it (its lock, a
    request, a file created beside it): a path that can name a file
    (:class:`UnusablePath`, a usage error), then one an archive can be written at
    (:class:`ArchiveError`: see :func:`check_writable`). Writes nothing."""
    check_creatable(path, writable=False)  # a read-only archive is a fault, not a usage error
    check_writable(path)


def check_file(path: str | Path, *, writing: bool) -> None:
    """Refuse (:class:`ArchiveRefused`, nothing touched) a ``path`` that is not a regular
    file (a device, a FIFO, a socket), or a file with more than one name (hard links) when
    ``writing``, or when reading would create a WAL's ``-shm`` beside one of its names.
    A missing path passes: it is where a new archive goes. Opens nothing but a regular
    file's first bytes."""
    path = Path(path)
    try:
        info = path.stat()  # through symlinks: the file itself
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ArchiveError(f"archive {path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ArchiveError(f"archive {path}: is a folder")
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise ArchiveRefused(f"archive {path}: {kind}, not a regular file; left unchanged")
    if info.st_nlink > 1 and (writing or in_wal_mode(path)):
        raise ArchiveRefused(
            f"archive {path}: the file has {info.st_nlink} names (hard links), and SQLite"
            " under two names can corrupt it; keep one (a symlink is fine). Left unchanged"
        )


def check_writable(path: str | Path) -> None:
    """Raise :class:`ArchiveError` unless an archive can be written at ``path``: a regular
    file with one name (see :func:`check_file`), the file (if there) and its folder
    writable, or the folder creatable. Writes nothing."""
    check_reachable(path)
    path = Path(path)
    check_file(path, writing=True)
    if path.exists():
        if not os.access(path, os.W_OK):
            raise ArchiveError(f"archive {path}: read-only (the file cannot be written)")
        folder = path.resolve().parent  # where SQLite puts the journal: beside the file
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ArchiveError(
                f"archive {path}: read-only (its folder {folder} cannot be written, and"
                " SQLite keeps its journal there)"
            )
        return
    folder = nearest_folder(path)
    if not folder.is_dir():
        raise ArchiveError(f"archive {path}: cannot create its folder ({folder} is a file)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ArchiveError(f"archive {path}: read-only (cannot create it in {folder})")


#: SQLITE_READONLY_ROLLBACK: a read-only connection met a hot journal it cannot roll back.
_READONLY_ROLLBACK = 776


def read_connection(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot write to ``path``: ``mode=ro``, or SQLite's ``immutable=1``
    where the file or its folder is read-only (a WAL archive's reader needs to write its
    ``-shm`` file otherwise), as Datasette's immutable mode does.

    A write cut short in rollback-journal mode (a migration killed half-way) leaves a hot
    ``-journal`` that only a writable connection can roll back: it is rolled back first, as
    the ``sqlite3`` shell would on its first read, so the file reads as it was before that
    write. Where it cannot be (a read-only disk), the file is refused, never read with
    ``immutable=1``, which would ignore the journal and read half-written pages."""
    try:
        return connect_read_only(path, mode="ro", timeout=30)
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", None) == _READONLY_ROLLBACK:
            _roll_back_hot_journal(path)
            return connect_read_only(path, mode="ro", timeout=30)
        if hot_journal(path):
            journal = Path(f"{Path(path).resolve()}-journal")
            raise ArchiveError(_HOT_JOURNAL.format(path=path, journal=journal)) from None
        refuse_stale_read(path)  # immutable ignores the -wal
        return connect_read_only(path, immutable=1)


_HOT_JOURNAL = (
    "archive {path}: an interrupted write left {journal}, which must be rolled back before"
    " the file can be read, and this disk or folder is read-only; left unchanged"
)


def _read_once_writable(path: str | Path, timeout: float) -> None:
    """Open ``path`` writable, read its schema, close: SQLite's first read rolls back a hot
    journal, and its last close removes an empty ``-wal`` and ``-shm``."""
    conn = sqlite3.connect(sqlite_uri(path, mode="rw"), uri=True, timeout=timeout)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


def _roll_back_hot_journal(path: str | Path) -> None:
    """Let SQLite roll back a hot journal through a writable connection (its first read
    does), or refuse the file in one line when it cannot be written."""
    journal = Path(f"{Path(path).resolve()}-journal")
    try:
        _read_once_writable(path, timeout=30)
    except sqlite3.DatabaseError:
        raise ArchiveError(_HOT_JOURNAL.format(path=path, journal=journal)) from None
    logger.warning(  # said, since it changed the file: a journal of another file would too
        "archive %s: rolled back the write cut short that %s held (as SQLite does)",
        path,
        journal.name,
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


def read_briefly(path: str | Path, read: Callable[[sqlite3.Connection], T]) -> T:
    """``read(conn)``, a short look at the file at ``path`` (its id, version, tables), on a
    connection that creates nothing beside it. A WAL file at rest (no ``-wal`` beside it:
    the file alone holds every commit) is read with ``immutable=1``, which opens no ``-wal``
    or ``-shm``, under the shared lock SQLite's own readers take, and read again if the
    file changed meanwhile (see :func:`~olyscrape.archive.traces.at_rest`); anything else
    through :func:`read_connection` (in rollback-journal mode, it creates nothing either)."""
    for _ in range(3):
        with at_rest(path) as rest:
            if rest is None:
                break
            try:
                conn = connect_read_only(path, immutable=1)
                try:
                    found = read(conn)
                finally:
                    conn.close()
            except sqlite3.DatabaseError:
                if rest.unchanged():
                    raise
                continue  # read while a writer changed the file: again
            if rest.unchanged():
                return found
    conn = read_connection(path)
    try:
        return read(conn)
    finally:
        conn.close()


class LeavesNothing(sqlite3.Connection):
    """A read-only connection that, closed, removes the ``-wal`` and ``-shm`` SQLite made
    beside its WAL file when they are empty and nobody else has the file open
    (:func:`leave_nothing`). SQLite (3.22 on) creates them for any reader of a WAL file
    whose ``-wal`` is missing, and only a writable connection's close removes them."""

    leaves_nothing_beside: Path | None = None

    def close(self) -> None:
        super().close()
        path, self.leaves_nothing_beside = self.leaves_nothing_beside, None
        if path is not None:
            leave_nothing(path)


def leave_nothing(path: str | Path) -> bool:
    """Remove the empty ``-wal`` (0 bytes) and its ``-shm`` beside the WAL file at ``path``,
    as SQLite removes them when the last connection closes: through SQLite's own close, on
    a connection opened for it that reads the schema and closes. That close removes them
    only when it can lock the file exclusively, that is when no other connection (a
    crawl's, another reader's) has it open, and copies nothing into the file, since the
    ``-wal`` holds no frame: the file is left byte for byte. True when they are gone.

    Never for a ``-wal`` that holds anything (a killed crawl's commits, another copy's: see
    :mod:`~olyscrape.archive.walowner`), nor for a file this process cannot write."""
    real = Path(path).resolve()
    wal = Path(f"{real}-wal")
    try:
        if wal.stat().st_size or not in_wal_mode(real) or not os.access(real, os.W_OK):
            return False
    except OSError:
        return False
    try:
        _read_once_writable(real, timeout=1)
    except sqlite3.Error:
        return False
    return not wal.exists()
