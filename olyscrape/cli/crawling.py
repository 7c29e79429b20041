"""The commands that fetch or re-read the site: ``crawl``, ``check`` and ``reparse``.

Each parses its options, checks every input before any request (the paths it will
write, the alert channels: :mod:`olyscrape.cli.inputs`), hands over to the runner
(:mod:`olyscrape.crawl`, whose archive keeper takes the archive's lock) and prints its
report, exiting with the code of the run's outcome.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from olyscrape import crawlstats
from olyscrape.cli.exits import EXIT_USAGE
from olyscrape.cli.inputs import (
    check_creatable,
    check_replay_warc,
    checked_alert,
    preflight_archive,
)
from olyscrape.cli.options import (
    db_option,
    guarded,
    open_reader,
    report_format_option,
    verbose_option,
)
from olyscrape.cli.output import echo_report
from olyscrape.cli.scrapyoptions import scrapy_options
from olyscrape.cli.types import FilePath, PartnerList
from olyscrape.stopsignals import give_back, take_stops

if TYPE_CHECKING:
    from olyscrape.crawl import CrawlOutcome


def _runner() -> Any:
    """The crawl runner (:mod:`olyscrape.crawl`), imported with Ctrl-C and SIGTERM held,
    then sent again at once: its imports (Scrapy, Twisted) take half a second, and a
    ``KeyboardInterrupt`` raised inside one of their callbacks was printed by Python as
    "Exception ignored" and lost, the run going on. Sent again here, it stops the command
    before its work, as a Ctrl-C a moment later would."""
    held: list[int] = []
    replaced = take_stops(lambda signum, _frame: held.append(signum))
    try:
        import olyscrape.crawl as runner
    finally:
        give_back(replaced)
    for signum in held[:1]:
        os.kill(os.getpid(), signum)
    return runner


def _not_started(outcome: CrawlOutcome) -> None:
    """A run whose archive was busy (exit 3) or refused (1) before it started: one line."""
    if outcome.refused is not None:
        click.echo(f"Error: {outcome.refused}", err=True)
        sys.exit(outcome.exit_code)


@click.command()
@db_option
@click.option(
    "--partners", type=PartnerList(), help="Only these partners: slugs or names, comma-separated."
)
@click.option("--base-url", help="Fetch every canonical URL from this mirror instead.")
@click.option(
    "--replay",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Answer every request from this saved copy of the site: no network at all.",
)
@click.option(
    "--replay-warc",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Answer every request from this WARC file (as --warc writes them): no network.",
)
@click.option(
    "--warc",
    type=FilePath(),
    help="Also write every request and response to this WARC file (appended).",
)
@click.option("--no-articles", is_flag=True, help="Do not fetch article pages.")
@click.option("--refresh-articles", is_flag=True, help="Fetch every article page again.")
@click.option(
    "--full", is_flag=True, help="Walk every listing to its end (default: stop at archived cards)."
)
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    show_default="300",
    help="Pages per partner, at most.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    show_default="200",
    help="Cards written per transaction.",
)
@click.option(
    "--alert-command",
    callback=checked_alert,
    help="When a check fails, run this program with the report on stdin (split into words"
    " like a shell line, but not run by a shell: no pipes or redirections).",
)
@click.option(
    "--alert-webhook",
    callback=checked_alert,
    help="When a check fails, POST the report as JSON to this http(s) URL.",
)
@scrapy_options(feeds=True)
@report_format_option("summary (JSON for schedulers)")
@click.option(
    "--check-first",
    is_flag=True,
    help="Run `olyscrape check` on the same site first; crawl only if every point holds.",
)
@verbose_option
def crawl(
    db: Path,
    partners: str | None,
    base_url: str | None,
    replay: Path | None,
    replay_warc: Path | None,
    warc: Path | None,
    no_articles: bool,
    refresh_articles: bool,
    full: bool,
    max_pages: int | None,
    batch_size: int | None,
    alert_command: str | None,
    alert_webhook: str | None,
    scrapy_settings: dict[str, Any],
    fmt: str,
    check_first: bool,
    verbose: bool,
) -> None:
    """Crawl every TOP partner's news into the archive and print a summary.

    Incremental by default: a partner's paging stops at the first page holding a card
    archived before. Exits 0 only when every discovery, listing and load-more request
    succeeded and every closing check passed; 1 otherwise, 2 for bad usage, 3 when
    another crawl holds the archive, 5 when the site never answered (unreachable).
    """
    from olyscrape.cli.reports.crawl import CrawlSummary

    run_crawl = _runner().run_crawl

    base_url = _one_source(base_url, replay, replay_warc)
    if no_articles and refresh_articles:
        raise click.UsageError("--no-articles and --refresh-articles exclude each other")
    settings: dict[str, Any] = {"OLYSCRAPE_PROGRESS": True, **dict(scrapy_settings)}
    if replay_warc:
        check_replay_warc(replay_warc)
    if warc:
        check_creatable(warc, "--warc", archive=db)
    preflight_archive(db, "--db")

    arguments = {
        "db": db, "partners": partners, "base_url": base_url, "replay": replay,
        "replay_warc": replay_warc, "warc": warc, "max_pages": max_pages, "full": full or None,
        "batch_size": batch_size, "alert_command": alert_command, "alert_webhook": alert_webhook,
        "articles": False if no_articles else None, "refresh_articles": refresh_articles or None,
    }  # fmt: skip

    def checked(stats: dict[str, Any]) -> None:
        """The probe's verdict, before the crawl starts (its whole report when it fails),
        on stderr: stdout is the crawl's summary. Unreachable: said in one line below."""
        if not crawlstats.unreachable(stats):
            _report_check(stats, fmt, quiet=True, brief=True)

    run = run_crawl(arguments, settings, verbose=verbose, on_check=checked if check_first else None)
    _not_started(run)
    if run.check is not None:
        _unknown_partners(run.check)
        _unreachable(run.check, "nothing was crawled")
    if run.stats is None:  # the probe found the site changed: nothing was fetched further
        click.echo("Error: the site check failed (above); nothing was crawled", err=True)
        sys.exit(run.exit_code)
    stats = run.stats
    _unknown_partners(stats)
    if stats.get(crawlstats.STORAGE_REFUSED):  # refused before the first request
        click.echo(f"Error: {stats[crawlstats.STORAGE_ERROR]}", err=True)
        sys.exit(run.exit_code)

    summary = CrawlSummary.from_stats(stats, db=str(db))
    echo_report(summary, fmt)
    errors = [
        str(stats[key])
        for key in (crawlstats.STORAGE_ERROR, crawlstats.CRAWL_RECORD_ERROR)
        if stats.get(key)
    ]
    errors += [str(line) for line in stats.get(crawlstats.FEED_ERRORS) or []]  # -o/-O
    if summary.status == crawlstats.UNREACHABLE:
        errors.insert(0, f"{summary.reasons[0]}; nothing was crawled")
    if errors:  # one line, whatever failed
        click.echo("Error: " + "; and ".join(errors), err=True)
    sys.exit(run.exit_code)


