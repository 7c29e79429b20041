"""Answer every request from a saved copy of the site (``--replay DIR``): no network at all."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.responsetypes import responsetypes

from olyscrape import sitefiles

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

MISSING_HEADER = "X-Olyscrape-Replay"


class ReplayMiddleware:
    """Serve saved files for every URL, whatever its host; a URL with no file gets a 404.

    Placed last before the download handlers, it short-circuits every download, so a
    replayed crawl can neither hang on nor reach the network. Missing URLs are counted
    in ``olyscrape/replay/missing`` and listed in ``olyscrape/replay/missing_urls``.
    """

    def __init__(self, root: Path, crawler: Crawler) -> None:
        self.root = root
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayMiddleware:
        root = crawler.settings.get("OLYSCRAPE_REPLAY_DIR")
        if not root:
            raise NotConfigured
        return cls(Path(root), crawler)

    def process_request(self, request: Request) -> Response:
        path = sitefiles.resolve(self.root, request.url)
        if path is None:
            stats = self.crawler.stats
            stats.inc_value("olyscrape/replay/missing")
            missing = stats.get_value("olyscrape/replay/missing_urls") or []
            stats.set_value("olyscrape/replay/missing_urls", [*missing, request.url])
            return Response(
                request.url, status=404, headers={MISSING_HEADER: "missing"}, request=request
            )
        body = path.read_bytes()
        headers = {"Content-Type": sitefiles.content_type(path)}
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return cls(request.url, status=200, headers=headers, body=body, request=request)
