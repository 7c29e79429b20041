"""The SQLite archive: schema, migrations, writes and queries.

This is the only module that writes SQL. Everything else (pipelines, extensions, the
CLI) goes through :class:`Archive`. Times are UTC ISO-8601 strings.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from olyscrape.items import ArticleBody, ArticleCard, Partner, WalkDone

#: Table → (columns in order, primary key). Opening an older archive adds what is
#: missing here (tables, columns); nothing is ever dropped or rewritten.
SCHEMA: dict[str, tuple[dict[str, type], str | tuple[str, ...]]] = {
    "partners": (
        {"slug": str, "name": str, "url": str, "walk_started": str, "walk_completed": str},
        "slug",
    ),
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
            "body": str,
            "page_published": str,
            "capture_id": int,
        },
        "url",
    ),
    "article_tags": ({"article_url": str, "tag": str}, ("article_url", "tag")),
    "article_versions": (
        {
            "id": int,
            "article_url": str,
            "changed_at": str,
            "crawl_id": int,
            "title": str,
            "category": str,
            "published": str,
            "body": str,
        },
        "id",
    ),
    "captures": (
        {
            "id": int,
            "url": str,
            "canonical_url": str,
            "fetched_at": str,
            "status": int,
            "content_type": str,
            "sha256": str,
            "crawl_id": int,
        },
        "id",
    ),
    "capture_bodies": ({"sha256": str, "size": int, "body": bytes}, "sha256"),
    "article_partners": (
        {"article_url": str, "partner": str, "position": int, "first_seen": str, "last_seen": str},
        ("article_url", "partner"),
    ),
    "crawls": (
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "stats": str,
            "reasons": str,
        },
        "id",
    ),
}

#: Full-text search over these article columns (FTS5, kept in sync by triggers).
FTS_COLUMNS = ["title", "body"]

#: One row per article and partner that showed it: what researchers facet and filter on.
VIEWS = {
    "partner_articles": """
        SELECT a.rowid AS article_rowid, ap.partner, a.url, a.title, a.category, a.published,
               substr(a.published, 1, 4) AS year, ap.position, a.body, a.first_seen, a.last_seen
        FROM articles a JOIN article_partners ap ON ap.article_url = a.url
    """,
}

_OLD, _NEW = "old.rowid, old.title, old.body", "new.rowid, new.title, new.body"
#: Keep articles_fts in step with articles, re-indexing a row only when its text changes
#: (a crawl touching last_seen, or a re-parse writing the same text, costs nothing).
_FTS_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts (rowid, title, body) VALUES ({_NEW}); END""",
    f"""CREATE TRIGGER IF NOT EXISTS articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, body)
        VALUES ('delete', {_OLD}); END""",
    f"""CREATE TRIGGER IF NOT EXISTS articles_fts_au AFTER UPDATE OF title, body ON articles
        WHEN old.title IS NOT new.title OR old.body IS NOT new.body BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', {_OLD});
        INSERT INTO articles_fts (rowid, title, body) VALUES ({_NEW}); END""",
]

#: Canned queries (``olyscrape browse`` offers them in Datasette): name → (title,
#: description, SQL).
CANNED_QUERIES: dict[str, tuple[str, str, str]] = {
    "articles_by_partner_per_year": (
        "Articles per partner per year",
        "How many articles each partner's listing showed, per year of publication.",
        """
SELECT partner, coalesce(year, 'undated') AS year, count(*) AS count
FROM partner_articles
GROUP BY partner, year
ORDER BY partner, year
""",
    ),
    "newest_per_partner": (
        "Newest article of each partner",
        "The most recently published article each partner's listing showed.",
        """
SELECT partner, title, url, published
FROM (
  SELECT partner, title, url, published,
         row_number() OVER (PARTITION BY partner ORDER BY published DESC, url) AS place
  FROM partner_articles
  WHERE published IS NOT NULL
)
WHERE place = 1
ORDER BY published DESC, partner
""",
    ),
    "shared_articles": (
        "Articles shown by more than one partner",
        "Articles that several partners' listings showed, with those partners.",
        """
SELECT url, title, published, group_concat(partner, ', ') AS partners,
       count(*) AS partner_count
FROM (SELECT url, title, published, partner FROM partner_articles ORDER BY url, partner)
GROUP BY url
HAVING count(*) > 1
ORDER BY partner_count DESC, published DESC
""",
    ),
}

