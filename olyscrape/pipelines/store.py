"""Store cards and partners in the archive, in batched transactions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from olyscrape.archive import Archive, utcnow
from olyscrape.items import ArticleBody, ArticleCard, Partner, WalkDone

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


class StorePipeline:
    """Upsert cards and article bodies into ``OLYSCRAPE_DB``, ``OLYSCRAPE_BATCH_SIZE`` items
    a transaction (bodies after the cards that link them, so a body always finds its row).

    The last batch is committed in ``close_spider``, which Scrapy runs before the crawl
    reports its end, so a crawl that says it finished has everything on disk. Per partner,
    ``olyscrape/partner/<slug>/new`` and ``.../updated`` count what the cards changed.
    """

    def __init__(self, path: str, batch_size: int, stats: StatsCollector, touch_seen: bool = True):
        self.path = path
        self.batch_size = max(1, batch_size)
        self.stats = stats
        self.touch_seen = touch_seen
        self.archive: Archive | None = None
        self.pending: list[ArticleCard | ArticleBody | WalkDone] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        return cls(
            settings["OLYSCRAPE_DB"],
            settings.getint("OLYSCRAPE_BATCH_SIZE"),
            crawler.stats,
            touch_seen=not settings.getbool("OLYSCRAPE_REPARSE"),
        )

    def open_spider(self) -> None:
        self.archive = Archive.open(self.path)

    def close_spider(self) -> None:
        self.flush()
        if self.archive is not None:
            self.archive.close()
            self.archive = None

    def process_item(self, item: Any) -> Any:
        assert self.archive is not None, "open_spider() opens the archive"
        if isinstance(item, Partner):
            # At once, so that a crawl dying before this partner's walk completes leaves
            # it marked as interrupted, and the next crawl walks it in full.
            self.archive.upsert_partners([item], walk_started=utcnow() if self.touch_seen else None)
        elif isinstance(item, (ArticleCard, ArticleBody, WalkDone)):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        if not self.pending or self.archive is None:
            return
        result = self.archive.store(
            self.pending,
            crawl_id=self.stats.get_value("olyscrape/crawl_id"),
            touch_seen=self.touch_seen,
        )
        self.stats.inc_value("olyscrape/stored", len(self.pending))
        for kind in ("new", "updated"):
            for partner, count in getattr(result, kind).items():
                self.stats.inc_value(f"olyscrape/partner/{partner}/{kind}", count)
                self.stats.inc_value(f"olyscrape/{kind}", count)
        for name in ("new_articles", "bodies", "versions", "changed_rows"):
            self.stats.inc_value(f"olyscrape/{name}", getattr(result, name))
        self.pending = []
