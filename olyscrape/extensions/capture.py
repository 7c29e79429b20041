"""Keep every response the crawl receives in the archive's ``captures`` table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from olyscrape.archive import Archive, Capture, utcnow

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

    Disabled with ``OLYSCRAPE_CAPTURE = False`` (a re-parse reads captures, it adds none).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureRecorder:
        if not crawler.settings.getbool("OLYSCRAPE_CAPTURE"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def spider_opened(self) -> None:
        self.archive = Archive.open(self.crawler.settings["OLYSCRAPE_DB"])

    def spider_closed(self) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None

    def response_received(self, response: Response, request: Request) -> None:
        if self.archive is None:
            return
        content_type = response.headers.get("Content-Type")
        capture = Capture(
            url=request.url,
            canonical_url=response.url,
            status=response.status,
            content_type=content_type.decode("latin-1") if content_type else None,
            body=response.body,
            fetched_at=utcnow(),
        )
        capture_id = self.archive.add_capture(
            capture, self.crawler.stats.get_value("olyscrape/crawl_id")
        )
        request.meta[CAPTURE_ID] = capture_id
        self.crawler.stats.inc_value("olyscrape/captures")
