"""Run the ``partners`` spider in this process and hand back its stats."""

from __future__ import annotations

import logging
import signal
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from olyscrape.extensions.archive import ArchiveKeeper
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


class _ProgressFilter(logging.Filter):
    """olyscrape's own INFO lines (progress), everybody else's warnings and errors, but
    not Spidermon's unittest-style report (olyscrape.monitors logs each failed check)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("[Spidermon]"):
            return False
        return record.levelno >= logging.WARNING or record.name.startswith("olyscrape")


def _configure_logging(verbose: bool) -> None:
    # Spidermon 1.27 still calls Spider.log(), which Scrapy 2.13+ deprecates.
    warnings.filterwarnings("ignore", message=r"Spider\.log\(\) is deprecated")
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    )
    if not verbose:
        handler.addFilter(_ProgressFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # Scrapy's own config sets its loggers to DEBUG: a record would be built for every
    # response and item ("Crawled", "Scraped from") only for the filter to drop it.
    logging.getLogger("scrapy").setLevel(logging.DEBUG if verbose else logging.WARNING)


class _Process(CrawlerProcess):
    """Scrapy's process, saying in one line why a stopping crawl still waits."""

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
    overrides = {"LOG_LEVEL": "INFO", "STATS_DUMP": verbose, "LOG_INSTALL_ROOT_HANDLER": False}
    process = _Process(project_settings(**overrides, **(settings or {})))
    _configure_logging(verbose)
    return process


def _spider_arguments(arguments: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in arguments.items() if v is not None}


@dataclass
class CrawlRun:
    """A crawl's stats (None when a failed probe kept it from running), and the stats of
    the probe run before it, if any."""

    stats: dict[str, Any] | None
    check: dict[str, Any] | None = None


def run_crawl(
    arguments: dict[str, Any],
    settings: dict[str, Any] | None = None,
    verbose: bool = False,
    on_check: Callable[[dict[str, Any]], None] | None = None,
) -> CrawlRun:
    """Run the ``partners`` spider with these spider ``arguments`` (see
    ``olyscrape.spiders.base.ARGUMENT_SETTINGS``) and extra ``settings``; return the
    crawl's stats once it has ended. With ``on_check``, the ``check`` probe runs first on
    the same site, and ``on_check`` gets its stats as soon as it ends; when the probe finds
    a broken point, the crawl does not run (its stats are None).

    Logs olyscrape's progress at INFO and Scrapy's own messages from WARNING up (all of
    them with ``verbose``), on stderr.
    """
    from olyscrape.spiders.check import CheckSpider

    process = _process(settings, verbose)
    # The first crawler created installs the reactor when it starts: the probe, if any.
    probe = process.create_crawler(CheckSpider) if on_check else None
    crawler = process.create_crawler(PartnersSpider)
    spider_arguments = _spider_arguments(arguments)
    started: list[bool] = []

    def crawl(_: Any = None) -> Any:
        if probe is not None and on_check is not None:
            assert probe.stats is not None
            checked = dict(probe.stats.get_stats())
            on_check(checked)
            if not probe_passed(checked):
                return None
        started.append(True)
        return process.crawl(crawler, **spider_arguments)

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
    if not started:
        return CrawlRun(None, probe_stats)
    try:
        keeper = crawler.get_extension(ArchiveKeeper)
    except RuntimeError:  # the crawl never started
        keeper = None
    if keeper is not None:
        keeper.abort()  # after a forced stop, which never closed the spider: interrupted
    assert crawler.stats is not None
    return CrawlRun(dict(crawler.stats.get_stats()), probe_stats)


def run_check(
    arguments: dict[str, Any], settings: dict[str, Any] | None = None, verbose: bool = False
) -> dict[str, Any]:
    """Run the ``check`` probe (:class:`~olyscrape.spiders.check.CheckSpider`) with these
    spider ``arguments`` (``base_url``, ``replay``, ``partners``) and return its stats,
    whose ``olyscrape/check/points`` say what holds."""
    from olyscrape.spiders.check import CheckSpider

    process = _process(settings, verbose)
    crawler = process.create_crawler(CheckSpider)
    process.crawl(crawler, **_spider_arguments(arguments))
    process.start()
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())


def run_reparse(db: str, verbose: bool = False) -> dict[str, Any]:
    """Rebuild cards and articles from the archive's captures, through the same spider and
    pipelines, with no network: every request is answered by the newest capture of its URL.
    Records no crawl and no capture, and leaves ``last_seen`` as it was."""
    settings = {
        "OLYSCRAPE_REPLAY_ARCHIVE": True,
        "OLYSCRAPE_REPARSE": True,
        "OLYSCRAPE_CAPTURE": False,
        "OLYSCRAPE_REFRESH_ARTICLES": True,
        "ROBOTSTXT_OBEY": False,
        "OLYSCRAPE_LOCK_HELD": True,
        "SPIDERMON_ENABLED": False,  # checks judge crawls of the site, not re-reads of it
    }
    stats = run_crawl({"db": db}, settings, verbose).stats
    assert stats is not None
    return stats
