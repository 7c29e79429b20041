"""The baseline of the crawl benchmark: a bare Scrapy spider that fetches exactly the URLs
an olyscrape crawl of the generated site fetches, in the same dependency order (discovery,
then per partner its listing, then each load-more answer only once the previous one has
arrived), and parses nothing: the next URL comes from a manifest, not from the page.

    python benchmarks/bare_spider.py MANIFEST.json STATS.json [items]

With ``items`` it also yields, per page, one tiny dict item per card the page holds
(counts from the manifest, still nothing parsed; no item pipelines): what Scrapy itself
charges for carrying items, the floor under any spider that yields one item per card.

Settings: Scrapy's defaults, except what olyscrape sets for a loopback mirror that bears
on speed: ``CONCURRENT_REQUESTS`` from ``olyscrape.settings`` and every entry of
``olyscrape.spiders.base.LOCAL_ORIGIN_SETTINGS`` (no delay, no AutoThrottle, per-domain
concurrency, robots.txt not read). Writes Scrapy's stats as JSON to STATS.json when the crawl ends.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from olyscrape import settings as olyscrape_settings
from olyscrape.spiders.base import LOCAL_ORIGIN_SETTINGS


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, manifest: str, items: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        data = json.loads(Path(manifest).read_text())
        self.base_url: str = data["base_url"]
        self.discovery: str = data["discovery"]
        self.chains: dict[str, list[str]] = data["chains"]
        self.cards: dict[str, list[int]] = data["cards"]
        self.items = items

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.base_url + self.discovery, callback=self.discovered)

    def discovered(self, response: Response) -> Iterator[scrapy.Request]:
        for slug in self.chains:
            yield self._step_request(slug, 0)

    def _step_request(self, slug: str, index: int) -> scrapy.Request:
        return scrapy.Request(
            self.base_url + self.chains[slug][index],
            callback=self.step,
            cb_kwargs={"slug": slug, "index": index},
        )

    def step(
        self, response: Response, slug: str, index: int
    ) -> Iterator[scrapy.Request | dict[str, Any]]:
        if self.items:
            for n in range(self.cards[slug][index]):
                yield {"partner": slug, "n": n}
        if index + 1 < len(self.chains[slug]):
            yield self._step_request(slug, index + 1)


def bare_settings() -> dict[str, Any]:
    return {
        "CONCURRENT_REQUESTS": olyscrape_settings.CONCURRENT_REQUESTS,
        **LOCAL_ORIGIN_SETTINGS,
    }


def main(manifest: str, stats_path: str, items: str = "") -> None:
    process = CrawlerProcess(bare_settings())
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, manifest=manifest, items=items == "items")
    process.start()
    stats = crawler.stats.get_stats()
    Path(stats_path).write_text(json.dumps(stats, default=str, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:4])
