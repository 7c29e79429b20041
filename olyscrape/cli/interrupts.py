"""Ctrl-C in a query command: the running statement stops (SQLite's interrupt, see
:mod:`olyscrape.archive.running`) and the command ends with one line and exit 130, the
code a shell gives a program ended by SIGINT, never a traceback nor click's ``Aborted!``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import IO, Any, TypeVar

import click

#: 128 + SIGINT, as a shell reports a program Ctrl-C ended.
EXIT_INTERRUPTED = 130
INTERRUPTED = "Interrupted: the query was stopped; the archive is unchanged"

F = TypeVar("F", bound=Callable[..., Any])


class Interrupted(click.ClickException):
    """Ctrl-C ended a query command: its one line, exit 130."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = INTERRUPTED) -> None:
        super().__init__(message)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.message, err=True)


def interruptible(func: F) -> F:
    """A query command that Ctrl-C ends with :class:`Interrupted` (an ``-o`` file it was
    writing is removed by its sink on the way out)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:  # QueryInterrupted (SQLite stopped) is one
            raise Interrupted() from None

    return wrapper  # type: ignore[return-value]
