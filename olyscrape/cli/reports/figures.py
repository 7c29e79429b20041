"""The archive's figures: ``olyscrape stats`` (articles per partner and year, the last
crawls) and ``olyscrape runs`` (the crawls, newest first), read through the reader."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from olyscrape.cli.output import render

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader

#: The columns of ``stats``' table of crawls.
CRAWL_COLUMNS = ["id", "started_at", "finished_at", "status", "new", "updated", "errors"]


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
    def read(cls, archive: ArchiveReader, crawl_count: int, width: int | None) -> StatsReport:
        report = cls(
            partners=archive.partner_stats(),
            years=archive.counts_per_year(),
            crawls=archive.crawl_history(crawl_count),
            crawl_count=crawl_count,
            per_partner_year=archive.counts_per_partner_year(),
            undated=archive.undated_articles(),
            as_of=archive.archive_date(),
            width=width,
        )
        added = report.crawls[0]["new_by_partner"] if report.crawls else {}
        for row in report.partners:
            row["added_by_last_crawl"] = added.get(row["partner"], 0)
        return report

    def to_json(self) -> str:
        data = {"partners": self.partners, "years": self.years, "crawls": self.crawls}
        return json.dumps(data, indent=2)

    def render(self) -> str:
        """Three titled tables, a blank line apart."""
        sections = [
            ("Articles per partner", self.partners, None),
            ("Articles per year published", self.years, None),
            (f"Last {self.crawl_count} crawls", self.crawls, CRAWL_COLUMNS),
        ]
        return "\n".join(
            ("\n" if n else "") + title + "\n" + render(rows, "table", cols, width=self.width)
            for n, (title, rows, cols) in enumerate(sections)
        )


@dataclass
class RunsReport:
    """Past crawls, newest first: status, duration, counts, failure reasons."""

    COLUMNS: ClassVar[list[str]] = ["id", "started_at", "status", "seconds", "pages", "cards",
                                    "new", "updated", "errors", "reasons"]  # fmt: skip

    crawls: list[dict[str, Any]]

    def rows(self, fmt: str) -> list[dict[str, Any]]:
        """The rows as ``fmt`` shows them: reasons joined by ``;`` in a table or CSV (a list
        in JSON), seconds to a tenth in a table."""
        shown = []
        for crawl in self.crawls:
            row = dict(crawl)
            if fmt in ("table", "csv"):
                row["reasons"] = "; ".join(row["reasons"])
            if fmt == "table" and isinstance(row["seconds"], float):
                row["seconds"] = round(row["seconds"], 1)
            shown.append(row)
        return shown

    def render(self) -> str:
        return render(self.rows("table"), "table", self.COLUMNS)

    def to_json(self) -> str:
        return render(self.rows("json"), "json", self.COLUMNS)
