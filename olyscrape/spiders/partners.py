"""The ``partners`` spider: every news card the IOC shows for each TOP partner.

Discovery (``/ioc/partners``, the menu's TOP column) → each partner's listing page →
load-more answers (or no-script pages) until the stop rule says so. The site is read by
the page objects of :mod:`olyscrape.site` (the stop rule is
:class:`olyscrape.site.walk.PartnerPaging`), arguments and politeness are the base
spider's (:mod:`olyscrape.spiders.base`); this module only loops, assembles items and
accounts for what it fetched.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CloseSpider
from w3lib.url import canonicalize_url

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.crawlstats import StopReason
from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.extensions.capture import CAPTURE_ID
from olyscrape.items import ArticleCard, PageCards, Partner, WalkDone
from olyscrape.site import urls
from olyscrape.site.discovery import DISCOVERY_URL, DiscoveryPage, select_partners
from olyscrape.site.listing import ListingPage
from olyscrape.site.loadmore import JSON_HEADERS, LoadMoreAnswer, LoadMoreLink
from olyscrape.site.page import PageFormatError, TooDeepError
from olyscrape.site.walk import PartnerPaging
from olyscrape.spiders.base import request_of_response
from olyscrape.spiders.walks import PartnerWalksSpider

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class PartnersSpider(PartnerWalksSpider):
    """Crawl every TOP partner's listing into cards (``-a partners=alibaba,visa`` limits it).

    Its layers, each in its own module: the base spider (arguments, politeness, origins),
    the article pages (:mod:`olyscrape.spiders.articles`), the walks' accounting and ends
    (:mod:`olyscrape.spiders.walks`); here, discovery, listings, answers and cards.
    """

    name = "partners"

    # Set in from_crawler, from the crawler's settings.
    max_pages: int
    #: Per partner, each card URL this crawl met → whether the archive linked it to the
    #: partner before this crawl (asked of the archive when first met: see _linked_before).
    linked_at_start: dict[str, dict[str, bool]]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PartnersSpider:
        spider: PartnersSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_pages = setting(settings, "OLYSCRAPE_MAX_PAGES")
        spider.linked_at_start = {}
        return spider

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
            DISCOVERY_URL,
            callback=self.parse,
            errback=self.on_error,
            meta={"olyscrape_kind": "discovery"},
        )

    def _load_archive_state(self) -> None:
        """What earlier crawls archived: complete walks (and, to refresh them, every
        article: ``--refresh-articles`` reads the whole archive on purpose). Nothing else
        is loaded whole: which cards a partner showed before and which article pages are
        stored are asked page by page (:meth:`_admit`), the holes on their partial index
        (:meth:`_missing_page_requests`), each chosen partner's count of links on its
        index (:meth:`_walk_partners`): a crawl's start costs what it reads, not what the
        archive holds."""
        archive = self.keeper
        if self.fetch_articles and self.refresh_articles:
            self.articles_to_refresh = archive.article_partners()
        self.completed_walks = archive.completed_walks()

    def parse(self, response: Response) -> Iterator[Partner | scrapy.Request]:
        """Discovery: the partners of the menu's TOP column, then each partner's listing."""
        self.discovered = True
        found = DiscoveryPage(response, response.url).partners
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
        if self.keeper.has_capture(DISCOVERY_URL):
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
            stats.set_value(crawlstats.UNKNOWN_PARTNERS, unknown)
            stats.set_value(crawlstats.KNOWN_PARTNERS, [p.slug for p in found])
            raise CloseSpider("unknown_partner")
        if self.reparse:
            chosen = self._captured(chosen)
        self.crawler.stats.set_value(crawlstats.PARTNERS, [p.slug for p in chosen])
        # What each partner's listing showed before (the monitors compare it with what it
        # shows now), counted before anything of this crawl is stored.
        for name, count in self.keeper.link_counts([p.slug for p in chosen]).items():
            self.crawler.stats.set_value(crawlstats.partner_key(name, "known"), count)
        logger.info("discovered %d partners, crawling %d", len(found), len(chosen))
        # Read before the first listing answer can store anything: what earlier crawls left.
        missing = self._missing_pages([p.slug for p in chosen])
        for partner in chosen:
            yield partner
            self.open_walks[partner.slug] = partner.url
            paging = PartnerPaging(max_pages=self.max_pages, kept=self._kept())
            yield self._listing_request(partner.url, partner.slug, paging)
        yield from self._refresh_requests()
        for url, slug in missing:  # after the listings: they decide what else to fetch
            yield from self._ask_page(url, slug)

    def _captured(self, partners: list[Partner]) -> list[Partner]:
        """A re-parse: the partners whose listing the archive kept; the others are named."""
        kept = [p for p in partners if self.keeper.has_capture(p.url)]
        skipped = [p.slug for p in partners if p not in kept]
        if skipped:
            self.crawler.stats.set_value(crawlstats.REPARSE_SKIPPED, skipped)
            logger.info("no capture of the listing of %s: skipped", ", ".join(skipped))
        return kept

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
        page = ListingPage(response, response.url)
        if page.too_deep:
            # The parser dropped everything past its depth limit: later cards and the
            # paging links. A page read in part is a failed page, not a short one.
            self._fail("listing", response.url, page.too_deep, partner)
            return
        cards = page.cards
        if first_page:
            self._inc(partner, "listing_cards", len(cards))
        new, known = yield from self._admit(partner, paging, cards, response.meta.get(CAPTURE_ID))
        logger.debug("%s: listing %s: %s", partner, response.url, self._counted(partner, cards))

        if known and self._incremental(partner):
            yield from self._stop_early(partner, paging)
        elif page.load_more_url:
            link = LoadMoreLink.parse(page.load_more_url)
            if link is None:
                reason = f"unrecognised load-more link {page.load_more_url}"
                self._fail("listing", response.url, reason, partner)
            elif paging.may_ask(link.url(link.offset)):
                yield self._load_more_request(partner, paging, link, link.offset)
            else:
                yield from self._stopped(partner, paging, link.url(link.offset))
        elif page.next_page_url and not self._on_site(page.next_page_url):
            self.crawler.stats.inc_value(crawlstats.OFFSITE_LINKS_SKIPPED)
            logger.info("%s: next page on another host, not followed: %s", partner,
                        page.next_page_url)  # fmt: skip
            paging.stop_reason = StopReason.OFFSITE_NEXT
            yield from self._done(partner, paging, complete=True)
        elif page.next_page_url and paging.past_captures(page.next_page_url):
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
            cards = LoadMoreAnswer(response.body, response.url).cards
        except TooDeepError as exc:
            self._fail("load-more", response.url, str(exc), partner)  # asking again: the same
            return
        except PageFormatError as exc:
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
        logger.debug("%s: load-more offset %d: %s", partner, offset, self._counted(partner, cards))
        if known and self._incremental(partner):
            yield from self._stop_early(partner, paging)
            return
        next_offset = paging.after_answer(link, offset, len(cards), new)
        if next_offset is None:
            yield from self._stopped(partner, paging)
        elif paging.may_ask(link.url(next_offset)):
            yield self._load_more_request(partner, paging, link, next_offset)
        else:
            yield from self._stopped(partner, paging, link.url(next_offset))

    # --- cards -----------------------------------------------------------------------

    def _counted(self, partner: str, cards: list[ArticleCard]) -> str:
        """A page's cards, labelled as the summary labels them: ``new links`` are cards the
        archive did not link to this partner before (an incremental crawl's pages of cards
        archived before show none; the old line said "9 new", meaning new to this walk)."""
        archived = self._linked_before(partner, [card.url for card in cards if card.url])
        fresh = sum(1 for card in cards if card.url and card.url not in archived)
        return f"{len(cards)} cards, {fresh} new links"

    def _linked_before(self, partner: str, keys: list[str]) -> set[str]:
        """Of the canonical card URLs ``keys``, those the archive linked to ``partner``
        before this crawl. Each is asked of the archive's indexes the first time this crawl
        meets it on the partner's listing (one query per page, for its new URLs), before
        its card can be stored, and remembered: the answer stays the archive's state at
        the crawl's start, as when every link was loaded then."""
        met = self.linked_at_start.setdefault(partner, {})
        asked = [key for key in dict.fromkeys(keys) if key not in met]
        if asked:
            found = self.keeper.linked(partner, asked)
            met.update((key, key in found) for key in asked)
        return {key for key in keys if met[key]}

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
        cards = list(cards)
        for card in cards:
            card.partner = partner
            card.capture_id = capture_id
            card.url = urls.canonical_url(card.url, card.page_url or "", self.base_url)
        archived = self._linked_before(partner, [card.url for card in cards if card.url])
        admitted: list[ArticleCard] = []
        articles: dict[str, None] = {}  # in page order, once each
        for card in cards:
            key = card.url
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
