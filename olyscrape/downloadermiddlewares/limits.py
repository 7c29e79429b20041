"""Name the download limits by what they are: an over-long URL, an oversize answer.

Scrapy enforces both, but in ways a crawl report cannot read: its spider middleware drops a
request whose URL is over ``URLLENGTH_LIMIT`` with an INFO line, before any errback, so an
article with such a URL simply kept no body; and an answer sent in chunks past
``DOWNLOAD_MAXSIZE`` fails as ``DownloadCancelledError('')``. This middleware (which
replaces Scrapy's URL length one) refuses the first and renames the second, each to the
request's errback, so the request is reported as failed with a reason that says why.

A URL is measured as the site would see it: a request sent to a mirror (``--base-url``)
passes here again under the mirror's URL (the mirror middleware reschedules it, and a
redirect is followed on the mirror), which is measured as its canonical URL, so one URL is
fetched from a mirror exactly when it would be from the site, and the line gives the
length of the URL it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import DownloadCancelledError, IgnoreRequest

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.site import urls

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

#: What Scrapy's download handler says when it cancels a download over the size limit
#: (an answer with a Content-Length over it; one sent in chunks is cancelled wordlessly).
_MAXSIZE_WORDS = "larger than download max size"


class UrlTooLong(IgnoreRequest):
    """A request whose URL is longer than ``URLLENGTH_LIMIT``: refused before it leaves."""


class AnswerTooLarge(IgnoreRequest):
    """An answer cut off at ``DOWNLOAD_MAXSIZE`` bytes."""


class LimitsMiddleware:
    """Refuse over-long URLs by name; name oversize answers."""

    def __init__(
        self, crawler: Crawler, max_length: int, max_size: int, base_url: str | None = None
    ) -> None:
        self.crawler = crawler
        self.max_length = max_length
        self.max_size = max_size
        self.base_url = urls.normalize_base_url(base_url) if base_url else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LimitsMiddleware:
        settings = crawler.settings
        return cls(
            crawler,
            settings.getint("URLLENGTH_LIMIT"),
            settings.getint("DOWNLOAD_MAXSIZE"),
            setting(settings, "OLYSCRAPE_BASE_URL"),
        )

    def _site_url(self, url: str) -> str:
        """``url`` as on the site: the canonical URL of a mirror's URL."""
        return (self.base_url and urls.from_mirror(url, self.base_url)) or url

    def process_request(self, request: Request) -> None:
        length = len(self._site_url(request.url))
        if self.max_length and length > self.max_length:
            self.crawler.stats.inc_value(crawlstats.REFUSED_LONG_URLS)
            kind = request.meta.get("olyscrape_kind", "request")
            raise UrlTooLong(
                f"{kind} URL too long ({length} characters), over URLLENGTH_LIMIT"
                f" ({self.max_length}): not requested"
            )

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, DownloadCancelledError):
            message = str(exception)
            if not message or _MAXSIZE_WORDS in message:
                max_size = request.meta.get("download_maxsize", self.max_size)
                raise AnswerTooLarge(f"answer larger than DOWNLOAD_MAXSIZE ({max_size} bytes)")
