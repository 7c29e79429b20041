"""Each kind of page judged in one call, from the page itself (a parsel ``Selector`` or a
response) and its URL: the shortest way to ask whether a page keeps the contract, in a
test or at a prompt. Each function builds the page object of its section and asks it,
as ``olyscrape check`` does; none reads a page itself.
"""

from __future__ import annotations

from olyscrape.items import ArticleCard
from olyscrape.site.article import ArticlePage
from olyscrape.site.discovery import DiscoveryPage, MenuLink
from olyscrape.site.listing import ListingPage
from olyscrape.site.loadmore import LoadMoreAnswer, LoadMoreLink
from olyscrape.site.noscript import no_paging
from olyscrape.site.page import Selectable
from olyscrape.site.points import ORDER, Point, excerpt, failed_fetch

__all__ = [
    "ORDER", "Point", "article", "discovery", "excerpt", "failed_fetch", "listing",
    "load_more_answer", "load_more_link", "next_page", "no_paging",
]  # fmt: skip


def discovery(page: Selectable, url: str) -> tuple[Point, list[MenuLink]]:
    """§1: the menu column headed TOP, and the partners it lists."""
    found = DiscoveryPage(page, url)
    return found.check(), found.links


def listing(page: Selectable, url: str, partner: str) -> tuple[list[Point], list[ArticleCard]]:
    """§2: the listing's cards, and each card field present on at least one of them."""
    return ListingPage(page, url).check(partner)


def load_more_link(href: str, partner: str, url: str) -> tuple[Point, LoadMoreLink | None]:
    """§3: the load-more link parses into its area, count and offset."""
    return LoadMoreLink.check(href, partner, url)


def load_more_answer(body: bytes, url: str, partner: str) -> Point:
    """§3: the answer is JSON with a ``content`` list of news items."""
    return LoadMoreAnswer(body, url).check(partner)


def next_page(page: Selectable, url: str, partner: str) -> Point:
    """§4: the no-script page a listing links to shows cards too."""
    return ListingPage(page, url).check_as_next_page(partner)


def article(page: Selectable, url: str, partner: str) -> list[Point]:
    """§5: the article page's title, date, tags and body."""
    return ArticlePage(page, url).check(partner)
