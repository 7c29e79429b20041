"""What olyscrape's spiders share: spider arguments mapped to settings, the politeness a
local origin does without, the origins a crawl may fetch, and the names of failures.

Both the crawl (``partners``) and the probe (``check``) start from here, so ``-a
base_url=...`` or ``-a replay=...`` means the same to each, and each is as polite (or,
against a loopback mirror or a replay, as quick) as the other.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals

from olyscrape.addon import setting
from olyscrape.downloadermiddlewares.replay import MISSING_HEADER
from olyscrape.site import urls

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

#: The crawl's logger: the lines written here have always carried its name.
logger = logging.getLogger("olyscrape.spiders.partners")

#: Spider arguments (``-a name=value``, Scrapyd's schedule.json) and the settings they set.
ARGUMENT_SETTINGS = {
    "db": "OLYSCRAPE_DB",
    "base_url": "OLYSCRAPE_BASE_URL",
    "replay": "OLYSCRAPE_REPLAY_DIR",
    "replay_warc": "OLYSCRAPE_REPLAY_WARC",
    "warc": "OLYSCRAPE_WARC",
    "max_pages": "OLYSCRAPE_MAX_PAGES",
    "articles": "OLYSCRAPE_ARTICLES",
    "refresh_articles": "OLYSCRAPE_REFRESH_ARTICLES",
    "full": "OLYSCRAPE_FULL",
    "batch_size": "OLYSCRAPE_BATCH_SIZE",
    "alert_command": "OLYSCRAPE_ALERT_COMMAND",
    "alert_webhook": "OLYSCRAPE_ALERT_WEBHOOK",
}
REPLAY_SETTINGS = ("OLYSCRAPE_REPLAY_DIR", "OLYSCRAPE_REPLAY_WARC", "OLYSCRAPE_REPLAY_ARCHIVE")

# A loopback mirror or a replay is ours, not olympics.com: crawl it at full speed, and
# crawl what docs/site.md names whatever a copied robots.txt says (§8, politeness).
LOCAL_ORIGIN_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "ROBOTSTXT_OBEY": False,
}


def is_local_origin(base_url: str) -> bool:
    """True for a mirror on this machine (loopback), where politeness delays serve no one."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def apply_arguments(settings: BaseSettings, arguments: dict[str, Any]) -> str | None:
    """Set the settings the spider ``arguments`` name (at spider priority), drop the
    delays for a local origin, and return the mirror's base URL (checked), if any."""
    for argument, name in ARGUMENT_SETTINGS.items():
        if arguments.get(argument) not in (None, ""):
            settings.set(name, arguments[argument], priority="spider")
    base_url = setting(settings, "OLYSCRAPE_BASE_URL")
    if base_url:
        base_url = urls.normalize_base_url(base_url)
        settings.set("OLYSCRAPE_BASE_URL", base_url, priority="spider")
    replayed = any(setting(settings, name) for name in REPLAY_SETTINGS)
    if replayed or (base_url and is_local_origin(base_url)):
        for name, value in LOCAL_ORIGIN_SETTINGS.items():
            settings.set(name, value, priority="spider")
    return base_url


def failure_reason(failure: Failure) -> str:
    """A failed request in a few words: its HTTP status or the network error, and the
    URL it was redirected from, if it was."""
    response = getattr(failure.value, "response", None)
    if response is None:
        reason = failure.getErrorMessage() or repr(failure.value)
    else:
        reason = f"HTTP {response.status}"
        if response.headers.get(MISSING_HEADER):
            reason += " (no saved answer in the replay)"
    redirected_from = request_of(failure).meta.get("redirect_urls")
    if redirected_from:
        reason += f" (redirected from {redirected_from[0]})"
    return reason


def request_of(failure: Failure) -> scrapy.Request:
    """The request of a failed download (Scrapy sets it on the failure)."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request


def request_of_response(response: Response) -> scrapy.Request:
    """The request a response answers (always set on a response the engine delivers)."""
    assert response.request is not None
    return response.request


class SiteSpider(scrapy.Spider):
    """A spider of the IOC's site (or of a mirror or replay standing in for it): its
    arguments become settings, and it may fetch the site's origins and the mirror's only
    (``-a partners=alibaba,visa`` names the partners it is about)."""

    # Set in from_crawler, from the crawler's settings.
    base_url: str | None
    allowed_domains: list[str]
    allowed_origins: frozenset[urls.Origin]
    # The requests Scrapy's scheduler dropped (request_dropped): by partner (None for
    # discovery), their kind and URL, so a walk left without an answer names them.
    dropped: dict[str | None, tuple[str, str]]

    def __init__(self, partners: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wanted = [p.strip() for p in (partners or "").split(",") if p.strip()]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        base_url = apply_arguments(crawler.settings, kwargs)
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.base_url = base_url
        # Host names for Scrapy's components; the origins (scheme, host, port) for
        # olyscrape's own check, which refuses anything else before it leaves.
        spider.allowed_domains = sorted(
            urls.CANONICAL_HOSTS | {urlsplit(base_url or "").hostname or ""} - {""}
        )
        spider.allowed_origins = urls.allowed_origins(base_url)
        spider.dropped = {}
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        return spider

    def _request_dropped(self, request: scrapy.Request) -> None:
        """Scrapy's scheduler refused a request (its duplicate filter: a URL asked for
        already): no callback or errback will ever see it, so keep its name for the
        spider's end. Paging and article requests are never filtered; this is what is
        left (discovery redirected to itself, say)."""
        kind = request.meta.get("olyscrape_kind", "request")
        url = self._canonical(request.url)
        self.dropped[request.cb_kwargs.get("partner")] = (kind, url)
        logger.warning("%s %s dropped by Scrapy's scheduler as a duplicate of a request already"
                       " made", kind, urls.shown(url))  # fmt: skip

    def _canonical(self, url: str) -> str:
        """``url`` as on the canonical origin when it is the mirror's (redirects are
        followed on the mirror), else as it is."""
        return (self.base_url and urls.from_mirror(url, self.base_url)) or url

    def _on_site(self, url: str) -> bool:
        """True for a URL on the canonical origin (or on the mirror standing in for it)."""
        return urls.is_canonical(url) or bool(
            self.base_url and urls.from_mirror(url, self.base_url)
        )
