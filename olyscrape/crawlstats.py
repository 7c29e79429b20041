"""A crawl's stats: their keys, the helpers that write them, one typed reader, and the
verdict, the one place that says whether a crawl succeeded.

Every ``olyscrape/...`` key is named here, so a key is spelled once. The summary, the
``crawls`` row, the monitors and the CLI's exit code all read a crawl through
:class:`CrawlStats` and :func:`verdict`, so they cannot disagree. Stored counts
(``stored_cards``, per-partner ``articles``...) are incremented only after their
transaction committed, so they say what the archive holds.

This module imports nothing of olyscrape: every layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

PREFIX = "olyscrape/"

#: A write to the archive or the WARC file failed: one line naming the file and the cause.
STORAGE_ERROR = "olyscrape/storage_error"
#: The archive was refused before the first request (not ours, read-only, newer...).
STORAGE_REFUSED = "olyscrape/storage_refused"
#: The crawl's own ``crawls`` row could not be written.
CRAWL_RECORD_ERROR = "olyscrape/crawl_record_error"
#: Feed exports (``-o/-O``) that could not be written: one line each (the crawl failed).
FEED_ERRORS = "olyscrape/feed_errors"
#: Cards committed to the archive.
STORED_CARDS = "olyscrape/stored_cards"
#: Cards the spider yielded (seen), and those the validate pipeline dropped.
CARDS = "olyscrape/cards"
DROPPED = "olyscrape/dropped"
#: Failed discovery, listing and load-more requests: a count, and a list of dicts (kind,
#: url, partner, reason).
ERRORS = "olyscrape/errors"
FAILURES = "olyscrape/failures"
#: Article pages that failed: a count, and a list of dicts (url, partner, reason).
ARTICLES_FAILED = "olyscrape/articles/failed"
ARTICLE_FAILURES = "olyscrape/article_failures"
#: Pages of archived articles a crawl asked for again because the archive lacked them, and
#: article page failures recorded in the archive.
PAGES_ASKED_AGAIN = "olyscrape/articles/asked_again"
PAGE_FAILURES_RECORDED = "olyscrape/articles/failures_recorded"
MONITOR_FAILURES = "olyscrape/monitor/failures"
ALERT_FAILURES = "olyscrape/alert_failures"
#: The partners walked, and (when some asked for are unknown) the known and unknown ones.
PARTNERS = "olyscrape/partners"
KNOWN_PARTNERS = "olyscrape/known_partners"
UNKNOWN_PARTNERS = "olyscrape/unknown_partners"
#: Partners a re-parse skipped because the archive holds no capture of them.
REPARSE_SKIPPED = "olyscrape/reparse/skipped_partners"
#: Requests a replay found no saved response for: a count and the URLs.
REPLAY_MISSING = "olyscrape/replay/missing"
REPLAY_MISSING_URLS = "olyscrape/replay/missing_urls"
#: The ``crawls`` row's id, and the archive's row counts at the end.
CRAWL_ID = "olyscrape/crawl_id"
ARCHIVE_COUNTS = "olyscrape/archive_counts"
#: The writer's closing checkpoint (``complete``, ``busy``, ``frames_left``, ``wal_bytes``,
#: ``error``): not complete when a reader kept commits only in the ``-wal``.
ARCHIVE_CHECKPOINT = "olyscrape/archive_checkpoint"
#: The check the archive passed before the first write: ``integrity_check``,
#: ``quick_check``, or ``unchanged`` (as the last writer that checked it left it).
ARCHIVE_CHECK = "olyscrape/archive_check"
#: The checkpoint a writer completed when it opened (one an earlier writer left unfinished).
ARCHIVE_CHECKPOINT_AT_OPEN = "olyscrape/archive_checkpoint_at_open"
#: The counts also say what the archive still lacks at the end: ``articles_without_page``
#: (on the canonical origin), of those ``pages_given_up`` (failed ``page_max_failures``
#: crawls in a row, no longer asked for); these pages' first few (url, failures, reason,
#: tried) are listed under ARCHIVE_GIVEN_UP.
ARCHIVE_GIVEN_UP = "olyscrape/archive_given_up_pages"
#: Responses captured (queued), captures stored, WARC records written.
CAPTURES = "olyscrape/captures"
CAPTURES_STORED = "olyscrape/captures_stored"
WARC_RECORDS = "olyscrape/warc/records"
#: Politeness and safety counters.
OFFSITE_LINKS_SKIPPED = "olyscrape/offsite_links_skipped"
REFUSED_HOSTS = "olyscrape/refused_hosts"
#: Requests refused before they left because their URL was longer than URLLENGTH_LIMIT.
REFUSED_LONG_URLS = "olyscrape/refused_long_urls"
#: Walks that ended at a paging cycle (a next page or load-more URL read already).
PAGING_CYCLES = "olyscrape/paging_cycles"
#: Walks that ended at a next page (linked or redirected to) that is another partner's
#: listing: not read as this partner's.
OTHER_PARTNER_LINKS = "olyscrape/other_partner_links"
RETRY_AFTER_WAITED = "olyscrape/retry_after/waited"
RETRY_AFTER_TOO_LONG = "olyscrape/retry_after/too_long"
#: Article pages carrying structured data (JSON-LD or OpenGraph), and the fields where it
#: disagreed with the visible markup (``structured/disagree/<field>``) or filled a field
#: the visible markup lacked (``structured/filled/<field>``).
STRUCTURED_PAGES = "olyscrape/structured/pages"
STRUCTURED_DISAGREEMENTS = "olyscrape/structured/disagreements"
#: ``olyscrape check``: every point of the contract it checked (dicts: partner, name,
#: holds, evidence, url).
CHECK_POINTS = "olyscrape/check/points"
#: Cards with a link, the base of the per-field coverage ratios.
COVERAGE_LINKED = "olyscrape/coverage/linked"

#: robots.txt files that could not be fetched for a network failure (each said in one
#: warning line, no traceback; their host's pages are fetched as if it had none).
ROBOTS_TXT_FAILED = "olyscrape/robots_txt_failed"

#: The download failures (Scrapy's ``downloader/exception_type_count/<type>``) that mean
#: the site gave no answer at all: its name not resolved, the connection refused, the
#: network or route down, no answer in time. A site that only fails so is unreachable.
NETWORK_ERRORS = frozenset({
    "scrapy.exceptions.CannotResolveHostError",
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "twisted.internet.error.DNSLookupError",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionRefusedError",
    "twisted.internet.error.NoRouteError",
    "twisted.internet.error.TCPTimedOutError",
    "twisted.internet.error.TimeoutError",
    "twisted.internet.error.UnknownHostError",
    "twisted.web._newclient.ResponseNeverReceived",
})  # fmt: skip
_EXCEPTION_TYPES = "downloader/exception_type_count/"
#: A run's status (the ``crawls`` row's, the exit code 5) when the site never answered.
UNREACHABLE = "unreachable"

#: Finish reasons olyscrape closes a crawl with.
UNKNOWN_PARTNER = "unknown_partner"
STORAGE_FINISH = "storage_error"
#: Finish reasons of a crawl stopped from outside (Ctrl-C, SIGTERM; none at all after a
#: forced stop, when Scrapy never closed the spider).
INTERRUPTED_REASONS = ("shutdown", None)


def key(name: str) -> str:
    """The crawl-wide key of a count (``pages`` → ``olyscrape/pages``)."""
    return PREFIX + name


def partner_key(partner: str, name: str) -> str:
    """The key of one partner's count (``olyscrape/partner/visa/pages``)."""
    return f"{PREFIX}partner/{partner}/{name}"


