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

    Logs olyscrape's progress at INFO and Scrapy's own messages at WARNING (all of them
    at INFO with ``verbose``).
    """
    settings = project_settings(
        LOG_LEVEL="INFO",
        LOG_FORMAT="%(asctime)s %(levelname)s %(name)s: %(message)s",
        LOG_DATEFORMAT="%H:%M:%S",
        STATS_DUMP=verbose,
    )
    process = CrawlerProcess(settings)
    if not verbose:
        logging.getLogger("scrapy").setLevel(logging.WARNING)
    crawler = process.create_crawler(PartnersSpider)
    arguments = {"db": db, "partners": partners, "base_url": base_url, "replay": replay}
    if max_pages:
        arguments["max_pages"] = str(max_pages)
    process.crawl(crawler, **{k: v for k, v in arguments.items() if v})
    process.start()
    return dict(crawler.stats.get_stats())
