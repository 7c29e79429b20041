"""Answer every request from saved answers, with no network at all.

The source is a folder of saved pages (``--replay DIR``), a WARC file (``--replay-warc``)
or an archive's own captures (``olyscrape reparse``): see :mod:`olyscrape.saved`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.responsetypes import responsetypes

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.saved import FolderSource, Source

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

MISSING_HEADER = "X-Olyscrape-Replay"


def _warc(path: str) -> Source:
    from olyscrape.warc import WarcSource  # warcio, only for a WARC replay

    return WarcSource(path)


def _archive_captures(crawler: Crawler) -> Source:
    """The captures of the crawl's own archive, as its keeper reads them."""
    source = ArchiveKeeper.of(crawler).replay_source()
    if source is None:
        raise NotConfigured("the archive was refused: nothing to replay")
    return source


def _folder(path: str) -> Source:
    return FolderSource(path)


#: Setting → how to open the source it names.
SOURCES = {
    "OLYSCRAPE_REPLAY_DIR": lambda crawler: _folder(
        setting(crawler.settings, "OLYSCRAPE_REPLAY_DIR")
    ),
    "OLYSCRAPE_REPLAY_WARC": lambda crawler: _warc(
        setting(crawler.settings, "OLYSCRAPE_REPLAY_WARC")
    ),
    "OLYSCRAPE_REPLAY_ARCHIVE": _archive_captures,
}


class ReplayMiddleware:
    """Serve a saved answer for every URL, whatever its host; a URL with none gets a 404.

    Placed last before the download handlers, it short-circuits every download, so a
    replayed crawl can neither hang on nor reach the network. Missing URLs are counted
    in ``olyscrape/replay/missing`` and listed in ``olyscrape/replay/missing_urls``.
    """

    def __init__(self, source: Source, crawler: Crawler) -> None:
        self.source = source
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayMiddleware:
        for name, open_source in SOURCES.items():
            if setting(crawler.settings, name):
                middleware = cls(open_source(crawler), crawler)
                crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
                return middleware
        raise NotConfigured

    def spider_closed(self) -> None:
        self.source.close()

    def process_request(self, request: Request) -> Response:
        saved = self.source.lookup(request.url)
        if saved is None:
            stats = self.crawler.stats
            stats.inc_value(crawlstats.REPLAY_MISSING)
            crawlstats.append(stats, crawlstats.REPLAY_MISSING_URLS, request.url)
            return Response(
                request.url, status=404, headers={MISSING_HEADER: "missing"}, request=request
            )
        headers = {k.encode("latin-1"): v.encode("latin-1") for k, v in saved.headers.items()}
        cls = responsetypes.from_args(headers=headers, url=request.url, body=saved.body)
        return cls(
            request.url,
            status=saved.status,
            headers=saved.headers,
            body=saved.body,
            request=request,
        )
