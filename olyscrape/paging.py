"""Load-more paging (docs/site.md §3, load-more answers): the next URL, and when to stop.

The site's "+" link reads ``/ioc/ajaxscript/loadmoreoverviewnews/%7B<GUID>%7D/<count>/<offset>/``
and answers items ``offset … offset+count-1`` of the partner's whole list. The offset in
the page's link may be 0 (the answer then repeats the cards already shown) or the number
of cards shown, so cards are deduplicated by URL and the offset advances by what each
answer brought.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from olyscrape.stats import StopReason

_LOAD_MORE_PATH = re.compile(
    r"^(?P<prefix>.*/loadmoreoverviewnews/[^/]+)/(?P<count>\d+)/(?P<offset>\d+)/?$"
)

#: Answers in a row that bring no new URL before a partner's paging stops.
BARREN_ANSWERS_LIMIT = 2


@dataclass(frozen=True)
class LoadMoreLink:
    """A load-more endpoint: everything but the offset is fixed for a partner."""

    prefix: str
    count: int
    offset: int

    @classmethod
    def parse(cls, url: str) -> LoadMoreLink | None:
        """Read a load-more URL; None when it is not of the form docs/site.md §3 gives."""
        parts = urlsplit(url)
        match = _LOAD_MORE_PATH.match(parts.path)
        if not match or int(match["count"]) <= 0:
            return None
        prefix = urlunsplit((parts.scheme, parts.netloc, match["prefix"], "", ""))
        return cls(prefix=prefix, count=int(match["count"]), offset=int(match["offset"]))

    def url(self, offset: int | None = None) -> str:
        """The endpoint's URL at ``offset`` (default: the link's own offset)."""
        return f"{self.prefix}/{self.count}/{self.offset if offset is None else offset}/"


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
