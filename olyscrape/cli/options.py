"""What several commands share: their common options, as small decorators, and the one
way a query command opens the archive and turns the library's refusals into exits."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from olyscrape.archive import QueryError
from olyscrape.archive.errors import ArchiveError
from olyscrape.cli.output import FORMATS
from olyscrape.cli.types import FilePath

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader

DEFAULT_DB = "data/olyscrape.db"
#: The environment variable naming the archive when ``--db`` is not given.
DB_ENVVAR = "OLYSCRAPE_DB"
#: The largest --limit any command takes.
LIMIT_MAX = 1_000_000

T = TypeVar("T")


class _DbOption(click.Option):
    """``--db``, whose errors name the environment variable only when the value came from
    it (click names it whenever an option has one, ``--db`` given or not)."""

    def get_error_hint(self, ctx: Any) -> str:  # click.Context (None allowed from 8.4)
        hint = " / ".join(f"'{spelling}'" for spelling in self.opts)
        if ctx and self.name and ctx.get_parameter_source(self.name) == ParameterSource.ENVIRONMENT:
            hint += f" (from the {DB_ENVVAR} environment variable)"
        return hint


def db_option(func: Any) -> Any:
    """``--db PATH``: the archive; else ``$OLYSCRAPE_DB`` (named once for a session, as
    sqlite-utils users name a database once); else ``data/olyscrape.db`` in the current
    folder. ``--db`` wins over the variable; an empty variable counts as unset."""
    return click.option(
        "--db",
        "db",
        cls=_DbOption,
        default=DEFAULT_DB,
        show_default=True,
        envvar=DB_ENVVAR,
        show_envvar=True,
        type=FilePath(),
        help="The SQLite archive.",
    )(func)


def verbose_option(func: Any) -> Any:
    return click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's own log lines too.")(
        func
    )


def format_choice(formats: Sequence[str], more: str = "") -> Callable[[Any], Any]:
    """``--format`` of ``formats`` (the query commands' and ``more`` of them, described),
    and sqlite-utils' shortcuts for it."""
    described = "aligned table, CSV or TSV with a header row, a JSON array, " + (
        f"JSON lines, or {more}" if more else "or JSON lines"
    )

    def decorate(func: Any) -> Any:
        return click.option(
            "--format", "fmt", type=click.Choice(formats), default="table", show_default=True,
            help=f"Output: {described}.",
        )(format_shortcuts(func))  # fmt: skip

    return decorate


#: ``--format table|csv|tsv|json|jsonl``, and sqlite-utils' shortcuts for it.
format_option = format_choice(FORMATS)


#: sqlite-utils' flags for a format: ``--csv``, ``--tsv``, ``--json``, ``--nl``.
FORMAT_SHORTCUTS = {"csv": "csv", "tsv": "tsv", "json": "json", "nl": "jsonl"}


def format_shortcuts(func: Any) -> Any:
    """``--csv``, ``--tsv``, ``--json`` and ``--nl`` (JSON lines), as sqlite-utils spells
    them: each the same as its ``--format``; two different formats are a usage error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        chosen = {
            FORMAT_SHORTCUTS[flag]: flag
            for flag in FORMAT_SHORTCUTS
            if kwargs.pop(f"as_{flag}", False)
        }
        ctx = click.get_current_context()
        if ctx.get_parameter_source("fmt") is click.core.ParameterSource.COMMANDLINE:
            chosen.setdefault(kwargs["fmt"], "format " + kwargs["fmt"])
        if len(chosen) > 1:
            given = " and ".join(f"--{flag}" for flag in chosen.values())
            raise click.UsageError(f"{given} name different formats; give one")
        if chosen:
            kwargs["fmt"] = next(iter(chosen))
        return func(*args, **kwargs)

    for flag in reversed(FORMAT_SHORTCUTS):
        fmt = FORMAT_SHORTCUTS[flag]
        wrapper = click.option(
            f"--{flag}", f"as_{flag}", is_flag=True, help=f"The same as --format {fmt}."
        )(wrapper)
    return wrapper


def report_format_option(what: str) -> Any:
    """``--format table|json``: a report as a table, or as one JSON object."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help=f"The {what} as a table, or as one JSON object.",
    )


def limit_option(default: int | None = None) -> Any:
    """``--limit N``: the same bounds on every command (1 to LIMIT_MAX)."""
    return click.option(
        "--limit",
        type=click.IntRange(1, LIMIT_MAX),
        default=default,
        show_default=default is not None,
        help=f"At most this many rows (1 to {LIMIT_MAX:,}).",
    )


def open_reader(db: Path) -> ArchiveReader:
    """The archive, opened read-only for a query command (exit 1, one line, if it is not one)."""
    from olyscrape.archive.reader import ArchiveReader  # sqlite-utils: not for a crawl
    from olyscrape.lock import held_by_another

    if not os.path.lexists(db):  # say where it looked: a relative path is the folder's
        where = "" if db.is_absolute() else f" (looked for {Path.cwd() / db})"
        raise ArchiveError(
            f"archive {db}: no such file{where}; name the archive with --db or the"
            f" {DB_ENVVAR} environment variable"
        )
    # A crawl's -wal is live: not judged against the file while it writes.
    return ArchiveReader.open(db, held_by_another)


class FreeTextCommand(click.Command):
    """A command whose argument is free text (a search), which may begin with ``-``: an
    unknown option says how to pass such a text (after ``--``) instead of only that the
    option is unknown."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given_args = list(args)  # click's parser consumes the list it is given
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            given = _unknown_option(given_args, exc.option_name, self.params)
            raise click.UsageError(
                f"No such option: {given}. To give a text that begins with '-', put it"
                f" after '--' (after every option): {ctx.command_path} -- {given}",
                ctx,
            ) from None


def _unknown_option(args: list[str], name: str, params: list[click.Parameter]) -> str:
    """The word of ``args`` that click read as the unknown option ``name`` (``-hydrogen``
    for ``-h``: click reads a word after one dash as short options run together)."""
    known = {opt for p in params for opt in [*p.opts, *p.secondary_opts]}
    for arg in args:
        if arg == "--":
            break
        if arg.startswith(name) and arg.split("=", 1)[0] not in known:
            return arg
    return name


def guarded(call: Callable[[], T]) -> T:
    """Run a query, turning a refused search into a usage error (2) and an archive that
    cannot be read (a missing table) into one line (1)."""
    try:
        return call()
    except QueryError as exc:
        raise click.UsageError(str(exc)) from None
