"""``olyscrape history URL``: every version of one article, oldest first, each with when
it stood, the crawl that replaced it, the captures that show it, and what changed from
the version before (a field as ``- old`` / ``+ new`` lines, the body as a unified diff).

Oldest first, as a story reads: each version's diff is from the one above it. The URL is
taken as a user writes it (a trailing slash, ``http://``, ``www.``, a mirror's host): when
the archive has no article at the URL as given, its path on the canonical origin
(``https://olympics.com``) is tried; an article's number (``articles.id``) works too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import click

from olyscrape.cli.diffs import VALUE_FIELDS, diff_lines, paragraphs, shown
from olyscrape.cli.interrupts import interruptible
from olyscrape.cli.options import db_option, guarded, open_reader, report_format_option
from olyscrape.cli.output import echo_report
from olyscrape.cli.sinks import check_output, output_option
from olyscrape.cli.types import Filter
from olyscrape.cli.writers import strict_json

if TYPE_CHECKING:
    from olyscrape.archive.changes import History
    from olyscrape.archive.reader import ArchiveReader

#: Where the archive's URLs live.
ORIGIN = ("https", "olympics.com")


class NotArchived(click.ClickException):
    """The archive holds no article at the URL given: one line, exit 1 (the command ran
    and found nothing to show, as ``stats --chart`` finds nothing to draw)."""

    exit_code = 1


def candidates(given: str) -> list[str]:
    """The URLs ``given`` may mean, as written first: then on the canonical origin
    (https, no ``www.``, any host: a mirror's), without a trailing slash, and without a
    query or fragment."""
    text = given.strip()
    if not re.match(r"[a-z][a-z0-9+.-]*://", text, re.I):
        text = "https://" + text.lstrip("/") if "." in text.split("/")[0] else \
            "https://olympics.com/" + text.lstrip("/")  # fmt: skip
    parts = urlsplit(text)
    path = parts.path.rstrip("/") or "/"
    found = [given.strip()]
    for query in (parts.query, ""):
        url = urlunsplit((*ORIGIN, path, query, ""))
        if url not in found:
            found.append(url)
    return found


def find(archive: ArchiveReader, given: str) -> History | None:
    """The history of the article ``given`` names: a URL as :func:`candidates` reads it,
    or an article's number."""
    if given.strip().isdigit():
        rows = archive.query_rows("SELECT url FROM articles WHERE id = :id", {"id": int(given)})
        found = list(rows.rows)
        return archive.history(found[0][0]) if found else None
    for url in candidates(given):
        history = archive.history(url)
        if history is not None:
            return history
    return None


@dataclass
class HistoryReport:
    """One article's versions, as ``history`` prints them (text, or one JSON object)."""

    history: History

    def versions(self) -> list[dict[str, Any]]:
        """Each version with its diff from the one before (none for the first)."""
        shown = []
        previous = None
        for version in self.history.versions:
            diff: list[str] = [] if previous is None else diff_lines(
                previous.values, version.values, f"version {previous.number}",
                f"version {version.number}")  # fmt: skip
            shown.append({
                "number": version.number, "since": version.since, "until": version.until,
                "replaced_by_crawl": version.crawl_id, "values": version.values,
                "captures": version.captures, "diff": diff,
            })  # fmt: skip
            previous = version
        return shown

    def to_json(self) -> str:
        return strict_json(
            {"url": self.history.url, "last_seen": self.history.last_seen,
             "links": self.history.links, "versions": self.versions()}, indent=2,
        )  # fmt: skip

    def render(self, *, width: int | None = None) -> str:
        lines = [self.history.url]
        for link in self.history.links:
            lines.append(f"listed by {link['partner']}: first seen {link['first_seen']},"
                         f" last seen {link['last_seen']}")  # fmt: skip
        versions = self.versions()
        lines.append(f"{len(versions)} version{'s' * (len(versions) != 1)}, oldest first")
        for version in versions:
            lines += ["", _heading(version)]
            for capture in version["captures"]:
                lines.append(_capture(capture))
            if version["number"] == 1:
                lines += [f"  {name}: {shown(version['values'][name])}" for name in VALUE_FIELDS]
                count = len(paragraphs(version["values"]["body"]))
                lines.append(f"  body: {count} paragraphs (--format json gives the text)")
            elif version["diff"]:
                lines += ["  " + line for line in version["diff"]]
            else:
                lines.append("  (no field differs from the version before)")
        return "\n".join(lines)


def _capture(capture: dict[str, Any]) -> str:
    return (f"  capture {capture['id']}: fetched {capture['fetched_at']}"
            f" (HTTP {capture['status']}, crawl {capture['crawl_id']})")  # fmt: skip


def _heading(version: dict[str, Any]) -> str:
    until = version["until"]
    if until is None:
        return f"version {version['number']}: since {version['since']} (current)"
    crawl = version["replaced_by_crawl"]
    by = f" by crawl {crawl}" if crawl is not None else ""
    return f"version {version['number']}: {version['since']} until {until} (replaced{by})"


@click.command()
@db_option
@click.argument("article", metavar="URL|ID", type=Filter("article"))
@report_format_option("history")
@output_option
@interruptible
def history(db: Path, article: str, fmt: str, output: Path | None) -> None:
    """Every version of one article, oldest first: when each stood, the crawl that
    replaced it, its captures, and its diff from the version before (title and dates as
    - old / + new lines, the body as a unified diff).

    URL as on the site (http or https, www. or not, a trailing slash, a mirror's host: the
    path is looked up on https://olympics.com), or the article's number (articles.id).
    """
    check_output(output, db)
    with open_reader(db) as archive:
        found = guarded(lambda: find(archive, article))
    if found is None:
        tried = candidates(article)[-1] if not article.strip().isdigit() else f"number {article}"
        raise NotArchived(f"the archive holds no article {tried}")
    echo_report(HistoryReport(found), fmt, output=output)
