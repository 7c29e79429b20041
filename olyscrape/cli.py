"""The ``olyscrape`` command: thin wrappers that parse options, call the library, format."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from olyscrape import stats as keys
from olyscrape import urls
from olyscrape.archive import ArchiveError, QueryError
from olyscrape.archive.errors import is_corruption
from olyscrape.archive.paths import UnusablePath, check_creatable, preflight
from olyscrape.output import FORMATS, render, terminal_width

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader
    from olyscrape.crawl import CrawlOutcome

DEFAULT_DB = "data/olyscrape.db"

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_PORT_BUSY = 4
#: The largest --limit any command takes.
LIMIT_MAX = 1_000_000


class FilePath(click.Path):
    """A file's path (a folder refused, unless ``dir_okay``); an empty one is a usage
    error. (``Path("")`` is ``.``, the current folder: one command called it a folder,
    another not an archive, with different exit codes.)"""

    def __init__(self, dir_okay: bool = False) -> None:
        super().__init__(dir_okay=dir_okay, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            self.fail("an empty path names no file", param, ctx)
        return super().convert(value, param, ctx)


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
    """``--format table|csv|json|jsonl``."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output: aligned table, CSV with a header row, a JSON array, or JSON lines.",
    )(func)


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


def _date_bound(end: bool) -> Any:
    """A click callback turning YYYY, YYYY-MM or YYYY-MM-DD into an inclusive ISO bound."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        import calendar
        import datetime
        import re

        match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value.strip())
        if not match:
            raise click.BadParameter("give a date as YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None
        if month is None:
            month, day = (12, 31) if end else (1, 1)
        elif not 1 <= month <= 12:
            raise click.BadParameter(f"{value}: there is no month {month:02d}")
        elif day is None:
            day = calendar.monthrange(year, month)[1] if end else 1
        try:
            return datetime.date(year, month, day).isoformat()
        except ValueError:
            raise click.BadParameter(f"{value} is not a date of the calendar") from None

    return convert


def _reader(db: Path) -> ArchiveReader:
    """The archive, opened read-only for a query command (exit 1, one line, if it is not one)."""
    from olyscrape.archive.reader import ArchiveReader  # sqlite-utils: not for a crawl

    try:
        return ArchiveReader.open(db)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


def _echo_rows(
    rows: list[dict[str, Any]], fmt: str, columns: list[str] | None = None, headers: bool = True
) -> None:
    """Rows on stdout; a table fits the terminal, and is cut nowhere when piped."""
    text = render(rows, fmt, columns, width=terminal_width(sys.stdout), headers=headers)
    if text:
        click.echo(text)


def _preflight(db: Path, option: str) -> None:
    """The archive path's pre-flight (:func:`olyscrape.archive.paths.preflight`), before
    anything else: a usage error (2) or a fault (1), touching nothing. The archive keeper
    checks the archive itself and takes its lock when the run starts (busy: exit 3)."""
    try:
        preflight(db)
    except UnusablePath as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


def _check_creatable(path: Path, option: str) -> None:
    """A file an option names must be creatable and writable (a usage error if not)."""
    try:
        check_creatable(path)
    except UnusablePath as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _not_started(outcome: CrawlOutcome) -> None:
    """A run whose archive was busy (exit 3) or refused (1) before it started: one line."""
    if outcome.refused is not None:
        click.echo(f"Error: {outcome.refused}", err=True)
        sys.exit(outcome.exit_code)


def _check_warc(path: Path) -> None:
    from olyscrape.warc import WarcIndex

    try:
        index = WarcIndex(path)
    except Exception as exc:  # warcio raises several kinds on a file that is no WARC
        raise click.ClickException(f"cannot read WARC {path}: {exc}") from None
    if not len(index):
        raise click.ClickException(f"{path} holds no response records")


def _typed_settings(overrides: tuple[str, ...]) -> dict[str, Any]:
    """``-s NAME=VALUE`` pairs, each value checked against the type of the setting's
    default (a number, a flag, a list or dict as JSON); a mistake is a usage error."""
    from olyscrape.addon import DEFAULTS
    from olyscrape.crawl import project_settings

    project = project_settings()
    settings: dict[str, Any] = {}
    for override in overrides:
        name, sep, value = override.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(f"{override!r} is not NAME=VALUE", param_hint="--set")
        default = project.get(name, DEFAULTS.get(name))
        try:
            if isinstance(default, bool):
                if value.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError("true or false")
            elif isinstance(default, int):
                int(value)
            elif isinstance(default, float):
                float(value)
            elif isinstance(default, (dict, list, tuple)) or hasattr(default, "copy_to_dict"):
                json.loads(value)
        except ValueError:
            kind = {bool: "true or false", int: "a whole number", float: "a number"}.get(
                type(default), "JSON"
            )
            raise click.BadParameter(
                f"{name}={value!r}: {name} takes {kind}", param_hint="--set"
            ) from None
        settings[name] = value
    return settings


class _Group(click.Group):
    """olyscrape's commands, whose usage errors are one line (``Error: ...``) and exit 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        run: Any = super().main  # click's overloads cannot see through *args
        if not standalone_mode:
            return run(*args, standalone_mode=False, **kwargs)
        try:
            code = run(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except sqlite3.DatabaseError as exc:  # a last resort: each command says it itself
            what = "damaged" if is_corruption(exc) else "cannot be read"
            click.echo(f"Error: archive: {what} ({exc}); left unchanged", err=True)
            sys.exit(EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Group)
@click.version_option(package_name="olyscrape")
def cli() -> None:
    """Archive the IOC's news about its worldwide TOP partners, and query the archive."""


@cli.command()
@db_option
@click.option("--partners", help="Only these partners: slugs or names, comma-separated.")
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
@click.option("--max-pages", type=click.IntRange(min=1), help="Pages per partner, at most.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Cards written per transaction.")
@click.option("--alert-command", help="When a check fails, run this with the report on stdin.")
@click.option("--alert-webhook", help="When a check fails, POST the report as JSON here.")
@click.option(
    "-s",
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy setting (repeatable), e.g. -s DOWNLOAD_TIMEOUT=10.",
)
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
    overrides: tuple[str, ...],
    fmt: str,
    check_first: bool,
    verbose: bool,
) -> None:
    """Crawl every TOP partner's news into the archive and print a summary.

    Incremental by default: a partner's paging stops at the first page holding a card
    archived before. Exits 0 only when every discovery, listing and load-more request
    succeeded and every closing check passed; 1 otherwise, 2 for bad usage, 3 when
    another crawl holds the archive.
    """
    from olyscrape.crawl import run_crawl
    from olyscrape.summary import CrawlSummary

    base_url = _one_source(base_url, replay, replay_warc)
    if no_articles and refresh_articles:
        raise click.UsageError("--no-articles and --refresh-articles exclude each other")
    settings = _typed_settings(overrides)
    if replay_warc:
        _check_warc(replay_warc)
    if warc:
        _check_creatable(warc, "--warc")
    _preflight(db, "--db")

    arguments = {
        "db": db, "partners": partners, "base_url": base_url, "replay": replay,
        "replay_warc": replay_warc, "warc": warc, "max_pages": max_pages, "full": full or None,
        "batch_size": batch_size, "alert_command": alert_command, "alert_webhook": alert_webhook,
        "articles": False if no_articles else None, "refresh_articles": refresh_articles or None,
    }  # fmt: skip

    def checked(stats: dict[str, Any]) -> None:
        """The probe's verdict, before the crawl starts (its whole report when it fails),
        on stderr: stdout is the crawl's summary."""
        _report_check(stats, fmt, quiet=True, brief=True)

    run = run_crawl(arguments, settings, verbose=verbose, on_check=checked if check_first else None)
    _not_started(run)
    if run.check is not None:
        _unknown_partners(run.check)
    if run.stats is None:  # the probe found the site changed: nothing was fetched further
        click.echo("Error: the site check failed (above); nothing was crawled", err=True)
        sys.exit(run.exit_code)
    stats = run.stats
    _unknown_partners(stats)
    if stats.get(keys.STORAGE_REFUSED):  # refused before the first request
        click.echo(f"Error: {stats[keys.STORAGE_ERROR]}", err=True)
        sys.exit(run.exit_code)

    summary = CrawlSummary.from_stats(stats)
    click.echo(summary.to_json() if fmt == "json" else summary.render(str(db)))
    errors = [
        str(stats[key]) for key in (keys.STORAGE_ERROR, keys.CRAWL_RECORD_ERROR) if stats.get(key)
    ]
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
        return urls.normalize_base_url(base_url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--base-url") from None


def _unknown_partners(stats: dict[str, Any]) -> None:
    """A run that named partners the site does not list: a usage error (exit 2)."""
    crawl = keys.CrawlStats(stats)
    if crawl.finish_reason == keys.UNKNOWN_PARTNER:
        unknown = ", ".join(crawl.unknown_partners)
        known = ", ".join(crawl.known_partners)
        click.echo(f"Error: unknown partner(s): {unknown}. Known partners: {known}", err=True)
        sys.exit(EXIT_USAGE)


def _report_check(
    stats: dict[str, Any], fmt: str, quiet: bool = False, brief: bool = False
) -> bool:
    """Print a probe's report (on stderr when ``quiet``: a crawl's summary follows on
    stdout; only its verdict line when ``brief`` and every point holds), then each broken
    point on its own line; True when every point holds."""
    from olyscrape.checkreport import CheckReport

    if keys.CrawlStats(stats).finish_reason == keys.UNKNOWN_PARTNER:
        return False  # reported by _unknown_partners, in one line
    report = CheckReport.from_stats(stats)
    if brief and report.ok:
        click.echo(report.verdict_line(), err=quiet)
        return True
    click.echo(report.to_json() if fmt == "json" else report.render(), err=quiet)
    for line in report.broken_lines():
        click.echo(f"BROKEN {line}", err=True)
    return report.ok


@cli.command()
@click.option("--base-url", help="Probe this mirror instead of the canonical origin.")
@click.option(
    "--replay",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Probe this saved copy of the site: no network at all.",
)
@click.option("--partners", help="Only these partners: slugs or names, comma-separated.")
@click.option(
    "--keep",
    type=FilePath(),
    help="Keep the fetched pages as captures in this archive (for `reparse` after a fix).",
)
@report_format_option("report")
@verbose_option
def check(
    base_url: str | None,
    replay: Path | None,
    partners: str | None,
    keep: Path | None,
    fmt: str,
    verbose: bool,
) -> None:
    """Probe the site against what olyscrape expects of it (docs/site.md), politely.

    Fetches the discovery page, then for each partner its listing page, one load-more
    answer (or no-script page) and one article page, and reports each point of the
    contract as holds or BROKEN with its evidence. Stores nothing (unless --keep). Exits
    0 when every point holds, 1 when one is broken, 2 for bad usage.
    """
    from olyscrape.crawl import run_check

    base_url = _one_source(base_url, replay)
    settings: dict[str, Any] = {}
    if keep is not None:
        _preflight(keep, "--keep")
        settings["OLYSCRAPE_CHECK_KEEP"] = str(keep)
    arguments = {"base_url": base_url, "replay": replay, "partners": partners}
    run = run_check(arguments, settings, verbose=verbose)
    _not_started(run)
    assert run.stats is not None
    stats = run.stats
    if stats.get(keys.STORAGE_ERROR):
        click.echo(f"Error: {stats[keys.STORAGE_ERROR]}", err=True)
        sys.exit(run.exit_code)
    _unknown_partners(stats)
    _report_check(stats, fmt)
    sys.exit(run.exit_code)


@cli.command()
@db_option
@verbose_option
def reparse(db: Path, verbose: bool) -> None:
    """Rebuild cards and articles from the archive's stored captures, with no network.

    Runs the current parser and pipelines over the newest capture of every page the
    crawls fetched, and reports how many rows changed (none, on an untouched archive).
    """
    with _reader(db) as archive:  # refuses a missing, empty or foreign file, unchanged
        if not _guarded(lambda: archive.count("captures")):
            raise click.ClickException(f"{db} holds no captures to re-parse (crawl it first)")
    _preflight(db, "--db")
    _reparse(db, verbose)


def _reparse(db: Path, verbose: bool) -> None:
    """Re-parse the captures of ``db`` under its lock, print what changed, exit 1 if the
    listings could not all be re-read."""
    from olyscrape.crawl import run_reparse

    run = run_reparse(str(db), verbose=verbose)
    _not_started(run)
    assert run.stats is not None
    stats = run.stats
    if stats.get(keys.STORAGE_ERROR):
        raise click.ClickException(str(stats[keys.STORAGE_ERROR]))
    crawl = keys.CrawlStats(stats)
    counts = {
        name: crawl.count(name)
        for name in ("changed_rows", "new_articles", "new", "updated", "bodies", "versions")
    }
    click.echo(
        f"reparse: {counts['changed_rows']} rows changed ({counts['new_articles']} new articles, "
        f"{counts['new']} new partner links, {counts['updated']} updated cards, "
        f"{counts['bodies']} bodies; {counts['versions']} previous versions kept)"
    )
    from olyscrape.archive.health import checkpoint_line

    left = checkpoint_line(db, stats.get(keys.ARCHIVE_CHECKPOINT) or {})
    if left:  # a reader kept the WAL from being copied into the file
        click.echo(left)
    skipped = stats.get(keys.REPARSE_SKIPPED) or []
    if skipped:
        click.echo(f"skipped, no capture of their listing: {', '.join(skipped)}", err=True)
    missing = crawl.count("replay/missing")
    if missing:
        click.echo(f"{missing} page(s) had no capture to re-parse", err=True)
    if run.exit_code:
        click.echo("reparse FAILED: some listing pages could not be re-read", err=True)
        sys.exit(run.exit_code)


def limit_option(default: int | None = None) -> Any:
    """``--limit N``: the same bounds on every command (1 to LIMIT_MAX)."""
    return click.option(
        "--limit",
        type=click.IntRange(1, LIMIT_MAX),
        default=default,
        show_default=default is not None,
        help=f"At most this many rows (1 to {LIMIT_MAX:,}).",
    )


def _resolve_partner(archive: ArchiveReader, given: str) -> str:
    """A partner's slug from its slug or name, in any case; a usage error names the known."""
    known = archive.partners()
    for slug, name in known:
        if given.casefold() in (slug.casefold(), (name or "").casefold()):
            return slug
    names = ", ".join(slug for slug, _ in known) or "none (crawl first)"
    raise click.UsageError(f"unknown partner {given!r}; the archive knows: {names}")


def _guarded(call: Any) -> Any:
    """Run a query, turning a refused search into a usage error (2) and an archive that
    cannot be read (a missing table) into one line (1)."""
    try:
        return call()
    except QueryError as exc:
        raise click.UsageError(str(exc)) from None
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@db_option
@click.option("--partner", help="Only articles this partner showed (its slug or name).")
@click.option("--category", help="Only this category (any case), e.g. 'Tokyo 2020'.")
@click.option(
    "--since", callback=_date_bound(end=False), help="Published on or after (YYYY[-MM[-DD]])."
)
@click.option(
    "--until", callback=_date_bound(end=True), help="Published on or before (YYYY[-MM[-DD]])."
)
@click.option("--search", help="Only articles whose title or body match (as `search` reads it).")
@limit_option()
@format_option
def articles(
    db: Path, partner: str | None, category: str | None, since: str | None, until: str | None,
    search: str | None, limit: int | None, fmt: str,
) -> None:  # fmt: skip
    """List archived articles, newest first, each with the partners that showed it."""
    from olyscrape.archive.reader import ArticleQuery

    if since and until and since > until:
        raise click.UsageError(f"--since {since} is after --until {until}")
    with _reader(db) as archive:
        slug = _guarded(lambda: _resolve_partner(archive, partner)) if partner else None
        query = ArticleQuery(slug, category, since, until, search, limit)
        rows = _guarded(lambda: archive.articles(query))
    _echo_rows(rows, fmt, ["published", "title", "category", "partners", "url"])


@cli.command()
@db_option
@click.argument("query")
@limit_option(default=20)
@format_option
def search(db: Path, query: str, limit: int, fmt: str) -> None:
    """Full-text search of titles and bodies, best match first, with a snippet.

    Type words as they are (Coca-Cola, P&G, Alibaba's are searched as phrases), or SQLite
    FTS5 syntax on purpose: "exact phrases", AND, OR, NOT, prefix*, title:word.
    """
    marks = ("\x1b[1m", "\x1b[0m") if fmt == "table" and sys.stdout.isatty() else ("[", "]")
    with _reader(db) as archive:
        rows = _guarded(lambda: archive.search(query, limit=limit, marks=marks))
    _echo_rows(rows, fmt, ["published", "title", "partners", "snippet", "url"])


@cli.command()
@db_option
@click.argument("statement", required=False)
@click.option(
    "-f",
    "--file",
    "sql_file",
    type=click.File("r", encoding="utf-8"),
    help="Read the statement from this file ('-' for standard input).",
)
@click.option(
    "-p",
    "--param",
    "params",
    type=(str, str),
    multiple=True,
    metavar="NAME VALUE",
    help="A named parameter for :NAME in the statement (repeatable).",
)
@click.option("--no-headers", is_flag=True, help="CSV without its header row.")
@format_option
def sql(
    db: Path, statement: str | None, sql_file: Any, params: tuple[tuple[str, str], ...],
    no_headers: bool, fmt: str,
) -> None:  # fmt: skip
    """Run one SQL statement on a read-only connection (writes are refused).

    STATEMENT is the SQL, or '-' to read it from standard input (or use --file).
    """
    if sql_file is not None and statement:
        raise click.UsageError("give the statement or --file, not both")
    if sql_file is not None:
        statement = sql_file.read()
    elif statement == "-":
        statement = sys.stdin.read()
    if not statement or not statement.strip():
        raise click.UsageError("no SQL statement given (an argument, '-' or --file)")
    with _reader(db) as archive:
        try:
            columns, rows = archive.run_sql(statement, dict(params))
        except ArchiveError as exc:  # a refused statement, or a damaged file
            raise click.ClickException(str(exc)) from None
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    _echo_rows(records, fmt, columns, headers=not no_headers)


CHART_FORMATS = (".png", ".svg", ".pdf")


@cli.command()
@db_option
@click.option(
    "--crawls",
    "crawl_count",
    type=click.IntRange(1, LIMIT_MAX),
    default=5,
    show_default=True,
    help="How many recent crawls to list.",
)
@click.option(
    "--chart",
    type=FilePath(),
    help="Also draw articles per partner and year into this file (.png, .svg or .pdf).",
)
@report_format_option("figures")
def stats(db: Path, crawl_count: int, chart: Path | None, fmt: str) -> None:
    """Articles per partner and per year, and the last crawls with their status."""
    if chart is not None and chart.suffix.lower() not in CHART_FORMATS:
        raise click.BadParameter(
            f"{chart}: the chart is written as {', '.join(CHART_FORMATS)} (by its extension)",
            param_hint="--chart",
        )
    if chart is not None and importlib.util.find_spec("matplotlib") is None:
        raise click.ClickException("--chart needs matplotlib: pip install 'olyscrape[chart]'")
    with _reader(db) as archive:
        partners = _guarded(archive.partner_stats)
        years = _guarded(archive.counts_per_year)
        crawls = _guarded(lambda: archive.crawl_history(crawl_count))
        per_partner_year = _guarded(archive.counts_per_partner_year)
        undated = _guarded(archive.undated_articles)
        as_of = _guarded(archive.archive_date)
    added = crawls[0]["new_by_partner"] if crawls else {}
    for row in partners:
        row["added_by_last_crawl"] = added.get(row["partner"], 0)
    if fmt == "json":
        click.echo(json.dumps({"partners": partners, "years": years, "crawls": crawls}, indent=2))
    else:
        width = terminal_width(sys.stdout)
        columns = ["id", "started_at", "finished_at", "status", "new", "updated", "errors"]
        sections = [
            ("Articles per partner", partners, None),
            ("Articles per year published", years, None),
            (f"Last {crawl_count} crawls", crawls, columns),
        ]
        for n, (title, rows, cols) in enumerate(sections):
            click.echo(("\n" if n else "") + title)
            click.echo(render(rows, "table", cols, width=width))
    if chart:
        from olyscrape.chart import draw_articles_per_year

        try:
            draw_articles_per_year(
                per_partner_year, chart, undated=undated, as_of=as_of, source=str(db)
            )
        except ImportError:
            raise click.ClickException(
                "--chart needs matplotlib: pip install 'olyscrape[chart]'"
            ) from None
        except OSError as exc:
            raise click.ClickException(f"cannot write {chart}: {exc.strerror}") from None
        click.echo(f"chart written to {chart}", err=True)


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Also open it in a web browser.")
def browse(db: Path, host: str, port: int, open_browser: bool) -> None:
    """Explore the archive in Datasette: facets, full-text search, canned queries.

    Serves the archive on HOST:PORT until Ctrl-C (needs the olyscrape[browse] extra).
    Exits 4 when the port is taken.
    """
    from olyscrape.browse import BrowseUnavailable, port_free, serve

    _reader(db).close()  # refuse a missing, empty or foreign file before Datasette starts
    _quick_check(db)  # and a damaged one: Datasette would show tracebacks page by page
    if not port_free(host, port):
        click.echo(f"Error: {host}:{port} is in use; choose another with --port", err=True)
        sys.exit(EXIT_PORT_BUSY)
    try:
        code = serve(db, host=host, port=port, open_browser=open_browser)
    except BrowseUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code)


