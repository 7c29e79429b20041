"""Drop cards that are not articles (``docs/site.md`` §2), with a reason the crawl stats
count."""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from olyscrape import crawlstats
from olyscrape.items import ArticleCard, PageCards
from olyscrape.site.listing import REQUIRED_FIELDS

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


def _missing(card: ArticleCard) -> str | None:
    """The drop reason of a card (``missing_url``, ``missing_title``), None if complete."""
    for name in REQUIRED_FIELDS:  # docs/site.md §2, olyscrape/site/listing.py
        if not getattr(card, name):
            return f"missing_{name}"
    return None


class ValidatePipeline:
    """A card without URL or title is dropped as ``missing_<field>``.

    Counted in ``olyscrape/dropped/<reason>`` and per partner in
    ``olyscrape/partner/<slug>/dropped``; the crawl goes on. A page's cards
    (:class:`PageCards`) are checked together and the counts added once per page.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageCards):
            counts: Counter[str] = Counter()
            kept = []
            for card in item.cards:
                self._cover(card, counts)
                reason = _missing(card)
                if reason is None:
                    kept.append(card)
                else:
                    self._dropped(card, reason, counts)
            item.cards = kept
            for key, value in counts.items():
                self.stats.inc_value(key, value)
            return item
        if not isinstance(item, ArticleCard):
            return item
        counts = Counter()
        self._cover(item, counts)
        reason = _missing(item)
        if reason is not None:
            self._dropped(item, reason, counts, log=False)
        for key, value in counts.items():
            self.stats.inc_value(key, value)
        if reason is not None:
            raise DropItem(_describe(item, reason))
        return item

    def _dropped(
        self, card: ArticleCard, reason: str, counts: Counter[str], log: bool = True
    ) -> None:
        counts[crawlstats.DROPPED] += 1
        counts[crawlstats.dropped_key(reason)] += 1
        counts[crawlstats.partner_key(str(card.partner), "dropped")] += 1
        if log:
            logger.warning("Dropped card: %s", _describe(card, reason))

    @staticmethod
    def _cover(card: ArticleCard, counts: Counter[str]) -> None:
        """Field coverage among cards with a link (the monitors' field checks read it)."""
        if not card.url:
            return
        counts[crawlstats.COVERAGE_LINKED] += 1
        for name in ("title", "published"):
            if getattr(card, name):
                counts[crawlstats.coverage_key(name)] += 1


def _describe(card: ArticleCard, reason: str) -> str:
    return f"{reason}: card of {card.partner} on {card.page_url} ({card.title or card.url})"
