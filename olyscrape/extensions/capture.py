"""Keep every response the crawl receives in the archive's ``captures`` table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.archive import Capture
from olyscrape.extensions.archive import ArchiveKeeper

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

#: Request meta key under which a response's capture id reaches the spider.
CAPTURE_ID = "olyscrape_capture_id"


class CaptureRecorder:
    """A capture per response (discovery, listing, load-more, article, robots.txt):
    the URL as fetched, the canonical URL, time, status, content type and the sha256 of
    the body; the body itself is stored compressed, once per distinct sha256.

    The capture is queued with the archive's keeper, which gives it its id at once and
    writes it in the transaction of the cards parsed from it. Disabled with
    ``OLYSCRAPE_CAPTURE = False`` (a re-parse reads captures, it adds none).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.keeper: ArchiveKeeper | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureRecorder:
        if not setting(crawler.settings, "OLYSCRAPE_CAPTURE"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def spider_opened(self) -> None:
        self.keeper = ArchiveKeeper.of(self.crawler)

    def response_received(self, response: Response, request: Request) -> None:
        if self.keeper is None or not self.keeper.usable:
            return
        content_type = response.headers.get("Content-Type")
        capture = Capture(
            url=request.url,
            canonical_url=response.url,
            status=response.status,
            content_type=content_type.decode("latin-1") if content_type else None,
            body=response.body,
        )
        request.meta[CAPTURE_ID] = self.keeper.queue_capture(capture)
        self.crawler.stats.inc_value(crawlstats.CAPTURES)