def _one_source(
    base_url: str | None, replay: Path | None, replay_warc: Path | None = None
) -> str | None:
    """Where the pages come from: at most one of --base-url, --replay, --replay-warc (a
    usage error otherwise); the base URL, normalized."""
    chosen = {"--base-url": base_url, "--replay": replay, "--replay-warc": replay_warc}
    sources = [name for name, value in chosen.items() if value]
    if len(sources) > 1:
        raise click.UsageError(f"{' and '.join(sources)} exclude each other")
    if not base_url:
        return None
    try:
        from olyscrape.site import urls  # the page parsers: not for a query command

        return urls.normalize_base_url(base_url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--base-url") from None


def _unknown_partners(stats: dict[str, Any]) -> None:
    """A run that named partners the site does not list: a usage error (exit 2)."""
    crawl = crawlstats.CrawlStats(stats)
    if crawl.finish_reason == crawlstats.UNKNOWN_PARTNER:
        unknown = ", ".join(crawl.unknown_partners)
        known = ", ".join(crawl.known_partners)
        click.echo(f"Error: unknown partner(s): {unknown}. Known partners: {known}", err=True)
        sys.exit(EXIT_USAGE)


def _unreachable(stats: dict[str, Any], what: str) -> None:
    """A probe that got no answer from the site: one line and exit 5, never a report of
    broken points (a network outage is no reason to go and fix the parser)."""
    from olyscrape.cli.exits import EXIT_UNREACHABLE

    if crawlstats.unreachable(stats):
        why = crawlstats.unreachable_line(stats)
        click.echo(f"Error: the site is unreachable: {why}; {what}", err=True)
        sys.exit(EXIT_UNREACHABLE)


def _report_check(
    stats: dict[str, Any], fmt: str, quiet: bool = False, brief: bool = False
) -> bool:
    """Print a probe's report (on stderr when ``quiet``: a crawl's summary follows on
    stdout; only its verdict line when ``brief`` and every point holds), then each broken
    point on its own line; True when every point holds."""
    from olyscrape.cli.reports.check import CheckReport

    if crawlstats.CrawlStats(stats).finish_reason == crawlstats.UNKNOWN_PARTNER:
        return False  # reported by _unknown_partners, in one line
    report = CheckReport.from_stats(stats)
    if brief and report.ok:
        click.echo(report.verdict_line(), err=quiet)
        return True
    echo_report(report, fmt, err=quiet)
    for line in report.broken_lines():
        click.echo(f"BROKEN {line}", err=True)
    return report.ok


@click.command()
@click.option("--base-url", help="Probe this mirror instead of the canonical origin.")
@click.option(
    "--replay",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Probe this saved copy of the site: no network at all.",
)
@click.option(
    "--partners", type=PartnerList(), help="Only these partners: slugs or names, comma-separated."
)
@click.option(
    "--keep",
    type=FilePath(),
    help="Keep the fetched pages as captures in this archive (for `reparse` after a fix).",
)
@report_format_option("report")
@scrapy_options()
@verbose_option
def check(
    base_url: str | None,
    replay: Path | None,
    partners: str | None,
    keep: Path | None,
    fmt: str,
    scrapy_settings: dict[str, Any],
    verbose: bool,
) -> None:
    """Probe the site against what olyscrape expects of it (docs/site.md), politely.

    Fetches the discovery page, then for each partner its listing page, one load-more
    answer (or no-script page) and one article page, and reports each point of the
    contract as holds or BROKEN with its evidence. Stores nothing (unless --keep). Exits
    0 when every point holds, 1 when one is broken, 2 for bad usage, 5 when the site
    never answered (unreachable: nothing was checked).
    """
    run_check = _runner().run_check

    base_url = _one_source(base_url, replay)
    settings: dict[str, Any] = dict(scrapy_settings)
    if keep is not None:
        preflight_archive(keep, "--keep")
        settings["OLYSCRAPE_CHECK_KEEP"] = str(keep)
    arguments = {"base_url": base_url, "replay": replay, "partners": partners}
    run = run_check(arguments, settings, verbose=verbose)
    _not_started(run)
    assert run.stats is not None
    stats = run.stats
    if stats.get(crawlstats.STORAGE_ERROR):
        click.echo(f"Error: {stats[crawlstats.STORAGE_ERROR]}", err=True)
        sys.exit(run.exit_code)
    _unknown_partners(stats)
    _unreachable(stats, "nothing was checked")
    _report_check(stats, fmt)
    sys.exit(run.exit_code)


@click.command()
@db_option
@scrapy_options()
@verbose_option
def reparse(db: Path, scrapy_settings: dict[str, Any], verbose: bool) -> None:
    """Rebuild cards and articles from the archive's stored captures, with no network.

    Runs the current parser and pipelines over the newest capture of every page the
    crawls fetched, and reports how many rows changed (none, on an untouched archive).
    """
    with open_reader(db) as archive:  # refuses a missing, empty or foreign file, unchanged
        if not guarded(lambda: archive.count("captures")):
            raise click.ClickException(f"{db} holds no captures to re-parse (crawl it first)")
    preflight_archive(db, "--db")
    reparse_captures(db, verbose, scrapy_settings)


def reparse_captures(
    db: Path, verbose: bool, scrapy_settings: dict[str, Any] | None = None
) -> None:
    """Re-parse the captures of ``db`` under its lock, print what changed, exit 1 if the
    listings could not all be re-read."""
    from olyscrape.cli.reports.reparse import ReparseReport

    run_reparse = _runner().run_reparse

    run = run_reparse(str(db), verbose=verbose, settings=scrapy_settings)
    _not_started(run)
    assert run.stats is not None
    stats = run.stats
    if stats.get(crawlstats.STORAGE_ERROR):
        raise click.ClickException(str(stats[crawlstats.STORAGE_ERROR]))
    report = ReparseReport.from_stats(stats, str(db))
    echo_report(report, "table")
    for line in report.notes():
        click.echo(line, err=True)
    if run.exit_code:
        sys.exit(run.exit_code)
