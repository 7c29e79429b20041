"""``olyscrape changes``: what the crawls found new, edited and gone, newest first, as a
table, rows for programs, or an Atom feed (:mod:`~olyscrape.cli.atom`).

The archive says what changed (:mod:`olyscrape.archive.changes`); this module reads the
options, asks the reader and shapes each change for its format: a table or CSV gets one
line of what an edit changed (:func:`~olyscrape.cli.diffs.summary`), JSON the values
before and after. ``--since`` takes a date, a date-time, a duration back from now or
``last-crawl``; every one of them becomes the archive's own form of a time (UTC, to the
second, ``2026-12-04T07:00:00Z``), which compares with the archive's as text.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from olyscrape.archive.changes import KINDS, ChangeQuery
from olyscrape.cli.diffs import summary
from olyscrape.cli.interrupts import interruptible
from olyscrape.cli.options import db_option, format_choice, guarded, limit_option, open_reader
from olyscrape.cli.output import FORMATS, emit_rows, primed
from olyscrape.cli.research import resolve_partner
from olyscrape.cli.sinks import check_output, open_sink, output_option
from olyscrape.cli.writers import as_sequences

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader

#: ``--since last-crawl``: what the newest crawl found.
LAST_CRAWL = "last-crawl"
#: A duration back from now: ``24h``, ``7d``, ``2w``.
_DURATION = re.compile(r"(\d{1,6})\s*([hdw])", re.I)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
#: The archive's form of a time.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

#: The columns of each format: a table's for reading (its time to the minute, UTC, so that
#: it is never cut), the flat formats' (CSV, TSV) for a spreadsheet, JSON's with an edit's
#: values before and after.
TABLE_COLUMNS = ["when", "kind", "partners", "title", "changed", "url"]
FLAT_COLUMNS = ["at", "kind", "partners", "title", "fields", "changed", "url", "crawl_id"]
JSON_COLUMNS = ["kind", "at", "partners", "url", "title", "fields", "crawl_id", "version_id",
                "before", "after"]  # fmt: skip
CHANGE_FORMATS = (*FORMATS, "atom")


def archive_time(moment: datetime.datetime) -> str:
    """``moment`` as the archive writes a time: UTC, to the second, with a ``Z``. A time
    without a zone is taken as UTC, the archive's."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime(TIME_FORMAT)


class Since(click.ParamType):
    """``--since``: ``last-crawl`` (given back as it is: the archive answers it), a date
    (``2026-12-01``), an ISO 8601 date-time with or without a zone (``2026-12-01T09:30``,
    ``2026-12-01T09:30:00+01:00``, ``...Z``; without one, UTC), or a duration back from
    now (``24h``, ``7d``, ``2w``); each as an archive time."""

    name = "text"

    def __init__(self, now: Any = None) -> None:
        self.now = now or (lambda: datetime.datetime.now(datetime.timezone.utc))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        if text.lower() == LAST_CRAWL:
            return LAST_CRAWL
        duration = _DURATION.fullmatch(text)
        if duration:
            amount = datetime.timedelta(**{_UNITS[duration[2].lower()]: int(duration[1])})
            return archive_time(self.now() - amount)
        try:
            moment = datetime.datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", text))
        except ValueError:
            self.fail(
                f"{value!r} is no date: give YYYY-MM-DD, an ISO 8601 date-time"
                " (2026-12-01T09:30:00Z), a duration back from now (24h, 7d, 2w) or last-crawl",
                param,
                ctx,
            )
        return archive_time(moment)


class Choices(click.ParamType):
    """A comma-separated list of ``choices`` (``new,edited``), repeatable; an unknown one
    is a usage error naming the known."""

    name = "text"

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        given = tuple(word.strip().lower() for word in str(value).split(",") if word.strip())
        if not given:
            self.fail(f"{value!r} names nothing; choose from {', '.join(self.choices)}", param, ctx)
        for word in given:
            if word not in self.choices:
                self.fail(f"unknown {word!r}; choose from {', '.join(self.choices)}", param, ctx)
        return given


