"""The ``olyscrape`` command: thin wrappers that parse options, call the library, format."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from olyscrape import urls
from olyscrape.archive import Archive, ArchiveError

DEFAULT_DB = "data/olyscrape.db"

EXIT_FAILED = 1
EXIT_USAGE = 2


def db_option(func):
    """``--db PATH``: the archive (default ``data/olyscrape.db``)."""
    return click.option(
        "--db",
        "db",
        default=DEFAULT_DB,
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The SQLite archive.",
    )(func)


def _check_archive(db: Path) -> None:
    """Open (and migrate) the archive up front, so a bad path fails before any request."""
    try:
        Archive.open(db).close()
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.version_option(package_name="olyscrape")
def cli() -> None:
    """Archive the IOC's news about its worldwide TOP partners, and query the archive."""


@cli.command()
@db_option
@click.option(
    "--partners", help="Only these partners: slugs or names, comma-separated (alibaba,visa)."
)
@click.option(
    "--base-url", help="Fetch every canonical URL from this mirror (e.g. http://127.0.0.1:8000)."
)
@click.option(
    "--replay",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Answer every request from this saved copy of the site: no network at all.",
)
@click.option("--max-pages", type=click.IntRange(min=1), help="Pages per partner, at most.")
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's own log lines too.")
def crawl(
    db: Path,
    partners: str | None,
    base_url: str | None,
    replay: Path | None,
    max_pages: int | None,
    verbose: bool,
) -> None:
    """Crawl every TOP partner's news cards into the archive and print a summary.

    Exits 0 only when every discovery, listing and load-more request succeeded.
    """
    from olyscrape.crawl import run_crawl
    from olyscrape.summary import CrawlSummary

    if base_url and replay:
        raise click.UsageError("--base-url and --replay exclude each other")
    if base_url:
        try:
            base_url = urls.normalize_base_url(base_url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--base-url") from None
    _check_archive(db)

    stats = run_crawl(
        db=str(db),
        partners=partners,
        base_url=base_url,
        replay=str(replay) if replay else None,
        max_pages=max_pages,
        verbose=verbose,
    )
    if stats.get("finish_reason") == "unknown_partner":
        unknown = ", ".join(stats.get("olyscrape/unknown_partners") or [])
        known = ", ".join(stats.get("olyscrape/known_partners") or [])
        click.echo(f"Error: unknown partner(s): {unknown}. Known partners: {known}", err=True)
        sys.exit(EXIT_USAGE)

    summary = CrawlSummary.from_stats(stats)
    click.echo(summary.render())
    with Archive.open(db) as archive:
        click.echo(
            f"archive {db}: {archive.count('articles')} articles, "
            f"{archive.count('article_partners')} partner links, "
            f"{archive.count('partners')} partners"
        )
    sys.exit(0 if summary.succeeded else EXIT_FAILED)


@cli.command()
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--lifetime",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    help="Stop serving after this many seconds.",
)
def mirror(root: Path, port: int, lifetime: float) -> None:
    """Serve a saved copy of the site (ROOT) on 127.0.0.1, for --base-url crawls."""
    from olyscrape.mirror import MirrorServer

    try:
        server = MirrorServer(root, port=port, verbose=True)
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


def main() -> None:
    cli()
