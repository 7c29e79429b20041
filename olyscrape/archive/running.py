"""Statements that stop when asked: by Ctrl-C (SIGINT) or by a time limit.

SQLite checks its interrupt flag between the steps of its virtual machine, and calls a
progress handler every :data:`PROGRESS_STEPS` steps. The handler installed here is a
Python function, so a Ctrl-C that arrives while SQLite runs is handled there, inside
the statement, rather than only once the statement (an endless recursive CTE: never)
returns: Python's own SIGINT handler raises ``KeyboardInterrupt`` in the handler, the
``sqlite3`` module turns any error of a progress handler into SQLite's interrupt, and the
statement ends with ``SQLITE_INTERRUPT``. The same handler stops a statement that has run
longer than its time limit (as Datasette's ``sql_time_limit_ms`` does).

:meth:`StatementWatch.stopped` then says which of the two it was: :class:`QueryInterrupted`
(a ``KeyboardInterrupt``, so that whatever catches Ctrl-C catches it) or
:class:`QueryTimeLimit` (an :class:`~olyscrape.archive.errors.ArchiveError`, one line).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from olyscrape.archive.errors import ArchiveError, QueryError, damaged, is_corruption

#: SQLite virtual-machine steps between two calls of the progress handler (Datasette's
#: figure): about a millisecond of work, and a Python call that costs far less.
PROGRESS_STEPS = 1000
_SQLITE_INTERRUPT = 9
#: Every watch alive, for :func:`interrupt_all` (a SIGINT handler's way to reach them).
_WATCHES: weakref.WeakSet[StatementWatch] = weakref.WeakSet()


def interrupt_all() -> None:
    """Stop every running statement of this process (a SIGINT handler calls this)."""
    for watch in list(_WATCHES):
        watch.interrupt()


class QueryInterrupted(KeyboardInterrupt):
    """A statement stopped by Ctrl-C (SIGINT) through SQLite's interrupt; it wrote nothing."""


def watch_of(conn: sqlite3.Connection) -> StatementWatch:
    """The one :class:`StatementWatch` of ``conn``, made at the first call: every read
    connection has one (:func:`olyscrape.archive.paths.connect_read_only`), so that Ctrl-C
    reaches whatever statement a command runs, a long ``integrity_check`` included."""
    watch = getattr(conn, "statement_watch", None)
    if watch is None:
        watch = StatementWatch(conn)
        with contextlib.suppress(AttributeError):  # a plain sqlite3.Connection takes none
            conn.statement_watch = watch  # type: ignore[attr-defined]
    return watch


def raise_if_interrupted(exc: BaseException) -> None:
    """Raise :class:`QueryInterrupted` if ``exc`` is SQLite's "interrupted" (Ctrl-C came
    through a progress handler): a check that catches SQLite's errors to report them must
    not report Ctrl-C as a finding about the file."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.OperationalError) and (
        code == _SQLITE_INTERRUPT or str(exc) == "interrupted"
    ):
        raise QueryInterrupted() from None


class QueryTimeLimit(ArchiveError):
    """A statement stopped because it ran longer than its time limit."""

    def __init__(self, limit_ms: int) -> None:
        self.limit_ms = limit_ms
        super().__init__(
            f"the query ran longer than its time limit of {limit_ms:,} ms and was stopped"
            " (raise it with --time-limit); the archive is unchanged"
        )


class StatementWatch:
    """The progress handler of one connection: a time limit per statement, and the
    place where a Ctrl-C reaches a running statement."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.limit_ms: int | None = None
        self._deadline: float | None = None
        self._timed_out = False
        self._interrupted = False
        conn.set_progress_handler(self._progress, PROGRESS_STEPS)
        _WATCHES.add(self)

    def start(self) -> None:
        """A statement starts: its time limit (if any) counts from now."""
        self._timed_out = False
        self._deadline = None if self.limit_ms is None else time.monotonic() + self.limit_ms / 1000

    def _progress(self) -> bool:
        """True stops the statement. A ``KeyboardInterrupt`` raised here (Ctrl-C) stops
        it too: the ``sqlite3`` module reads a handler's error as "interrupt"."""
        if self._interrupted:
            return True
        if self._deadline is not None and time.monotonic() > self._deadline:
            self._timed_out = True
            return True
        return False

    def interrupt(self) -> None:
        """Stop the running statement from elsewhere (a signal handler, another thread);
        whatever error it then ends with is :class:`QueryInterrupted`."""
        self._interrupted = True
        with contextlib.suppress(sqlite3.ProgrammingError):  # closed already
            self.conn.interrupt()

    def stopped(self, exc: BaseException) -> BaseException | None:
        """What SQLite's ``interrupted`` error ``exc`` means: the time limit, or Ctrl-C;
        None when ``exc`` is another error. Once :meth:`interrupt` was called, any error
        is the interrupt's (a Ctrl-C caught in another Python callback of SQLite, such as
        the authorizer FTS5 calls, ends the statement with that callback's error)."""
        if self._interrupted and isinstance(exc, (sqlite3.Error, ValueError)):
            return QueryInterrupted()
        if not isinstance(exc, sqlite3.OperationalError):
            return None
        code = getattr(exc, "sqlite_errorcode", None)
        if code != _SQLITE_INTERRUPT and str(exc) != "interrupted":
            return None
        if self._timed_out and self.limit_ms is not None:
            return QueryTimeLimit(self.limit_ms)
        return QueryInterrupted()


@dataclass
class QueryRows:
    """A statement's column names (made distinct) and its rows, read as SQLite yields
    them: iterate once; nothing is held but the rows at hand."""

    columns: list[str]
    rows: Iterator[tuple]

    def __iter__(self) -> Iterator[tuple]:
        return self.rows


def rows_of(cursor: sqlite3.Cursor, watch: StatementWatch, path: str | Path) -> Iterator[tuple]:
    """A cursor's rows, a few hundred fetched at a time; an error on any of them is
    :func:`statement_error`'s."""
    try:
        while batch := cursor.fetchmany(256):
            yield from batch
    except (sqlite3.DatabaseError, sqlite3.Warning, ValueError) as exc:
        raise statement_error(exc, watch, path) from None
    finally:
        with contextlib.suppress(sqlite3.ProgrammingError):  # the connection closed first
            cursor.close()


def statement_error(exc: Exception, watch: StatementWatch, path: str | Path) -> BaseException:
    """A statement's error as what it means: stopped (Ctrl-C, time limit), a damaged
    file, a refused write, or the SQL's own error (:class:`QueryError`)."""
    stopped = watch.stopped(exc)
    if stopped is not None:
        return stopped
    if isinstance(exc, sqlite3.DatabaseError) and is_corruption(exc):
        return damaged(path, exc)
    message = str(exc)
    if any(word in message for word in ("not authorized", "readonly", "authorization")):
        message = f"the archive is read-only here; statement refused ({message})"
    return QueryError(message)
