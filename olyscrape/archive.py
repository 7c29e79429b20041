"""The SQLite archive: schema, migrations, writes and queries.

This is the only module that writes SQL. Everything else (pipelines, extensions, the
CLI) goes through :class:`Archive`. Times are UTC ISO-8601 strings.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from olyscrape.items import ArticleCard, Partner

#: Table → (columns in order, primary key). Opening an older archive adds what is
#: missing here (tables, columns); nothing is ever dropped or rewritten.
SCHEMA: dict[str, tuple[dict[str, type], str | tuple[str, ...]]] = {
    "partners": ({"slug": str, "name": str, "url": str}, "slug"),
    "articles": (
        {
            "url": str,
            "title": str,
            "category": str,
            "published": str,
            "published_raw": str,
            "image_url": str,
            "first_seen": str,
            "last_seen": str,
        },
        "url",
    ),
    "article_partners": (
        {"article_url": str, "partner": str, "position": int, "first_seen": str, "last_seen": str},
        ("article_url", "partner"),
    ),
    "crawls": (
        {"id": int, "started_at": str, "finished_at": str, "status": str, "stats": str},
        "id",
    ),
}

INDEXES = {
    "article_partners": [["partner"]],
    "articles": [["published"]],
}

# Fields compared to tell an updated article from an unchanged one.
_TRACKED = ("title", "category", "published", "published_raw", "image_url")

_UPSERT_ARTICLE = """
INSERT INTO articles
    (url, title, category, published, published_raw, image_url, first_seen, last_seen)
VALUES (:url, :title, :category, :published, :published_raw, :image_url, :seen, :seen)
ON CONFLICT (url) DO UPDATE SET
    title = COALESCE(excluded.title, title),
    category = COALESCE(excluded.category, category),
    published = COALESCE(excluded.published, published),
    published_raw = COALESCE(excluded.published_raw, published_raw),
    image_url = COALESCE(excluded.image_url, image_url),
    last_seen = excluded.last_seen
"""

_UPSERT_LINK = """
INSERT INTO article_partners (article_url, partner, position, first_seen, last_seen)
VALUES (:url, :partner, :position, :seen, :seen)
ON CONFLICT (article_url, partner) DO UPDATE SET
    position = COALESCE(excluded.position, position),
    last_seen = excluded.last_seen
"""

_UPSERT_PARTNER = """
INSERT INTO partners (slug, name, url) VALUES (:slug, :name, :url)
ON CONFLICT (slug) DO UPDATE SET name = excluded.name, url = excluded.url
"""


class ArchiveError(Exception):
    """The archive cannot be opened or used (not SQLite, unreadable, locked...)."""


def utcnow() -> str:
    """Now, as the archive writes times: UTC ISO-8601 to the second, with a ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StoreResult:
    """What a batch of cards did to the archive, per partner."""

    new: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, partner: str) -> None:
        bucket = getattr(self, kind)
        bucket[partner] = bucket.get(partner, 0) + 1


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Archive:
    """An olyscrape archive on disk (created, and brought up to date, on open)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    @classmethod
    def open(cls, path: str | Path) -> Archive:
        """Open (creating it and its folder if needed) and migrate the archive at ``path``."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=30)
            archive = cls(sqlite_utils.Database(conn))
            archive.db.execute("PRAGMA busy_timeout = 30000")
            archive.db.enable_wal()
            archive.migrate()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise ArchiveError(f"cannot open archive {path}: {exc}") from None
        return archive

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------

    def migrate(self) -> None:
        """Create missing tables, columns and indexes; never drop anything."""
        with self.db.conn:
            for name, (columns, pk) in SCHEMA.items():
                table = self.db.table(name)
                if not table.exists():
                    table.create(columns, pk=pk)
                    continue
                for column, kind in columns.items():
                    if column not in table.columns_dict:
                        table.add_column(column, kind)
            for name, indexes in INDEXES.items():
                for columns in indexes:
                    self.db.table(name).create_index(columns, if_not_exists=True)

    # --- writes -------------------------------------------------------------------

    def upsert_partners(self, partners: Iterable[Partner]) -> None:
        rows = [{"slug": p.slug, "name": p.name, "url": p.url} for p in partners]
        with self.db.conn:
            self.db.conn.executemany(_UPSERT_PARTNER, rows)

    def _existing(
        self, cards: Sequence[ArticleCard]
    ) -> tuple[dict[str, dict], set[tuple[str, str]]]:
        """The archived rows and partner links of a batch's articles."""
        urls = sorted({c.url for c in cards if c.url})
        articles: dict[str, dict] = {}
        links: set[tuple[str, str]] = set()
        for chunk in _chunks(urls):
            marks = ",".join("?" * len(chunk))
            for row in self.db.query(f"SELECT * FROM articles WHERE url IN ({marks})", chunk):
                articles[row["url"]] = row
            sql = (
                f"SELECT article_url, partner FROM article_partners WHERE article_url IN ({marks})"
            )
            links.update((r["article_url"], r["partner"]) for r in self.db.query(sql, chunk))
        return articles, links

    def store_cards(self, cards: Sequence[ArticleCard], seen_at: str | None = None) -> StoreResult:
        """Upsert a batch of normalized cards in one transaction.

        A true upsert: existing rows are updated in place (``first_seen`` kept, empty
        values never overwrite archived ones), never deleted and re-inserted.
        """
        seen = seen_at or utcnow()
        articles, links = self._existing(cards)
        result = StoreResult()
        rows = []
        for card in cards:
            row = {name: getattr(card, name) for name in _TRACKED}
            row |= {
                "url": card.url,
                "partner": card.partner,
                "position": card.position,
                "seen": seen,
            }
            rows.append(row)
            old = articles.get(card.url)
            if (card.url, card.partner) not in links:
                result.count("new", card.partner)
            elif old and any(row[f] is not None and row[f] != old[f] for f in _TRACKED):
                result.count("updated", card.partner)
        with self.db.conn:
            self.db.conn.executemany(_UPSERT_ARTICLE, rows)
            self.db.conn.executemany(_UPSERT_LINK, rows)
        return result

    # --- crawls -------------------------------------------------------------------

    def start_crawl(self, started_at: str | None = None) -> int:
        with self.db.conn:
            cursor = self.db.conn.execute(
                "INSERT INTO crawls (started_at, status) VALUES (?, 'running')",
                [started_at or utcnow()],
            )
        return int(cursor.lastrowid)

    def finish_crawl(self, crawl_id: int, status: str, stats: dict[str, Any]) -> None:
        with self.db.conn:
            self.db.conn.execute(
                "UPDATE crawls SET finished_at = ?, status = ?, stats = ? WHERE id = ?",
                [utcnow(), status, json.dumps(stats, default=str, sort_keys=True), crawl_id],
            )

    # --- reads --------------------------------------------------------------------

    def count(self, table: str) -> int:
        return self.db.table(table).count

    def crawl(self, crawl_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM crawls WHERE id = ?", [crawl_id]))
        return rows[0] if rows else None
