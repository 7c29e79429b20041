"""The commands that serve something until stopped: ``browse`` (the archive in Datasette)
and ``mirror`` (a saved copy of the site, for ``--base-url`` crawls)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from olyscrape.cli.exits import EXIT_PORT_BUSY
from olyscrape.cli.options import db_option, open_reader


def _quick_check(db: Path) -> None:
    """Exit 1 with the one ``damaged`` line unless ``db`` passes SQLite's quick check."""
    from olyscrape.archive.verify import verify as verify_archive
    from olyscrape.lock import held_by_another

    # A crawl's -wal is live: not judged against the file while it writes.
    report = verify_archive(db, quick=True, only_integrity=True,
                            crawl_running=held_by_another(db))  # fmt: skip
    if not report.sound:
        raise click.ClickException(report.damaged_line())


def _host(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """An IP address or a name this machine resolves (a usage error otherwise: before, an
    impossible address was reported as a busy port)."""
    from olyscrape.cli.supervise import BadAddress, check_host

    try:
        check_host(value)
    except BadAddress as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _stopped(signum: int, what: str) -> None:
    """The one line a server stopped by a signal prints, then its exit: 128 + the signal."""
    import signal

    from olyscrape.cli.supervise import stopped_code

    click.echo(f"Stopped ({signal.Signals(signum).name}): {what}.", err=True)
    sys.exit(stopped_code(signum))


class _PassThrough(click.Command):
    """A command whose trailing arguments are taken only after ``--`` (a bare word is
    another program's option value or file, never a mistyped option of ours)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["olyscrape.dashdash"] = "--" in args
        return super().parse_args(ctx, args)


@click.command(cls=_PassThrough)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, callback=_host,
              help="Interface to listen on: an IP address or a host name.")  # fmt: skip
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8001,
    show_default=True,
    help="Port to listen on (1 to 65535; 0 picks a free one).",
)
@click.option("--open", "open_browser", is_flag=True, help="Also open it in a web browser.")
@click.option(
    "--setting",
    "settings",
    type=(str, str),
    multiple=True,
    metavar="NAME VALUE",
    help="A Datasette setting (repeatable), e.g. --setting sql_time_limit_ms 5000.",
)
@click.option("--cors", is_flag=True, help="Let other sites' pages read the JSON API (CORS).")
@click.option(
    "--plugins-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Load Datasette plugins from this folder.",
)
@click.option(
    "--template-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Use Datasette templates from this folder.",
)
@click.argument(
    "datasette_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- DATASETTE_OPTIONS]"
)
def browse(
    db: Path, host: str, port: int, open_browser: bool, settings: tuple[tuple[str, str], ...],
    cors: bool, plugins_dir: Path | None, template_dir: Path | None,
    datasette_args: tuple[str, ...],
) -> None:  # fmt: skip
    """Explore the archive in Datasette: facets, full-text search, canned queries, the
    changes and Atom feeds of them.

    Serves the archive read-only on HOST:PORT and prints its URL, until Ctrl-C (needs the
    olyscrape[browse] extra). Options after -- go to `datasette serve` as they are (e.g.
    -- --crossdb). Exits 4 when the port is taken, 2 for a bad host or option, and
    130 (Ctrl-C, SIGINT) or 143 (SIGTERM) once stopped.
    """
    from olyscrape.cli.browse import (
        NO_ATOM,
        BadOption,
        BrowseUnavailable,
        atom_available,
        datasette_options,
        require_datasette,
        serve,
    )
    from olyscrape.cli.supervise import BadAddress, PortBusy, check_listen

    if datasette_args and not click.get_current_context().meta["olyscrape.dashdash"]:
        raise click.UsageError(
            f"unexpected argument {datasette_args[0]!r} (Datasette's own options go after --)"
        )
    try:
        require_datasette()  # before its settings are checked against its own list
        extra = datasette_options(settings, cors, plugins_dir, template_dir, datasette_args)
    except BrowseUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except BadOption as exc:
        raise click.UsageError(str(exc)) from None
    open_reader(db).close()  # refuse a missing, empty or foreign file before Datasette starts
    _quick_check(db)  # and a damaged one: Datasette would show tracebacks page by page
    if not atom_available():  # it serves all the same: only the feeds are missing
        click.echo(NO_ATOM, err=True)
    try:
        port = check_listen(host, port)
    except PortBusy:
        click.echo(f"Error: {host}:{port} is in use; choose another with --port", err=True)
        sys.exit(EXIT_PORT_BUSY)
    except BadAddress as exc:
        raise click.BadParameter(str(exc), param_hint="'--host'") from None

    def ready(url: str) -> None:
        click.echo(f"Serving {db} at {url} (Ctrl-C to stop)")

    code, signum = serve(db, host=host, port=port, open_browser=open_browser, extra=extra,
                         ready=ready)  # fmt: skip
    if signum is not None:
        _stopped(signum, "Datasette no longer serves the archive")
    sys.exit(code)


@click.command()
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on, on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--lifetime",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    help="Stop serving after this many seconds.",
)
@click.option(
    "--faults",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file: path → fault to inject (see olyscrape.testing.mirror).",
)
def mirror(root: Path, port: int, lifetime: float, faults: Path | None) -> None:
    """Serve a saved copy of the site (ROOT) on 127.0.0.1, for --base-url crawls."""
    from olyscrape.cli.supervise import stop_signals
    from olyscrape.testing.mirror import Fault, MirrorServer

    try:
        planned = Fault.load(faults) if faults else {}
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    try:
        server = MirrorServer(root, port=port, verbose=True, faults=planned)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc}") from None
    server.timeout = 0.2  # how soon a stop signal is seen between requests
    deadline = time.monotonic() + lifetime
    with stop_signals() as asked:  # before the line a caller may wait for to signal
        click.echo(f"serving {root} at {server.base_url} for {lifetime:.0f} s (Ctrl-C stops)",
                   err=True)  # fmt: skip
        try:
            while time.monotonic() < deadline and not asked:
                server.handle_request()
        finally:
            server.server_close()
    if asked:
        _stopped(asked[0], f"no longer serving {root}")