INDEXES = {
    "article_partners": [["partner"]],
    "articles": [["published"]],
    "article_versions": [["article_url"]],
    "captures": [["canonical_url"]],
}

# Fields compared to tell an updated article from an unchanged one.
_TRACKED = ("title", "category", "published", "published_raw", "image_url")
# Fields whose change keeps the previous values in article_versions.
_VERSIONED = ("title", "category", "published", "body")

# ``:touch`` is false for a re-parse, which must not move last_seen.
_UPSERT_ARTICLE = """
INSERT INTO articles
    (url, title, category, published, published_raw, image_url, capture_id, first_seen, last_seen)
VALUES (:url, :title, :category, :published, :published_raw, :image_url, :capture_id, :seen, :seen)
ON CONFLICT (url) DO UPDATE SET
    title = COALESCE(excluded.title, title),
    category = COALESCE(excluded.category, category),
    published = COALESCE(excluded.published, published),
    published_raw = COALESCE(excluded.published_raw, published_raw),
    image_url = COALESCE(excluded.image_url, image_url),
    capture_id = COALESCE(excluded.capture_id, capture_id),
    last_seen = CASE WHEN :touch THEN excluded.last_seen ELSE last_seen END
"""

_UPSERT_LINK = """
INSERT INTO article_partners (article_url, partner, position, first_seen, last_seen)
VALUES (:url, :partner, :position, :seen, :seen)
ON CONFLICT (article_url, partner) DO UPDATE SET
    position = COALESCE(excluded.position, position),
    last_seen = CASE WHEN :touch THEN excluded.last_seen ELSE last_seen END
"""

_UPSERT_BODY = """
INSERT INTO articles (url, body, page_published, capture_id, first_seen, last_seen)
VALUES (:url, :body, :published, :capture_id, :seen, :seen)
ON CONFLICT (url) DO UPDATE SET
    body = COALESCE(excluded.body, body),
    page_published = COALESCE(excluded.page_published, page_published),
    capture_id = COALESCE(excluded.capture_id, capture_id)
"""

_INSERT_TAG = """
INSERT INTO article_tags (article_url, tag) VALUES (?, ?) ON CONFLICT DO NOTHING
"""

_INSERT_VERSION = """
INSERT INTO article_versions (article_url, changed_at, crawl_id, title, category, published, body)
VALUES (:url, :changed_at, :crawl_id, :title, :category, :published, :body)
"""

_BODY_STORED = "SELECT 1 FROM capture_bodies WHERE sha256 = ?"
_INSERT_BODY = "INSERT INTO capture_bodies (sha256, size, body) VALUES (?, ?, ?)"
_INSERT_CAPTURE = """
INSERT INTO captures (url, canonical_url, fetched_at, status, content_type, sha256, crawl_id)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""

_UPSERT_PARTNER = """
INSERT INTO partners (slug, name, url, walk_started) VALUES (:slug, :name, :url, :started)
ON CONFLICT (slug) DO UPDATE SET
    name = excluded.name, url = excluded.url,
    walk_started = COALESCE(excluded.walk_started, walk_started)
"""

_FINISH_CRAWL = "UPDATE crawls SET finished_at = ?, status = ?, stats = ?, reasons = ? WHERE id = ?"

_COMPLETE_WALK = "UPDATE partners SET walk_completed = :seen WHERE slug = :partner"


@dataclass
class Capture:
    """A response as the crawl received it (``url`` as fetched, maybe from a mirror)."""

    url: str
    canonical_url: str
    status: int
    content_type: str | None
    body: bytes
    fetched_at: str | None = None
    id: int | None = None


class ArchiveError(Exception):
    """The archive cannot be opened or used (not SQLite, unreadable, locked...)."""


class QueryError(ArchiveError):
    """A query the archive refuses: malformed search syntax, bad SQL, or an attempt to write."""


@dataclass
class ArticleQuery:
    """Filters of ``olyscrape articles``; dates are ISO ``YYYY-MM-DD`` bounds, inclusive."""

    partner: str | None = None
    category: str | None = None
    since: str | None = None
    until: str | None = None
    search: str | None = None
    limit: int | None = None


_PARTNERS_OF = """(SELECT group_concat(partner, ',') FROM
    (SELECT partner FROM article_partners WHERE article_url = a.url ORDER BY partner))"""

_SEARCH = f"""
SELECT a.url, a.title, a.category, a.published, {_PARTNERS_OF} AS partners,
       snippet(articles_fts, -1, :open, :close, '…', 16) AS snippet
FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid
WHERE articles_fts MATCH :query
ORDER BY bm25(articles_fts, 5.0, 1.0)
LIMIT :limit
"""

_WRITE_ACTIONS = {
    getattr(sqlite3, name)
    for name in dir(sqlite3)
    if name.startswith(("SQLITE_CREATE", "SQLITE_DROP", "SQLITE_ALTER"))
    or name in ("SQLITE_ATTACH", "SQLITE_DETACH", "SQLITE_REINDEX", "SQLITE_ANALYZE")
}  # fmt: skip


def _read_only_authorizer(action: int, *args: Any) -> int:
    """Deny schema changes and attaching other files. Row writes are refused by the
    read-only connection itself (FTS5 prepares UPDATEs of its own shadow tables while
    reading, so the authorizer cannot refuse those)."""
    return sqlite3.SQLITE_DENY if action in _WRITE_ACTIONS else sqlite3.SQLITE_OK


def _split_partners(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row | {"partners": (row["partners"] or "").split(",") if row["partners"] else []}
            for row in rows]  # fmt: skip


def utcnow() -> str:
    """Now, as the archive writes times: UTC ISO-8601 to the second, with a ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StoreResult:
    """What a batch did to the archive: per partner ``new`` links and ``updated`` articles;
    in all, ``new_articles``, ``bodies`` (stored or changed) and ``versions`` kept."""

    new: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    new_articles: int = 0
    bodies: int = 0
    versions: int = 0

    def count(self, kind: str, partner: str) -> None:
        bucket = getattr(self, kind)
        bucket[partner] = bucket.get(partner, 0) + 1

    @property
    def changed_rows(self) -> int:
        """Rows added or changed: articles, partner links, bodies."""
        return self.new_articles + sum(self.new.values()) + sum(self.updated.values()) + self.bodies


def _changed(new: dict[str, Any], old: dict[str, Any], fields: Iterable[str]) -> bool:
    """True when a field brings a value that differs from the archived one."""
    return any(new.get(f) is not None and new.get(f) != old.get(f) for f in fields)


def _replaced(new: dict[str, Any], old: dict[str, Any], fields: Iterable[str]) -> bool:
    """True when a field replaces an archived value (not merely fills an empty one)."""
    return any(old.get(f) is not None and new.get(f) not in (None, old.get(f)) for f in fields)


