"""A partner's walk through its listing (``docs/site.md`` §2 to §4), as the crawl accounts
for it: the failures it records, the ways a walk ends (a stop rule, a cycle, another
partner's listing, cards archived before), and, at the crawl's end, the walks that never
got an answer. The stop rules themselves are :class:`olyscrape.site.walk.PartnerPaging`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from w3lib.url import canonicalize_url

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.crawlstats import StopReason
from olyscrape.items import WalkDone
from olyscrape.site import urls
from olyscrape.site.discovery import DISCOVERY_URL
from olyscrape.site.walk import PartnerPaging
from olyscrape.spiders.articles import ArticlePagesSpider
from olyscrape.spiders.base import failure_reason, request_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

#: The crawl's logger: the lines written here have always carried its name.
logger = logging.getLogger("olyscrape.spiders.partners")


class PartnerWalksSpider(ArticlePagesSpider):
    """The partners' walks of a crawl: open, failed, ended, and recorded complete."""

    # Set in from_crawler, from the crawler's settings.
    full: bool
    completed_walks: set[str]
    open_walks: dict[str, str]  # partner → its listing URL, until its walk ends or fails
    # Every discovered partner's listing URL (canonicalized) → its slug: a next page that
    # is one of them (another partner's) is not read as this partner's.
    partner_listings: dict[str, str]
    discovered: bool

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # A re-parse reads every page the archive kept: never the incremental stop.
        spider.full = setting(crawler.settings, "OLYSCRAPE_FULL") or spider.reparse
        spider.completed_walks = set()
        spider.open_walks = {}
        spider.partner_listings = {}
        spider.discovered = False
        return spider

    # --- accounting ---------------------------------------------------------------

    def _inc(self, partner: str | None, key: str, count: int = 1) -> None:
        stats = self.crawler.stats
        crawlstats.inc(stats, key, count, partner)

    def _fail(self, kind: str, url: str, reason: str, partner: str | None = None) -> None:
        """Record a failed discovery, listing or load-more request; the crawl goes on."""
        self._inc(partner, "errors")
        if partner:
            self.open_walks.pop(partner, None)
        stats = self.crawler.stats
        failure = {"kind": kind, "url": url, "partner": partner, "reason": reason}
        crawlstats.append(stats, crawlstats.FAILURES, failure)
        logger.error("%s %s failed: %s", kind, urls.shown(url), reason, extra={"spider": self})

    def on_error(self, failure: Failure) -> None:
        request = request_of(failure)
        kind = request.meta.get("olyscrape_kind", "request")
        self._fail(kind, request.url, failure_reason(failure), request.cb_kwargs.get("partner"))

    def _dropped_reason(self, partner: str | None, fallback: str) -> str:
        """Why a walk (or discovery) got no answer: the request the scheduler dropped."""
        if partner not in self.dropped:
            return fallback
        kind, url = self.dropped[partner]
        dropped = "dropped as a duplicate of a request already made"
        return f"{fallback}: {kind} {urls.shown(url)} {dropped}"

    # --- the ways a walk ends -----------------------------------------------------

    def _stopped(self, partner: str, paging: PartnerPaging, url: str = "") -> Iterator[WalkDone]:
        """The end of a walk whose paging stopped, as its stop reason says: a cycle is
        named; a walk cut by the page cap is incomplete, any other ends complete."""
        if paging.stop_reason is StopReason.PAGING_CYCLE:
            yield from self._paging_cycle(partner, paging, url)
        else:
            yield from self._done(
                partner, paging, complete=paging.stop_reason is not StopReason.PAGE_CAP
            )

    def _paging_cycle(
        self, partner: str, paging: PartnerPaging, url: str, redirected_from: str | None = None
    ) -> Iterator[WalkDone]:
        """A next page or load-more URL read already in this walk (a last page linking
        back to the first, a page redirected to one read before): the walk has read every
        page of the cycle and admitted their cards, so it ends complete, named. (Left to
        Scrapy's duplicate filter, the page was dropped unseen and the walk left open:
        "a request was dropped on the way", a failed crawl every night.)"""
        paging.stop_reason = StopReason.PAGING_CYCLE
        self.crawler.stats.inc_value(crawlstats.PAGING_CYCLES)
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
        self.crawler.stats.inc_value(crawlstats.OTHER_PARTNER_LINKS)
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
        self.crawler.stats.set_value(
            crawlstats.partner_key(partner, "stop_reason"), stop_reason.value
        )
        logger.info(
            "%s: done, %d cards in %d pages (%s)",
            partner, len(paging.seen), paging.pages, paging.stop_reason,
        )  # fmt: skip
        if not complete:
            return
        # Stopped at archived cards: the archive shifts the older links this walk never
        # reached (their place on the listing moved by as many cards as were added).
        walk = WalkDone(partner, incremental=stop_reason is StopReason.INCREMENTAL,
                        whole=stop_reason.whole)  # fmt: skip
        if self.awaited_pages.get(partner):
            self.deferred_walks[partner] = walk
        else:
            yield walk

    def closed(self, reason: str) -> None:
        """A walk that neither ended nor failed lost its request on the way (a redirect
        loop, a duplicate or offsite request dropped): report it, never pass it silently."""
        if reason != "finished":
            return
        if not self.discovered and not self.crawler.stats.get_value(crawlstats.ERRORS):
            reason = self._dropped_reason(None, "no answer reached the spider")
            self._fail("discovery", DISCOVERY_URL, reason)
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
