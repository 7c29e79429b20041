"""Run the ``partners`` spider in this process and hand back its stats."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from olyscrape.spiders.partners import PartnersSpider


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


def run_crawl(
    arguments: dict[str, Any], settings: dict[str, Any] | None = None, verbose: bool = False
) -> dict[str, Any]:
    """Run the ``partners`` spider with these spider ``arguments`` (see
    ``olyscrape.spiders.partners.ARGUMENT_SETTINGS``) and extra ``settings``; return the
    crawl's stats once it has ended.

    Logs olyscrape's progress at INFO and Scrapy's own messages from WARNING up (all of
    them with ``verbose``), on stderr.
    """
    overrides = {"LOG_LEVEL": "INFO", "STATS_DUMP": verbose, "LOG_INSTALL_ROOT_HANDLER": False}
    process = CrawlerProcess(project_settings(**overrides, **(settings or {})))
    _configure_logging(verbose)
    crawler = process.create_crawler(PartnersSpider)
    process.crawl(crawler, **{k: str(v) for k, v in arguments.items() if v is not None})
    process.start()
    return dict(crawler.stats.get_stats())


def run_reparse(db: str, verbose: bool = False) -> dict[str, Any]:
    """Rebuild cards and articles from the archive's captures, through the same spider and
    pipelines, with no network: every request is answered by the newest capture of its URL.
    Records no crawl and no capture, and leaves ``last_seen`` as it was."""
    settings = {
        "OLYSCRAPE_REPLAY_ARCHIVE": db,
        "OLYSCRAPE_REPARSE": True,
        "OLYSCRAPE_CAPTURE": False,
        "OLYSCRAPE_REFRESH_ARTICLES": True,
        "ROBOTSTXT_OBEY": False,
        "OLYSCRAPE_LOCK_HELD": True,
        "SPIDERMON_ENABLED": False,  # checks judge crawls of the site, not re-reads of it
    }
    return run_crawl({"db": db}, settings, verbose)