def dropped_key(reason: str) -> str:
    return f"{PREFIX}dropped/{reason}"


def coverage_key(name: str) -> str:
    return f"{PREFIX}coverage/{name}"


class Stats(Protocol):
    """What olyscrape uses of Scrapy's ``StatsCollector``."""

    def get_value(self, key: str, default: Any = None) -> Any: ...
    def set_value(self, key: str, value: Any) -> None: ...
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


def inc(stats: Stats, name: str, count: int = 1, partner: str | None = None) -> None:
    """Add ``count`` to the crawl-wide count ``name``, and to the partner's if given."""
    stats.inc_value(PREFIX + name, count)
    if partner:
        stats.inc_value(partner_key(partner, name), count)


def append(stats: Stats, key: str, value: Any) -> None:
    """Append ``value`` to the list at ``key``, in place: constant time, however long the
    list (Scrapy's memory stats collector hands back the stored object)."""
    values = stats.get_value(key)
    if values is None:
        stats.set_value(key, [value])
    else:
        values.append(value)


class StopReason(str, Enum):
    """Why a partner's walk ended (``olyscrape/partner/<slug>/stop_reason``)."""

    NO_MORE_PAGES = "no more pages"
    EMPTY_ANSWER = "empty answer"
    SHORT_ANSWER = "short answer"
    NOTHING_NEW = "pages in a row with no new card"
    PAGE_CAP = "page cap"
    INCREMENTAL = "incremental: reached cards archived before"
    OFFSITE_NEXT = "next page on another host, not followed"
    NOT_CAPTURED = "re-parse: no capture of the next page"
    PAGING_CYCLE = "paging cycle: the next page was read already in this walk"
    OTHER_PARTNER = "next page is another partner's listing, not followed"
    DONE = "done"

    @property
    def complete(self) -> bool:
        """True when the walk saw the partner's whole list (or all of it that is new)."""
        return self is not StopReason.PAGE_CAP

    @property
    def whole(self) -> bool:
        """True when the walk ended at the listing's own end, not at a fault it stepped
        around (see :class:`olyscrape.items.WalkDone`)."""
        return self in _LISTING_ENDS

    def __str__(self) -> str:
        return self.value


