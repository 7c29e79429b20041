"""Record each crawl in the archive's ``crawls`` table, with its status and stats."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from olyscrape.archive import Archive, utcnow
from olyscrape.summary import crawl_succeeded

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler


class CrawlRecorder:
    """A ``crawls`` row per crawl: ``running`` when it opens; ``ok`` or ``failed`` with
    its stats as JSON when it closes (after the store pipeline committed its last batch).
    The row's id is in the stats as ``olyscrape/crawl_id``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.crawl_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRecorder:
        if crawler.settings.getbool("OLYSCRAPE_REPARSE"):
            raise NotConfigured  # a re-parse is no crawl
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _archive(self) -> Archive:
        return Archive.open(self.crawler.settings["OLYSCRAPE_DB"])

    def spider_opened(self, spider: Spider) -> None:
        with self._archive() as archive:
            self.crawl_id = archive.start_crawl(utcnow())
        self.crawler.stats.set_value("olyscrape/crawl_id", self.crawl_id)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.crawl_id is None:
            return
        stats = dict(self.crawler.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        status = "ok" if crawl_succeeded(stats) else "failed"
        reasons = list(stats.get("olyscrape/monitor/failures") or [])
        if status == "failed" and not reasons:
            reasons = [f"the crawl ended with {stats.get('finish_reason')}"]
        with self._archive() as archive:
            archive.finish_crawl(self.crawl_id, status, stats, reasons)
