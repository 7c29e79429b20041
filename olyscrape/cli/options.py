"""What several commands share: their common options, as small decorators, and the one
way a query command opens the archive and turns the library's refusals into exits."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from olyscrape.archive import QueryError
from olyscrape.cli.output import FORMATS
from olyscrape.cli.types import FilePath

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader

DEFAULT_DB = "data/olyscrape.db"
#: The largest --limit any command takes.
LIMIT_MAX = 1_000_000

T = TypeVar("T")


def db_option(func: Any) -> Any:
    """``--db PATH``: the archive (default ``data/olyscrape.db``)."""
    return click.option(
        "--db",
        "db",
        default=DEFAULT_DB,
        show_default=True,
        type=FilePath(),
        help="The SQLite archive.",
    )(func)


def verbose_option(func: Any) -> Any:
    return click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's own log lines too.")(
        func
    )


def format_option(func: Any) -> Any:
    """``--format table|csv|tsv|json|jsonl``, and sqlite-utils' shortcuts for it."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output: aligned table, CSV or TSV with a header row, a JSON array, or JSON lines.",
    )(format_shortcuts(func))


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

    # A crawl's -wal is live: not judged against the file while it writes.
    return ArchiveReader.open(db, held_by_another)


def guarded(call: Callable[[], T]) -> T:
    """Run a query, turning a refused search into a usage error (2) and an archive that
    cannot be read (a missing table) into one line (1)."""
    try:
        return call()
    except QueryError as exc:
        raise click.UsageError(str(exc)) from None
