"""Store cards, partners and article bodies in the archive, in batched transactions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.archive.writer import Item, StoreResult
from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.items import (
    ArticleCard,
    ArticlePageFailed,
    ArticlePageItem,
    PageCards,
    Partner,
    WalkDone,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

#: Captures queued past this many bytes make the batch commit early (bounded memory).
MAX_QUEUED_BYTES = 8 * 1024 * 1024


class StorePipeline:
    """Hand the archive's keeper ``OLYSCRAPE_BATCH_SIZE`` items a transaction, in the order
    they came (a partner before its cards, bodies and failed article pages after the cards
    that link them, a completed walk after its cards and their pages), with the captures
    they were parsed from.

    The last batch is committed in ``close_spider``, which Scrapy runs before the crawl
    reports its end. Stats count only what committed: per partner ``cards``-stored,
    ``new`` links, ``updated`` articles and ``articles`` (pages stored).
    """

    def __init__(
        self, keeper: ArchiveKeeper, batch_size: int, stats: StatsCollector, touch_seen: bool
    ) -> None:
        self.keeper = keeper
        self.batch_size = max(1, batch_size)
        self.stats = stats
        self.touch_seen = touch_seen
        self.pending: list[Item] = []
        self._pending_cards = 0  # items pending, a page's cards counted one by one

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        keeper = crawler.get_extension(ArchiveKeeper)
        if keeper is None:  # a probe keeping nothing: no archive, nothing to store
            raise NotConfigured  # no message: Scrapy would log it as a warning
        return cls(
            keeper,
            setting(settings, "OLYSCRAPE_BATCH_SIZE"),
            crawler.stats,
            touch_seen=not setting(settings, "OLYSCRAPE_REPARSE"),
        )

    def close_spider(self) -> None:
        self.flush()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageCards):
            self.pending.extend(item.cards)
            self._pending_cards += len(item.cards)
        elif isinstance(item, (Partner, ArticleCard, ArticlePageItem, ArticlePageFailed, WalkDone)):
            self.pending.append(item)
            self._pending_cards += 1
        else:
            return item
        queued = self.keeper.queued_bytes
        # A partner at once: a crawl dying before its walk completes leaves the walk
        # marked as started, so the next crawl walks it in full.
        if (
            isinstance(item, Partner)
            or self._pending_cards >= self.batch_size
            or queued >= MAX_QUEUED_BYTES
        ):
            self.flush()
        return item

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending, self._pending_cards = self.pending, [], 0
        result = self.keeper.store(batch, touch_seen=self.touch_seen)
        if result is not None:
            self._count(result)

    def _count(self, result: StoreResult) -> None:
        inc = self.stats.inc_value
        per_partner = {"new": "new", "updated": "updated", "cards": "stored_cards",
                       "articles": "articles", "new_articles_by": "new_articles"}  # fmt: skip
        for kind, key in per_partner.items():
            for partner, count in getattr(result, kind).items():
                inc(crawlstats.partner_key(partner, key), count)
                if kind in ("new", "updated", "articles"):
                    inc(crawlstats.key(kind), count)
        inc(crawlstats.STORED_CARDS, sum(result.cards.values()))
        inc(crawlstats.PAGE_FAILURES_RECORDED, result.page_failures)
        for name in ("new_articles", "bodies", "versions", "changed_rows", "captures"):
            inc(crawlstats.CAPTURES_STORED if name == "captures" else crawlstats.key(name),
                getattr(result, name))  # fmt: skip