#: How a listing itself ends: no next page, an empty or short load-more answer, or pages
#: that give no card the walk had not read (a server that ignores the page asked for shows
#: every card it has on the first).
_LISTING_ENDS = frozenset({
    StopReason.NO_MORE_PAGES, StopReason.EMPTY_ANSWER, StopReason.SHORT_ANSWER,
    StopReason.NOTHING_NEW, StopReason.DONE,
})  # fmt: skip


def unreachable(stats: Mapping[str, Any]) -> bool:
    """True when the site never answered: not one response (robots.txt's aside), and every
    download that failed failed for the network (:data:`NETWORK_ERRORS`). Nothing then
    says the site changed, or that olyscrape is broken: the network or the site is down."""
    answered = int(stats.get("downloader/response_count") or 0) - int(
        stats.get("robotstxt/response_count") or 0
    )
    if answered > 0:
        return False
    kinds = {k[len(_EXCEPTION_TYPES) :] for k, v in stats.items()
             if k.startswith(_EXCEPTION_TYPES) and v}  # fmt: skip
    return bool(kinds) and kinds <= NETWORK_ERRORS


def unreachable_line(stats: Mapping[str, Any]) -> str:
    """Why the site is unreachable, in a few words: the first failed request, as the crawl
    (``olyscrape/failures``) or the probe (its broken points) recorded it."""
    for failure in stats.get(FAILURES) or []:
        return f"{failure['url']}: {str(failure['reason']).rstrip('.')}"
    for point in stats.get(CHECK_POINTS) or []:
        if not point.get("holds"):
            evidence = str(point.get("evidence") or "").removeprefix("could not fetch it: ")
            return f"{point.get('url')}: {evidence.rstrip('.')}"
    return "no request got an answer"


