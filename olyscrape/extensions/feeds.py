"""Scrapy's feed exports (``FEEDS``, ``scrapy crawl -o/-O``, ``olyscrape crawl -o/-O``)
with one item per article.

The spider yields a listing page's cards as one item (:class:`~olyscrape.items.PageCards`:
Scrapy's per-item machinery costs more than reading a card, and the archive stores them in
batches), beside the partners, article pages and walk ends the archive keeps for its own
bookkeeping. A feed of those items would be one line per page with a nested list. This
exporter is Scrapy's own (storage, formats, ``overwrite``, batches, URI parameters, item
filters: all as Scrapy documents them), fed differently: after the pipelines, each page's
cards become one item per article, first seen in this crawl, and nothing else is exported.
The data flows one way: the pipelines and the archive never see what is exported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.extensions.feedexport import FeedExporter
from typing_extensions import Self

from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.items import ArticleCard, PageCards


class ArticleFeedExporter(FeedExporter):
    """Scrapy's ``FeedExporter``, exporting each article once: its card
    (:class:`~olyscrape.items.ArticleCard`: url, title, category, published, image_url,
    partner, position, page_url...) the first time the crawl scraped its link, as the
    pipelines left it (normalized, validated). An article two partners list is exported
    once, with the first partner's card."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        feeds = crawler.settings.getdict("FEEDS")
        if feeds and not getattr(crawler.spidercls, "exports_articles", True):
            raise NotConfigured(f"the {crawler.spidercls.name} spider exports no articles")
        return super().from_crawler(crawler)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exported: set[str] = set()

    def open_spider(self, spider: Spider) -> None:
        """Open the feeds, unless the archive was refused (not ours, read-only, busy):
        that crawl fetches nothing, so ``-O`` must not empty the file it names."""
        keeper = self.crawler.get_extension(ArchiveKeeper)
        if keeper is not None and not keeper.usable:
            return
        super().open_spider(spider)

    def item_scraped(self, item: Any, spider: Spider) -> None:
        for article in self.articles(item):
            super().item_scraped(article, spider)

    def articles(self, item: Any) -> Iterable[ArticleCard]:
        """The articles ``item`` brings that no item before it brought (none, for an item
        that is not cards)."""
        if isinstance(item, PageCards):
            cards = item.cards
        elif isinstance(item, ArticleCard):
            cards = [item]
        else:
            return []
        fresh = []
        for card in cards:
            if card.url and card.url not in self.exported:
                self.exported.add(card.url)
                fresh.append(card)
        return fresh
