"""The commands that read the archive: ``articles``, ``search``, ``sql``, ``stats`` and
``runs``. Each opens the archive read-only, asks the reader, prints rows or a report."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from olyscrape.cli.inputs import refuse_archive_target
from olyscrape.cli.interrupts import interruptible
from olyscrape.cli.options import (
    LIMIT_MAX,
    FreeTextCommand,
    db_option,
    format_option,
    guarded,
    limit_option,
    open_reader,
    report_format_option,
)
from olyscrape.cli.output import echo_report, echo_rows, emit_rows, primed, terminal_width
from olyscrape.cli.sinks import check_output, open_sink, output_option
from olyscrape.cli.statements import SqlCommand, read_statement, time_limit_option
from olyscrape.cli.types import DateBound, FilePath, Filter
from olyscrape.cli.writers import as_sequences

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader
    from olyscrape.cli.reports.figures import StatsReport

CHART_FORMATS = (".png", ".svg", ".pdf")
NO_MATPLOTLIB = "--chart needs matplotlib: pip install 'olyscrape[chart]'"


def resolve_partner(archive: ArchiveReader, given: str) -> str:
    """A partner's slug from its slug or name, in any case; a usage error names the known."""
    known = archive.partners()
    for slug, name in known:
        if given.casefold() in (slug.casefold(), (name or "").casefold()):
            return slug
    names = ", ".join(slug for slug, _ in known) or "none (crawl first)"
    raise click.UsageError(f"unknown partner {given!r}; the archive knows: {names}")


@click.command()
@db_option
@click.option(
    "--partner", type=Filter("partner"), help="Only articles this partner showed (slug or name)."
)
@click.option(
    "--category", type=Filter("category"), help="Only this category (any case), e.g. 'Tokyo 2020'."
)
@click.option("--since", type=DateBound(end=False), help="Published on or after (YYYY[-MM[-DD]]).")
@click.option("--until", type=DateBound(end=True), help="Published on or before (YYYY[-MM[-DD]]).")
@click.option(
    "--search",
    type=Filter("search", words=True),
    help="Only articles whose title or body match (as `search` reads it).",
)
@limit_option()
@format_option
@output_option
@interruptible
def articles(
    db: Path, partner: str | None, category: str | None, since: str | None, until: str | None,
    search: str | None, limit: int | None, fmt: str, output: Path | None,
) -> None:  # fmt: skip
    """List archived articles, newest first, each with the partners that showed it."""
    from olyscrape.archive.reader import ArticleQuery

    if since and until and since > until:
        raise click.UsageError(f"--since {since} is after --until {until}")
    check_output(output, db)
    columns = ["published", "title", "category", "partners", "url"]
    with open_reader(db) as archive, open_sink(output) as sink:
        slug = guarded(lambda: resolve_partner(archive, partner)) if partner else None
        query = ArticleQuery(slug, category, since, until, search, limit)
        rows = guarded(lambda: primed(archive.iter_articles(query)))  # streamed
        emit_rows(sink, as_sequences(rows, columns), fmt, columns)


