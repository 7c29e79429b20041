"""The ``partners`` spider: every news card the IOC shows for each TOP partner.

Discovery (``/ioc/partners``, the menu's TOP column) → each partner's listing page →
load-more answers (or no-script pages) until the stop rule says so. Parsing lives in
:mod:`olyscrape.pages`, the stop rule in :mod:`olyscrape.paging`; this module only
loops, assembles items and accounts for what it fetched.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CloseSpider
from w3lib.url import canonicalize_url

from olyscrape import pages, structured, urls
from olyscrape import stats as keys
from olyscrape.addon import setting
from olyscrape.downloadermiddlewares.replay import MISSING_HEADER
from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.extensions.capture import CAPTURE_ID
from olyscrape.items import (
    ArticleBody,
    ArticleCard,
    ArticlePageFailed,
    PageCards,
    Partner,
    WalkDone,
)
from olyscrape.paging import LoadMoreLink, PartnerPaging
from olyscrape.stats import StopReason

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

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

#: The request meta key holding the article URL a page was asked for (its card's link).
ARTICLE_KEY = "olyscrape_article"

JSON_HEADERS = {"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}


def is_local_origin(base_url: str) -> bool:
    """True for a mirror on this machine (loopback), where politeness delays serve no one."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def partner_slug(url: str) -> str:
    """A partner's slug: the last segment of its listing URL (``/ioc/<slug>``)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return segments[-1].lower() if segments else ""


def select_partners(found: list[Partner], wanted: list[str]) -> tuple[list[Partner], list[str]]:
    """The partners named in ``wanted`` (by slug or name, any case) and the unknown names."""
    if not wanted:
        return found, []
    by_key = {p.slug.casefold(): p for p in found} | {p.name.casefold(): p for p in found}
    chosen = {
        by_key[w.casefold()].slug: by_key[w.casefold()] for w in wanted if w.casefold() in by_key
    }
    unknown = [w for w in wanted if w.casefold() not in by_key]
    return list(chosen.values()), unknown


class PartnersSpider(scrapy.Spider):
    """Crawl every TOP partner's listing into cards (``-a partners=alibaba,visa`` limits it)."""

    name = "partners"

    # Set in from_crawler, from the crawler's settings.
    base_url: str | None
    max_pages: int
    fetch_articles: bool
    refresh_articles: bool
    reparse: bool
    full: bool
    page_max_failures: int
    articles_to_refresh: dict[str, str]
    known_links: dict[str, set[str]]
    completed_walks: set[str]
    open_walks: dict[str, str]  # partner → its listing URL, until its walk ends or fails
    # Article pages asked for in this crawl (once each), the partners waiting for each page
    # still on its way, the pages each partner waits for, and the partners whose walk ended
    # complete but is recorded so only once those pages are stored or recorded as failed
    # (with the WalkDone that records it then).
    asked_pages: set[str]
    page_waiters: dict[str, set[str]]
    awaited_pages: dict[str, set[str]]
    deferred_walks: dict[str, WalkDone]
    # Every discovered partner's listing URL (canonicalized) → its slug: a next page that
    # is one of them (another partner's) is not read as this partner's.
    partner_listings: dict[str, str]
    # The requests Scrapy's scheduler dropped (request_dropped): by partner (None for
    # discovery), their kind and URL, so a walk left without an answer names them.
    dropped: dict[str | None, tuple[str, str]]
    discovered: bool
    keeper: ArchiveKeeper
    allowed_domains: list[str]
    allowed_origins: frozenset[urls.Origin]

    def __init__(self, partners: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wanted = [p.strip() for p in (partners or "").split(",") if p.strip()]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PartnersSpider:
        settings = crawler.settings
        for argument, name in ARGUMENT_SETTINGS.items():
            if kwargs.get(argument) not in (None, ""):
                settings.set(name, kwargs[argument], priority="spider")
        base_url = setting(settings, "OLYSCRAPE_BASE_URL")
        if base_url:
            base_url = urls.normalize_base_url(base_url)
            settings.set("OLYSCRAPE_BASE_URL", base_url, priority="spider")
        replayed = any(setting(settings, name) for name in REPLAY_SETTINGS)
        if replayed or (base_url and is_local_origin(base_url)):
            for name, value in LOCAL_ORIGIN_SETTINGS.items():
                settings.set(name, value, priority="spider")
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.base_url = base_url
        # Host names for Scrapy's components; the origins (scheme, host, port) for
        # olyscrape's own check, which refuses anything else before it leaves.
        spider.allowed_domains = sorted(
            urls.CANONICAL_HOSTS | {urlsplit(base_url or "").hostname or ""} - {""}
        )
        spider.allowed_origins = urls.allowed_origins(base_url)
        spider.max_pages = setting(settings, "OLYSCRAPE_MAX_PAGES")
        spider.fetch_articles = setting(settings, "OLYSCRAPE_ARTICLES")
        spider.refresh_articles = setting(settings, "OLYSCRAPE_REFRESH_ARTICLES")
        spider.reparse = setting(settings, "OLYSCRAPE_REPARSE")
        # A re-parse reads every page the archive kept: never the incremental stop.
        spider.full = setting(settings, "OLYSCRAPE_FULL") or spider.reparse
        spider.page_max_failures = setting(settings, "OLYSCRAPE_PAGE_MAX_FAILURES")
        spider.asked_pages = set()
        spider.page_waiters = {}
        spider.awaited_pages = {}
        spider.deferred_walks = {}
        spider.known_links = {}
        spider.articles_to_refresh = {}
        spider.completed_walks = set()
        spider.open_walks = {}
        spider.partner_listings = {}
        spider.dropped = {}
        spider.discovered = False
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        return spider

    # --- accounting ---------------------------------------------------------------

    def _inc(self, partner: str | None, key: str, count: int = 1) -> None:
        stats = self.crawler.stats
        keys.inc(stats, key, count, partner)

    def _fail(self, kind: str, url: str, reason: str, partner: str | None = None) -> None:
        """Record a failed discovery, listing or load-more request; the crawl goes on."""
        self._inc(partner, "errors")
        if partner:
            self.open_walks.pop(partner, None)
        stats = self.crawler.stats
        failure = {"kind": kind, "url": url, "partner": partner, "reason": reason}
        keys.append(stats, keys.FAILURES, failure)
        logger.error("%s %s failed: %s", kind, urls.shown(url), reason, extra={"spider": self})

    def on_error(self, failure: Failure) -> None:
        request = request_of(failure)
        kind = request.meta.get("olyscrape_kind", "request")
        self._fail(kind, request.url, failure_reason(failure), request.cb_kwargs.get("partner"))

    def _request_dropped(self, request: scrapy.Request) -> None:
        """Scrapy's scheduler refused a request (its duplicate filter: a URL asked for
        already): no callback or errback will ever see it, so keep its name for
        :meth:`closed`. Paging and article requests are never filtered; this is what is
        left (discovery redirected to itself, say)."""
        kind = request.meta.get("olyscrape_kind", "request")
        url = self._canonical(request.url)
        self.dropped[request.cb_kwargs.get("partner")] = (kind, url)
        logger.warning("%s %s dropped by Scrapy's scheduler as a duplicate of a request already"
                       " made", kind, urls.shown(url))  # fmt: skip

    def _dropped_reason(self, partner: str | None, fallback: str) -> str:
        """Why a walk (or discovery) got no answer: the request the scheduler dropped."""
        if partner not in self.dropped:
            return fallback
        kind, url = self.dropped[partner]
        dropped = "dropped as a duplicate of a request already made"
        return f"{fallback}: {kind} {urls.shown(url)} {dropped}"

    # --- discovery ----------------------------------------------------------------

    async def start(self) -> AsyncIterator[Partner | scrapy.Request]:
        self.keeper = ArchiveKeeper.of(self.crawler)
        if not self.keeper.usable:
            return  # the archive was refused: not a single request
        self._load_archive_state()
        archived = self._archived_partners()
        if archived:
            for item in self._walk_partners(archived):
                yield item
            return
        yield scrapy.Request(
            urls.canonical(urls.PARTNERS_PATH),
            callback=self.parse,
            errback=self.on_error,
            meta={"olyscrape_kind": "discovery"},
        )

    def _load_archive_state(self) -> None:
        """What earlier crawls archived: each partner's cards, complete walks (and, to
        refresh them, every article). Which article pages are stored is asked page by page
        (:meth:`_admit`) and for the holes only (:meth:`_missing_page_requests`)."""
        archive = self.keeper
        if self.fetch_articles and self.refresh_articles:
            self.articles_to_refresh = archive.article_partners()
        self.known_links = archive.known_links()
        self.completed_walks = archive.completed_walks()
        for partner, urls_seen in self.known_links.items():
            self.crawler.stats.set_value(keys.partner_key(partner, "known"), len(urls_seen))

    def parse(self, response: Response) -> Iterator[Partner | scrapy.Request]:
        """Discovery: the partners of the menu's TOP column, then each partner's listing."""
        self.discovered = True
        found = [
            Partner(slug=partner_slug(link.url), name=link.name, url=link.url)
            for link in pages.top_partner_links(response, response.url)
        ]
        if not found:
            self._fail("discovery", response.url, "no menu column headed TOP (markup changed?)")
            raise CloseSpider("no_partners")
        yield from self._walk_partners(found)

    def _archived_partners(self) -> list[Partner]:
        """A re-parse whose archive lost the capture of the partner list (``recover`` left
        out its damaged body): the partners the archive lists instead, so one lost page
        does not lose every article. Empty otherwise (discovery reads the page)."""
        if not self.reparse:
            return []
        if self.keeper.has_capture(urls.canonical(urls.PARTNERS_PATH)):
            return []
        found = [Partner(slug=slug, name=name, url=url)
                 for slug, name, url in self.keeper.archived_partners()]  # fmt: skip
        if found:
            logger.warning("no capture of the partner list %s: taking the %d partners the"
                           " archive lists instead", urls.PARTNERS_PATH, len(found))  # fmt: skip
            self.discovered = True
        return found

    def _walk_partners(self, found: list[Partner]) -> Iterator[Partner | scrapy.Request]:
        """The chosen partners of ``found`` (``--partners``), then each one's listing."""
        self.partner_listings = {canonicalize_url(p.url): p.slug for p in found}
        chosen, unknown = select_partners(found, self.wanted)
        if unknown:
            stats = self.crawler.stats
            stats.set_value(keys.UNKNOWN_PARTNERS, unknown)
            stats.set_value(keys.KNOWN_PARTNERS, [p.slug for p in found])
            raise CloseSpider("unknown_partner")
        if self.reparse:
            chosen = self._captured(chosen)
        self.crawler.stats.set_value(keys.PARTNERS, [p.slug for p in chosen])
        logger.info("discovered %d partners, crawling %d", len(found), len(chosen))
        # Read before the first listing answer can store anything: what earlier crawls left.
        missing = self._missing_pages([p.slug for p in chosen])
        for partner in chosen:
            yield partner
            self.open_walks[partner.slug] = partner.url
            paging = PartnerPaging(max_pages=self.max_pages)
            yield self._listing_request(partner.url, partner.slug, paging)
        yield from self._refresh_requests()
        for url, slug in missing:  # after the listings: they decide what else to fetch
            yield from self._ask_page(url, slug)

    def _captured(self, partners: list[Partner]) -> list[Partner]:
        """A re-parse: the partners whose listing the archive kept; the others are named."""
        kept = [p for p in partners if self.keeper.has_capture(p.url)]
        skipped = [p.slug for p in partners if p not in kept]
        if skipped:
            self.crawler.stats.set_value(keys.REPARSE_SKIPPED, skipped)
            logger.info("no capture of the listing of %s: skipped", ", ".join(skipped))
        return kept

    def _refresh_requests(self) -> Iterator[scrapy.Request]:
        """``--refresh-articles``: every archived article's page, not only those the walks
        reach (an incremental walk reaches only the newest)."""
        for url, partner in sorted(self.articles_to_refresh.items()):
            if self._may_fetch_article(url):
                yield from self._ask_page(url, partner)

    def _missing_pages(self, chosen: list[str]) -> list[tuple[str, str | None]]:
        """The archived articles whose page no crawl stored yet (never fetched, failed, cut
        off by an interrupt), each with a partner that showed it: this crawl asks for them
        whether or not a walk reaches their cards again, as the archive, not one crawl, is
        what must be complete. Pages that failed ``OLYSCRAPE_PAGE_MAX_FAILURES`` crawls in
        a row are reported instead. With ``--partners``, only those partners' articles."""
        if not self.fetch_articles or self.refresh_articles or self.reparse:
            return []  # refreshing asks for every page; a re-parse reads captures only
        partners = chosen if self.wanted else None
        wanted = self.keeper.pages_wanted(self.page_max_failures, partners)
        if wanted:
            logger.info("asking again for %d article page(s) the archive lacks", len(wanted))
            self.crawler.stats.set_value(keys.PAGES_ASKED_AGAIN, len(wanted))
        return wanted

    # --- listing pages and no-script pages -------------------------------------------

    def _listing_request(self, url: str, partner: str, paging: PartnerPaging) -> scrapy.Request:
        paging.mark_read(url)
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.on_error,
            cb_kwargs={"partner": partner, "paging": paging},
            # The walk judges what it read (PartnerPaging.read, _answer_elsewhere): left to
            # Scrapy's duplicate filter, a page redirected to one read already (or to a
            # URL refused already) was dropped unseen and the walk ended without an answer.
            dont_filter=True,
            meta={"olyscrape_kind": "listing"},
        )

    def parse_listing(
        self, response: Response, partner: str, paging: PartnerPaging
    ) -> Iterator[PageCards | WalkDone | scrapy.Request]:
        first_page = paging.pages == 0
        paging.count_page()
        self._inc(partner, "pages")
        ended = self._answer_elsewhere(response, partner, paging)
        if ended is not None:
            yield from ended
            return
        too_deep = pages.too_deep(response)
        if too_deep:
            # The parser dropped everything past its depth limit: later cards and the
            # paging links. A page read in part is a failed page, not a short one.
            self._fail("listing", response.url, too_deep, partner)
            return
        page = pages.ListingPage(response, response.url)
        cards = page.cards
        if first_page:
            self._inc(partner, "listing_cards", len(cards))
        new, known = yield from self._admit(partner, paging, cards, response.meta.get(CAPTURE_ID))
        logger.info("%s: listing %s: %d cards, %d new", partner, response.url, len(cards), new)

        if known and self._incremental(partner):
            yield from self._stop_early(partner, paging)
        elif page.load_more_url:
            link = LoadMoreLink.parse(page.load_more_url)
            if link is None:
                reason = f"unrecognised load-more link {page.load_more_url}"
                self._fail("listing", response.url, reason, partner)
            elif self._uncaptured(link.url(link.offset)):
                paging.stop_reason = StopReason.NOT_CAPTURED
                yield from self._done(partner, paging, complete=True)
            elif paging.is_cycle(link.url(link.offset)):
                yield from self._paging_cycle(partner, paging, link.url(link.offset))
            elif paging.more_allowed():
                yield self._load_more_request(partner, paging, link, link.offset)
            else:
                yield from self._done(partner, paging, complete=False)
        elif page.next_page_url and not self._on_site(page.next_page_url):
            self.crawler.stats.inc_value(keys.OFFSITE_LINKS_SKIPPED)
            logger.info("%s: next page on another host, not followed: %s", partner,
                        page.next_page_url)  # fmt: skip
            paging.stop_reason = StopReason.OFFSITE_NEXT
            yield from self._done(partner, paging, complete=True)
        elif page.next_page_url and self._uncaptured(page.next_page_url):
            paging.stop_reason = StopReason.NOT_CAPTURED
            yield from self._done(partner, paging, complete=True)
        elif page.next_page_url and self._other_partner(page.next_page_url, partner):
            yield from self._other_listing(partner, paging, page.next_page_url)
        elif page.next_page_url and paging.is_cycle(page.next_page_url):
            yield from self._paging_cycle(partner, paging, page.next_page_url)
        elif page.next_page_url and paging.after_page(new):
            yield self._listing_request(page.next_page_url, partner, paging)
        else:
            paging.stop_reason = paging.stop_reason or StopReason.NO_MORE_PAGES
            yield from self._done(partner, paging, complete=paging.stop_reason.complete)

    def _paging_cycle(
        self, partner: str, paging: PartnerPaging, url: str, redirected_from: str | None = None
    ) -> Iterator[WalkDone]:
        """A next page or load-more URL read already in this walk (a last page linking
        back to the first, a page redirected to one read before): the walk has read every
        page of the cycle and admitted their cards, so it ends complete, named. (Left to
        Scrapy's duplicate filter, the page was dropped unseen and the walk left open:
        "a request was dropped on the way", a failed crawl every night.)"""
        paging.stop_reason = StopReason.PAGING_CYCLE
        self.crawler.stats.inc_value(keys.PAGING_CYCLES)
        how = f"; redirected from {urls.shown(redirected_from)}" if redirected_from else ""
        logger.warning("%s: paging cycle at %s (read already in this walk%s): the walk ends"
                       " here, complete", partner, urls.shown(url), how)  # fmt: skip
        yield from self._done(partner, paging, complete=True)

    def _other_partner(self, url: str, partner: str) -> str | None:
        """The slug of the partner whose listing ``url`` is, when it is not ``partner``'s."""
        other = self.partner_listings.get(canonicalize_url(self._canonical(url)))
        return other if other != partner else None

    def _other_listing(
        self, partner: str, paging: PartnerPaging, url: str, redirected_from: str | None = None
    ) -> Iterator[WalkDone]:
        """A next page (linked, or reached through a redirect) that is another partner's
        listing: its cards are that partner's, never this one's, and its walk reads them.
        Like a next page on another host, it is not followed and the walk ends complete:
        every page of this partner's own list up to there was read (a page that redirected
        there had no cards of this partner's to give)."""
        other = self._other_partner(url, partner)
        paging.stop_reason = StopReason.OTHER_PARTNER
        self.crawler.stats.inc_value(keys.OTHER_PARTNER_LINKS)
        how = f" (redirected from {urls.shown(redirected_from)})" if redirected_from else ""
        logger.warning("%s: next page %s is %s's listing%s: another partner's listing, not"
                       " read as %s's; the walk ends here, complete", partner, urls.shown(url),
                       other, how, partner)  # fmt: skip
        yield from self._done(partner, paging, complete=True)

    def _answer_elsewhere(
        self, response: Response, partner: str, paging: PartnerPaging
    ) -> Iterator[WalkDone] | None:
        """Judge where a paging request's answer came from. Redirected to another
        partner's listing, or to a page or answer read already in this walk (a cycle), it
        ends the walk (what that yields; a partner's own listing redirected to another
        partner's fails it: none of its cards could be read); otherwise None, and the
        URLs it came through count as read."""
        asked, *through = self._answer_urls(response)
        for url in through:
            other = self._other_partner(url, partner)
            if other and paging.pages == 1:  # its own listing: none of its pages was read
                reason = f"redirected to {other}'s listing {urls.shown(url)}, another partner's"
                self._fail("listing", asked, reason, partner)
                return iter(())
            if other:
                return self._other_listing(partner, paging, url, redirected_from=asked)
            if paging.is_cycle(url):
                return self._paging_cycle(partner, paging, url, redirected_from=asked)
        paging.mark_read(*through)
        return None

    def _answer_urls(self, response: Response) -> list[str]:
        """The canonical URLs an answer came through: the one asked for, each redirect's
        target, the answer's own (one URL when nothing redirected)."""
        hops = [*response.meta.get("redirect_urls", ()), response.url]
        return [self._canonical(url) for url in hops]

    def _canonical(self, url: str) -> str:
        """``url`` as on the canonical origin when it is the mirror's (redirects are
        followed on the mirror), else as it is."""
        return (self.base_url and urls.from_mirror(url, self.base_url)) or url

    def _uncaptured(self, url: str) -> bool:
        """A re-parse reads only what the archive kept: a page past that ends the walk."""
        if not self.reparse:
            return False
        return not self.keeper.has_capture(url)

    def _on_site(self, url: str) -> bool:
        """True for a URL on the canonical origin (or on the mirror standing in for it)."""
        return urls.is_canonical(url) or bool(
            self.base_url and urls.from_mirror(url, self.base_url)
        )

    # --- load more -------------------------------------------------------------------

    def _load_more_request(
        self, partner: str, paging: PartnerPaging, link: LoadMoreLink, offset: int
    ) -> scrapy.Request:
        paging.mark_read(link.url(offset))
        return scrapy.Request(
            link.url(offset),
            callback=self.parse_load_more,
            errback=self.on_error,
            headers=JSON_HEADERS,
            cb_kwargs={"partner": partner, "paging": paging, "link": link, "offset": offset},
            dont_filter=True,  # the walk judges what it read, as for listing pages
            meta={"olyscrape_kind": "load-more"},
        )

    def parse_load_more(
        self,
        response: Response,
        partner: str,
        paging: PartnerPaging,
        link: LoadMoreLink,
        offset: int,
    ) -> Iterator[PageCards | WalkDone | scrapy.Request]:
        paging.count_page()
        self._inc(partner, "pages")
        ended = self._answer_elsewhere(response, partner, paging)
        if ended is not None:
            yield from ended
            return
        try:
            # The bytes, read as UTF-8 (RFC 8259): never response.text, which decodes
            # through a guessed code page when the answer names no charset.
            cards = pages.parse_load_more(response.body, response.url)
        except pages.TooDeepError as exc:
            self._fail("load-more", response.url, str(exc), partner)  # asking again: the same
            return
        except pages.PageFormatError as exc:
            # A garbled answer may be a glitch: ask again (RETRY_TIMES at most), then fail.
            retry = get_retry_request(
                request_of_response(response), spider=self, reason="malformed load-more answer"
            )
            if retry is not None:
                yield retry
            else:
                self._fail("load-more", response.url, str(exc), partner)
            return
        new, known = yield from self._admit(partner, paging, cards, response.meta.get(CAPTURE_ID))
        logger.info("%s: load-more offset %d: %d cards, %d new", partner, offset, len(cards), new)
        if known and self._incremental(partner):
            yield from self._stop_early(partner, paging)
            return
        next_offset = paging.after_answer(link, offset, len(cards), new)
        if next_offset is None:
            yield from self._done(
                partner, paging, complete=paging.stop_reason is not StopReason.PAGE_CAP
            )
        elif self._uncaptured(link.url(next_offset)):
            paging.stop_reason = StopReason.NOT_CAPTURED
            yield from self._done(partner, paging, complete=True)
        elif paging.is_cycle(link.url(next_offset)):
            yield from self._paging_cycle(partner, paging, link.url(next_offset))
        else:
            yield self._load_more_request(partner, paging, link, next_offset)

    # --- cards -----------------------------------------------------------------------

    def _admit(
        self,
        partner: str,
        paging: PartnerPaging,
        cards: Iterable[ArticleCard],
        capture_id: int | None,
    ) -> Generator[PageCards | scrapy.Request, None, tuple[int, bool]]:
        """Yield the cards this partner has not shown yet, as one :class:`PageCards`, and
        requests for the pages of new articles; return how many cards had a URL new to
        this crawl, and whether any was linked to the partner in the archive already.

        Cards without a link are yielded too: the validate pipeline drops and counts them.
        A card's URL is made canonical here, once (the normalize pipeline finds it so).
        """
        new, known = 0, False
        archived = self.known_links.get(partner, set())
        admitted: list[ArticleCard] = []
        articles: dict[str, None] = {}  # in page order, once each
        for card in cards:
            card.partner = partner
            card.capture_id = capture_id
            key = card.url = urls.canonical_url(card.url, card.page_url or "", self.base_url)
            if key is not None:
                card.position = paging.admit(key)
                if card.position is None:
                    continue
                new += 1
                known = known or key in archived
                if self._may_fetch_article(key):
                    articles[key] = None
            admitted.append(card)
        if admitted:
            self._inc(partner, "cards", len(admitted))
            page_url = admitted[0].page_url or ""
            yield PageCards(partner=partner, page_url=page_url, cards=admitted)
        yield from self._article_requests(list(articles), partner)
        return new, known

    # --- article pages ----------------------------------------------------------------

    def _may_fetch_article(self, url: str) -> bool:
        """Articles on the canonical origin (in a re-parse, those the archive captured)."""
        return self.fetch_articles and urls.is_canonical(url) and not self._uncaptured(url)

    def _article_requests(self, wanted: list[str], partner: str) -> Iterator[scrapy.Request]:
        """The pages of a page's cards that the archive lacks (all of them, refreshing):
        one question to the archive for the cards of one listing page, never a load of
        every article it holds."""
        fresh = [url for url in wanted if url not in self.asked_pages]
        for url in wanted:
            if url in self.page_waiters:  # asked for already (another partner, a hole)
                self._await_page(partner, url)
        if fresh and not self.refresh_articles:
            stored = self.keeper.pages_not_wanted(fresh, self.page_max_failures)
            fresh = [url for url in fresh if url not in stored]
        for url in fresh:
            yield from self._ask_page(url, partner)

    def _ask_page(self, url: str, partner: str | None) -> Iterator[scrapy.Request]:
        """Ask for an article's page once a crawl; ``partner``'s walk waits for it."""
        if url not in self.asked_pages:
            self.asked_pages.add(url)
            self.page_waiters[url] = set()
            yield self._article_request(url, partner)
        if partner is not None and url in self.page_waiters:
            self._await_page(partner, url)

    def _await_page(self, partner: str, url: str) -> None:
        self.page_waiters[url].add(partner)
        self.awaited_pages.setdefault(partner, set()).add(url)

    def _page_settled(self, url: str) -> Iterator[WalkDone]:
        """An article page was stored or its failure recorded (the item is on its way to
        the archive, ahead of what this yields): the walks that waited only for it end."""
        for partner in sorted(self.page_waiters.pop(url, ())):
            waiting = self.awaited_pages.get(partner, set())
            waiting.discard(url)
            if not waiting and partner in self.deferred_walks:
                yield self.deferred_walks.pop(partner)

    def _article_request(self, url: str, partner: str | None) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_article_error,
            priority=-1,  # listings first: they decide what else to fetch
            cb_kwargs={"partner": partner},
            # Asked for once a crawl (see _ask_page): never dropped as a duplicate, so every
            # request ends in parse_article or on_article_error, which walks wait for.
            dont_filter=True,
            meta={"olyscrape_kind": "article", ARTICLE_KEY: url},
        )

    def parse_article(
        self, response: Response, partner: str | None
    ) -> Iterator[ArticleBody | ArticlePageFailed | WalkDone]:
        """An article page, stored under the URL its card links (a redirect followed on
        the way does not make it another article)."""
        key = response.meta.get(ARTICLE_KEY) or response.url
        page = pages.ArticlePage(response, response.url)
        try:
            item = page.to_item()
        except pages.PageFormatError as exc:
            yield self._article_failed(key, str(exc), partner)
            yield from self._page_settled(key)
            return
        item.url = key
        item.capture_id = response.meta.get(CAPTURE_ID)
        item.partner = partner
        if page.structured:
            self._count_structured(item)
        yield item
        yield from self._page_settled(key)

    def _count_structured(self, item: ArticleBody) -> None:
        """Count a page's structured data: the fields it filled, those it contradicted."""
        stats = self.crawler.stats
        stats.inc_value(keys.STRUCTURED_PAGES)
        for name, source in item.sources.items():
            if source != structured.PAGE:
                stats.inc_value(keys.key(f"structured/filled/{name}"))
        for name in item.disagreements:
            stats.inc_value(keys.STRUCTURED_DISAGREEMENTS)
            stats.inc_value(keys.key(f"structured/disagree/{name}"))
        if item.disagreements:
            logger.info(
                "article %s: its structured data disagrees with the page on %s (the page's"
                " values are kept)", item.url, ", ".join(item.disagreements),
            )  # fmt: skip

    def on_article_error(self, failure: Failure) -> Iterator[ArticlePageFailed | WalkDone]:
        request = request_of(failure)
        key = request.meta.get(ARTICLE_KEY) or request.url
        yield self._article_failed(key, failure_reason(failure), request.cb_kwargs.get("partner"))
        yield from self._page_settled(key)

    def _article_failed(self, url: str, reason: str, partner: str | None) -> ArticlePageFailed:
        """A missing or broken article page: counted and reported; its card stays archived,
        and the failure goes to the archive (the next crawls ask again, a bounded number
        of times)."""
        stats = self.crawler.stats
        stats.inc_value(keys.ARTICLES_FAILED)
        keys.append(
            stats, keys.ARTICLE_FAILURES, {"url": url, "reason": reason, "partner": partner}
        )
        logger.warning(
            "article %s not archived: %s", urls.shown(url), reason, extra={"spider": self}
        )
        return ArticlePageFailed(url=url, reason=reason, partner=partner)

    def closed(self, reason: str) -> None:
        """A walk that neither ended nor failed lost its request on the way (a redirect
        loop, a duplicate or offsite request dropped): report it, never pass it silently."""
        if reason != "finished":
            return
        if not self.discovered and not self.crawler.stats.get_value(keys.ERRORS):
            reason = self._dropped_reason(None, "no answer reached the spider")
            self._fail("discovery", urls.canonical(urls.PARTNERS_PATH), reason)
        for partner, url in list(self.open_walks.items()):
            reason = self._dropped_reason(partner, "the walk stopped without an answer")
            if partner not in self.dropped:
                reason += " (a request was dropped on the way)"
            self._fail("listing", url, reason, partner)
        for partner in sorted(self.deferred_walks):  # cannot happen: every page settles
            logger.warning(
                "%s: walk not recorded complete: %d article page(s) never answered",
                partner, len(self.awaited_pages.get(partner, ())),
            )  # fmt: skip

    # --- end of a partner's walk ---------------------------------------------------

    def _incremental(self, partner: str) -> bool:
        """Stop at archived cards: not with --full, nor after an interrupted walk."""
        return not self.full and partner in self.completed_walks

    def _stop_early(self, partner: str, paging: PartnerPaging) -> Iterator[WalkDone]:
        self._inc(partner, "stopped_early")
        paging.stop_reason = StopReason.INCREMENTAL
        yield from self._done(partner, paging, complete=True)

    def _done(self, partner: str, paging: PartnerPaging, complete: bool) -> Iterator[WalkDone]:
        """Log the end of a partner's walk; a complete walk is recorded after its cards
        and, once the last of them is stored or recorded as failed, the pages of its cards
        (so a crawl stopped before that walks the partner in full next time)."""
        self.open_walks.pop(partner, None)
        stop_reason = paging.stop_reason or StopReason.DONE
        self.crawler.stats.set_value(keys.partner_key(partner, "stop_reason"), stop_reason.value)
        logger.info(
            "%s: done, %d cards in %d pages (%s)",
            partner, len(paging.seen), paging.pages, paging.stop_reason,
        )  # fmt: skip
        if not complete:
            return
        # Stopped at archived cards: the archive shifts the older links this walk never
        # reached (their place on the listing moved by as many cards as were added).
        walk = WalkDone(partner, incremental=stop_reason is StopReason.INCREMENTAL)
        if self.awaited_pages.get(partner):
            self.deferred_walks[partner] = walk
        else:
            yield walk
