"""4. Archive writes: rows/s of ``ArchiveWriter.store`` in batches of 200 normalized cards (as the
store pipeline writes them) into a fresh archive, then re-upserting the same cards (a
re-crawl: ``last_seen`` moves, nothing else changes), against a raw ``sqlite3``
``executemany`` upsert (``INSERT ... ON CONFLICT DO UPDATE``) of the same rows into a plain
table with the columns of ``articles`` in its own file, with the same PRAGMAs (WAL,
``synchronous = NORMAL``) and the same transactions (one per batch).

``ArchiveWriter.store`` writes more than that table: a row of ``partner_links`` per card and
the FTS5 index (one statement per batch). To tell the writer's design from the schema's
cost, a plain program's upserts into a fresh archive's schema are measured too (no target):
per card, olyscrape's article upsert and a link upsert naming the article by URL, then the
batch's FTS5 statement. Each measurement runs ``repeats`` times in turn on fresh files;
median kept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.common import Options, Result, Row
from olyscrape.archive import ArchiveWriter
from olyscrape.archive import batch as archive_module
from olyscrape.archive.migrations import migrate
from olyscrape.archive.schema import INDEX_NEW_ROWS, INDEXED_UP_TO
from olyscrape.items import ArticleCard
from olyscrape.testing import sitegen

NAME = "archive"
TITLE = "ArchiveWriter.store against raw sqlite3 upserts"
TARGET = 0.5
FIRST_SEEN = "2026-01-01T00:00:00Z"
SEEN_AGAIN = "2026-01-02T00:00:00Z"

_PLAIN_TABLE = """
CREATE TABLE articles (
    url TEXT PRIMARY KEY, title TEXT, category TEXT, published TEXT, published_raw TEXT,
    image_url TEXT, first_seen TEXT, last_seen TEXT, body TEXT, page_published TEXT,
    capture_id INTEGER
)
"""
_PLAIN_UPSERT = """
INSERT INTO articles
    (url, title, category, published, published_raw, image_url, capture_id, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (url) DO UPDATE SET
    title = excluded.title, category = excluded.category, published = excluded.published,
    published_raw = excluded.published_raw, image_url = excluded.image_url,
    capture_id = excluded.capture_id, last_seen = excluded.last_seen
"""


def make_cards(count: int) -> list[ArticleCard]:
    """Normalized cards as the store pipeline receives them: canonical links, clean text,
    ISO dates, a partner and a position."""
    b = sitegen
    words = common.Words(size=5_000, seed=13)
    slugs = [slug for slug, _, _ in b.PARTNERS]
    cards = []
    for n in range(count):
        partner = slugs[n % len(slugs)]
        title = words.text(8).capitalize()
        raw = common._date(n)
        day, month, year = raw.split()
        iso = f"{year}-{b.MONTHS.index(month) + 1:02d}-{day}"
        cards.append(
            ArticleCard(
                url=f"https://olympics.com/ioc/news/{b.slugify(title)}-{n}",
                title=title,
                category=common.LABELS[n % len(common.LABELS)],
                published_raw=raw,
                published=iso,
                image_url=f"https://stillmed.olympic.org/media/Images/{n}-thumbnail.jpg",
                partner=partner,
                position=n // len(slugs) + 1,
                page_url=f"https://olympics.com/ioc/{partner}",
            )
        )
    return cards


def _batches(cards: Sequence[ArticleCard], size: int) -> list[Sequence[ArticleCard]]:
    return [cards[i : i + size] for i in range(0, len(cards), size)]


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _plain_rows(batch: Sequence[ArticleCard], seen: str) -> list[tuple[Any, ...]]:
    return [
        (c.url, c.title, c.category, c.published, c.published_raw, c.image_url, c.capture_id,
         seen, seen)
        for c in batch
    ]  # fmt: skip


def _schema_rows(batch: Sequence[ArticleCard], seen: str) -> list[dict[str, Any]]:
    return [
        {"url": c.url, "title": c.title, "category": c.category, "published": c.published,
         "published_raw": c.published_raw, "image_url": c.image_url, "partner": c.partner,
         "position": c.position, "capture_id": c.capture_id, "seen": seen, "touch": True}
        for c in batch
    ]  # fmt: skip


class Contender:
    """A way to write the cards: a fresh file, then ``write(batches, seen)``."""

    def __init__(self, work: Path, name: str) -> None:
        self.work, self.name, self.count = work, name, 0

    def fresh(self) -> None:
        raise NotImplementedError

    def write(self, batches: list[Sequence[ArticleCard]], seen: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _path(self) -> Path:
        self.count += 1
        return self.work / f"{self.name}-{self.count}.db"


def _create_schema(path: Path) -> None:
    """An empty archive at ``path``: the schema, the FTS5 table and its triggers."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn)
    conn.close()


class OlyscrapeStore(Contender):
    def fresh(self) -> None:
        self.archive = ArchiveWriter.open(self._path(), record_crawl=False)

    def write(self, batches: list[Sequence[ArticleCard]], seen: str) -> None:
        for batch in batches:
            self.archive.store(batch, seen_at=seen)

    def close(self) -> None:
        self.archive.close()


class PlainUpsert(Contender):
    def fresh(self) -> None:
        self.conn = _connect(self._path())
        self.conn.execute(_PLAIN_TABLE)

    def write(self, batches: list[Sequence[ArticleCard]], seen: str) -> None:
        for batch in batches:
            with self.conn:
                self.conn.executemany(_PLAIN_UPSERT, _plain_rows(batch, seen))

    def close(self) -> None:
        self.conn.close()


#: A card's link, upserted the plain way: its article found by URL.
_SCHEMA_UPSERT_LINK = """
INSERT INTO partner_links (article_id, partner, position, first_seen, last_seen)
VALUES ((SELECT id FROM articles WHERE url = :url), :partner, :position, :seen, :seen)
ON CONFLICT (article_id, partner) DO UPDATE SET
    position = excluded.position, last_seen = excluded.last_seen
"""


class SchemaUpsert(Contender):
    """Row-by-row upserts of each card and its link into an archive's schema, FTS included,
    with none of ``ArchiveWriter.store``'s change detection around them."""

    def fresh(self) -> None:
        path = self._path()
        _create_schema(path)
        self.conn = _connect(path)

    def write(self, batches: list[Sequence[ArticleCard]], seen: str) -> None:
        for batch in batches:
            rows = _schema_rows(batch, seen)
            with self.conn:
                after = self.conn.execute(INDEXED_UP_TO).fetchone()[0]
                self.conn.executemany(archive_module._UPSERT_ARTICLE, rows)
                self.conn.executemany(_SCHEMA_UPSERT_LINK, rows)
                self.conn.execute(INDEX_NEW_ROWS, {"after": after})

    def close(self) -> None:
        self.conn.close()


def _measure(contender: Contender, batches: list[Sequence[ArticleCard]], rows: int) -> dict:
    contender.fresh()
    try:
        insert, _ = common.timed(lambda: contender.write(batches, FIRST_SEEN))
        again, _ = common.timed(lambda: contender.write(batches, SEEN_AGAIN))
    finally:
        contender.close()
    return {"insert": rows / insert, "upsert": rows / again}


def run(options: Options) -> Result:
    result = Result()
    rows = options.archive_rows
    cards = make_cards(rows)
    batches = _batches(cards, options.archive_batch)
    work = common.scratch_dir("archive-")
    contenders = {
        "olyscrape": OlyscrapeStore(work, "olyscrape"),
        "plain": PlainUpsert(work, "plain"),
        "schema": SchemaUpsert(work, "schema"),
    }
    measured: dict[str, list[dict]] = {name: [] for name in contenders}

    def measure(name: str) -> Callable[[], float]:
        def one() -> float:
            figures = _measure(contenders[name], batches, rows)
            measured[name].append(figures)
            return figures["insert"]

        return one

    common.alternate({name: measure(name) for name in contenders}, options.repeats)
    check = sqlite3.connect(work / f"olyscrape-{contenders['olyscrape'].count}.db")
    stored = check.execute("SELECT count(*) FROM articles").fetchone()[0]
    check.close()
    if stored != rows:
        raise RuntimeError(f"ArchiveWriter.store left {stored} articles, expected {rows}")

    def med(name: str, key: str) -> float:
        return common.median([m[key] for m in measured[name]])

    result.details = {"rows": rows, "batch": options.archive_batch, "rows_per_s": measured}
    for key, label in (("insert", "new rows"), ("upsert", "re-upsert existing")):
        figure, baseline = med("olyscrape", key), med("plain", key)
        value = common.ratio(figure, baseline)
        result.add(
            Row(
                NAME,
                f"store(), {label}",
                figure,
                "rows/s",
                baseline=baseline,
                baseline_unit="rows/s",
                ratio=value,
                target=f"ratio >= {TARGET}",
                passed=value is not None and value >= TARGET,
                note="baseline: raw sqlite3 executemany upsert into a plain table",
            )
        )
    for key, label in (("insert", "new rows"), ("upsert", "re-upsert")):
        figure, baseline = med("olyscrape", key), med("schema", key)
        result.add(
            Row(
                NAME,
                f"store() vs same SQL+schema, {label}",
                figure,
                "rows/s",
                baseline=baseline,
                baseline_unit="rows/s",
                ratio=common.ratio(figure, baseline),
                note="baseline: per-card upserts, raw, into the archive schema (FTS, links)",
            )
        )
    return result
