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


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Also open it in a web browser.")
def browse(db: Path, host: str, port: int, open_browser: bool) -> None:
    """Explore the archive in Datasette: facets, full-text search, canned queries.

    Serves the archive on HOST:PORT until Ctrl-C (needs the olyscrape[browse] extra).
    Exits 4 when the port is taken.
    """
    from olyscrape.cli.browse import BrowseUnavailable, port_free, serve

    open_reader(db).close()  # refuse a missing, empty or foreign file before Datasette starts
    _quick_check(db)  # and a damaged one: Datasette would show tracebacks page by page
    if not port_free(host, port):
        click.echo(f"Error: {host}:{port} is in use; choose another with --port", err=True)
        sys.exit(EXIT_PORT_BUSY)
    try:
        code = serve(db, host=host, port=port, open_browser=open_browser)
    except BrowseUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code)


@click.command()
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
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
    from olyscrape.testing.mirror import Fault, MirrorServer

    try:
        planned = Fault.load(faults) if faults else {}
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    try:
        server = MirrorServer(root, port=port, verbose=True, faults=planned)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc}") from None
    click.echo(f"serving {root} at {server.base_url} for {lifetime:.0f} s (Ctrl-C stops)", err=True)
    server.timeout = 1
    deadline = time.monotonic() + lifetime
    try:
        while time.monotonic() < deadline:
            server.handle_request()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
