"""The archive's one owner in a crawl: the ``ArchiveKeeper`` extension.

It opens the archive once, when the crawler is built (before any request), and holds the
crawl's only writable connection (:class:`~olyscrape.archive.ArchiveWriter`) until the
crawl closes, the way Scrapy's HttpCache middleware owns its storage. Every other
component reaches it through the crawler (``crawler.get_extension(ArchiveKeeper)``): the
store pipeline's batches, the capture recorder's responses, the spider's reads of what
earlier crawls archived, the monitors, the replay of a re-parse.

A failed write stops the crawl at once, with one line naming the file and the cause in
``olyscrape/storage_error``; when the crawl closes, the keeper writes the crawl's row
with the verdict of :func:`olyscrape.stats.verdict`.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from olyscrape import stats as keys
from olyscrape.addon import setting
from olyscrape.archive import ArchiveError, ArchiveWriter, StoreResult
from olyscrape.archive.health import checkpoint_line
from olyscrape.archive.writer import Item

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def stop_crawl(crawler: Crawler, line: str) -> None:
    """A write failed: record ``line`` (the first failure wins) and close the spider now."""
    stats = crawler.stats
    assert stats is not None
    if stats.get_value(keys.STORAGE_ERROR):
        return
    stats.set_value(keys.STORAGE_ERROR, line)
    logger.error("%s", line)
    engine = crawler.engine
    if engine is not None and engine.spider is not None and not _closing(engine):
        deferred_from_coro(engine.close_spider_async(reason=keys.STORAGE_FINISH))


def _closing(engine: Any) -> bool:
    slot = getattr(engine, "_slot", None)
    return slot is None or slot.closing is not None


class ArchiveKeeper:
    """Owns the crawl's :class:`ArchiveWriter` (``OLYSCRAPE_DB``).

    A re-parse (``OLYSCRAPE_REPARSE``) needs an existing archive and records no crawl.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        reparse = setting(settings, "OLYSCRAPE_REPARSE")
        self.path = setting(settings, "OLYSCRAPE_DB")
        self.writer: ArchiveWriter | None = None
        try:
            self.writer = ArchiveWriter.open(
                self.path,
                create=not reparse,
                check=setting(settings, "OLYSCRAPE_ARCHIVE_CHECK"),
                record_crawl=not reparse and setting(settings, "OLYSCRAPE_RECORD_CRAWL"),
                max_page_count=setting(settings, "OLYSCRAPE_MAX_PAGE_COUNT"),
            )
        except ArchiveError as exc:  # refused: not ours, read-only, newer... (one line)
            crawler.stats.set_value(keys.STORAGE_REFUSED, True)
            crawler.stats.set_value(keys.STORAGE_ERROR, str(exc))
            logger.error("%s", exc)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveKeeper:
        if not setting(crawler.settings, "OLYSCRAPE_DB"):  # a probe that keeps nothing
            raise NotConfigured  # no message: Scrapy would log it as a warning
        keeper = cls(crawler)
        crawler.signals.connect(keeper.spider_closed, signal=signals.spider_closed)
        return keeper

    @classmethod
    def of(cls, crawler: Crawler) -> ArchiveKeeper:
        """The crawl's keeper (the add-on and olyscrape's settings enable it)."""
        keeper = crawler.get_extension(cls)
        if keeper is None:
            raise RuntimeError("olyscrape's ArchiveKeeper extension is not enabled")
        return keeper

    @property
    def usable(self) -> bool:
        """False once the archive was refused or a write failed: nothing more is written."""
        return self.writer is not None and self.writer.failure is None

    def store(self, items: list[Item], touch_seen: bool = True) -> StoreResult | None:
        """Commit a batch (with the captures queued since the last one); None if it failed,
        in which case the crawl is stopping."""
        if not self.usable:
            return None
        assert self.writer is not None
        try:
            result = self.writer.store(items, touch_seen=touch_seen)
        except ArchiveError as exc:
            self.fail(exc)
            return None
        if self.writer.crawl_id is not None:
            self.crawler.stats.set_value(keys.CRAWL_ID, self.writer.crawl_id)
        return result

    def fail(self, exc: Exception) -> None:
        stored = int(self.crawler.stats.get_value(keys.STORED_CARDS, 0))
        stop_crawl(self.crawler, f"{exc}; {stored} cards committed before it")

    # --- the end of the crawl ---------------------------------------------------------

    def spider_closed(self, reason: str) -> None:
        """Commit the captures still queued, then write the crawl's row with its verdict.
        Runs after Spidermon's checks (a later extension), which the verdict includes."""
        if self.writer is None:
            return
        if reason == keys.UNKNOWN_PARTNER:  # a usage error: nothing is recorded
            self.writer.discard_queued()
        else:
            if self.usable and self.writer.queued_bytes:
                self.store([])
            self.record(reason)
            self._count_archive()
        self.close()

    def _count_archive(self) -> None:
        """What the archive holds at the end, and what it still lacks (counted from the
        archive, not from this crawl: a hole an earlier crawl left is named too)."""
        assert self.writer is not None
        stats = self.crawler.stats
        max_failures = setting(self.crawler.settings, "OLYSCRAPE_PAGE_MAX_FAILURES")
        with suppress(ArchiveError):  # a failure was reported already
            counts = self.writer.counts()
            if self.writer.exists:
                missing = self.writer.missing_pages(max_failures)
                counts |= {"articles_without_page": missing.missing,
                           "pages_given_up": missing.given_up,
                           "page_max_failures": max_failures}  # fmt: skip
                stats.set_value(keys.ARCHIVE_GIVEN_UP, missing.listed)
            stats.set_value(keys.ARCHIVE_COUNTS, counts)

    def record(self, reason: str | None) -> None:
        """Write the crawl's row: ``ok``, ``failed`` or ``interrupted``, stats and reasons."""
        assert self.writer is not None
        if not self.writer.record_crawl:
            return
        stats = dict(self.crawler.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        judged = keys.verdict(stats)
        try:
            self.writer.finish_crawl(judged.status, stats, judged.reasons, retry=True)
        except ArchiveError as exc:
            line = f"the crawl's own row could not be written: {exc}"
            self.crawler.stats.set_value(keys.CRAWL_RECORD_ERROR, line)
            logger.error("%s", line)

    def abort(self) -> None:
        """After a forced stop (Scrapy never closed the spider): drop what was not
        committed and record the crawl as interrupted."""
        if self.writer is None:
            return
        self.writer.discard_queued()
        self.record(None)
        self._count_archive()
        self.close()

    def close(self) -> None:
        """Close the writer, which copies the WAL into the file; say in the stats whether
        a reader kept that from finishing."""
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.close()
            stats = self.crawler.stats
            if writer.opening_checkpoint is not None:
                stats.set_value(
                    keys.ARCHIVE_CHECKPOINT_AT_OPEN, writer.opening_checkpoint.as_stats()
                )
            if writer.closing_checkpoint is not None:
                stats.set_value(keys.ARCHIVE_CHECKPOINT, writer.closing_checkpoint.as_stats())
                if not writer.closing_checkpoint.complete:
                    logger.warning(
                        "%s", checkpoint_line(self.path, writer.closing_checkpoint.as_stats())
                    )
