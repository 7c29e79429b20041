"""Never leave the allowed hosts: every request, redirects and retries included."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from olyscrape import stats as keys

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class HostNotAllowed(IgnoreRequest):
    """A request for a host the crawl may not fetch from."""


class AllowedHostsMiddleware:
    """Refuse any request whose host is not in the spider's ``allowed_domains`` (exactly,
    no subdomains), whatever its ``dont_filter`` or ``allow_offsite`` say.

    Scrapy's offsite middleware lets ``dont_filter`` requests through, and retried
    requests are ``dont_filter``, so a retried request redirected to another host would
    pass it. This one sits after the mirror rewrite and sees every request the
    downloader is asked for; the refusal reaches the request's errback, so it is
    reported like any failed request.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AllowedHostsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        allowed = getattr(self.crawler.spider, "allowed_domains", None)
        host = urlparse_cached(request).hostname or ""
        if allowed and host not in allowed:
            self.crawler.stats.inc_value(keys.REFUSED_HOSTS)
            raise HostNotAllowed(f"host {host!r} is not allowed (allowed: {', '.join(allowed)})")
