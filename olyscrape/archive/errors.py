"""What can go wrong with an archive, each as one line a person can act on."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path


class ArchiveError(Exception):
    """The archive cannot be opened or used: missing, not ours, unreadable, read-only..."""


class ArchiveRefused(ArchiveError):
    """A file that is not an olyscrape archive (or one newer than this code): left as it is."""


class ArchiveWriteError(ArchiveError):
    """A write that failed (disk full, read-only, I/O error, ...); the open batch was rolled back.

    ``cause`` is a few words (``disk full``), ``detail`` what SQLite or the OS said.
    """

    def __init__(self, path: str | Path, cause: str, detail: str) -> None:
        self.path = str(path)
        self.cause = cause
        self.detail = detail
        super().__init__(f"archive {path}: {cause} ({detail})")


class ArchiveDamaged(ArchiveError):
    """The file is damaged (SQLite says malformed, not a database, or a check found problems),
    or a ``-wal`` beside it does not belong to it: nothing is written into it."""


class QueryError(ArchiveError):
    """A query the archive refuses: malformed search syntax, bad SQL, or an attempt to write."""


#: What SQLite itself raises, for a caller's last resort (the CLI's) to name without
#: importing sqlite3: every path that can say more turns it into an ``ArchiveError``.
SQLiteError = sqlite3.DatabaseError


#: SQLite's primary result codes (stable across versions; Python names them only from 3.11,
#: and gives a failed statement's code as ``sqlite_errorcode`` from 3.11) → a cause.
_SQLITE_CAUSES = {
    13: "disk full",  # SQLITE_FULL
    8: "read-only",  # SQLITE_READONLY
    10: "I/O error",  # SQLITE_IOERR
    14: "cannot open",  # SQLITE_CANTOPEN
    11: "corrupt",  # SQLITE_CORRUPT
    26: "not a SQLite database",  # SQLITE_NOTADB
    19: "unexpected constraint",  # SQLITE_CONSTRAINT
    5: "busy (another program holds a write lock)",  # SQLITE_BUSY
    6: "busy (another program holds a write lock)",  # SQLITE_LOCKED
    3: "permission denied",  # SQLITE_PERM
    7: "out of memory",  # SQLITE_NOMEM
}
#: The same, by the message, for Pythons that give no error code.
_SQLITE_MESSAGES = {
    "database or disk is full": "disk full",
    "readonly database": "read-only",
    "disk i/o error": "I/O error",
    "unable to open database file": "cannot open",
    "malformed": "corrupt",
    "file is not a database": "not a SQLite database",
    "constraint failed": "unexpected constraint",
    "database is locked": "busy (another program holds a write lock)",
}
_OS_CAUSES = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "I/O error",
    errno.ENOENT: "no such folder",
    errno.EISDIR: "is a folder",
    errno.ENOTDIR: "a parent is not a folder",
}


#: Extended result codes that say more than their primary code.
_SQLITE_EXTENDED_CAUSES = {
    4874: "disk full",  # SQLITE_IOERR_SHMSIZE: no room to grow the WAL index (-shm file)
}


def cause_of(exc: BaseException) -> str:
    """A failed write's cause in a few words: ``disk full``, ``read-only``, ``I/O error``..."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code in _SQLITE_EXTENDED_CAUSES:
            return _SQLITE_EXTENDED_CAUSES[code]
        if code is not None and (code & 0xFF) in _SQLITE_CAUSES:
            return _SQLITE_CAUSES[code & 0xFF]
        message = str(exc).lower()
        for words, cause in _SQLITE_MESSAGES.items():
            if words in message:
                return cause
        return "database error"
    if isinstance(exc, OSError):
        return _OS_CAUSES.get(exc.errno or 0, "OS error")
    return type(exc).__name__


def detail_of(exc: BaseException) -> str:
    """What SQLite or the OS said, without the file name the message already gives."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def write_error(path: str | Path, exc: BaseException) -> ArchiveWriteError:
    return ArchiveWriteError(path, cause_of(exc), detail_of(exc))


#: SQLite's primary codes of a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB.
_CORRUPTION_CODES = {11, 26}
_CORRUPTION_WORDS = ("malformed", "not a database", "corrupt")


def is_corruption(exc: BaseException) -> bool:
    """True when SQLite's error says the file is damaged (malformed, not a database)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in _CORRUPTION_CODES:
        return True
    message = str(exc).lower()
    return any(words in message for words in _CORRUPTION_WORDS)


def damaged_line(path: str | Path, what: str) -> str:
    """The one line every command prints for a damaged archive."""
    what = " ".join(what.split())  # SQLite's integrity messages hold newlines
    return f"archive {path}: damaged ({what}); left unchanged"


def damaged(path: str | Path, exc: BaseException) -> ArchiveDamaged:
    """SQLite's corruption error as the one line, pointing at ``olyscrape verify``."""
    return ArchiveDamaged(
        damaged_line(path, f"{detail_of(exc)}; `olyscrape verify --db {path}` says more")
    )


def size_text(count: int) -> str:
    """``323.4 MB``, ``118 KB``, ``512 bytes``."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count // 1_000} KB"
    return f"{count} bytes"