@click.command()
@db_option
@click.option(
    "--since",
    type=Since(),
    metavar="WHEN",
    help="Only changes at or after: YYYY-MM-DD, an ISO 8601 date-time (UTC unless it has a"
    " zone), a duration back from now (24h, 7d, 2w), or last-crawl (what the newest crawl"
    " found). Default: every change.",
)
@click.option(
    "--partner",
    "partners",
    metavar="SLUG",
    multiple=True,
    help="Only changes on this partner's listing (slug or name; repeat it or give a comma list).",
)
@click.option(
    "--kind",
    "kinds",
    type=Choices(KINDS),
    metavar="KINDS",
    multiple=True,
    help="Only these kinds, comma-separated: new, edited, gone (default: all).",
)
@limit_option()
@format_choice(CHANGE_FORMATS, "an Atom 1.0 feed")
@output_option
@interruptible
def changes(
    db: Path, since: str | None, partners: tuple[str, ...], kinds: tuple[tuple[str, ...], ...],
    limit: int | None, fmt: str, output: Path | None,
) -> None:  # fmt: skip
    """What the crawls found, newest first: articles new to the archive, articles edited
    (which fields, before and after) and links gone from a partner's listing.

    A link is gone only when a complete full walk of its listing (crawl --full) no longer
    showed it; a body is compared only when its page is fetched again (crawl
    --refresh-articles). --format atom writes an Atom feed of the same changes.
    """
    chosen = tuple(kind for kind in KINDS if any(kind in group for group in kinds)) or KINDS
    given = [name.strip() for value in partners for name in value.split(",")]
    if partners and not any(given):
        raise click.BadParameter("names no partner; leave it out for every partner",
                                 param_hint="'--partner'")  # fmt: skip
    check_output(output, db)
    with open_reader(db) as archive:
        slugs = _partners(archive, given)
        if since == LAST_CRAWL:
            since = guarded(archive.last_crawl_start)
        query = ChangeQuery(since=since, partners=slugs, kinds=chosen, limit=limit)
        if fmt == "atom":
            _write_feed(archive, query, output)
            return
        with open_sink(output) as sink:
            rows = guarded(lambda: primed(archive.iter_changes(query)))  # streamed
            columns = TABLE_COLUMNS if fmt == "table" else FLAT_COLUMNS if fmt in ("csv", "tsv") \
                else JSON_COLUMNS  # fmt: skip
            emit_rows(sink, as_sequences(_shown(rows, fmt), columns), fmt, columns)


def _partners(archive: ArchiveReader, given: list[str]) -> tuple[str, ...]:
    """The slugs of the partners ``given`` by slug or name (an unknown one: exit 2)."""
    slugs = {resolve_partner(archive, name) for name in given if name}
    return tuple(sorted(slugs))


def described(row: dict[str, Any]) -> str:
    """What one change did, in a line: an edit's :func:`~olyscrape.cli.diffs.summary`."""
    if row["kind"] == "edited":
        return summary(row["fields"], row["before"], row["after"])
    return "new article" if row["kind"] == "new" else "no longer on the listing"


def _shown(rows: Iterator[dict[str, Any]], fmt: str) -> Iterator[dict[str, Any]]:
    """The archive's change rows as ``fmt`` shows them."""
    for row in rows:
        if fmt in ("json", "jsonl"):
            yield row
            continue
        when = row["at"] if fmt != "table" else row["at"][:16].replace("T", " ")
        yield row | {"when": when, "changed": described(row)}


def _write_feed(archive: ArchiveReader, query: ChangeQuery, output: Path | None) -> None:
    """The changes of ``query`` as one Atom document, written whole to the sink."""
    from olyscrape.cli.atom import changes_feed

    rows = guarded(lambda: list(archive.iter_changes(query)))
    names = dict(guarded(archive.partners))
    bodies = {row["url"]: _body(archive, row["url"]) for row in rows if row["kind"] == "new"}
    document = changes_feed(rows, query.kinds, query.partners, names, bodies)
    with open_sink(output) as sink:
        sink.write(document)


def _body(archive: ArchiveReader, url: str) -> str | None:
    """The body the archive holds for ``url`` now (a new entry's first lines)."""
    history = guarded(lambda: archive.history(url))
    return history.versions[-1].values.get("body") if history else None
