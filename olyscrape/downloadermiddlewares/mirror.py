"""Fetch the canonical site from a mirror (``--base-url``) while the spider sees canonical URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from olyscrape.addon import setting
from olyscrape.site import urls

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class MirrorMiddleware:
    """Send every request for the canonical origin to ``OLYSCRAPE_BASE_URL`` instead.

    A canonical request is rescheduled with the mirror's URL (absolute links included);
    the response comes back to the spider under its canonical URL, so parsing, link
    resolution and stored URLs never depend on where the page was fetched from.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MirrorMiddleware:
        base_url = setting(crawler.settings, "OLYSCRAPE_BASE_URL")
        if not base_url:
            raise NotConfigured
        return cls(urls.normalize_base_url(base_url))

    def process_request(self, request: Request) -> Request | None:
        mirrored = urls.to_mirror(request.url, self.base_url)
        if mirrored is None:
            return None
        return request.replace(url=mirrored)

    def process_response(self, request: Request, response: Response) -> Response:
        canonical = urls.from_mirror(response.url, self.base_url)
        return response.replace(url=canonical) if canonical else response
