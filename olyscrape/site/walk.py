"""A partner's walk (``docs/site.md`` §2 to §4): which cards it saw, their positions, and
when its paging stops.

Cards are deduplicated by URL within a walk and numbered in the order they came (§2);
paging stops on an empty or short load-more answer (§3), on pages in a row that bring no
new card (§3, §4), at the page cap, on a cycle, and, in a re-parse, where the captures
end. The spider asks :class:`PartnerPaging` and only carries out its answer.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from w3lib.url import canonicalize_url

from olyscrape.crawlstats import StopReason
from olyscrape.site.loadmore import LoadMoreLink

#: Answers in a row that bring no new URL before a partner's paging stops.
BARREN_ANSWERS_LIMIT = 2


class HashSet:
    """A set of strings kept as the 64-bit hashes of them, in one flat array: about 16
    bytes a member (open addressing, at most half full), where a ``set`` of the URLs
    costs ~250 and a ``set`` of hash ints ~80, each a Python object that a walk of tens
    of thousands of cards would keep alive and scatter across the heap. Two URLs of one
    walk sharing a 64-bit hash (odds about 1 in 10**10 at 100,000 cards) would count as
    one."""

    def __init__(self) -> None:
        self._slots = array("q", bytes(8 * 64))
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, value: str) -> bool:
        """Add ``value``; False when it was a member already."""
        key = hash(value) or 1  # 0 marks an empty slot
        slots = self._slots
        mask = len(slots) - 1
        index = key & mask
        while slots[index]:
            if slots[index] == key:
                return False
            index = (index + 1) & mask
        slots[index] = key
        self._count += 1
        if 2 * self._count > len(slots):
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        self._slots = slots = array("q", bytes(16 * len(old)))
        mask = len(slots) - 1
        for key in old:
            if key:
                index = key & mask
                while slots[index]:
                    index = (index + 1) & mask
                slots[index] = key


@dataclass
class PartnerPaging:
    """What one partner's crawl has seen so far, and the stop rule for its paging.

    ``admit`` assigns each new article URL its position in the partner's list (1-based,
    newest first); ``after_answer`` records a load-more answer and says where to ask next.
    """

    max_pages: int
    #: The partner's cards so far, by the hash of their URL (see :class:`HashSet`).
    seen: HashSet = field(default_factory=lambda: HashSet())
    pages: int = 0
    barren: int = 0
    stop_reason: StopReason | None = None
    #: The listing pages and load-more answers read in this walk (asked for, or reached
    #: through a redirect), canonicalized as Scrapy's duplicate filter does (a walk reads
    #: at most ``max_pages`` of them).
    read: set[str] = field(default_factory=set)
    #: Whether a page was kept in the archive, when the walk may read only those (a
    #: re-parse reads the captures, never the site); None when it reads what comes.
    kept: Callable[[str], bool] | None = None

    def mark_read(self, *page_urls: str) -> None:
        """Record the URLs a page was read under (asked for, redirected through, answered)."""
        self.read.update(canonicalize_url(url) for url in page_urls)

    def is_cycle(self, url: str) -> bool:
        """True (and the stop reason) when ``url`` was read already in this walk: a last
        page linking back to the first, or a page redirected to one read before. Every
        card of the pages in the cycle was admitted when they were read; reading one of
        them again would only walk the cycle again. (Paging requests are never left to
        Scrapy's duplicate filter, which would drop such a page unseen: this is the one
        judge of what a walk read.)"""
        if canonicalize_url(url) in self.read:
            self.stop_reason = StopReason.PAGING_CYCLE
            return True
        return False

    def past_captures(self, url: str) -> bool:
        """True (and the stop reason) when the walk reads only kept pages and ``url`` is
        not one: a re-parse ends where the captures end, complete as far as they go."""
        if self.kept is None or self.kept(url):
            return False
        self.stop_reason = StopReason.NOT_CAPTURED
        return True

    def may_ask(self, url: str) -> bool:
        """Whether the next load-more answer, at ``url``, may be asked for; when not, the
        stop reason says why: past the captures, read already (a cycle), the page cap."""
        return not self.past_captures(url) and not self.is_cycle(url) and self.more_allowed()

    def admit(self, url: str) -> int | None:
        """The position of a newly seen URL, or None if the partner showed it already."""
        if not self.seen.add(url):
            return None
        return len(self.seen)

    def count_page(self) -> None:
        """Count a fetched listing page or load-more answer."""
        self.pages += 1

    def more_allowed(self) -> bool:
        """False (and a stop reason) once the partner's page cap is reached."""
        if self.pages >= self.max_pages:
            self.stop_reason = StopReason.PAGE_CAP
            return False
        return True

    def _barren_limit_reached(self, new: int) -> bool:
        self.barren = 0 if new else self.barren + 1
        return self.barren >= BARREN_ANSWERS_LIMIT

    def after_page(self, new: int) -> bool:
        """Record a no-script page; True when the next page may be fetched.

        The same guard as for load-more answers: a server that ignores the page number
        answers the same cards again, and two such pages in a row end the paging.
        """
        if self._barren_limit_reached(new):
            self.stop_reason = StopReason.NOTHING_NEW
            return False
        return self.more_allowed()

    def after_answer(self, link: LoadMoreLink, offset: int, received: int, new: int) -> int | None:
        """Record an answer at ``offset``; the next offset to ask, or None to stop."""
        barren = self._barren_limit_reached(new)
        if received == 0:
            self.stop_reason = StopReason.EMPTY_ANSWER
        elif received < link.count:
            self.stop_reason = StopReason.SHORT_ANSWER
        elif barren:
            self.stop_reason = StopReason.NOTHING_NEW
        elif self.more_allowed():
            return offset + received
        return None
