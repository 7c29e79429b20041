"""A crawl's stats and its verdict: the one place that says whether a crawl succeeded.

The summary, the ``crawls`` row and the CLI's exit code all read :func:`verdict`, so they
cannot disagree. Stored counts (``stored_cards``, per-partner ``articles``...) are
incremented only after their transaction committed, so they say what the archive holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: A write to the archive or the WARC file failed: one line naming the file and the cause.
STORAGE_ERROR = "olyscrape/storage_error"
#: The archive was refused before the first request (not ours, read-only, newer...).
STORAGE_REFUSED = "olyscrape/storage_refused"
#: The crawl's own ``crawls`` row could not be written.
CRAWL_RECORD_ERROR = "olyscrape/crawl_record_error"
#: Cards committed to the archive.
STORED_CARDS = "olyscrape/stored_cards"
#: Cards the spider yielded (seen), and those the validate pipeline dropped.
CARDS = "olyscrape/cards"
DROPPED = "olyscrape/dropped"
ERRORS = "olyscrape/errors"
MONITOR_FAILURES = "olyscrape/monitor/failures"
ALERT_FAILURES = "olyscrape/alert_failures"
#: Finish reasons olyscrape closes a crawl with.
UNKNOWN_PARTNER = "unknown_partner"
STORAGE_FINISH = "storage_error"
#: Finish reasons of a crawl stopped from outside (Ctrl-C, SIGTERM; none at all after a
#: forced stop, when Scrapy never closed the spider).
INTERRUPTED_REASONS = ("shutdown", None)


@dataclass
class Verdict:
    """``status`` is what the ``crawls`` row says: ``ok``, ``failed`` or ``interrupted``."""

    status: str
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def verdict(stats: dict[str, Any]) -> Verdict:
    """Judge a crawl by its stats: OK only when it finished, every discovery, listing and
    load-more request succeeded, every closing check passed, every write committed, and
    it archived cards if it saw any."""
    reasons: list[str] = []
    if stats.get(STORAGE_ERROR):
        reasons.append(str(stats[STORAGE_ERROR]))
    reason = stats.get("finish_reason")
    seen = int(stats.get(CARDS, 0)) - int(stats.get(DROPPED, 0))
    if seen > 0 and not stats.get(STORED_CARDS):
        reasons.append(f"archived none of the {seen} cards it saw")
    reasons.extend(stats.get(MONITOR_FAILURES) or [])
    if reason in INTERRUPTED_REASONS:
        return Verdict("interrupted", [f"interrupted ({reason or 'forced stop'})", *reasons])
    if not reasons and (reason != "finished" or stats.get(ERRORS)):
        reasons.append(f"the crawl ended with {reason}" if reason != "finished" else
                       f"{stats.get(ERRORS)} request(s) failed")  # fmt: skip
    return Verdict("failed" if reasons else "ok", reasons)
