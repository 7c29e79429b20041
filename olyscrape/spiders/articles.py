"""The article pages a crawl asks for (``docs/site.md`` §5): once each, after the
listings, for the cards the walks find new, the holes the archive has and, refreshing,
every archived article; and what is made of each answer.

A partner's walk is recorded complete only once the pages of its cards are stored or
recorded as failed, so this layer also keeps which walks wait for which pages. The
partners spider (:mod:`olyscrape.spiders.partners`) builds on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import scrapy

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.extensions.capture import CAPTURE_ID
from olyscrape.items import ArticlePageFailed, ArticlePageItem, WalkDone
from olyscrape.site import structured, urls
from olyscrape.site.article import ArticlePage
from olyscrape.site.page import PageFormatError
from olyscrape.spiders.base import SiteSpider, failure_reason, request_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

#: The crawl's logger: the lines written here have always carried its name.
logger = logging.getLogger("olyscrape.spiders.partners")

#: The request meta key holding the article URL a page was asked for (its card's link).
ARTICLE_KEY = "olyscrape_article"


class ArticlePagesSpider(SiteSpider):
    """The article pages of a crawl: which to ask for, who waits for them, what they give."""

    # Set in from_crawler, from the crawler's settings.
    fetch_articles: bool
    refresh_articles: bool
    reparse: bool
    page_max_failures: int
    articles_to_refresh: dict[str, str]
    # Article pages asked for in this crawl (once each), the partners waiting for each page
    # still on its way, the pages each partner waits for, and the partners whose walk ended
    # complete but is recorded so only once those pages are stored or recorded as failed
    # (with the WalkDone that records it then).
    asked_pages: set[str]
    page_waiters: dict[str, set[str]]
    awaited_pages: dict[str, set[str]]
    deferred_walks: dict[str, WalkDone]
    keeper: ArchiveKeeper

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.fetch_articles = setting(settings, "OLYSCRAPE_ARTICLES")
        spider.refresh_articles = setting(settings, "OLYSCRAPE_REFRESH_ARTICLES")
        spider.reparse = setting(settings, "OLYSCRAPE_REPARSE")
        spider.page_max_failures = setting(settings, "OLYSCRAPE_PAGE_MAX_FAILURES")
        spider.asked_pages = set()
        spider.page_waiters = {}
        spider.awaited_pages = {}
        spider.deferred_walks = {}
        spider.articles_to_refresh = {}
        return spider

    def _kept(self) -> Callable[[str], bool] | None:
        """A re-parse reads only what the archive kept (None: a crawl reads the site)."""
        if not self.reparse:
            return None
        return self.keeper.has_capture

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
            self.crawler.stats.set_value(crawlstats.PAGES_ASKED_AGAIN, len(wanted))
        return wanted

    def _may_fetch_article(self, url: str) -> bool:
        """Articles on the canonical origin (in a re-parse, those the archive captured)."""
        kept = self._kept()
        return self.fetch_articles and urls.is_canonical(url) and (kept is None or kept(url))

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
    ) -> Iterator[ArticlePageItem | ArticlePageFailed | WalkDone]:
        """An article page, stored under the URL its card links (a redirect followed on
        the way does not make it another article)."""
        key = response.meta.get(ARTICLE_KEY) or response.url
        page = ArticlePage(response, response.url)
        try:
            item = page.to_item()
        except PageFormatError as exc:
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

    def _count_structured(self, item: ArticlePageItem) -> None:
        """Count a page's structured data: the fields it filled, those it contradicted."""
        stats = self.crawler.stats
        stats.inc_value(crawlstats.STRUCTURED_PAGES)
        for name, source in item.sources.items():
            if source != structured.PAGE:
                stats.inc_value(crawlstats.key(f"structured/filled/{name}"))
        for name in item.disagreements:
            stats.inc_value(crawlstats.STRUCTURED_DISAGREEMENTS)
            stats.inc_value(crawlstats.key(f"structured/disagree/{name}"))
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
        stats.inc_value(crawlstats.ARTICLES_FAILED)
        crawlstats.append(
            stats, crawlstats.ARTICLE_FAILURES, {"url": url, "reason": reason, "partner": partner}
        )
        logger.warning(
            "article %s not archived: %s", urls.shown(url), reason, extra={"spider": self}
        )
        return ArticlePageFailed(url=url, reason=reason, partner=partner)