def _crawl_summary(row: dict[str, Any]) -> dict[str, Any]:
    stats = json.loads(row.pop("stats") or "{}")
    reasons = json.loads(row.pop("reasons", None) or "[]")
    new_by_partner = {
        key.split("/")[2]: value
        for key, value in stats.items()
        if key.startswith("olyscrape/partner/") and key.endswith("/new") and value
    }
    return row | {
        "new": stats.get("olyscrape/new", 0),
        "updated": stats.get("olyscrape/updated", 0),
        "errors": stats.get("olyscrape/errors", 0),
        "finish_reason": stats.get("finish_reason"),
        "new_by_partner": new_by_partner,
        "failures": stats.get("olyscrape/failures", []),
        "cards": stats.get("olyscrape/cards", 0),
        "pages": stats.get("olyscrape/pages", 0),
        "seconds": stats.get("elapsed_time_seconds"),
        "reasons": reasons,
    }


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
            # In WAL mode, NORMAL survives a killed process (only an OS crash may lose the
            # last commits) and spares an fsync per transaction.
            archive.db.execute("PRAGMA synchronous = NORMAL")
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
            for name, sql in VIEWS.items():
                self.db.execute(f"CREATE VIEW IF NOT EXISTS {name} AS {sql}")
        articles = self.db.table("articles")
        if not articles.detect_fts():
            # An external-content FTS5 index, filled from the rows already there.
            articles.enable_fts(FTS_COLUMNS, tokenize="porter")
        with self.db.conn:
            for trigger in _FTS_TRIGGERS:
                self.db.execute(trigger)

    # --- writes -------------------------------------------------------------------

    def upsert_partners(self, partners: Iterable[Partner], walk_started: str | None = None) -> None:
        """Upsert partners; ``walk_started`` marks the start of a walk of their listings."""
        rows = [
            {"slug": p.slug, "name": p.name, "url": p.url, "started": walk_started}
            for p in partners
        ]
        with self.db.conn:
            self.db.conn.executemany(_UPSERT_PARTNER, rows)

    def _existing(self, urls: Iterable[str]) -> tuple[dict[str, dict], set[tuple[str, str]]]:
        """The archived rows and partner links of these articles."""
        urls = sorted(set(urls))
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

    def store(
        self,
        items: Sequence[ArticleCard | ArticleBody | WalkDone],
        *,
        crawl_id: int | None = None,
        seen_at: str | None = None,
        touch_seen: bool = True,
    ) -> StoreResult:
        """Upsert a batch of normalized cards and article bodies in one transaction.

        A true upsert: existing rows are updated in place (``first_seen`` kept, empty
        values never overwrite archived ones), never deleted and re-inserted. When a
        title, category, published date or body changes, the previous values go to
        ``article_versions`` first. ``touch_seen=False`` (a re-parse) leaves
        ``last_seen`` as it was.
        """
        seen = seen_at or utcnow()
        cards = [i for i in items if isinstance(i, ArticleCard) and i.url]
        bodies = [i for i in items if isinstance(i, ArticleBody)]
        walks = [{"partner": i.partner, "seen": seen} for i in items if isinstance(i, WalkDone)]
        walks = walks if touch_seen else []  # a re-parse walks nothing on the site
        current, links = self._existing([i.url for i in (*cards, *bodies)])
        result = StoreResult()
        card_rows, body_rows, versions = [], [], []

        def keep_version(url: str, new: dict[str, Any]) -> None:
            old = current.get(url)
            if old is None:
                result.new_articles += 1
            elif _replaced(new, old, _VERSIONED):
                versions.append({f: old.get(f) for f in _VERSIONED} | {"url": url})
            current[url] = (old or {}) | {k: v for k, v in new.items() if v is not None}

        for card in cards:
            row = {f: getattr(card, f) for f in _TRACKED} | {
                "url": card.url, "partner": card.partner, "position": card.position,
                "capture_id": card.capture_id, "seen": seen, "touch": touch_seen,
            }  # fmt: skip
            old = current.get(card.url)
            if (card.url, card.partner) not in links:
                result.count("new", card.partner)
                links.add((card.url, card.partner))
            elif old and _changed(row, old, _TRACKED):
                result.count("updated", card.partner)
            keep_version(card.url, {f: row[f] for f in _TRACKED})
            card_rows.append(row)
        for item in bodies:
            old_body = (current.get(item.url) or {}).get("body")
            if item.body != old_body:
                result.bodies += 1
            keep_version(item.url, {"body": item.body})
            body_rows.append({"url": item.url, "body": item.body, "published": item.published,
                              "capture_id": item.capture_id, "seen": seen})  # fmt: skip

        for version in versions:
            version |= {"changed_at": seen, "crawl_id": crawl_id}
        result.versions = len(versions)
        with self.db.conn:
            self.db.conn.executemany(_INSERT_VERSION, versions)
            self.db.conn.executemany(_UPSERT_ARTICLE, card_rows)
            self.db.conn.executemany(_UPSERT_LINK, card_rows)
            self.db.conn.executemany(_UPSERT_BODY, body_rows)
            self.db.conn.executemany(_INSERT_TAG, [(b.url, t) for b in bodies for t in b.tags])
            self.db.conn.executemany(_COMPLETE_WALK, walks)  # last: after the walk's cards
        return result

    def article_urls_with_body(self) -> set[str]:
        """The articles whose page has been archived already."""
        return {r["url"] for r in self.db.query("SELECT url FROM articles WHERE body IS NOT NULL")}

    # --- captures -----------------------------------------------------------------

    def add_capture(self, capture: Capture, crawl_id: int | None = None) -> int:
        """Keep a response: its metadata, and its body once per distinct sha256."""
        digest = hashlib.sha256(capture.body).hexdigest()
        row = [capture.url, capture.canonical_url, capture.fetched_at or utcnow(), capture.status,
               capture.content_type, digest, crawl_id]  # fmt: skip
        with self.db.conn:
            seen = self.db.conn.execute(_BODY_STORED, [digest]).fetchone()
            if not seen:
                body = zlib.compress(capture.body, 6)
                self.db.conn.execute(_INSERT_BODY, [digest, len(capture.body), body])
            cursor = self.db.conn.execute(_INSERT_CAPTURE, row)
        return int(cursor.lastrowid)

    def capture_body(self, sha256: str) -> bytes | None:
        rows = list(self.db.query("SELECT body FROM capture_bodies WHERE sha256 = ?", [sha256]))
        return zlib.decompress(rows[0]["body"]) if rows else None

    def latest_capture(self, canonical_url: str) -> Capture | None:
        """The newest capture of a canonical URL, body included."""
        rows = list(
            self.db.query(
                "SELECT * FROM captures WHERE canonical_url = ? ORDER BY id DESC LIMIT 1",
                [canonical_url],
            )
        )
        if not rows:
            return None
        row = rows[0]
        return Capture(
            url=row["url"], canonical_url=row["canonical_url"], status=row["status"],
            content_type=row["content_type"], body=self.capture_body(row["sha256"]) or b"",
            fetched_at=row["fetched_at"], id=row["id"],
        )  # fmt: skip

    # --- crawls -------------------------------------------------------------------

    def start_crawl(self, started_at: str | None = None) -> int:
        """Record a new crawl as ``running``. Called under the archive's lock, so a crawl
        still marked running is one that died (a ``kill -9``): it is marked interrupted."""
        with self.db.conn:
            self.db.conn.execute(
                "UPDATE crawls SET status = 'interrupted' WHERE status = 'running'"
            )
            cursor = self.db.conn.execute(
                "INSERT INTO crawls (started_at, status) VALUES (?, 'running')",
                [started_at or utcnow()],
            )
        return int(cursor.lastrowid)

    def finish_crawl(
        self, crawl_id: int, status: str, stats: dict[str, Any], reasons: Sequence[str] = ()
    ) -> None:
        """Close a crawl's row: status, stats (JSON) and, for a failed crawl, its reasons."""
        with self.db.conn:
            self.db.conn.execute(
                _FINISH_CRAWL,
                [utcnow(), status, json.dumps(stats, default=str, sort_keys=True),
                 json.dumps(list(reasons)) if reasons else None, crawl_id],
            )  # fmt: skip

    # --- what a new crawl starts from ---------------------------------------------

    def known_links(self) -> dict[str, set[str]]:
        """Per partner, the article URLs its listing showed in earlier crawls."""
        known: dict[str, set[str]] = {}
        for row in self.db.query("SELECT partner, article_url FROM article_partners"):
            known.setdefault(row["partner"], set()).add(row["article_url"])
        return known

    def completed_walks(self) -> set[str]:
        """Partners whose last walk of their listing ended (none interrupted since)."""
        sql = ("SELECT slug FROM partners WHERE walk_completed IS NOT NULL"
               " AND (walk_started IS NULL OR walk_completed >= walk_started)")  # fmt: skip
        return {row["slug"] for row in self.db.query(sql)}

    def last_successful_stats(self, before_id: int | None = None) -> dict[str, Any]:
        """The stats of the newest crawl that ended ``ok`` (before ``before_id``)."""
        sql = "SELECT stats FROM crawls WHERE status = 'ok' AND id < ? ORDER BY id DESC LIMIT 1"
        rows = list(self.db.query(sql, [before_id if before_id is not None else 2**62]))
        return json.loads(rows[0]["stats"] or "{}") if rows else {}

    def crawl_history(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest crawls for ``olyscrape runs``: status, duration, counts, reasons."""
        sql = "SELECT * FROM crawls ORDER BY id DESC LIMIT ?"
        return [_crawl_summary(row) for row in self.db.query(sql, [limit])]

    # --- reads --------------------------------------------------------------------

    @classmethod
    def open_readonly(cls, path: str | Path) -> Archive:
        """Open an existing archive so that nothing done through it can write."""
        path = Path(path)
        if not path.is_file():
            raise ArchiveError(f"no archive at {path}")
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
            conn.execute("PRAGMA query_only = ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.set_authorizer(_read_only_authorizer)
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"cannot open archive {path}: {exc}") from None
        return cls(sqlite_utils.Database(conn))

    def run_sql(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        """Run one statement; its column names and rows. Errors become ``QueryError``."""
        try:
            cursor = self.db.conn.execute(sql, params)
            columns = [d[0] for d in cursor.description or []]
            return columns, cursor.fetchall()
        except (sqlite3.DatabaseError, sqlite3.Warning, ValueError) as exc:
            message = str(exc)
            if any(word in message for word in ("not authorized", "readonly", "authorization")):
                message = f"the archive is read-only here; statement refused ({message})"
            raise QueryError(message) from None

    def articles(self, query: ArticleQuery) -> list[dict[str, Any]]:
        """Articles matching every filter, newest first, each with its partners (a list)."""
        where, params = [], {}
        if query.partner:
            where.append("EXISTS (SELECT 1 FROM article_partners p"
                         " WHERE p.article_url = a.url AND p.partner = :partner)")  # fmt: skip
            params["partner"] = query.partner
        if query.category:
            where.append("a.category = :category COLLATE NOCASE")
            params["category"] = query.category
        if query.since:
            where.append("a.published >= :since")
            params["since"] = query.since
        if query.until:
            where.append("a.published <= :until")
            params["until"] = query.until
        if query.search:
            where.append(
                "a.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :search)"
            )
            params["search"] = query.search
        sql = (
            f"SELECT a.url, a.title, a.category, a.published, {_PARTNERS_OF} AS partners"
            f" FROM articles a {'WHERE ' + ' AND '.join(where) if where else ''}"
            " ORDER BY a.published DESC NULLS LAST, a.url LIMIT :limit"
        )
        params["limit"] = query.limit if query.limit is not None else -1
        return _split_partners(self._query(sql, params))

    def search(self, text: str, limit: int = 20, marks: tuple[str, str] = ("[", "]")) -> list[dict]:
        """Full-text search of titles (weighted 5×) and bodies, best first, with a snippet."""
        params = {"query": text, "limit": limit, "open": marks[0], "close": marks[1]}
        return _split_partners(self._query(_SEARCH, params))

    def _query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Rows of a query whose only user input is its parameters (a search text among them),
        so an error can only come from that text's FTS5 syntax."""
        try:
            return list(self.db.query(sql, params))
        except sqlite3.OperationalError as exc:
            raise QueryError(
                f'invalid search query ({exc}); use words, "exact phrases", AND, OR, NOT,'
                " prefix* (SQLite FTS5 syntax)"
            ) from None

    def partner_stats(self) -> list[dict[str, Any]]:
        """Per partner: articles, first and last published date."""
        return list(
            self.db.query("""
            SELECT p.slug AS partner, p.name, count(a.url) AS articles,
                   min(a.published) AS first_published, max(a.published) AS last_published
            FROM partners p
            LEFT JOIN article_partners ap ON ap.partner = p.slug
            LEFT JOIN articles a ON a.url = ap.article_url
            GROUP BY p.slug ORDER BY p.slug""")
        )

    def counts_per_year(self) -> list[dict[str, Any]]:
        return list(
            self.db.query("""
            SELECT coalesce(substr(published, 1, 4), 'undated') AS year, count(*) AS articles
            FROM articles GROUP BY 1 ORDER BY 1""")
        )

    def counts_per_partner_year(self) -> list[dict[str, Any]]:
        return list(
            self.db.query("""
            SELECT partner, year, count(*) AS articles FROM partner_articles
            WHERE year IS NOT NULL GROUP BY partner, year ORDER BY partner, year""")
        )

    def count(self, table: str) -> int:
        return self.db.table(table).count

    def crawl(self, crawl_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM crawls WHERE id = ?", [crawl_id]))
        return rows[0] if rows else None
