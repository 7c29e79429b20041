"""The same-job baseline of the crawl benchmark: the smallest plain Scrapy program that does
what ``olyscrape crawl --base-url MIRROR --full --no-articles`` does.

It reads the menu's TOP column, fetches each partner's listing page and every load-more
answer (the next offset adds what each answer brought; a short or empty answer ends a
partner: on the generated site, exactly the chain of URLs ``bare_spider.py`` reads from
its manifest, which the benchmark checks against the mirror's log), reads each card with
one parsel pass (five fields), makes links canonical (on ``https://olympics.com``, whether
root-relative or on the mirror) and dates ISO, and upserts the rows with ``executemany``
in one transaction per page, keeping each raw body (sha256 + zlib level 6) in the same
transaction. No item pipelines, no checks, no history, no full-text index: the job and
nothing else.

    python benchmarks/samejob_spider.py BASE_URL DB STATS.json [PARTNER,PARTNER,...]

Settings: Scrapy's defaults, except what olyscrape sets for a loopback mirror that bears on
speed (as ``bare_spider.py``). Writes Scrapy's stats as JSON to STATS.json at the end.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import sys
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from olyscrape import settings as olyscrape_settings
from olyscrape.spiders.base import LOCAL_ORIGIN_SETTINGS

ORIGIN = "https://olympics.com"
LOAD_MORE = re.compile(r"^(?P<prefix>.*)/(?P<count>\d+)/(?P<offset>\d+)/?$")
SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS articles (
    url TEXT PRIMARY KEY, title TEXT, category TEXT, published TEXT, published_raw TEXT,
    image_url TEXT, first_seen TEXT, last_seen TEXT);
CREATE TABLE IF NOT EXISTS article_partners (
    article_url TEXT, partner TEXT, position INTEGER, first_seen TEXT, last_seen TEXT,
    PRIMARY KEY (article_url, partner));
CREATE TABLE IF NOT EXISTS bodies (sha256 TEXT PRIMARY KEY, body BLOB);
CREATE TABLE IF NOT EXISTS captures (id INTEGER PRIMARY KEY, url TEXT, sha256 TEXT);
"""
UPSERT_ARTICLE = """
INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (url) DO UPDATE SET title = excluded.title, category = excluded.category,
    published = excluded.published, published_raw = excluded.published_raw,
    image_url = excluded.image_url, last_seen = excluded.last_seen
"""
UPSERT_LINK = """
INSERT INTO article_partners VALUES (?, ?, ?, ?, ?)
ON CONFLICT (article_url, partner) DO UPDATE SET
    position = excluded.position, last_seen = excluded.last_seen
"""


def canonical(href: str | None, base_url: str) -> str | None:
    """A link on ``https://olympics.com``: root-relative or on the mirror (``base_url``)."""
    if not href:
        return None
    if href.startswith(base_url + "/"):
        href = href[len(base_url) :]
    return ORIGIN + href if href.startswith("/") else href


def iso(date: str | None) -> str | None:
    try:
        return datetime.strptime(date.strip(), "%d %b %Y").date().isoformat() if date else None
    except ValueError:
        return None


class SameJobSpider(scrapy.Spider):
    name = "samejob"

    def __init__(self, base_url: str, db: str, partners: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.wanted = set(filter(None, partners.split(",")))
        self.conn = sqlite3.connect(db, isolation_level=None)
        self.conn.executescript(SCHEMA)
        self.now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.positions: dict[str, int] = {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.base_url + "/ioc/partners", callback=self.parse_menu)

    def parse_menu(self, response: Response) -> Iterator[scrapy.Request]:
        self.store(response, "", [])
        for column in response.css("div.drop-col"):
            if column.css("strong.title::text").get("").strip() != "TOP":
                continue
            for href in column.css("li a::attr(href)").getall():
                slug = href.rstrip("/").rsplit("/", 1)[-1]
                if not self.wanted or slug in self.wanted:
                    yield response.follow(href, self.parse_listing, cb_kwargs={"slug": slug})

    def parse_listing(self, response: Response, slug: str) -> Iterator[scrapy.Request]:
        base = self.base_url
        cards = [
            (
                canonical(card.css("h2 a::attr(href)").get(), base),
                card.xpath("normalize-space(.//h2/a)").get(),
                card.xpath("normalize-space(.//*[contains(@class, 'news-topic-label')])").get(),
                card.css("time::attr(datetime)").get() or card.css("time::text").get(),
                canonical(card.css("img::attr(src)").get(), base),
            )
            for card in response.css("div.ajax-area article")
        ]
        self.store(response, slug, cards)
        more = LOAD_MORE.match(response.css(".btn-more a::attr(href)").get("") or "")
        if more:
            yield self.load_more(
                response, slug, more["prefix"], int(more["count"]), int(more["offset"])
            )

    def load_more(
        self, response: Response, slug: str, prefix: str, count: int, offset: int
    ) -> scrapy.Request:
        return response.follow(
            f"{prefix}/{count}/{offset}/",
            self.parse_answer,
            cb_kwargs={"slug": slug, "prefix": prefix, "count": count, "offset": offset},
        )

    def parse_answer(
        self, response: Response, slug: str, prefix: str, count: int, offset: int
    ) -> Iterator[scrapy.Request]:
        content = json.loads(response.body)["content"]
        base = self.base_url
        cards = [
            (canonical(e.get("url"), base), e.get("title"), (e.get("topic") or {}).get("name"),
             e.get("date"), canonical((e.get("thumb") or {}).get("desktop"), base))
            for e in content
        ]  # fmt: skip
        self.store(response, slug, cards)
        if len(content) == count:
            yield self.load_more(response, slug, prefix, count, offset + len(content))

    def store(self, response: Response, slug: str, cards: list[tuple[Any, ...]]) -> None:
        """One transaction per page: its body, its cards, its partner links."""
        body = response.body
        digest = hashlib.sha256(body).hexdigest()
        articles, links = [], []
        for url, title, category, date, image in cards:
            if not url or not title:
                continue
            position = self.positions[slug] = self.positions.get(slug, 0) + 1
            articles.append((url, title, category, iso(date), date, image, self.now, self.now))
            links.append((url, slug, position, self.now, self.now))
        self.conn.execute("BEGIN")
        self.conn.execute(
            "INSERT INTO bodies VALUES (?, ?) ON CONFLICT DO NOTHING",
            (digest, zlib.compress(body, 6)),
        )
        self.conn.execute(
            "INSERT INTO captures (url, sha256) VALUES (?, ?)", (response.url, digest)
        )
        self.conn.executemany(UPSERT_ARTICLE, articles)
        self.conn.executemany(UPSERT_LINK, links)
        self.conn.execute("COMMIT")

    def closed(self, reason: str) -> None:
        self.conn.close()


def bare_settings() -> dict[str, Any]:
    """Scrapy's defaults, olyscrape's concurrency and loopback settings (as bare_spider)."""
    return {
        "CONCURRENT_REQUESTS": olyscrape_settings.CONCURRENT_REQUESTS,
        **LOCAL_ORIGIN_SETTINGS,
        # olyscrape prints no per-request lines either: neither pays for DEBUG records.
        "LOG_LEVEL": "INFO",
    }


def main(base_url: str, db: str, stats_path: str, partners: str = "") -> None:
    process = CrawlerProcess(bare_settings())
    crawler = process.create_crawler(SameJobSpider)
    process.crawl(crawler, base_url=base_url, db=db, partners=partners)
    process.start()
    stats = crawler.stats.get_stats()
    Path(stats_path).write_text(json.dumps(stats, default=str, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:5])