@cli.command()
@db_option
@limit_option(default=20)
@format_option
def runs(db: Path, limit: int, fmt: str) -> None:
    """List past crawls, newest first: status, duration, counts, failure reasons."""
    with _reader(db) as archive:
        rows = _guarded(lambda: archive.crawl_history(limit))
    for row in rows:
        row["reasons"] = "; ".join(row["reasons"]) if fmt in ("table", "csv") else row["reasons"]
        if fmt == "table" and isinstance(row["seconds"], float):
            row["seconds"] = round(row["seconds"], 1)
    columns = ["id", "started_at", "status", "seconds", "pages", "cards", "new", "updated",
               "errors", "reasons"]  # fmt: skip
    _echo_rows(rows, fmt, columns)


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


def _quick_check(db: Path) -> None:
    """Exit 1 with the one ``damaged`` line unless ``db`` passes SQLite's quick check."""
    from olyscrape.archive.verify import verify as verify_archive
    from olyscrape.lock import held_by_another

    try:  # a crawl's -wal is live: not judged against the file while it writes
        report = verify_archive(db, quick=True, only_integrity=True,
                                crawl_running=held_by_another(db))  # fmt: skip
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    if not report.sound:
        raise click.ClickException(report.damaged_line())


@cli.command()
@db_option
@click.option("--quick", is_flag=True, help="SQLite's quick_check instead of integrity_check.")
@report_format_option("report")
def verify(db: Path, quick: bool, fmt: str) -> None:
    """Is the archive sound? Checks the file and every stored capture, reads only.

    SQLite's integrity_check (quick_check with --quick), every capture body against its
    sha256, crawls left `running`, pages of the -wal not yet in the file, and articles
    without a stored page (a note). One line per finding, with what to do where the
    damage allows. Exits 0 when sound, 1 otherwise.
    """
    from olyscrape.archive.verify import verify as verify_archive
    from olyscrape.lock import held_by_another

    try:
        report = verify_archive(db, quick=quick, crawl_running=held_by_another(db))
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.to_json() if fmt == "json" else "\n".join(report.lines()))
    sys.exit(0 if report.sound else EXIT_FAILED)


