"""Drop cards that are not articles, with a reason the crawl stats count."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from olyscrape.items import ArticleCard

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

REQUIRED = ("url", "title")


class ValidatePipeline:
    """A card without URL or title is dropped as ``missing_<field>``.

    Counted in ``olyscrape/dropped/<reason>`` and per partner in
    ``olyscrape/partner/<slug>/dropped``; the crawl goes on.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleCard):
            return item
        self._count_coverage(item)
        for name in REQUIRED:
            if not getattr(item, name):
                reason = f"missing_{name}"
                self.stats.inc_value("olyscrape/dropped")
                self.stats.inc_value(f"olyscrape/dropped/{reason}")
                self.stats.inc_value(f"olyscrape/partner/{item.partner}/dropped")
                raise DropItem(
                    f"{reason}: card of {item.partner} on {item.page_url} "
                    f"({item.title or item.url})"
                )
        return item

    def _count_coverage(self, card: ArticleCard) -> None:
        """Field coverage among cards with a link (the monitors' field checks read it)."""
        if not card.url:
            return
        self.stats.inc_value("olyscrape/coverage/linked")
        for name in ("title", "published"):
            if getattr(card, name):
                self.stats.inc_value(f"olyscrape/coverage/{name}")
