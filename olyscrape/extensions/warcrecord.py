"""Write every request and response of a crawl to a WARC file (``--warc PATH``)."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.archive.errors import cause_of, detail_of
from olyscrape.extensions.archive import stop_crawl

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Response

    from olyscrape.warc import WarcWriter


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


class WarcRecorder:
    """A request record and a response record per response, in ``OLYSCRAPE_WARC``.

    A WARC that cannot be opened or written (a read-only folder, a full disk) stops the
    crawl like a failed archive write: one line naming the file and the cause.
    """

    def __init__(self, path: str, crawler: Crawler) -> None:
        self.path = path
        self.crawler = crawler
        self.writer: WarcWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorder:
        path = setting(crawler.settings, "OLYSCRAPE_WARC")
        if not path:
            raise NotConfigured
        ext = cls(path, crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def _failed(self, exc: OSError) -> None:
        self.close()
        stop_crawl(self.crawler, f"warc {self.path}: {cause_of(exc)} ({detail_of(exc)})")

    def spider_opened(self) -> None:
        from olyscrape.warc import WarcWriter  # warcio, only when a WARC is asked for

        try:
            self.writer = WarcWriter(self.path)
        except OSError as exc:
            self._failed(exc)

    def spider_closed(self) -> None:
        self.close()

    def close(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            with suppress(OSError):  # the failure that matters was reported already
                writer.close()

    def response_received(self, response: Response, request: Request) -> None:
        if self.writer is None:
            return
        try:
            self.writer.write_exchange(
                url=request.url,
                canonical_url=response.url,
                method=request.method,
                request_headers=_pairs(request.headers),
                status=response.status,
                response_headers=_pairs(response.headers),
                body=response.body,
            )
        except OSError as exc:
            self._failed(exc)
            return
        self.crawler.stats.inc_value(crawlstats.WARC_RECORDS, 2)
