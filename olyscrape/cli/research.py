"""The commands that read the archive: ``articles``, ``search``, ``sql``, ``stats`` and
``runs``. Each opens the archive read-only, asks the reader, prints rows or a report."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from olyscrape.cli.options import (
    LIMIT_MAX,
    db_option,
    format_option,
    guarded,
    limit_option,
    open_reader,
    report_format_option,
)
from olyscrape.cli.output import echo_report, echo_rows, terminal_width
from olyscrape.cli.types import DateBound, FilePath

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader
    from olyscrape.cli.reports.figures import StatsReport

CHART_FORMATS = (".png", ".svg", ".pdf")
NO_MATPLOTLIB = "--chart needs matplotlib: pip install 'olyscrape[chart]'"


def _resolve_partner(archive: ArchiveReader, given: str) -> str:
    """A partner's slug from its slug or name, in any case; a usage error names the known."""
    known = archive.partners()
    for slug, name in known:
        if given.casefold() in (slug.casefold(), (name or "").casefold()):
            return slug
    names = ", ".join(slug for slug, _ in known) or "none (crawl first)"
    raise click.UsageError(f"unknown partner {given!r}; the archive knows: {names}")


@click.command()
@db_option
@click.option("--partner", help="Only articles this partner showed (its slug or name).")
@click.option("--category", help="Only this category (any case), e.g. 'Tokyo 2020'.")
@click.option("--since", type=DateBound(end=False), help="Published on or after (YYYY[-MM[-DD]]).")
@click.option("--until", type=DateBound(end=True), help="Published on or before (YYYY[-MM[-DD]]).")
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
    with open_reader(db) as archive:
        slug = guarded(lambda: _resolve_partner(archive, partner)) if partner else None
        query = ArticleQuery(slug, category, since, until, search, limit)
        rows = guarded(lambda: archive.articles(query))
    echo_rows(rows, fmt, ["published", "title", "category", "partners", "url"])


@click.command()
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
    with open_reader(db) as archive:
        rows = guarded(lambda: archive.search(query, limit=limit, marks=marks))
    echo_rows(rows, fmt, ["published", "title", "partners", "snippet", "url"])


@click.command()
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
    with open_reader(db) as archive:
        # A refused statement or a damaged file: one line, exit 1 (the group's policy).
        columns, rows = archive.run_sql(statement, dict(params))
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    echo_rows(records, fmt, columns, headers=not no_headers)


@click.command()
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
    from olyscrape.cli.reports.figures import StatsReport

    if chart is not None and chart.suffix.lower() not in CHART_FORMATS:
        raise click.BadParameter(
            f"{chart}: the chart is written as {', '.join(CHART_FORMATS)} (by its extension)",
            param_hint="--chart",
        )
    if chart is not None and importlib.util.find_spec("matplotlib") is None:
        raise click.ClickException(NO_MATPLOTLIB)
    with open_reader(db) as archive:
        width = terminal_width(sys.stdout)
        report = guarded(lambda: StatsReport.read(archive, crawl_count, width))
    if chart and not report.per_partner_year:  # refused before any output: see _draw
        raise click.ClickException(_nothing_to_draw(report))
    echo_report(report, fmt)
    if chart:
        _draw(report, chart, db)


def _nothing_to_draw(report: StatsReport) -> str:
    """Why ``--chart`` draws nothing: an archive without a dated article (exit 1, as any
    fault the command finds; a blank figure would pass for a result)."""
    undated = f" ({report.undated:,} undated)" if report.undated else ""
    return f"no chart drawn: the archive holds no dated article{undated}"


def _draw(report: StatsReport, chart: Path, db: Path) -> None:
    """The chart of ``stats --chart`` (a message on stderr once written): partners by
    their names, captioned with the archive's file name, never its local path."""
    from olyscrape.cli.chart import NothingToDraw, draw_articles_per_year

    names = {row["partner"]: row.get("name") for row in report.partners}
    try:
        draw_articles_per_year(
            report.per_partner_year, chart, names=names, undated=report.undated,
            as_of=report.as_of, archive=Path(db).name,
        )  # fmt: skip
    except ImportError:
        raise click.ClickException(NO_MATPLOTLIB) from None
    except NothingToDraw:
        raise click.ClickException(_nothing_to_draw(report)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {chart}: {exc.strerror or exc}") from None
    click.echo(f"chart written to {chart}", err=True)


@click.command()
@db_option
@limit_option(default=20)
@format_option
def runs(db: Path, limit: int, fmt: str) -> None:
    """List past crawls, newest first: status, duration, counts, failure reasons."""
    from olyscrape.cli.reports.figures import RunsReport

    with open_reader(db) as archive:
        report = RunsReport(guarded(lambda: archive.crawl_history(limit)))
    echo_rows(report.rows(fmt), fmt, RunsReport.COLUMNS)
