"""The end-of-crawl summary: per-partner figures read from the crawl stats, as a table a
person reads or one JSON object a scheduler reads. Every stored count is what committed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from olyscrape.archive.health import checkpoint_line
from olyscrape.cli.exits import EXIT_FAILED, EXIT_OK
from olyscrape.cli.output import aligned
from olyscrape.crawlstats import CrawlStats, StopReason
from olyscrape.site import urls

#: Column label → the per-partner stat it shows (``olyscrape/partner/<slug>/<stat>``).
COLUMNS = {
    "cards seen": "cards",
    "new articles": "new_articles",
    "new links": "new",
    "updated": "updated",
    "dropped": "dropped",
    "article pages": "articles",
    "listing pages": "pages",
    "errors": "errors",
}
#: How many failed article pages the table lists by URL.
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
    cut_by_page_cap: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    elapsed: float | None = None
    status: str = "failed"
    reasons: list[str] = field(default_factory=list)
    archive: dict[str, int] = field(default_factory=dict)
    #: The first article pages the archive gave up on (failed ``page_max_failures`` crawls
    #: in a row): url, failures, reason, tried. ``archive`` counts them all.
    given_up_pages: list[dict[str, Any]] = field(default_factory=list)
    storage_error: str | None = None
    #: Article pages with structured data, and per field the values it filled (the visible
    #: markup lacked them) and the disagreements (the visible value was kept).
    structured: dict[str, Any] = field(default_factory=dict)
    #: The writer's closing checkpoint (see ``olyscrape.archive.health.Checkpoint``).
    checkpoint: dict[str, Any] = field(default_factory=dict)
    #: The archive's path, as the text names it (not part of the JSON form).
    db: str | None = field(default=None, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.status == "ok"

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.succeeded else EXIT_FAILED

    @classmethod
    def from_stats(cls, stats: dict[str, Any], db: str | None = None) -> CrawlSummary:
        crawl = CrawlStats(stats)
        partners = crawl.partners
        rows = {
            slug: {label: crawl.count(key, slug) for label, key in COLUMNS.items()}
            for slug in partners
        }
        judged = crawl.verdict
        return cls(
            rows=rows,
            failures=crawl.failures,
            article_failures=crawl.article_failures,
            check_failures=crawl.check_failures,
            alert_failures=crawl.alert_failures,
            stopped_early=[p for p in partners if crawl.count("stopped_early", p)],
            cut_by_page_cap=[p for p in partners if crawl.stop_reason(p) == StopReason.PAGE_CAP],
            finish_reason=crawl.finish_reason,
            elapsed=crawl.elapsed,
            status=judged.status,
            reasons=judged.reasons,
            archive=crawl.archive_counts,
            given_up_pages=crawl.given_up_pages,
            storage_error=crawl.storage_error,
            structured=crawl.structured,
            checkpoint=crawl.archive_checkpoint,
            db=db,
        )

    def totals(self) -> dict[str, int]:
        return {col: sum(row[col] for row in self.rows.values()) for col in COLUMNS}

    def to_json(self) -> str:
        """The summary as one JSON object: per partner, totals, failures, checks, verdict."""
        data = asdict(self)
        del data["db"]

        def keyed(row: dict[str, int]) -> dict[str, int]:
            return {label.replace(" ", "_"): value for label, value in row.items()}

        data["partners"] = {slug: keyed(row) for slug, row in data.pop("rows").items()}
        data["totals"] = keyed(self.totals())
        data["verdict"] = data.pop("status")
        if data["elapsed"] is not None:  # to the hundredth: a clock's noise is no figure
            data["elapsed"] = round(data["elapsed"], 2)
        return json.dumps(data, ensure_ascii=False, indent=2, default=str)

    def _structured_line(self) -> str:
        def listed(counts: dict[str, int]) -> str:
            return ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "none"

        s = self.structured
        return (
            f"structured data: {s['pages']} article page(s) carry it; it filled"
            f" {listed(s['filled'])}; it disagreed with the page (page kept) on"
            f" {listed(s['disagreed'])}"
        )

    def render(self, db: str | None = None, *, width: int | None = None) -> str:
        """A one-screen plain-text table (fitted to ``width``: its headers on two lines
        in an 80-column terminal), then the failed requests, then the verdict; ``db``
        (else the summary's own) names the archive."""
        db = db or self.db
        lines = aligned(
            ["partner", *COLUMNS],
            [[slug, *(str(row[c]) for c in COLUMNS)] for slug, row in self.rows.items()],
            right=range(1, len(COLUMNS) + 1),
            widths=[0, *(5 for _ in COLUMNS)],
            totals=[["total", *(str(n) for n in self.totals().values())]],
            width=width,
        )
        if self.failures:
            lines.append("")
            lines.append(f"{len(self.failures)} failed request(s):")
            for f in self.failures:
                who = f" [{f['partner']}]" if f.get("partner") else ""
                lines.append(f"  {f['kind']}{who} {urls.shown(f['url'])}: {f['reason']}")
        if self.article_failures:
            lines.append("")
            lines.append(
                f"{len(self.article_failures)} article page(s) not archived (their cards are):"
            )
            for f in self.article_failures[:ARTICLE_FAILURES_SHOWN]:
                lines.append(f"  {urls.shown(f['url'])}: {f['reason']}")
            if len(self.article_failures) > ARTICLE_FAILURES_SHOWN:
                lines.append(
                    f"  ... and {len(self.article_failures) - ARTICLE_FAILURES_SHOWN} more"
                )
        cut_walks = [
            ("incremental", self.stopped_early, "stopped at cards archived before, skipping"
             " their older pages (--full walks everything)"),
            ("page cap", self.cut_by_page_cap, "cut short by --max-pages, their older pages"
             " not read (the next crawl walks them in full)"),
        ]  # fmt: skip
        for label, partners, what in cut_walks:
            if partners:
                lines.append("")
                lines.append(f"{label}: {len(partners)} partner(s) {what}: {', '.join(partners)}")
        if self.structured.get("pages"):
            lines.append("")
            lines.append(self._structured_line())
        if self.check_failures:
            lines.append("")
            lines.append(f"{len(self.check_failures)} check(s) failed:")
            lines.extend(f"  {failure}" for failure in self.check_failures)
        if self.alert_failures:
            lines.append("")
            lines.extend(self.alert_failures)
        elapsed = f" in {self.elapsed:.1f} s" if self.elapsed is not None else ""
        verdict_word = {"ok": "OK", "interrupted": "INTERRUPTED", "unreachable": "UNREACHABLE"}.get(
            self.status, "FAILED"
        )
        lines.append("")
        lines.append(f"crawl {verdict_word}{elapsed} (finish reason: {self.finish_reason})")
        if self.archive:
            where = f" {db}" if db else ""
            lines.append(
                f"archive{where} now holds {self.archive['articles']} articles,"
                f" {self.archive['article_partners']} partner links,"
                f" {self.archive['partners']} partners"
            )
        if "articles_without_page" in self.archive:
            lines.extend(self._missing_lines())
        left = checkpoint_line(db or "", self.checkpoint)
        if left:
            lines.append(left)
        return "\n".join(lines)

    def _missing_lines(self) -> list[str]:
        """What the archive still lacks, whichever crawl left it so: always said, so that
        ``crawl OK`` never hides a hole."""
        missing = self.archive["articles_without_page"]
        given_up = self.archive.get("pages_given_up", 0)
        if not missing:
            return ["archive: every article it holds has its page"]
        max_failures = self.archive.get("page_max_failures", 0)
        lines = [f"archive: {missing_articles_text(missing, given_up, max_failures)}"]
        for page in self.given_up_pages:
            url, failures = urls.shown(page["url"]), page["failures"]
            lines.append(f"  {url}: {page['reason']} (failed {crawls_text(failures)} in a row)")
        if given_up > len(self.given_up_pages):
            lines.append(f"  ... and {given_up - len(self.given_up_pages)} more")
        return lines


def crawls_text(count: int) -> str:
    return "1 crawl" if count == 1 else f"{count} crawls"


def missing_articles_text(missing: int, given_up: int, max_failures: int) -> str:
    """``3 articles have no page yet (…)``: how many the next crawl asks for, how many it
    no longer asks for (given up), worded for each case (all of them, some, one)."""
    articles = "1 article has" if missing == 1 else f"{missing} articles have"
    if not given_up:
        them = "it" if missing == 1 else "them"
        return f"{articles} no page yet (the next crawl asks for {them})"
    reason = f"{given_up} failed {crawls_text(max_failures)} in a row: no longer asked for"
    others = missing - given_up
    if others <= 0:
        return f"{articles} no page yet ({reason})"
    rest = "the other one is" if others == 1 else f"the other {others} are"
    return f"{articles} no page yet ({reason}; {rest} asked for by the next crawl)"