@dataclass
class Verdict:
    """``status`` is what the ``crawls`` row says: ``ok``, ``failed``, ``interrupted`` or
    ``unreachable`` (the site never answered: :func:`unreachable`)."""

    status: str
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def verdict(stats: Mapping[str, Any]) -> Verdict:
    """Judge a crawl by its stats: OK only when it finished, every discovery, listing and
    load-more request succeeded, every closing check passed, every write committed, and
    it archived cards if it saw any; unreachable when the site never answered."""
    reasons: list[str] = []
    if stats.get(STORAGE_ERROR):
        reasons.append(str(stats[STORAGE_ERROR]))
    reasons.extend(str(line) for line in stats.get(FEED_ERRORS) or [])
    reason = stats.get("finish_reason")
    seen = int(stats.get(CARDS, 0)) - int(stats.get(DROPPED, 0))
    if seen > 0 and not stats.get(STORED_CARDS):
        reasons.append(f"archived none of the {seen} cards it saw")
    reasons.extend(stats.get(MONITOR_FAILURES) or [])
    if reason in INTERRUPTED_REASONS:
        return Verdict("interrupted", [f"interrupted ({reason or 'forced stop'})", *reasons])
    if not stats.get(STORAGE_ERROR) and unreachable(stats):
        # The checks' failures (no card, failed requests) follow from it: not repeated.
        return Verdict(UNREACHABLE, [f"the site is unreachable: {unreachable_line(stats)}"])
    if not reasons and (reason != "finished" or stats.get(ERRORS)):
        reasons.append(f"the crawl ended with {reason}" if reason != "finished" else
                       f"{stats.get(ERRORS)} request(s) failed")  # fmt: skip
    return Verdict("failed" if reasons else "ok", reasons)


class CrawlStats:
    """One typed reading of a crawl's stats (live, or as the ``crawls`` row kept them)."""

    def __init__(self, stats: Mapping[str, Any]) -> None:
        self.raw = stats

    def count(self, name: str, partner: str | None = None) -> int:
        """A count: crawl-wide, or the partner's."""
        return int(self.raw.get(partner_key(partner, name) if partner else key(name)) or 0)

    def partner_value(self, partner: str, name: str) -> Any:
        return self.raw.get(partner_key(partner, name))

    def _list(self, key: str) -> list[Any]:
        return list(self.raw.get(key) or [])

    @property
    def partners(self) -> list[str]:
        return self._list(PARTNERS)

    @property
    def known_partners(self) -> list[str]:
        return self._list(KNOWN_PARTNERS)

    @property
    def unknown_partners(self) -> list[str]:
        return self._list(UNKNOWN_PARTNERS)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return self._list(FAILURES)

    @property
    def article_failures(self) -> list[dict[str, Any]]:
        return self._list(ARTICLE_FAILURES)

    @property
    def check_failures(self) -> list[str]:
        return self._list(MONITOR_FAILURES)

    @property
    def alert_failures(self) -> list[str]:
        return self._list(ALERT_FAILURES)

    @property
    def finish_reason(self) -> str | None:
        return self.raw.get("finish_reason")

    @property
    def elapsed(self) -> float | None:
        return self.raw.get("elapsed_time_seconds")

    @property
    def storage_error(self) -> str | None:
        return self.raw.get(STORAGE_ERROR)

    @property
    def archive_counts(self) -> dict[str, int]:
        return dict(self.raw.get(ARCHIVE_COUNTS) or {})

    @property
    def archive_checkpoint(self) -> dict[str, Any]:
        return dict(self.raw.get(ARCHIVE_CHECKPOINT) or {})

    @property
    def given_up_pages(self) -> list[dict[str, Any]]:
        return self._list(ARCHIVE_GIVEN_UP)

    def stop_reason(self, partner: str) -> str | None:
        return self.partner_value(partner, "stop_reason")

    def by_partner(self, name: str) -> dict[str, int]:
        """A count per partner, for the partners with a non-zero one, from the keys
        themselves (a stored row may name partners its ``partners`` list does not)."""
        head, tail = f"{PREFIX}partner/", f"/{name}"
        return {
            k[len(head) : -len(tail)]: int(v)
            for k, v in self.raw.items()
            if k.startswith(head) and k.endswith(tail) and v
        }

    def _counts_under(self, prefix: str) -> dict[str, int]:
        head = PREFIX + prefix
        return {k[len(head) :]: int(v) for k, v in self.raw.items() if k.startswith(head) and v}

    @property
    def structured(self) -> dict[str, Any]:
        """Article pages with structured data, and per field what it filled and where it
        disagreed with the visible markup."""
        return {
            "pages": int(self.raw.get(STRUCTURED_PAGES) or 0),
            "filled": self._counts_under("structured/filled/"),
            "disagreed": self._counts_under("structured/disagree/"),
        }

    @property
    def verdict(self) -> Verdict:
        return verdict(self.raw)
