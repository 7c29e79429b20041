"""The archive's figures: ``olyscrape stats`` (articles per partner and year, the last
crawls) and ``olyscrape runs`` (the crawls, newest first), read through the reader.

A crawl's ``new`` counts new *links* (an article a partner's listing showed for the first
time: one article two partners showed is two), not new articles: the tables say
``new links`` and the JSON gives ``new_links`` beside ``new`` (kept for the scripts that
read it). Timestamps in the tables are to the minute, UTC (``2026-12-05 00:07``); JSON and
CSV keep the stored ISO text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from olyscrape.cli.output import cut, render

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader

#: The columns of ``stats``' table of crawls: the row's key → the table's label.
CRAWL_COLUMNS = {"id": "id", "started_at": "started", "finished_at": "finished",
                 "status": "status", "new": "new links", "updated": "updated",
                 "errors": "errors"}  # fmt: skip
#: The columns of ``stats``' table of partners: the row's key → the table's label.
PARTNER_COLUMNS = {"partner": "partner", "name": "name", "articles": "articles",
                   "first_published": "first published", "last_published": "last published",
                   "new_links_by_last_crawl": "new links (last crawl)"}  # fmt: skip


def minute(stamp: Any) -> Any:
    """``2026-12-05T00:07:15Z`` as a table shows it, ``2026-12-05 00:07`` (anything else as
    it is)."""
    if isinstance(stamp, str) and len(stamp) >= 16 and stamp[10:11] == "T":
        return stamp[:10] + " " + stamp[11:16]
    return stamp


def labelled(rows: list[dict[str, Any]], columns: dict[str, str]) -> list[dict[str, Any]]:
    """``rows`` keyed by the tables' labels, timestamps to the minute."""
    return [
        {label: minute(row.get(key)) if key.endswith("_at") else row.get(key)
         for key, label in columns.items()}
        for row in rows
    ]  # fmt: skip


def year_number(year: Any) -> int | None:
    """A year as JSON gives it: a number, or null for the undated."""
    return int(year) if isinstance(year, str) and year.isdigit() else None


@dataclass
class StatsReport:
    """Articles per partner (with what the last crawl added), per year published, and the
    last ``crawl_count`` crawls; the chart's figures ride along, outside the JSON form."""

    partners: list[dict[str, Any]]
    years: list[dict[str, Any]]
    crawls: list[dict[str, Any]]
    crawl_count: int
    per_partner_year: list[dict[str, Any]] = field(default_factory=list)
    undated: int = 0
    as_of: str | None = None
    #: The width to fit the tables to (a terminal's), None to cut nothing.
    width: int | None = None

    @classmethod
    def read(
        cls, archive: ArchiveReader, crawl_count: int, width: int | None, dated: bool = False
    ) -> StatsReport:
        """The figures; with ``dated``, the archive's date too (the chart's caption: without
        a crawl recorded it is the newest sighting, a read of every article)."""
        report = cls(
            partners=archive.partner_stats(),
            years=archive.counts_per_year(),
            crawls=archive.crawl_history(crawl_count),
            crawl_count=crawl_count,
            per_partner_year=archive.counts_per_partner_year(),
            undated=archive.undated_articles(),
            as_of=archive.archive_date() if dated else None,
            width=width,
        )
        added = report.crawls[0]["new_by_partner"] if report.crawls else {}
        for row in report.partners:
            row["new_links_by_last_crawl"] = added.get(row["partner"], 0)
            row["added_by_last_crawl"] = row["new_links_by_last_crawl"]  # its former name
        for crawl in report.crawls:
            crawl["new_links"] = crawl.get("new")
        return report

    def to_json(self) -> str:
        """Partners, years (numbers; null for the undated) and crawls, as one object."""
        years = [row | {"year": year_number(row["year"])} for row in self.years]
        data = {"partners": self.partners, "years": years, "crawls": self.crawls}
        return json.dumps(data, indent=2)

    def render(self, *, width: int | None = None) -> str:
        """Three titled tables, a blank line apart, fitted to ``width`` (else the report's
        own)."""
        width = width if width is not None else self.width
        sections = [
            ("Articles per partner", labelled(self.partners, PARTNER_COLUMNS)),
            ("Articles per year published", self.years),
            (f"Last {self.crawl_count} crawls", labelled(self.crawls, CRAWL_COLUMNS)),
        ]
        return "\n".join(
            ("\n" if n else "") + (cut(title, width) if width else title) + "\n"
            + render(rows, "table", width=width)
            for n, (title, rows) in enumerate(sections)
        )  # fmt: skip


@dataclass
class RunsReport:
    """Past crawls, newest first: status, duration, counts, failure reasons."""

    #: The columns of CSV and JSON (``new`` kept beside ``new_links``, its clearer name).
    COLUMNS: ClassVar[list[str]] = ["id", "started_at", "status", "seconds", "pages", "cards",
                                    "new", "new_links", "updated", "errors", "reasons"]  # fmt: skip
    #: The columns of the table: the row's key → the table's label.
    TABLE: ClassVar[dict[str, str]] = {
        "id": "id", "started_at": "started", "status": "status", "seconds": "seconds",
        "pages": "pages", "cards": "cards", "new": "new links", "updated": "updated",
        "errors": "errors", "reasons": "reasons",
    }  # fmt: skip

    crawls: list[dict[str, Any]]

    def columns(self, fmt: str) -> list[str]:
        return list(self.TABLE.values()) if fmt == "table" else self.COLUMNS

    def rows(self, fmt: str) -> list[dict[str, Any]]:
        """The rows as ``fmt`` shows them: reasons joined by ``;`` in a table or CSV (a list
        in JSON), seconds to a tenth in a table (a hundredth elsewhere), and in a table the
        labels of :attr:`TABLE`."""
        shown = []
        for crawl in self.crawls:
            row = dict(crawl)
            row["new_links"] = row.get("new")
            if fmt in ("table", "csv"):
                row["reasons"] = "; ".join(row.get("reasons") or [])
            if isinstance(row.get("seconds"), float):
                row["seconds"] = round(row["seconds"], 1 if fmt == "table" else 2)
            shown.append(labelled([row], self.TABLE)[0] if fmt == "table" else row)
        return shown

    def render(self, *, width: int | None = None) -> str:
        return render(self.rows("table"), "table", self.columns("table"), width=width)

    def to_json(self) -> str:
        return render(self.rows("json"), "json", self.COLUMNS)
