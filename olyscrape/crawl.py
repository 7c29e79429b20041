"""Run a crawl, the ``check`` probe or a re-parse in this process, and say what it came to.

The runner between the command and Scrapy: it has the archive keeper take the archive's
lock before anything else (:meth:`ArchiveKeeper.reserved`), runs the spider, and returns a
:class:`CrawlOutcome`, which knows its exit code (the command prints; it decides nothing).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Literal

from scrapy import Spider
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from twisted.python.failure import Failure

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.archive import ArchiveError
from olyscrape.archive.paths import UnusablePath
from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.heldstops import HeldStops, hold_stops, reactor
from olyscrape.lock import ArchiveLocked
from olyscrape.runlog import RUNNER_PRIORITY, configure_logging, runner_settings
from olyscrape.site.points import probe_passed
from olyscrape.spiders.partners import PartnersSpider

logger = logging.getLogger(__name__)


def project_settings(**overrides: Any) -> Settings:
    """olyscrape's Scrapy settings, wherever the command runs from, plus ``overrides``."""
    settings = Settings()
    settings.setmodule("olyscrape.settings", priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


class _Process(CrawlerProcess):
    """Scrapy's process, saying in one line why a stopping crawl still waits, and acting on
    a stop signal held while it was being set up (:class:`HeldStops`)."""

    held: HeldStops | None = None

    def _setup_reactor(self, install_signal_handlers: bool) -> None:
        super()._setup_reactor(install_signal_handlers)
        held = self.held
        if install_signal_handlers and held is not None:
            # After Scrapy's own "after startup" trigger, which installs its handlers.
            reactor().addSystemEventTrigger("after", "startup", held.replay, self)

    @staticmethod
    def _log_shutdown(signum: int) -> None:
        logger.warning(
            "stopping: waiting for the requests in flight to end and the last batch to be"
            " committed to the archive (press Ctrl-C again to stop at once; what was"
            " committed stays)"
        )

    @staticmethod
    def _log_kill(signum: int) -> None:
        logger.warning("stopping at once: what was not committed is dropped")


def _process(settings: dict[str, Any] | None, verbose: bool) -> _Process:
    """A Scrapy process with olyscrape's settings plus ``settings``, logging olyscrape's
    progress (and, ``verbose``, Scrapy's own lines and stats) on stderr."""
    resolved = project_settings(**(settings or {}))
    for name, value in runner_settings(verbose).items():
        resolved.set(name, value, priority=RUNNER_PRIORITY)  # below a user's -s: it wins
    process = _Process(resolved)
    configure_logging(resolved, verbose)
    return process


def _spider_arguments(arguments: dict[str, Any]) -> dict[str, str]:
    """Spider arguments as ``scrapy crawl -a`` and Scrapyd give them: strings (a path
    included, which stays a ``str`` from here to the archive's writer)."""
    return {k: str(v) for k, v in arguments.items() if v is not None}


#: Above the command line's: the process's settings are copied over a crawler's when it
#: starts, and this must stay (the probe's feeds are none).
_ABOVE_CMDLINE = SETTINGS_PRIORITIES["cmdline"] + 10


# --- what a run came to ------------------------------------------------------------------

#: Exit codes: success, a failure (of the site, the crawl or the archive), a usage error,
#: and an archive another process holds.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
#: The site never answered (a name not resolved, connections refused or timed out): a
#: network outage, not a change of the site (``crawlstats.unreachable``).
EXIT_UNREACHABLE = 5

Kind = Literal["crawl", "check", "reparse"]


@dataclass(frozen=True)
class CrawlOutcome:
    """What a crawl, the probe (``check``) or a re-parse came to, and its exit code.

    ``stats`` are the run's; None when it never ran: the archive was busy or refused
    (``refused``, one line, and ``refusal_code``), or the probe a crawl ran first
    (``check``, its stats) found the site changed.
    """

    kind: Kind
    stats: dict[str, Any] | None = None
    check: dict[str, Any] | None = None
    refused: str | None = None
    refusal_code: int = EXIT_FAILED

    @property
    def locked(self) -> bool:
        """Another process (a crawl, a re-parse) held the archive: nothing was done."""
        return self.refused is not None and self.refusal_code == EXIT_LOCKED

    @property
    def exit_code(self) -> int:
        """0 only for a run that succeeded: a crawl whose verdict is ``ok``
        (:func:`olyscrape.crawlstats.verdict`), a probe whose every point holds, a re-parse that
        re-read every listing. 2 for partners the site does not list, 3 for a busy archive,
        5 for a site that never answered, 1 for every other failure."""
        if self.refused is not None:
            return self.refusal_code
        if self.check is not None and _names_unknown_partners(self.check):
            return EXIT_USAGE
        if self.stats is None:  # the probe found the site changed (or unreachable)
            return EXIT_UNREACHABLE if crawlstats.unreachable(self.check or {}) else EXIT_FAILED
        stats = self.stats
        if self.kind == "check":
            if stats.get(crawlstats.STORAGE_ERROR):
                return EXIT_FAILED
            if _names_unknown_partners(stats):
                return EXIT_USAGE
            if crawlstats.unreachable(stats):
                return EXIT_UNREACHABLE
            return EXIT_OK if probe_passed(stats) else EXIT_FAILED
        if self.kind == "reparse":
            crawl = crawlstats.CrawlStats(stats)
            failed = stats.get(crawlstats.STORAGE_ERROR) or crawl.count("errors")
            return EXIT_FAILED if failed or crawl.finish_reason != "finished" else EXIT_OK
        if _names_unknown_partners(stats):
            return EXIT_USAGE
        if stats.get(crawlstats.STORAGE_REFUSED):
            return EXIT_FAILED
        status = crawlstats.verdict(stats).status
        if status == crawlstats.UNREACHABLE:
            return EXIT_UNREACHABLE
        return EXIT_OK if status == "ok" else EXIT_FAILED


def _names_unknown_partners(stats: dict[str, Any]) -> bool:
    return crawlstats.CrawlStats(stats).finish_reason == crawlstats.UNKNOWN_PARTNER


def _refused(kind: Kind, exc: BaseException) -> CrawlOutcome:
    """The outcome of a run whose archive was busy or refused before it started."""
    if isinstance(exc, ArchiveLocked):
        what = "check" if kind == "check" else "crawl"
        return CrawlOutcome(kind, refused=f"{exc}; not starting a {what} on it.",
                            refusal_code=EXIT_LOCKED)  # fmt: skip
    code = EXIT_USAGE if isinstance(exc, UnusablePath) else EXIT_FAILED
    return CrawlOutcome(kind, refused=str(exc), refusal_code=code)


# --- the archive's lock, before anything else -----------------------------------------------


def _archive_of(
    spidercls: type[Spider], arguments: dict[str, str], settings: dict[str, Any] | None
) -> str | None:
    """The archive a run of ``spidercls`` will write, as its keeper will read it
    (``OLYSCRAPE_DB``, the ``db`` argument, the probe's ``--keep``); None for none."""
    resolved = project_settings(**(settings or {}))
    spidercls.update_settings(resolved)
    if arguments.get("db"):
        resolved.set("OLYSCRAPE_DB", arguments["db"], priority="spider")
    return setting(resolved, "OLYSCRAPE_DB") or None


def _reserve(stack: ExitStack, path: str | None) -> None:
    """Have the archive keeper take the archive's lock now, until ``stack`` closes (or
    the crawl's keeper closes): raises :class:`ArchiveLocked` or :class:`ArchiveError`."""
    if path:
        stack.enter_context(ArchiveKeeper.reserved(path))


def _start(
    process: CrawlerProcess,
    crawler: Crawler,
    arguments: dict[str, str],
    refusals: list[BaseException],
) -> Any:
    """Start ``crawler``. A keeper that finds its archive held by another process stops
    the crawl before it starts (an archive other than the one reserved, by ``-s
    OLYSCRAPE_DB``): that lands in ``refusals``; any other failure is Scrapy's to report."""

    def refused(failure: Failure) -> None:
        failure.trap(ArchiveLocked)
        if failure.value is not None:
            refusals.append(failure.value)

    return process.crawl(crawler, **arguments).addErrback(refused)


# --- the runs ------------------------------------------------------------------------------


def run_crawl(
    arguments: dict[str, Any],
    settings: dict[str, Any] | None = None,
    verbose: bool = False,
    on_check: Callable[[dict[str, Any]], None] | None = None,
) -> CrawlOutcome:
    """Run the ``partners`` spider with these spider ``arguments`` (see
    ``olyscrape.spiders.base.ARGUMENT_SETTINGS``) and extra ``settings``; return what
    it came to once it has ended. With ``on_check``, the ``check`` probe runs first on the
    same site, and ``on_check`` gets its stats as soon as it ends; when the probe finds a
    broken point, the crawl does not run (its stats are None). The archive's lock is taken
    before either starts.

    Logs olyscrape's progress at INFO and Scrapy's own messages from WARNING up (all of
    them with ``verbose``), on stderr.
    """
    from olyscrape.spiders.check import CheckSpider

    spider_arguments = _spider_arguments(arguments)
    with ExitStack() as stack:
        held = hold_stops(stack)
        try:
            _reserve(stack, _archive_of(PartnersSpider, spider_arguments, settings))
        except (ArchiveLocked, ArchiveError) as exc:
            return _refused("crawl", exc)
        process = _process(settings, verbose)
        process.held = held
        # The first crawler created installs the reactor when it starts: the probe, if any.
        probe = process.create_crawler(CheckSpider) if on_check else None
        if probe is not None:  # -o/-O are the crawl's articles: the probe writes no feed
            probe.settings.set("FEEDS", {}, priority=_ABOVE_CMDLINE)
        crawler = process.create_crawler(PartnersSpider)
        started: list[bool] = []
        refusals: list[BaseException] = []

        def crawl(_: Any = None) -> Any:
            if probe is not None and on_check is not None:
                assert probe.stats is not None
                checked = dict(probe.stats.get_stats())
                on_check(checked)
                if not probe_passed(checked):
                    return None
            started.append(True)
            return _start(process, crawler, spider_arguments, refusals)

        if probe is None:
            crawl()
        else:
            checked = {k: spider_arguments[k] for k in ("base_url", "replay", "partners")
                       if k in spider_arguments}  # fmt: skip
            process.crawl(probe, **checked).addCallback(crawl)
        process.start()
        # The crawl is over: a late Ctrl-C must not cut the crawl's record or its summary short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        probe_stats = dict(probe.stats.get_stats()) if probe and probe.stats else None
        if refusals:
            return _refused("crawl", refusals[0])
        if not started:
            return CrawlOutcome("crawl", None, probe_stats)
        try:
            keeper = crawler.get_extension(ArchiveKeeper)
        except RuntimeError:  # the crawl never started
            keeper = None
        if keeper is not None:
            keeper.abort()  # after a forced stop, which never closed the spider: interrupted
        assert crawler.stats is not None
        return CrawlOutcome("crawl", dict(crawler.stats.get_stats()), probe_stats)


def run_check(
    arguments: dict[str, Any], settings: dict[str, Any] | None = None, verbose: bool = False
) -> CrawlOutcome:
    """Run the ``check`` probe (:class:`~olyscrape.spiders.check.CheckSpider`) with these
    spider ``arguments`` (``base_url``, ``replay``, ``partners``); its stats'
    ``olyscrape/check/points`` say what holds. With ``OLYSCRAPE_CHECK_KEEP`` in
    ``settings``, the archive it keeps the pages in is locked before it starts."""
    from olyscrape.spiders.check import CheckSpider

    spider_arguments = _spider_arguments(arguments)
    with ExitStack() as stack:
        held = hold_stops(stack)
        try:
            _reserve(stack, _archive_of(CheckSpider, spider_arguments, settings))
        except (ArchiveLocked, ArchiveError) as exc:
            return _refused("check", exc)
        process = _process(settings, verbose)
        process.held = held
        crawler = process.create_crawler(CheckSpider)
        refusals: list[BaseException] = []
        _start(process, crawler, spider_arguments, refusals)
        process.start()
        if refusals:
            return _refused("check", refusals[0])
        assert crawler.stats is not None
        return CrawlOutcome("check", dict(crawler.stats.get_stats()))


def run_reparse(
    db: str, verbose: bool = False, settings: dict[str, Any] | None = None
) -> CrawlOutcome:
    """Rebuild cards and articles from the archive's captures, through the same spider and
    pipelines, with no network: every request is answered by the newest capture of its URL.
    Records no crawl and no capture, and leaves ``last_seen`` as it was. Extra ``settings``
    (``-s``, the log options) apply, except those that make it a re-parse, which win."""
    reparsing = {
        "OLYSCRAPE_REPLAY_ARCHIVE": True,
        "OLYSCRAPE_REPARSE": True,
        "OLYSCRAPE_CAPTURE": False,
        "OLYSCRAPE_REFRESH_ARTICLES": True,
        "ROBOTSTXT_OBEY": False,
        "SPIDERMON_ENABLED": False,  # checks judge crawls of the site, not re-reads of it
        "OLYSCRAPE_PROGRESS": True,
    }
    outcome = run_crawl({"db": db}, {**(settings or {}), **reparsing}, verbose)
    return CrawlOutcome("reparse", outcome.stats, refused=outcome.refused,
                        refusal_code=outcome.refusal_code)  # fmt: skip
