"""The end-of-crawl summary: per-partner figures read from the crawl stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from olyscrape.stats import ALERT_FAILURES, verdict

COLUMNS = ("cards", "new", "updated", "dropped", "articles", "pages", "errors")
#: How many failed article pages the summary lists by URL.
ARTICLE_FAILURES_SHOWN = 20


@dataclass
class CrawlSummary:
    """Per-partner figures, failures and the verdict of one crawl."""

    rows: dict[str, dict[str, int]]
    failures: list[dict[str, Any]] = field(default_factory=list)
    article_failures: list[dict[str, Any]] = field(default_factory=list)
    check_failures: list[str] = field(default_factory=list)
    alert_failures: list[str] = field(default_factory=list)
    stopped_early: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    elapsed: float | None = None
    succeeded: bool = False

    @classmethod
    def from_stats(cls, stats: dict[str, Any]) -> CrawlSummary:
        partners = stats.get("olyscrape/partners") or []
        rows = {
            slug: {col: int(stats.get(f"olyscrape/partner/{slug}/{col}", 0)) for col in COLUMNS}
            for slug in partners
        }
        return cls(
            rows=rows,
            failures=list(stats.get("olyscrape/failures") or []),
            article_failures=list(stats.get("olyscrape/article_failures") or []),
            check_failures=list(stats.get("olyscrape/monitor/failures") or []),
            alert_failures=list(stats.get(ALERT_FAILURES) or []),
            stopped_early=[
                p for p in partners if stats.get(f"olyscrape/partner/{p}/stopped_early")
            ],
            finish_reason=stats.get("finish_reason"),
            elapsed=stats.get("elapsed_time_seconds"),
            succeeded=verdict(stats).ok,
        )

    def totals(self) -> dict[str, int]:
        return {col: sum(row[col] for row in self.rows.values()) for col in COLUMNS}

    def render(self) -> str:
        """A one-screen plain-text table, then the failed requests, then the verdict."""
        width = max([len("partner"), *(len(slug) for slug in self.rows)])
        header = "partner".ljust(width) + "".join(f"{col:>9}" for col in COLUMNS)
        lines = [header, "-" * len(header)]
        for slug, row in self.rows.items():
            lines.append(slug.ljust(width) + "".join(f"{row[col]:>9}" for col in COLUMNS))
        lines.append("-" * len(header))
        totals = self.totals()
        lines.append("total".ljust(width) + "".join(f"{totals[col]:>9}" for col in COLUMNS))
        if self.failures:
            lines.append("")
            lines.append(f"{len(self.failures)} failed request(s):")
            for f in self.failures:
                who = f" [{f['partner']}]" if f.get("partner") else ""
                lines.append(f"  {f['kind']}{who} {f['url']}: {f['reason']}")
        if self.article_failures:
            lines.append("")
            lines.append(
                f"{len(self.article_failures)} article page(s) not archived (their cards are):"
            )
            for f in self.article_failures[:ARTICLE_FAILURES_SHOWN]:
                lines.append(f"  {f['url']}: {f['reason']}")
            if len(self.article_failures) > ARTICLE_FAILURES_SHOWN:
                lines.append(
                    f"  ... and {len(self.article_failures) - ARTICLE_FAILURES_SHOWN} more"
                )
        if self.stopped_early:
            lines.append("")
            lines.append(
                f"incremental: {len(self.stopped_early)} partner(s) stopped at cards archived"
                " before, skipping their older pages (--full walks everything): "
                + ", ".join(self.stopped_early)
            )
        if self.check_failures:
            lines.append("")
            lines.append(f"{len(self.check_failures)} check(s) failed:")
            lines.extend(f"  {failure}" for failure in self.check_failures)
        if self.alert_failures:
            lines.append("")
            lines.extend(self.alert_failures)
        elapsed = f" in {self.elapsed:.1f} s" if self.elapsed is not None else ""
        verdict = "OK" if self.succeeded else "FAILED"
        lines.append("")
        lines.append(f"crawl {verdict}{elapsed} (finish reason: {self.finish_reason})")
        return "\n".join(lines)