@cli.command()
@db_option
@click.argument("dest", type=FilePath(dir_okay=True))  # backup refuses a folder itself
def backup(db: Path, dest: Path) -> None:
    """Copy the archive to DEST consistently, even while a crawl writes to it.

    Uses SQLite's online backup API: DEST holds one snapshot of every committed crawl,
    its -wal included, and passes SQLite's quick check. An existing DEST is replaced
    only if it is an olyscrape archive (or empty); anything else is refused.
    """
    from olyscrape.archive.backup import backup as copy_archive
    from olyscrape.archive.health import size_text

    try:
        copied = copy_archive(db, dest)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"backup: {dest} holds {copied.articles} articles, {copied.captures} captures and"
        f" {copied.crawls} crawl{'' if copied.crawls == 1 else 's'} ({size_text(copied.bytes)}),"
        f" a consistent copy of {db}"
    )


@cli.command()
@db_option
@click.argument("new", type=FilePath())
@verbose_option
def recover(db: Path, new: Path, verbose: bool) -> None:
    """Rebuild a damaged archive (--db) into a NEW file from its intact captures.

    Copies every readable crawl record and partner, and every capture whose body still
    matches its sha256, then re-parses them (as `reparse`) into cards and articles. The
    damaged file is only read (a file cut short included). Articles whose pages were
    never captured are not in NEW: the next crawl into NEW fetches them.
    """
    from olyscrape.archive.backup import recover_captures

    _check_creatable(new, "NEW")
    if new.exists():
        raise click.BadParameter(f"{new} already exists; recover into a new file", param_hint="NEW")
    try:
        result = recover_captures(db, new)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"recover: {result.captures} captures ({result.bodies} bodies), {result.crawls}"
        f" crawl records and {result.partners} partners copied into {new}; left out:"
        f" {result.left_out()}"
    )
    if not result.captures:
        raise click.ClickException(f"{db} holds no intact capture to rebuild from")
    _reparse(new, verbose)


def main() -> None:
    cli()
