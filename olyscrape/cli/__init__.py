"""The ``olyscrape`` command: a click group of thin commands that parse options, call the
library and print its report.

Where a command goes: the crawl side (``crawl``, ``check``, ``reparse``) in
:mod:`~olyscrape.cli.crawling`, the queries (``articles``, ``search``, ``sql``, ``stats``,
``runs``) in :mod:`~olyscrape.cli.research`, what changed (``changes``, ``history``) in
:mod:`~olyscrape.cli.changes` and :mod:`~olyscrape.cli.history`, what the archive holds (``tables``,
``schema``) in :mod:`~olyscrape.cli.introspect`, the archive's upkeep (``verify``, ``backup``,
``recover``) in :mod:`~olyscrape.cli.keeping`, the servers (``browse``, ``mirror``) in
:mod:`~olyscrape.cli.serving`, the web archivists' format (``export-wacz``) in
:mod:`~olyscrape.cli.webarchive`. Option types are in :mod:`~olyscrape.cli.types`, shared
options in :mod:`~olyscrape.cli.options`, the reports in :mod:`~olyscrape.cli.reports`,
and every table or JSON form is printed by :mod:`~olyscrape.cli.output`.

This module holds the group and its error policy: a usage error is one line
(``Error: ...``) and exits 2; a fault the library reports is one line and exits 1; the
exit codes are in :mod:`~olyscrape.cli.exits`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import click

from olyscrape.archive.errors import ArchiveError, SQLiteError, is_corruption
from olyscrape.cli.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_PORT_BUSY, EXIT_USAGE
from olyscrape.cli.interrupts import EXIT_INTERRUPTED
from olyscrape.cli.options import DEFAULT_DB, LIMIT_MAX
from olyscrape.cli.sinks import flush_stdout, stdout_failure

__all__ = [
    "DEFAULT_DB",
    "EXIT_FAILED",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_PORT_BUSY",
    "EXIT_USAGE",
    "LIMIT_MAX",
    "cli",
    "main",
]


#: What click 8.2 and later raise for a group called with no command (click 8.1 prints
#: the help itself and exits 0).
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


#: What every interrupted command can say of the archive: Ctrl-C never stops a write half
#: way (a crawl's batches and a recovery's file are transactions).
_UNCHANGED = "; what was committed before it stays, nothing half-written"


class _Group(click.Group):
    """olyscrape's commands, whose usage errors are one line (``Error: ...``) and exit 2, and
    whose archive errors (refused, damaged, unreadable) are their own one line and exit 1.
    A failed write to standard output (``> /dev/full``, ``| head``) is the one line of
    :mod:`~olyscrape.cli.sinks` (exit 1) or a quiet exit 141, whichever command printed,
    ``--help`` and ``--version`` included."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _output_faults():  # the group's own --help and --version print here
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _output_faults():  # the commands, their --help included
            return super().invoke(ctx)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        run: Any = super().main  # click's overloads cannot see through *args
        if not standalone_mode:
            return run(*args, standalone_mode=False, **kwargs)
        try:
            code = run(*args, standalone_mode=False, **kwargs)
        except _NO_ARGS_IS_HELP as exc:  # bare ``olyscrape``: the help, as asked, on stdout
            assert exc.ctx is not None
            click.echo(exc.ctx.get_help())
            sys.exit(EXIT_OK)
        except click.UsageError as exc:
            where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C where no command caught it
                click.echo(f"Interrupted: stopped before its end{_UNCHANGED}", err=True)
                sys.exit(EXIT_INTERRUPTED)
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except ArchiveError as exc:  # the archive refused or failed: its own one line
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
        except SQLiteError as exc:  # a last resort: each command says it itself
            what = "damaged" if is_corruption(exc) else "cannot be read"
            click.echo(f"Error: archive: {what} ({exc}); left unchanged", err=True)
            sys.exit(EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else 0)


#: Every command, by name → its module in ``olyscrape.cli`` and its function there. A
#: command's module is imported when that command runs (or ``--help`` lists them all), so
#: ``olyscrape runs`` never loads what ``crawl`` or ``browse`` need: start-up follows the
#: command (``benchmarks/bench_startup.py`` measures it).
COMMANDS = {
    "crawl": "crawling:crawl", "check": "crawling:check", "reparse": "crawling:reparse",
    "articles": "research:articles", "search": "research:search", "sql": "research:sql",
    "stats": "research:stats", "runs": "research:runs",
    "changes": "changes:changes", "history": "history:history",
    "tables": "introspect:tables", "schema": "introspect:schema",
    "verify": "keeping:verify", "backup": "keeping:backup", "recover": "keeping:recover",
    "browse": "serving:browse", "mirror": "serving:mirror",
    "export-wacz": "webarchive:export_wacz",
}  # fmt: skip


def load_command(name: str) -> click.Command:
    """The command called ``name`` (a key of :data:`COMMANDS`), its module imported."""
    module, attribute = COMMANDS[name].split(":")
    command: click.Command = getattr(import_module(f"olyscrape.cli.{module}"), attribute)
    return command


def __getattr__(name: str) -> Any:
    """A module of the package (``olyscrape.cli.research``) as an attribute, as when every
    command's module was loaded with the group."""
    try:
        return import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def all_commands() -> dict[str, click.Command]:
    """Every command by name, each module imported (``--help``, the docs, the tests)."""
    return {name: load_command(name) for name in sorted(COMMANDS)}


class _Commands(_Group):
    """The group whose commands are loaded when named (click's "lazily loading
    subcommands" recipe): ``--help`` lists them all, by name, as a group of loaded ones."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """A name that is no command: click's error with its "Did you mean" (click 8.2 on
        suggests from the commands loaded, none here: it is given every name)."""
        name = args[0]
        unknown: Any = getattr(click.exceptions, "NoSuchCommand", None)
        named = name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing
        if unknown is not None and named:
            raise unknown(name, possibilities=list(COMMANDS), ctx=ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=_Commands)
@click.version_option(package_name="olyscrape")
def cli() -> None:
    """Archive the IOC's news about its worldwide TOP partners, and query the archive."""


@contextlib.contextmanager
def _output_faults() -> Iterator[None]:
    """An OSError writing standard output, as :func:`~olyscrape.cli.sinks.stdout_failure`
    says it (raised before click's own handling, which exits 1 on a closed pipe)."""
    try:
        yield
    except OSError as exc:
        failure = stdout_failure(exc)
        if failure is None:
            raise
        raise failure from None


def main() -> None:
    """The console script: the group, then standard output flushed and checked here, so
    that what Python would flush at exit cannot fail with a traceback."""
    try:
        cli()
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, int) or code is None:
        code = flush_stdout(code or 0)
    sys.exit(code)
