"""``olyscrape check``: a polite probe of the site against its contract (``docs/site.md``).

It fetches what a crawl would first fetch, and no more: the discovery page, then for each
chosen partner its listing page, one load-more answer (or the next no-script page) and
the page of its newest article. It obeys robots.txt and the crawl's delays (none for a
loopback mirror or a replay, as for a crawl: the base spider's rules). Each page is
judged by the page object the crawl reads it with (:mod:`olyscrape.site`); the points go
to the stats (``olyscrape/check/points``), where the command reads them. It stores no
card and no article; with ``--keep DB`` the responses it fetched are kept as captures in
that archive, for ``reparse`` to use.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from olyscrape import crawlstats
from olyscrape.site import discovery, points, urls
from olyscrape.site.article import BODY_POINT, ArticlePage
from olyscrape.site.discovery import DISCOVERY_URL, DiscoveryPage, select_partners
from olyscrape.site.listing import CARDS_POINT, ListingPage
from olyscrape.site.loadmore import ANSWER_POINT, JSON_HEADERS, LoadMoreAnswer, LoadMoreLink
from olyscrape.site.noscript import NEXT_PAGE_POINT, no_paging
from olyscrape.spiders.base import SiteSpider, failure_reason, request_of, request_of_response

logger = logging.getLogger(__name__)

#: Above every other source of settings: the probe stores nothing unless told to keep.
PROBE_PRIORITY = 50
#: Article pages tried, newest first, before the article points are called broken: one
#: missing or odd page is an article failure a crawl tolerates (docs/site.md §5), not a
#: broken contract.
ARTICLE_TRIES = 3


class CheckSpider(SiteSpider):
    """Check the contract on one page of each kind per partner (``-a partners=...``)."""

    name = "check"
    #: Feed exports (``-o``/``-O``) are the crawl's articles: the probe has none to give,
    #: and, run first by ``crawl --check-first``, must not write the crawl's feed file.
    exports_articles = False
    #: Whether discovery was judged (whether it holds or not).
    discovered = False

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        keep = settings.get("OLYSCRAPE_CHECK_KEEP")
        probe = {
            "OLYSCRAPE_DB": str(keep) if keep else "",  # no archive at all unless kept
            "OLYSCRAPE_CAPTURE": bool(keep),
            "OLYSCRAPE_RECORD_CRAWL": False,
            "OLYSCRAPE_WARC": None,
            "SPIDERMON_ENABLED": False,  # the closing checks judge crawls, not probes
        }
        for name, value in probe.items():
            settings.set(name, value, priority=PROBE_PRIORITY)

    # --- what the probe found -----------------------------------------------------------

    def _record(self, *found: points.Point) -> None:
        for point in found:
            crawlstats.append(self.crawler.stats, crawlstats.CHECK_POINTS, point.to_dict())
            if point.partner is None:
                self.discovered = True  # judged, whether it holds or not
            who = f"{point.partner}: " if point.partner else ""
            state = "holds" if point.holds else "BROKEN"
            logger.debug("%s%s %s: %s", who, point.name, state, point.evidence)

    def _request(self, url: str, callback: Any, point: str, partner: str | None, **kw: Any):
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_probe_error,
            cb_kwargs={"partner": partner} if partner else {},
            meta={"olyscrape_point": point, "olyscrape_partner": partner},
            **kw,
        )

    def on_probe_error(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = request_of(failure)
        point, partner = request.meta["olyscrape_point"], request.meta["olyscrape_partner"]
        reason = failure_reason(failure)
        if request.meta.get("olyscrape_next_articles"):
            yield self._next_article(request, f"{request.url}: {reason}")
            return
        tried = self._tried(request)
        self._record(points.failed_fetch(point, partner, request.url, reason + tried))

    @staticmethod
    def _tried(request: scrapy.Request) -> str:
        skipped = request.meta.get("olyscrape_skipped_articles") or []
        return f" (and {len(skipped)} newer article page(s) before it)" if skipped else ""

    # --- the pages ----------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self._request(DISCOVERY_URL, self.parse, discovery.POINT, None)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        """Discovery, then each chosen partner's listing page."""
        page = DiscoveryPage(response, response.url)
        self._record(page.check())
        found = page.partners
        if not found:
            return
        chosen, unknown = select_partners(found, self.wanted)
        if unknown:
            self.crawler.stats.set_value(crawlstats.UNKNOWN_PARTNERS, unknown)
            self.crawler.stats.set_value(crawlstats.KNOWN_PARTNERS, [p.slug for p in found])
            raise CloseSpider(crawlstats.UNKNOWN_PARTNER)
        self.crawler.stats.set_value(crawlstats.PARTNERS, [p.slug for p in chosen])
        for partner in chosen:
            yield self._request(partner.url, self.check_listing, CARDS_POINT, partner.slug)

    def check_listing(self, response: Response, partner: str) -> Iterator[scrapy.Request]:
        page = ListingPage(response, response.url)
        found, cards = page.check(partner)
        self._record(*found)
        if page.load_more_url:
            point, link = LoadMoreLink.check(page.load_more_url, partner, response.url)
            self._record(point)
            if link is not None:
                yield self._load_more(link, partner)
        elif page.next_page_url and self._on_site(page.next_page_url):
            yield self._request(
                page.next_page_url, self.check_next_page, NEXT_PAGE_POINT,
                partner,
            )  # fmt: skip
        else:
            self._record(no_paging(partner, response.url))
        articles = [c.url for c in cards if c.url and urls.is_canonical(c.url)][:ARTICLE_TRIES]
        if articles:
            request = self._request(articles[0], self.check_article, BODY_POINT, partner)
            request.meta["olyscrape_next_articles"] = articles[1:]
            yield request

    def _load_more(self, link: LoadMoreLink, partner: str) -> scrapy.Request:
        return self._request(
            link.url(link.offset), self.check_answer, ANSWER_POINT, partner,
            headers=JSON_HEADERS,
        )  # fmt: skip

    def check_answer(self, response: Response, partner: str) -> None:
        self._record(LoadMoreAnswer(response.body, response.url).check(partner))

    def check_next_page(self, response: Response, partner: str) -> None:
        self._record(ListingPage(response, response.url).check_as_next_page(partner))

    def check_article(self, response: Response, partner: str) -> Iterator[scrapy.Request]:
        found = ArticlePage(response, response.url).check(partner)
        request = request_of_response(response)
        unreadable = len(found) == 1 and not found[0].holds
        if unreadable and request.meta.get("olyscrape_next_articles"):
            yield self._next_article(request, f"{response.url}: {found[0].evidence}")
            return
        tried = self._tried(request)
        if tried:
            found = [replace(p, evidence=p.evidence + tried) for p in found]
        self._record(*found)

    def _next_article(self, request: scrapy.Request, skipped: str) -> scrapy.Request:
        """The next newest article, after one whose page could not be fetched or read."""
        logger.info("article page skipped, the next one is tried: %s", skipped)
        partner = request.meta["olyscrape_partner"]
        following = list(request.meta["olyscrape_next_articles"])
        nxt = self._request(following[0], self.check_article, BODY_POINT, partner)
        nxt.meta["olyscrape_next_articles"] = following[1:]
        nxt.meta["olyscrape_skipped_articles"] = [
            *(request.meta.get("olyscrape_skipped_articles") or []), skipped,
        ]  # fmt: skip
        return nxt

    def closed(self, reason: str) -> None:
        if reason == "finished" and not self.discovered:
            self._record(
                points.failed_fetch(
                    discovery.POINT, None, DISCOVERY_URL, "no answer reached the probe"
                )
            )
        # One line with the verdict, for `scrapy crawl check` (olyscrape check prints more).
        stats = self.crawler.stats.get_stats()
        recorded = points.points_of(stats)
        broken = points.broken(recorded)
        if crawlstats.unreachable(stats):  # no point was judged: the site never answered
            logger.warning("check: the site is unreachable: %s", crawlstats.unreachable_line(stats))
        elif broken:
            named = "; ".join(f"{p['partner'] or 'discovery'}: {p['name']}" for p in broken)
            logger.warning("check FAILED: %d of %d points broken (%s)", len(broken),
                           len(recorded), named)  # fmt: skip
        else:
            logger.info("check OK: %d points hold", len(recorded))
