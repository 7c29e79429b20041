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

A feed that cannot be written (a full disk, mid-crawl or when its file is closed) fails the
crawl, which goes on filling the archive: one line in the stats' ``olyscrape/feed_errors``
(``feed FILE: disk full (...)``), which the verdict includes, so the crawl's row is not
``ok`` and the command exits 1. That feed writes nothing more; no traceback is logged (it
was one per page, then Scrapy's ``Error storing``, and exit 0 with a cut file). Feeds are
closed before the archive keeper writes the crawl's row (:meth:`ArchiveKeeper.close_first`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.extensions.feedexport import FeedExporter, FeedSlot, PostProcessingManager
from typing_extensions import Self

from olyscrape import crawlstats
from olyscrape.archive.errors import cause_of, detail_of
from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.items import ArticleCard, PageCards

logger = logging.getLogger(__name__)


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
        if keeper is not None:  # closed before the crawl's row is written, not beside it
            self.crawler.signals.disconnect(self.close_spider, signal=signals.spider_closed)
            keeper.close_first(lambda: self.close_spider(spider))
        super().open_spider(spider)

    def item_scraped(self, item: Any, spider: Spider) -> None:
        """Export each new article to each feed; a feed that fails is dropped, in one line
        (:meth:`failed`), the others go on."""
        for article in self.articles(item):
            kept: list[FeedSlot] = []
            for slot in self.slots:
                self.slots = [slot]  # Scrapy's own export (batches too), one feed at a time
                try:
                    super().item_scraped(article, spider)
                except OSError as exc:
                    self.failed(slot, exc)
                    continue
                kept.extend(self.slots)
            self.slots = kept

    async def close_spider(self, spider: Spider) -> None:
        """Write out each local feed's last bytes first, so that a full disk is said in
        one line (:meth:`failed`) and that feed left out, then close as Scrapy does. A
        feed Scrapy still fails to store (another storage) fails the crawl too."""
        kept = []
        for slot in self.slots:
            if slot.file is not None and not isinstance(slot.file, PostProcessingManager):
                try:
                    slot.finish_exporting()
                    slot.file.flush()
                except OSError as exc:
                    self.failed(slot, exc)
                    continue
            kept.append(slot)
        self.slots = kept
        stats = self.crawler.stats
        assert stats is not None
        before = _failed_stores(stats.get_stats())
        await super().close_spider(spider)
        if _failed_stores(stats.get_stats()) > before:
            self._record("a feed could not be stored (Scrapy's error above)")

    def failed(self, slot: FeedSlot, exc: OSError) -> None:
        """A feed could not be written: drop it (its file closed, whatever it holds) and
        record one line, which fails the crawl."""
        try:
            if slot.file is not None:
                slot.file.close()
        except OSError:
            pass  # the bytes that did not fit are lost either way
        self._record(f"feed {slot.uri}: {cause_of(exc)} ({detail_of(exc)}); the file is"
                     " incomplete (the archive is not)")  # fmt: skip

    def _record(self, line: str) -> None:
        stats = self.crawler.stats
        assert stats is not None
        lines = list(stats.get_value(crawlstats.FEED_ERRORS) or [])
        stats.set_value(crawlstats.FEED_ERRORS, [*lines, line])
        logger.error("%s", line)

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


def _failed_stores(stats: dict[str, Any]) -> int:
    """How many feeds Scrapy's own closing failed to store (each logs its traceback)."""
    return sum(v for k, v in stats.items() if k.startswith("feedexport/failed_count/"))
