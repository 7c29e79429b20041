"""Never leave the allowed origins: every request, redirects and retries included."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from olyscrape import crawlstats
from olyscrape.site import urls

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class HostNotAllowed(IgnoreRequest):
    """A request for an origin the crawl may not fetch from."""


class AllowedHostsMiddleware:
    """Refuse any request whose origin (scheme, host *and* port) is not one of the
    spider's ``allowed_origins``, whatever its ``dont_filter`` or ``allow_offsite`` say.

    Scrapy's offsite middleware lets ``dont_filter`` requests through, and retried
    requests are ``dont_filter``, so a retried request redirected to another host would
    pass it; and it compares host names only, so with a mirror on ``127.0.0.1:19040`` any
    other local service (``127.0.0.1:19041``) would pass too. This one sits after the
    mirror rewrite and sees every request the downloader is asked for; the refusal
    reaches the request's errback, so it is reported like any failed request, naming
    the origin. A spider without ``allowed_origins`` is held to its ``allowed_domains``
    (host names, exactly).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AllowedHostsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        origins = getattr(spider, "allowed_origins", None)
        if origins:
            found = urls.origin(request.url)
            if found not in origins:
                named = urls.origin_text(found) if found else repr(request.url)
                others = sorted(map(urls.origin_text, origins - urls.CANONICAL_ORIGINS))
                allowed = ", ".join([urls.CANONICAL_ORIGIN, *others])
                self._refuse(f"origin {named} is not allowed (allowed: {allowed})")
            return
        domains = getattr(spider, "allowed_domains", None)
        host = found[1] if (found := urls.origin(request.url)) else ""
        if domains and host not in domains:
            self._refuse(f"host {host!r} is not allowed (allowed: {', '.join(domains)})")

    def _refuse(self, reason: str) -> None:
        self.crawler.stats.inc_value(crawlstats.REFUSED_HOSTS)
        raise HostNotAllowed(reason)
