"""No-script paging (``docs/site.md`` §4): the next page a listing links for browsers
without JavaScript, followed only when the listing has no load-more link (§3).

The pages it leads to are listing pages (:class:`olyscrape.site.listing.ListingPage`),
with the same cards; when to stop following them is the walk's rule
(:meth:`olyscrape.site.walk.PartnerPaging.after_page`).
"""

from __future__ import annotations

from olyscrape.site.loadmore import LOAD_MORE_BUTTON
from olyscrape.site.page import Selectable, absolute
from olyscrape.site.points import Point

#: The next-page link, and where it is looked for, in order: the ``noscript`` block after
#: the cards, then any paging block.
NEXT_LINK = "a.next[rel~=next]"
NEXT_LINK_PLACES = ("noscript", ".paging")

NEXT_PAGE_POINT = "paging: no-script next page"
NO_PAGING_POINT = "paging: none"


def next_page_href(page: Selectable, page_url: str) -> str | None:
    """The listing page's next no-script page, resolved against the page; None without."""
    for place in NEXT_LINK_PLACES:
        href = page.css(f"{place} {NEXT_LINK}::attr(href)").get()
        if href:
            return absolute(href, page_url)
    return None


def next_page_point(cards: int, partner: str, url: str) -> Point:
    """§4: the no-script page a listing links to shows cards too (``cards`` of them)."""
    evidence = f"{NEXT_LINK} led to a page of {cards} cards"
    return Point(partner, NEXT_PAGE_POINT, bool(cards), evidence, url)


def no_paging(partner: str, url: str) -> Point:
    """A listing with neither way to more cards: one page, which the contract allows."""
    evidence = f"no {LOAD_MORE_BUTTON} link and no {NEXT_LINK}: the listing is one page"
    return Point(partner, NO_PAGING_POINT, True, evidence, url)
