"""The site contract (``docs/site.md``) as page objects: what olyscrape asks of the IOC's
pages, read in one place.

One module per section of the contract, each owning its selectors as named constants,
turning a page into items, and judging its own points for ``olyscrape check``:

- §1 partner discovery: :mod:`olyscrape.site.discovery` (:class:`DiscoveryPage`)
- §2 listing cards: :mod:`olyscrape.site.listing` (:class:`ListingPage`, :func:`read_card`)
- §3 load-more answers: :mod:`olyscrape.site.loadmore` (:class:`LoadMoreLink`,
  :class:`LoadMoreAnswer`)
- §4 no-script paging: :mod:`olyscrape.site.noscript`
- §2 to §4, a partner's walk and when its paging stops: :mod:`olyscrape.site.walk`
- §5 article pages: :mod:`olyscrape.site.article` and its structured data,
  :mod:`olyscrape.site.structured`
- §6 URLs and slugs: :mod:`olyscrape.site.urls` (and a saved copy of the site as files,
  :mod:`olyscrape.site.files`)
- §7 dates: :mod:`olyscrape.site.dates`
- the points of the contract and the probe's verdict: :mod:`olyscrape.site.points`
  (each page kind judged in one call: :mod:`olyscrape.site.probe`)

What every page object shares (its input, its errors, the parser's depth limit) is in
:mod:`olyscrape.site.page`. Nothing here touches the network or Scrapy's engine: the crawl
(``olyscrape.spiders.partners``) and the probe (``olyscrape.spiders.check``) hand these
objects their responses. This package imports nothing of olyscrape's but
:mod:`olyscrape.items` and :mod:`olyscrape.crawlstats`.
"""

from __future__ import annotations

from olyscrape.site.article import ArticlePage
from olyscrape.site.discovery import DiscoveryPage, MenuLink, top_partner_links
from olyscrape.site.listing import ListingPage, parse_card, read_card
from olyscrape.site.loadmore import LoadMoreAnswer, LoadMoreLink, json_text, parse_load_more
from olyscrape.site.page import (
    PageFormatError,
    Selectable,
    TooDeepError,
    html_depth_limit,
    too_deep,
    tree_depth,
)

__all__ = [
    "ArticlePage", "DiscoveryPage", "ListingPage", "LoadMoreAnswer", "LoadMoreLink",
    "MenuLink", "PageFormatError", "Selectable", "TooDeepError", "html_depth_limit",
    "json_text", "parse_card", "parse_load_more", "read_card", "too_deep",
    "top_partner_links", "tree_depth",
]  # fmt: skip
