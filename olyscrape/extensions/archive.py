"""The archive's one owner in a crawl: the ``ArchiveKeeper`` extension.

When the crawler is built (before any request) it checks the archive's path, takes the
archive's lock (:class:`~olyscrape.lock.ArchiveLock`), and opens the crawl's only writable
connection (:class:`~olyscrape.archive.ArchiveWriter`); it holds both until the crawl
closes, the way Scrapy's HttpCache middleware owns its storage. It does so however the
crawl runs (``olyscrape crawl|check|reparse``, ``scrapy crawl partners|check``, Scrapyd);
a runner that does something before the crawl (``crawl --check-first`` probes the site)
has it take the lock earlier (:meth:`ArchiveKeeper.reserved`). Every other component asks
it through the crawler (``ArchiveKeeper.of(crawler)``) with a narrow question, never
reaching the writer: the store pipeline's batches, the capture recorder's responses, the
spider's reads of what earlier crawls archived, the monitors, the replay of a re-parse.

A failed write stops the crawl at once, with one line naming the file and the cause in
``olyscrape/storage_error``; when the crawl closes, the keeper writes the crawl's row
with the verdict of :func:`olyscrape.crawlstats.verdict`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.archive import ArchiveError, ArchiveWriter, Capture, StoreResult
from olyscrape.archive.errors import cause_of
from olyscrape.archive.health import checkpoint_line
from olyscrape.archive.schema import check_for_writing
from olyscrape.archive.writer import Item
from olyscrape.lock import ArchiveLock

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from olyscrape.saved import Source

logger = logging.getLogger(__name__)


def stop_crawl(crawler: Crawler, line: str) -> None:
    """A write failed: record ``line`` (the first failure wins) and close the spider now."""
    stats = crawler.stats
    assert stats is not None
    if stats.get_value(crawlstats.STORAGE_ERROR):
        return
    stats.set_value(crawlstats.STORAGE_ERROR, line)
    logger.error("%s", line)
    engine = crawler.engine
    if engine is not None and engine.spider is not None and not _closing(engine):
        deferred_from_coro(engine.close_spider_async(reason=crawlstats.STORAGE_FINISH))


def _closing(engine: Any) -> bool:
    slot = getattr(engine, "_slot", None)
    return slot is None or slot.closing is not None


def take_lock(path: str) -> ArchiveLock:
    """Check the archive's path (the pre-flight, see :func:`check_for_writing`), then take
    its lock: nothing is created beside a path that is refused. Raises
    :class:`~olyscrape.lock.ArchiveLocked` when another process holds it, and
    :class:`ArchiveError` (one line) when it is refused or the lock cannot be taken."""
    check_for_writing(path)
    lock = ArchiveLock(path)
    try:
        lock.acquire()
    except OSError as exc:
        raise ArchiveError(
            f"archive {path}: {cause_of(exc)} (cannot take its lock: {exc.strerror})"
        ) from None
    return lock


class ArchiveKeeper:
    """Owns the crawl's archive (``OLYSCRAPE_DB``): its lock and its :class:`ArchiveWriter`.

    A re-parse (``OLYSCRAPE_REPARSE``) needs an existing archive and records no crawl.
    """

    #: Locks taken early by a runner (:meth:`reserved`), by the archive's real path, each
    #: for the keeper this process builds next for that archive.
    _reserved: ClassVar[dict[Path, ArchiveLock]] = {}

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        reparse = setting(settings, "OLYSCRAPE_REPARSE")
        self.path: str = setting(settings, "OLYSCRAPE_DB")
        self._writer: ArchiveWriter | None = None
        self._lock: ArchiveLock | None = None
        self._closing_first: list[Callable[[], Awaitable[None]]] = []
        #: A usage error found once the crawl started (unknown partners): nothing written.
        self._refused = False
        if settings.getbool("OLYSCRAPE_LOCK_HELD"):
            logger.warning("OLYSCRAPE_LOCK_HELD is deprecated and does nothing: the archive"
                           " keeper takes the archive's lock itself")  # fmt: skip
        try:
            # Another process's lock raises ArchiveLocked: the crawl does not start at all.
            lock = self._reserved.pop(_lock_key(self.path), None) or take_lock(self.path)
            self._lock = lock
            self._writer = ArchiveWriter.open(
                self.path,
                create=not reparse,
                check=setting(settings, "OLYSCRAPE_ARCHIVE_CHECK"),
                checked=_checked_fingerprint(lock),
                record_crawl=not reparse and setting(settings, "OLYSCRAPE_RECORD_CRAWL"),
                max_page_count=setting(settings, "OLYSCRAPE_MAX_PAGE_COUNT"),
            )
            if self._writer.check_ran is not None:
                crawler.stats.set_value(crawlstats.ARCHIVE_CHECK, self._writer.check_ran)
        except ArchiveError as exc:  # refused: not ours, read-only, newer... (one line)
            crawler.stats.set_value(crawlstats.STORAGE_REFUSED, True)
            crawler.stats.set_value(crawlstats.STORAGE_ERROR, str(exc))
            logger.error("%s", exc)
            self._release()  # nothing will be written: the lock goes back at once

    @classmethod
    @contextmanager
    def reserved(cls, path: str) -> Iterator[None]:
        """Take the archive's lock now (:func:`take_lock`), for the keeper this process
        builds next for it: a runner refuses a busy archive before it does anything, a
        probe of the site included. Raises as :func:`take_lock` does. Given back when the
        block ends, unless a keeper took it over (it gives it back when it closes)."""
        lock = take_lock(path)
        key = _lock_key(path)
        cls._reserved[key] = lock
        try:
            yield
        finally:
            if cls._reserved.get(key) is lock:
                del cls._reserved[key]
                lock.release()

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
    def opened(self) -> bool:
        """True while the archive is open: it was not refused, and the crawl is not over."""
        return self._writer is not None

    @property
    def usable(self) -> bool:
        """False once the archive was refused or a write failed: nothing more is written."""
        return self._writer is not None and self._writer.failure is None

    def _open_writer(self) -> ArchiveWriter:
        """The writer, for a question asked while the archive is open (a caller that asks
        after a refusal is a bug: the spider sends no request then)."""
        if self._writer is None:
            raise RuntimeError(f"archive {self.path}: not open (refused, or closed)")
        return self._writer

    # --- what earlier crawls archived (read on the writer's own connection) -------------

    def linked(self, partner: str, urls: Sequence[str]) -> set[str]:
        """Of ``urls``, those ``partner``'s listing showed in earlier crawls."""
        return self._open_writer().lookups.linked(partner, urls)

    def link_counts(self, partners: Collection[str]) -> dict[str, int]:
        """How many articles the archive links to each of ``partners`` (none: left out)."""
        return self._open_writer().lookups.link_counts(partners)

    def completed_walks(self) -> set[str]:
        """Partners whose last walk of their listing ended (none interrupted since)."""
        return self._open_writer().lookups.completed_walks()

    def article_partners(self) -> dict[str, str]:
        """Every archived article and one partner that showed it (to refresh them all)."""
        return self._open_writer().lookups.article_partners()

    def archived_partners(self) -> list[tuple[str, str, str]]:
        """The partners the archive lists (slug, name, listing URL), in the order found."""
        return self._open_writer().lookups.partners()

    def has_capture(self, url: str) -> bool:
        """True when the archive holds a capture of the page at canonical ``url``."""
        return self._open_writer().captures.has(url)

    def pages_wanted(
        self, max_failures: int, partners: Collection[str] | None = None
    ) -> list[tuple[str, str | None]]:
        """The article pages the archive lacks, each with a partner that showed it (see
        :meth:`~olyscrape.archive.lookups.ArchiveLookups.pages_wanted`)."""
        return self._open_writer().lookups.pages_wanted(max_failures, partners)

    def pages_not_wanted(self, urls: Sequence[str], max_failures: int) -> set[str]:
        """Of ``urls``, the article pages a crawl does not ask for: stored already, or
        given up on after ``max_failures`` failed crawls in a row."""
        return self._open_writer().lookups.pages_not_wanted(urls, max_failures)

    def previous_crawl_stats(self) -> dict[str, Any] | None:
        """The stats of the newest successful crawl before this one: ``{}`` when there is
        none, ``None`` when they are not a JSON object. Raises :class:`ArchiveError`."""
        writer = self._open_writer()
        return writer.lookups.last_successful_stats(writer.crawl_id)

    def replay_source(self) -> Source | None:
        """The archive's own captures as a replay source (a re-parse), read on the
        writer's connection; None when the archive was refused."""
        return self._writer.captures if self._writer is not None else None

    # --- what this crawl writes ---------------------------------------------------------

    def queue_capture(self, capture: Capture) -> int | None:
        """Give a response's capture its id and keep it for the next batch's transaction;
        None (nothing kept) once nothing more is written."""
        if not self.usable:
            return None
        return self._open_writer().queue_capture(capture)

    @property
    def queued_bytes(self) -> int:
        """The bytes of the captures waiting for the next batch."""
        return self._writer.queued_bytes if self._writer is not None else 0

    def store(self, items: list[Item], touch_seen: bool = True) -> StoreResult | None:
        """Commit a batch (with the captures queued since the last one); None if it failed,
        in which case the crawl is stopping."""
        if not self.usable:
            return None
        assert self._writer is not None
        try:
            result = self._writer.store(items, touch_seen=touch_seen)
        except ArchiveError as exc:
            self.fail(exc)
            return None
        except Exception as exc:  # any batch not stored stops the crawl, never passes by
            self.fail(ArchiveError(f"a batch could not be stored ({type(exc).__name__}: {exc})"))
            return None
        if self._writer.crawl_id is not None:
            self.crawler.stats.set_value(crawlstats.CRAWL_ID, self._writer.crawl_id)
        return result

    def fail(self, exc: Exception) -> None:
        """Stop the crawl on a failed write, saying what this run committed before it: a
        re-parse counts the rows it changed (its batches of unchanged cards commit nothing
        new: "60 cards committed" was said by every rerun after a full disk)."""
        stats = crawlstats.CrawlStats(self.crawler.stats.get_stats())
        if setting(self.crawler.settings, "OLYSCRAPE_REPARSE"):
            done = f"{stats.count('changed_rows')} rows changed and committed before it"
        else:
            done = f"{stats.count('stored_cards')} cards committed before it"
        stop_crawl(self.crawler, f"{exc}; {done}")

    # --- the end of the crawl ---------------------------------------------------------

    def close_first(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Have ``closer`` run when the crawl closes, before the crawl's row is written: a
        component whose end belongs in the verdict (the feed exports, whose file may fail
        to store at the very end: the row said ``ok`` and the command exited 0)."""
        self._closing_first.append(closer)

    async def spider_closed(self, reason: str) -> None:
        """Run the closers of :meth:`close_first`, commit the captures still queued, then
        write the crawl's row with its verdict. Runs after Spidermon's checks (a later
        extension), which the verdict includes."""
        for closer in self._closing_first:
            await closer()
        if self._writer is None:
            self.close()  # the lock, if the archive was refused after it
            return
        if reason == crawlstats.UNKNOWN_PARTNER:  # a usage error: nothing is recorded
            self._writer.discard_queued()
            self._refused = True  # nor is its lock file left (the archive's bytes stay)
        else:
            if self.usable and self._writer.queued_bytes:
                self.store([])
            self.record(reason)
            self._count_archive()
        self.close()

    def _count_archive(self) -> None:
        """What the archive holds at the end, and what it still lacks (counted from the
        archive, not from this crawl: a hole an earlier crawl left is named too)."""
        assert self._writer is not None
        stats = self.crawler.stats
        max_failures = setting(self.crawler.settings, "OLYSCRAPE_PAGE_MAX_FAILURES")
        with suppress(ArchiveError):  # a failure was reported already
            counts = self._writer.lookups.counts()
            if self._writer.exists:
                missing = self._writer.lookups.missing_pages(max_failures)
                counts |= {"articles_without_page": missing.missing,
                           "pages_given_up": missing.given_up,
                           "page_max_failures": max_failures}  # fmt: skip
                stats.set_value(crawlstats.ARCHIVE_GIVEN_UP, missing.listed)
            stats.set_value(crawlstats.ARCHIVE_COUNTS, counts)

    def record(self, reason: str | None) -> None:
        """Write the crawl's row: ``ok``, ``failed`` or ``interrupted``, stats and reasons."""
        assert self._writer is not None
        if not self._writer.record_crawl:
            return
        stats = dict(self.crawler.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        judged = crawlstats.verdict(stats)
        try:
            self._writer.finish_crawl(judged.status, stats, judged.reasons, retry=True)
        except ArchiveError as exc:
            line = f"the crawl's own row could not be written: {exc}"
            self.crawler.stats.set_value(crawlstats.CRAWL_RECORD_ERROR, line)
            logger.error("%s", line)

    def abort(self) -> None:
        """After a forced stop (Scrapy never closed the spider): drop what was not
        committed and record the crawl as interrupted."""
        if self._writer is None:
            self.close()
            return
        self._writer.discard_queued()
        self.record(None)
        self._count_archive()
        self.close()

    def close(self) -> None:
        """Close the writer, which copies the WAL into the file, then give the lock back;
        say in the stats whether a reader kept the copy from finishing."""
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                writer.close()
                if writer.checked_fingerprint and self._lock is not None:
                    self._lock.note(f"{_CHECKED} {writer.checked_fingerprint}")
        finally:
            self._release()
        if writer is None:
            return
        stats = self.crawler.stats
        if writer.opening_checkpoint is not None:
            stats.set_value(
                crawlstats.ARCHIVE_CHECKPOINT_AT_OPEN, writer.opening_checkpoint.as_stats()
            )
        if writer.closing_checkpoint is not None:
            stats.set_value(crawlstats.ARCHIVE_CHECKPOINT, writer.closing_checkpoint.as_stats())
            if not writer.closing_checkpoint.complete:
                logger.warning(
                    "%s", checkpoint_line(self.path, writer.closing_checkpoint.as_stats())
                )

    def _release(self) -> None:
        """Give the archive's lock back (once): after the writer closed, or at once when
        the archive was refused and nothing will be written."""
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.release(discard=self._refused)


#: How the lock file names the archive's fingerprint after a clean, checked write session.
_CHECKED = "checked"


def _checked_fingerprint(lock: ArchiveLock) -> str | None:
    """The archive's fingerprint the previous writer left in the lock (see
    :mod:`olyscrape.archive.health`): the file as a full check found it sound."""
    note = lock.previous_note or ""
    kind, _, value = note.partition(" ")
    return value if kind == _CHECKED and value else None


def _lock_key(path: str) -> Path:
    """The archive's lock, named by the archive's real path (as :class:`ArchiveLock`)."""
    return ArchiveLock(path).archive
