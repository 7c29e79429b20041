"""Run the ``partners`` spider in this process and hand back its stats."""

from __future__ import annotations

import logging
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
    """olyscrape's own INFO lines (progress), everybody else's warnings and errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name.startswith("olyscrape")


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    )
    if not verbose:
        handler.addFilter(_ProgressFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def run_crawl(
    *,
    db: str,
    partners: str | None = None,
    base_url: str | None = None,
    replay: str | None = None,
    max_pages: int | None = None,
    verbose: bool = False,
) -> dict[str, Any]:
    """Crawl into the archive at ``db``; return the crawl's stats when it has ended.

    Logs olyscrape's progress at INFO and Scrapy's own messages from WARNING up (all of
    them with ``verbose``), on stderr.
    """
    settings = project_settings(
        LOG_LEVEL="INFO", STATS_DUMP=verbose, LOG_INSTALL_ROOT_HANDLER=False
    )
    process = CrawlerProcess(settings)
    _configure_logging(verbose)
    crawler = process.create_crawler(PartnersSpider)
    arguments = {"db": db, "partners": partners, "base_url": base_url, "replay": replay}
    if max_pages:
        arguments["max_pages"] = str(max_pages)
    process.crawl(crawler, **{k: v for k, v in arguments.items() if v})
    process.start()
    return dict(crawler.stats.get_stats())
