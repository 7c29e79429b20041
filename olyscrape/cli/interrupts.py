"""Ctrl-C in a query command: the running statement stops (SQLite's interrupt, see
:mod:`olyscrape.archive.running`) and the command ends with one line and exit 130, the
code a shell gives a program ended by SIGINT, never a traceback nor click's ``Aborted!``.

While a query command runs, SIGINT is handled here: it interrupts every statement of the
process at once (``sqlite3.Connection.interrupt``), then raises ``KeyboardInterrupt`` as
Python's own handler does, so that a command blocked writing to a full pipe stops too.
Where Python's ``KeyboardInterrupt`` lands in one of SQLite's callbacks (the authorizer,
which FTS5 calls mid-query), SQLite reports that callback's error instead: the command
still knows it was Ctrl-C. A SIGINT that was ignored when the command started (a
background job of a non-interactive shell) stays ignored. SIGTERM (``kill``) is handled
the same way, with exit 143 (128 + 15), so that an ``-o`` file is never left half-written.
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable
from types import FrameType
from typing import IO, Any, TypeVar

import click

from olyscrape.archive.running import interrupt_all
from olyscrape.stopsignals import give_back, take_stops

#: 128 + SIGINT, as a shell reports a program Ctrl-C ended.
EXIT_INTERRUPTED = 130
INTERRUPTED = "Interrupted: the query was stopped; the archive is unchanged"

F = TypeVar("F", bound=Callable[..., Any])


class Interrupted(click.ClickException):
    """Ctrl-C ended a query command: its one line, exit 130."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = INTERRUPTED, signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum  # type: ignore[misc]  # click: a ClassVar

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.message, err=True)


class _Watch:
    """Whether a SIGINT arrived while the command ran."""

    seen: int | None = None  # the signal's number

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.seen = signum
        interrupt_all()
        raise KeyboardInterrupt


def interrupted_with(message: str) -> Callable[[F], F]:
    """A command that Ctrl-C ends with :class:`Interrupted` saying ``message`` (an ``-o``
    file it was writing is removed by its sink on the way out)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            watch = _Watch()
            replaced = take_stops(watch.handle)
            try:
                return func(*args, **kwargs)
            except KeyboardInterrupt:  # QueryInterrupted (SQLite stopped) is one
                raise Interrupted(message, signum=watch.seen or signal.SIGINT) from None
            except Exception:
                if watch.seen:  # Ctrl-C, reported by SQLite as another callback's error
                    raise Interrupted(message, signum=watch.seen) from None
                raise
            finally:
                give_back(replaced)

        return wrapper  # type: ignore[return-value]

    return decorate


#: A query command that Ctrl-C ends with :data:`INTERRUPTED`.
interruptible = interrupted_with(INTERRUPTED)