@click.command(cls=FreeTextCommand)
@db_option
@click.argument("query", type=Filter("search", words=True))
@limit_option(default=20)
@click.option(
    "--rank-all",
    is_flag=True,
    help="Rank every match, however many (slower): by default a query with more than"
    " 20,000 matches ranks only the 20,000 archived last.",
)
@format_option
@output_option
@interruptible
def search(db: Path, query: str, limit: int, rank_all: bool, fmt: str, output: Path | None) -> None:
    """Full-text search of titles and bodies, best match first, with a snippet.

    Type words as they are (Coca-Cola, P&G, Alibaba's are searched as phrases), or SQLite
    FTS5 syntax on purpose: "exact phrases", AND, OR, NOT, prefix*, title:word. A query
    that begins with '-' goes after '--': olyscrape search -- -hydrogen. A query with more
    than 20,000 matches ranks only the 20,000 archived last (a prefix lists them last
    archived first, unranked; a note on stderr says so) unless --rank-all or a --limit of
    20,000 or more.
    """
    bold = fmt == "table" and output is None and sys.stdout.isatty()
    marks = ("\x1b[1m", "\x1b[0m") if bold else ("[", "]")
    check_output(output, db)
    columns = ["published", "title", "partners", "snippet", "url"]
    from olyscrape.archive.ranking import RANK_NEWEST

    with open_reader(db) as archive, open_sink(output) as sink:
        found = archive.iter_search(query, limit=limit, marks=marks, rank_all=rank_all)
        rows = guarded(lambda: primed(found))
        if found.ranked_newest is not None or found.newest_first:  # stderr: data stays clean
            done = (
                "listed the last archived first, unranked"
                if found.newest_first
                else f"ranked the {RANK_NEWEST:,} archived last"
            )
            click.echo(
                f"note: more than {RANK_NEWEST:,} matches; {done}"
                " (--rank-all ranks every match, slower)",
                err=True,
            )
        emit_rows(sink, as_sequences(rows, columns), fmt, columns)  # streamed


@click.command(cls=SqlCommand)
@db_option
@click.argument("statement", required=False)
@click.option(
    "-f",
    "--file",
    "sql_file",
    type=click.File("rb"),
    help="Read the statement from this file ('-' for standard input): UTF-8, or UTF-16"
    " or UTF-32 with a byte-order mark.",
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
@click.option("--no-headers", is_flag=True, help="CSV or TSV without its header row.")
@format_option
@output_option
@time_limit_option
@interruptible
def sql(
    db: Path, statement: str | None, sql_file: Any, params: tuple[tuple[str, str], ...],
    no_headers: bool, fmt: str, output: Path | None, time_limit: int | None,
) -> None:  # fmt: skip
    """Run one SQL statement on a read-only connection (writes are refused).

    STATEMENT is the SQL, or '-' to read it from standard input (or use --file). A
    statement that starts with '-' goes after '--': olyscrape sql -- "-- note ...".
    Rows are written as SQLite yields them; Ctrl-C stops the query (exit 130).
    """
    statement = read_statement(statement, sql_file)
    check_output(output, db)
    # A refused statement or a damaged file: one line, exit 1 (the group's policy).
    with open_reader(db) as archive, open_sink(output) as sink:
        archive.set_time_limit(time_limit)
        result = archive.query_rows(statement, dict(params))
        emit_rows(sink, result.rows, fmt, result.columns, headers=not no_headers)


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
@output_option
@interruptible
def stats(db: Path, crawl_count: int, chart: Path | None, fmt: str, output: Path | None) -> None:
    """Articles per partner and per year, and the last crawls with their status."""
    from olyscrape.cli.reports.figures import StatsReport

    if chart is not None and chart.suffix.lower() not in CHART_FORMATS:
        raise click.BadParameter(
            f"{chart}: the chart is written as {', '.join(CHART_FORMATS)} (by its extension)",
            param_hint="--chart",
        )
    if chart is not None and importlib.util.find_spec("matplotlib") is None:
        raise click.ClickException(NO_MATPLOTLIB)
    check_output(output, db)
    refuse_archive_target(chart, db, "--chart")
    with open_reader(db) as archive:
        width = terminal_width(sys.stdout) if output is None else None
        report = guarded(lambda: StatsReport.read(archive, crawl_count, width, chart is not None))
    if chart and not report.per_partner_year:  # refused before any output: see _draw
        raise click.ClickException(_nothing_to_draw(report))
    echo_report(report, fmt, output=output)
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
@output_option
@interruptible
def runs(db: Path, limit: int, fmt: str, output: Path | None) -> None:
    """List past crawls, newest first: status, duration, counts, failure reasons."""
    from olyscrape.cli.reports.figures import RunsReport

    with open_reader(db) as archive:
        report = RunsReport(guarded(lambda: archive.crawl_history(limit)))
    check_output(output, db)
    echo_rows(report.rows(fmt), fmt, report.columns(fmt), output=output)
