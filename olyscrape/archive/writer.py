"""The crawl's write path: one writable connection, one transaction per batch.

:class:`ArchiveWriter` is the only code that writes to an archive. A crawl opens one (the
``ArchiveKeeper`` extension does, once per crawl) and everything that writes reaches it:
the store pipeline's batches of cards and article bodies, the captures of the responses
those came from (queued, then written in the same transaction as their cards), and the
crawl's own row. Any failed write rolls back its batch and raises
:class:`~olyscrape.archive.errors.ArchiveWriteError`; after that the writer refuses to
write again, so a crawl can never report what it did not commit.

The archive file is created (and migrated) at the first write, not at open: a crawl that
stops before storing anything, a mistyped partner say, leaves no file behind.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from olyscrape.archive import health, schema
from olyscrape.archive.captures import Capture, CaptureStore
from olyscrape.archive.errors import ArchiveError, ArchiveWriteError, write_error
from olyscrape.archive.paths import sqlite_uri
from olyscrape.archive.text import on_bad_text_leniently
from olyscrape.items import ArticleBody, ArticleCard, ArticlePageFailed, Partner, WalkDone
from olyscrape.site.urls import CANONICAL_ORIGIN

# Fields compared to tell an updated article from an unchanged one.
_TRACKED = ("title", "category", "published", "published_raw", "image_url")
# Fields whose change keeps the previous values in article_versions.
_VERSIONED = ("title", "category", "published", "body")

#: A card that changes an archived article. ``:touch`` is false for a re-parse, which must
#: not move last_seen.
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

#: An article no batch stored before, numbered by the writer (it holds the write lock, so
#: the next number is ``max(id) + 1``, as SQLite would give) so its links can name it.
_INSERT_ARTICLE = """
INSERT INTO articles (id, url, title, category, published, published_raw, image_url, capture_id,
    first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
"""
_NEXT_ARTICLE_ID = "SELECT coalesce(max(id), 0) + 1 FROM articles"

_INSERT_LINK = """
INSERT INTO partner_links (article_id, partner, position, first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?4)
"""
#: A link seen again at another place on its listing.
_MOVE_LINK = """
UPDATE partner_links SET position = :position,
    last_seen = CASE WHEN :touch THEN :seen ELSE last_seen END
WHERE article_id = :article_id AND partner = :partner
"""

#: An article page: its body and dates; its section and image fill only what the listing
#: card left empty (the card's visible values are kept).
_UPSERT_BODY = """
INSERT INTO articles (url, body, page_published, modified, category, image_url, field_sources,
    capture_id, first_seen, last_seen, page_failures, page_tried)
VALUES (:url, :body, :published, :modified, :category, :image_url, :sources, :capture_id,
    :seen, :seen, 0, :tried)
ON CONFLICT (url) DO UPDATE SET
    page_failures = 0,
    page_error = NULL,
    page_tried = coalesce(excluded.page_tried, page_tried),
    body = COALESCE(excluded.body, body),
    page_published = COALESCE(excluded.page_published, page_published),
    modified = COALESCE(excluded.modified, modified),
    category = COALESCE(category, excluded.category),
    image_url = COALESCE(image_url, excluded.image_url),
    field_sources = COALESCE(excluded.field_sources, field_sources),
    capture_id = COALESCE(excluded.capture_id, capture_id)
"""

#: An article page that could not be stored: one more crawl in a row that failed to get it
#: (the spider asks for a page once a crawl, so a crawl counts once, retries included).
_FAIL_PAGE = """
UPDATE articles SET page_failures = coalesce(page_failures, 0) + 1, page_error = :reason,
    page_tried = :seen
WHERE url = :url
"""

_INSERT_TAG = """
INSERT INTO article_tags (article_url, tag) VALUES (?, ?) ON CONFLICT DO NOTHING
"""

_INSERT_VERSION = """
INSERT INTO article_versions (article_url, changed_at, crawl_id, title, category, published, body)
VALUES (:url, :changed_at, :crawl_id, :title, :category, :published, :body)
"""


_UPSERT_PARTNER = """
INSERT INTO partners (slug, name, url, walk_started) VALUES (:slug, :name, :url, :started)
ON CONFLICT (slug) DO UPDATE SET
    name = excluded.name, url = excluded.url,
    walk_started = COALESCE(excluded.walk_started, walk_started)
"""

_SESSION = "SELECT token, commits, history FROM writer_session WHERE id = 1"

_FINISH_CRAWL = "UPDATE crawls SET finished_at = ?, status = ?, stats = ?, reasons = ? WHERE id = ?"

_COMPLETE_WALK = "UPDATE partners SET walk_completed = :seen WHERE slug = :partner"

#: After a walk that stopped at cards archived before: the partner's links it did not reach
#: (below ``:reached``, the archived place of the last known card it saw, and not seen in
#: this crawl: ``:seen`` is a JSON array of their article numbers) move down as far as
#: that card did. Links above it that the walk did not meet left the listing: they keep
#: their place as last walked, as after a full walk.
_SHIFT_UNREACHED = """UPDATE partner_links SET position = position + :shift
    WHERE partner = :partner AND position > :reached
        AND article_id NOT IN (SELECT value FROM json_each(:seen))"""

#: Articles a batch saw again unchanged: a statement per page, not an upsert per card.
_TOUCH_ARTICLES = """UPDATE articles SET last_seen = coalesce(?, last_seen),
    capture_id = coalesce(?, capture_id) WHERE id IN ({marks})"""
_TOUCH_LINKS = (
    "UPDATE partner_links SET last_seen = ? WHERE partner = ? AND article_id IN ({marks})"
)
#: What change detection and history compare, of the cards a batch holds: the archived
#: tracked fields and each partner link, in one pass (bodies are read only for article pages).
_EXISTING_CARDS = """SELECT a.url, a.id, l.partner, l.position, a.title, a.category,
    a.published, a.published_raw, a.image_url
    FROM articles a LEFT JOIN partner_links l ON l.article_id = a.id
    WHERE a.url IN ({marks})"""
_BODY = "SELECT body FROM articles WHERE url = ?"
_EXISTING_BODIES = """SELECT url, title, category, published, image_url, body
    FROM articles WHERE url IN ({marks})"""

_SEEN_LINKS = "SELECT l.partner, a.url FROM partner_links l JOIN articles a ON a.id = l.article_id"
_COMPLETED_WALKS = """SELECT slug FROM partners WHERE walk_completed IS NOT NULL
    AND (walk_started IS NULL OR walk_completed >= walk_started)"""

#: Articles on the canonical origin whose page is not stored: ``body IS NULL`` reads the
#: partial index ``articles_without_page`` (the holes, not the archive).
_WITHOUT_PAGE = "a.body IS NULL AND substr(a.url, 1, :n) = :origin"
#: The pages a crawl asks for again: holes that failed fewer than ``:max`` crawls in a row,
#: each with one partner that showed it (the first by slug; None for an article no link
#: names), only those of ``partners`` when given.
_PAGES_WANTED = """SELECT a.url, (SELECT min(l.partner) FROM partner_links l
        WHERE l.article_id = a.id {only}) AS partner
    FROM articles a WHERE a.body IS NULL AND substr(a.url, 1, ?) = ?
        AND coalesce(a.page_failures, 0) < ?"""
_ONLY_PARTNERS = "AND l.partner IN ({marks})"
_MISSING_PAGES = f"""SELECT count(*), count(*) FILTER (WHERE a.page_failures >= :max)
    FROM articles a WHERE {_WITHOUT_PAGE}"""
_GIVEN_UP = f"""SELECT a.url, a.page_failures, a.page_error, a.page_tried FROM articles a
    WHERE {_WITHOUT_PAGE} AND a.page_failures >= :max ORDER BY a.id LIMIT :limit"""
#: Of some article URLs, those whose page a crawl need not ask for: stored already, or
#: failed ``:max`` crawls in a row (reported, not asked for again).
_PAGE_NOT_WANTED = """SELECT url FROM articles WHERE url IN ({marks})
    AND (body IS NOT NULL OR coalesce(page_failures, 0) >= ?)"""

Item = ArticleCard | ArticleBody | ArticlePageFailed | Partner | WalkDone
#: A partner link a batch met: (already in the archive, its position).
Link = tuple[bool, int | None]


@dataclass
class WalkLinks:
    """What a crawl met, so far, of one partner's links (across batches, until the walk's
    :class:`WalkDone`): the articles whose link it saw (new, moved or in place), and the
    link archived before this crawl that it met furthest down the listing, as (its place
    now, its place before). An incremental walk's older links move by the difference."""

    seen: set[int] = field(default_factory=set)
    last_known: tuple[int, int] | None = None

    def meet(self, article_id: int, position: int | None, archived: int | None) -> None:
        """A link seen at ``position``; ``archived``: its place before this crawl (None
        for a link new to the archive)."""
        if article_id in self.seen:
            return  # met earlier in this crawl: its archived place is this crawl's
        self.seen.add(article_id)
        if position is None or archived is None:
            return
        if self.last_known is None or position > self.last_known[0]:
            self.last_known = (position, archived)

    def shift(self) -> dict[str, Any] | None:
        """The parameters of :data:`_SHIFT_UNREACHED`, or None when nothing moves."""
        if self.last_known is None or self.last_known[0] == self.last_known[1]:
            return None
        position, archived = self.last_known
        return {"shift": position - archived, "reached": archived,
                "seen": json.dumps(sorted(self.seen))}  # fmt: skip


@dataclass
class MissingPages:
    """The articles of the archive still without a page (``missing``), and the ``given_up``
    ones among them: their page failed ``max_failures`` crawls in a row, so crawls no longer
    ask for it (``listed``: the first of them, with their last failure)."""

    missing: int
    given_up: int
    max_failures: int
    listed: list[dict[str, Any]] = field(default_factory=list)


def utcnow() -> str:
    """Now, as the archive writes times: UTC ISO-8601 to the second, with a ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StoreResult:
    """What a committed batch did: per partner ``new`` links, ``updated`` articles, cards
    and article pages (``articles``) stored; in all, ``new_articles``, ``bodies`` (stored or
    changed), ``versions`` kept and ``captures`` written."""

    new: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    cards: dict[str, int] = field(default_factory=dict)
    articles: dict[str, int] = field(default_factory=dict)
    new_articles_by: dict[str, int] = field(default_factory=dict)
    new_articles: int = 0
    bodies: int = 0
    versions: int = 0
    captures: int = 0
    page_failures: int = 0

    def count(self, kind: str, partner: str | None) -> None:
        if partner:
            bucket = getattr(self, kind)
            bucket[partner] = bucket.get(partner, 0) + 1

    @property
    def changed_rows(self) -> int:
        """Rows added or changed: articles, partner links, bodies."""
        return self.new_articles + sum(self.new.values()) + sum(self.updated.values()) + self.bodies


#: Article column → (the field of the article page's metadata in ``ArticleBody.sources``,
#: the item's attribute holding the value the archive keeps).
_PAGE_FIELDS = {
    "title": ("title", "title"),
    "category": ("section", "category"),
    "image_url": ("image", "image_url"),
    "page_published": ("published", "published"),
    "modified": ("modified", "modified"),
    "tags": ("keywords", "tags"),
}


def _field_sources(old: dict[str, Any], page: ArticleBody) -> dict[str, str]:
    """Where each of an article's fields comes from, once its page was read: ``listing``
    (the listing card), ``page`` (the article page's visible markup), ``json-ld`` or
    ``opengraph`` (its structured data). Fields with no value (a date that is no date,
    ``TBC``, among them) are left out."""
    sources = {col: "listing" for col in ("title", "category", "published", "image_url")
               if old.get(col)}  # fmt: skip
    for column, (name, attribute) in _PAGE_FIELDS.items():
        if column not in sources and name in page.sources and getattr(page, attribute):
            sources[column] = page.sources[name]
    return sources


def _replaced(new: dict[str, Any], old: dict[str, Any], fields: Iterable[str]) -> bool:
    """True when a field replaces an archived value (not merely fills an empty one)."""
    return any(old.get(f) is not None and new.get(f) not in (None, old.get(f)) for f in fields)


def _many(conn: sqlite3.Connection, sql: str, rows: Collection[Any]) -> None:
    """``executemany``, skipped for no rows (a batch of cards has no bodies, most often)."""
    if rows:
        conn.executemany(sql, rows)


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _Batch:
    """One batch's articles and links: what the archive holds of them (read first, in the
    batch's transaction), what each card and article page changes, then the statements
    that write it: plain inserts for new articles and links (numbered here: the writer
    holds the write lock), upserts for changed articles, one ``UPDATE`` per page for what
    was seen again unchanged."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        seen: str,
        touch_seen: bool,
        walks: dict[str, WalkLinks] | None = None,
    ) -> None:
        self.conn, self.seen, self.touch_seen = conn, seen, touch_seen
        # The crawl's links met per partner (the writer keeps them across batches).
        self.walks = walks if walks is not None else {}
        self.result = StoreResult()
        # What the archive holds: each card's article as a tuple of its _TRACKED fields
        # and its number, each article page's article as a dict of its _VERSIONED fields,
        # and the cards' partner links.
        self.tracked: dict[str, tuple] = {}
        self.ids: dict[str, int] = {}
        self.pages: dict[str, dict] = {}
        self.links: dict[tuple[str, str], Link] = {}
        self.current: dict[str, dict] = {}  # articles this batch changed, as they now stand
        self.next_id = 0
        # What to write.
        self.new_articles: list[tuple] = []
        self.card_rows: list[dict[str, Any]] = []  # cards that change an archived article
        self.new_links: dict[tuple[int, str], list[Any]] = {}
        self.moved_links: list[dict[str, Any]] = []
        self.body_rows: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []
        self.touched: dict[int | None, list[int]] = {}  # capture → articles seen again
        self.touched_links: dict[str, list[int]] = {}  # partner → links seen again, in place

    def read_archived(self, cards: Sequence[ArticleCard], bodies: Sequence[ArticleBody]) -> None:
        """Read, in the batch's transaction, what the archive holds of its cards and pages,
        and the number the next new article gets."""
        conn = self.conn
        for chunk in _chunks(sorted({card.url for card in cards if card.url})):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(_EXISTING_CARDS.format(marks=marks), chunk):
                url, partner = row[0], row[2]
                self.tracked[url] = row[4:]  # the _TRACKED fields
                self.ids[url] = row[1]
                if partner is not None:
                    self.links[(url, partner)] = (True, row[3])
        for chunk in _chunks(sorted({body.url for body in bodies})):
            marks = ",".join("?" * len(chunk))
            cursor = conn.execute(_EXISTING_BODIES.format(marks=marks), chunk)
            names = [d[0] for d in cursor.description]
            for values in cursor:
                self.pages[values[0]] = dict(zip(names, values, strict=True))
        self.next_id = conn.execute(_NEXT_ARTICLE_ID).fetchone()[0]

    def state(self, url: str) -> dict[str, Any] | None:
        """An article as it stands in this batch: what the history keeps of it."""
        if url in self.current:
            return self.current[url]
        if url in self.pages:
            return self.pages[url]
        if url not in self.tracked:
            return None
        values = dict(zip(_TRACKED, self.tracked[url], strict=True))
        conn = self.conn  # rare: a changed card
        (values["body"],) = on_bad_text_leniently(
            conn, lambda: conn.execute(_BODY, [url]).fetchone()
        )
        return values

    def keep_version(self, url: str, new: dict[str, Any], partner: str | None) -> None:
        old = self.state(url)
        if old is None:
            self.result.new_articles += 1
            self.result.count("new_articles_by", partner)
        elif _replaced(new, old, _VERSIONED):
            self.versions.append({f: old.get(f) for f in _VERSIONED} | {"url": url})
        self.current[url] = (old or {}) | {k: v for k, v in new.items() if v is not None}

    def add_card(self, card: ArticleCard) -> None:
        url, partner, seen, result = card.url, card.partner, self.seen, self.result
        assert url is not None and partner is not None
        values = (
            card.title,
            card.category,
            card.published,
            card.published_raw,
            card.image_url,
        )  # fmt: skip  (the order of _TRACKED)
        result.cards[partner] = result.cards.get(partner, 0) + 1
        old = self.tracked.get(url)
        if old is None:  # new to the archive: one plain insert, numbered here
            article_id = self.ids[url] = self.next_id
            self.next_id += 1
            self.new_articles.append((article_id, url, *values, card.capture_id, seen))
            self.tracked[url] = values
            result.new_articles += 1
            result.count("new_articles_by", partner)
            self.current[url] = {
                f: v for f, v in zip(_TRACKED, values, strict=True) if v is not None
            }
            changed = False
        else:
            article_id = self.ids[url]
            changed = values != old and any(
                v is not None and v != o for v, o in zip(values, old, strict=True)
            )
            if changed:
                fields = dict(zip(_TRACKED, values, strict=True))
                self.keep_version(url, fields, partner)
                row = {"url": url, "capture_id": card.capture_id, "seen": seen,
                       "touch": self.touch_seen}  # fmt: skip
                self.card_rows.append(fields | row)
                self.tracked[url] = tuple(
                    v if v is not None else o for v, o in zip(values, old, strict=True)
                )
            elif self.touch_seen or card.capture_id is not None:
                self.touched.setdefault(card.capture_id, []).append(article_id)
        link = self.links.get((url, partner))
        walk = self.walks.setdefault(partner, WalkLinks())
        walk.meet(article_id, card.position, link[1] if link and link[0] else None)
        if link is None:
            result.count("new", partner)
            self.new_links[(article_id, partner)] = [article_id, partner, card.position, seen]
            self.links[(url, partner)] = (False, card.position)
            return
        if changed:
            result.count("updated", partner)
        archived, position = link
        if card.position is None or card.position == position:
            if archived and self.touch_seen:
                self.touched_links.setdefault(partner, []).append(article_id)
        elif not archived:  # met earlier in this batch: not written yet
            self.new_links[(article_id, partner)][2] = card.position
        else:
            self.links[(url, partner)] = (True, card.position)
            self.moved_links.append({"article_id": article_id, "partner": partner,
                                     "position": card.position, "seen": seen,
                                     "touch": self.touch_seen})  # fmt: skip

    def add_body(self, item: ArticleBody) -> None:
        before = self.state(item.url) or {}
        if item.body != before.get("body"):
            self.result.bodies += 1
        self.result.count("articles", item.partner)
        self.keep_version(item.url, {"body": item.body}, item.partner)
        self.body_rows.append({"url": item.url, "body": item.body, "published": item.published,
                               "modified": item.modified, "category": item.category,
                               "image_url": item.image_url, "capture_id": item.capture_id,
                               "sources": json.dumps(_field_sources(before, item), sort_keys=True),
                               "seen": self.seen, "tags": item.tags,
                               "tried": self.seen if self.touch_seen else None})  # fmt: skip

    def write(self, crawl_id: int | None) -> None:
        conn, seen = self.conn, self.seen
        for version in self.versions:
            version |= {"changed_at": seen, "crawl_id": crawl_id}
        self.result.versions = len(self.versions)
        _many(conn, _INSERT_VERSION, self.versions)
        _many(conn, _INSERT_ARTICLE, self.new_articles)
        _many(conn, _UPSERT_ARTICLE, self.card_rows)
        last_seen = seen if self.touch_seen else None
        for capture_id, article_ids in self.touched.items():
            for chunk in _chunks(article_ids):
                marks = ",".join("?" * len(chunk))
                conn.execute(_TOUCH_ARTICLES.format(marks=marks), [last_seen, capture_id, *chunk])
        _many(conn, _INSERT_LINK, self.new_links.values())
        _many(conn, _MOVE_LINK, self.moved_links)
        for partner, article_ids in self.touched_links.items():
            for chunk in _chunks(article_ids):
                marks = ",".join("?" * len(chunk))
                conn.execute(_TOUCH_LINKS.format(marks=marks), [seen, partner, *chunk])
        _many(conn, _UPSERT_BODY, self.body_rows)
        _many(conn, _INSERT_TAG, [(row["url"], t) for row in self.body_rows for t in row["tags"]])


class ArchiveWriter:
    """The one writable connection of a crawl (or a re-parse) to the archive at ``path``.

    ``record_crawl`` makes the first committed batch open a ``crawls`` row, which
    :meth:`finish_crawl` closes. ``max_page_count`` caps the file's size, in pages: a test
    uses it to make a full disk where it cannot mount one.
    """

    def __init__(
        self, path: str | Path, *, record_crawl: bool = True, max_page_count: int = 0
    ) -> None:
        self.path = Path(path)
        self.record_crawl = record_crawl
        self.max_page_count = max_page_count
        self.conn: sqlite3.Connection | None = None
        self.captures = CaptureStore(None)
        self.crawl_id: int | None = None
        self.failure: ArchiveWriteError | None = None
        self._queued: list[Capture] = []
        self._queued_bytes = 0
        self._next_capture_id = 1
        #: Per partner, the links this crawl met until its walk ends (see WalkLinks).
        self._walks: dict[str, WalkLinks] = {}
        #: The checkpoint that completed one a reader left unfinished (at open), and the
        #: closing one (``None`` until closed, or when nothing was ever opened).
        self.opening_checkpoint: health.Checkpoint | None = None
        self.closing_checkpoint: health.Checkpoint | None = None

    @classmethod
    def open(
        cls, path: str | Path, *, create: bool = True, check: str = "full", **options: Any
    ) -> ArchiveWriter:
        """Check that ``path`` can hold our archive and is sound (SQLite's ``check``, see
        :func:`~olyscrape.archive.health.check_before_write`), and connect to it if it exists.

        Raises :class:`ArchiveError` for a path that cannot be written, and
        :class:`~olyscrape.archive.errors.ArchiveRefused` for a file that is not ours;
        either way nothing was written. ``create=False`` refuses a missing or empty file.
        """
        identity = schema.check_for_writing(path)
        if identity.empty and not create:
            what = "no such file" if not identity.exists else "an empty file, not an archive"
            raise ArchiveError(f"archive {path}: {what}")
        if not identity.empty:  # before any writable connection, which could checkpoint
            health.check_before_write(path, check)
        writer = cls(path, **options)
        if not identity.empty:
            writer._connect(migrate=identity.needs_migration)
        return writer

    # --- the connection -----------------------------------------------------------------

    def _connect(self, migrate: bool = True) -> sqlite3.Connection:
        """Open the connection (creating the file and its folder), migrating if behind."""
        if self.conn is not None:
            return self.conn
        conn = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The path as a path, never read as a URI (see olyscrape.archive.paths).
            conn = sqlite3.connect(sqlite_uri(self.path), uri=True, timeout=30,
                                   isolation_level=None)  # fmt: skip
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            # In WAL mode, NORMAL survives a killed process (only an OS crash may lose the
            # last commits) and spares an fsync per transaction.
            conn.execute("PRAGMA synchronous = NORMAL")
            # Checkpoint (and fsync) every ~40 MB of WAL rather than every 4 MB: a crawl
            # writes in bursts, and the WAL is checkpointed and removed when it closes.
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            if self.max_page_count:
                conn.execute(f"PRAGMA max_page_count = {int(self.max_page_count)}")
            if not health.wal_state(self.path).empty:  # a checkpoint a reader kept unfinished
                self.opening_checkpoint = health.checkpoint(conn, self.path)
            if migrate:
                schema.migrate(conn)
            self._open_session(conn)
        except (sqlite3.Error, OSError) as exc:
            if conn is not None:  # closed now: a failed migration's journal goes with it
                with suppress(sqlite3.Error):
                    conn.close()
            raise self._failed(exc) from None
        self.conn = conn
        self.captures = CaptureStore(conn)
        self._next_capture_id = max(self._next_capture_id, self.captures.next_id())
        return conn

    def _open_session(self, conn: sqlite3.Connection) -> None:
        """Mark the archive as this writer session's (see ``health.wal_owner``): a new
        random token, the stamp it starts from kept in its history, committed, then copied
        into the file. A ``PASSIVE`` checkpoint: a reader of an older snapshot never delays
        a crawl, and the history tells this session's -wal from another copy's whether or
        not the copy completed."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(_SESSION).fetchone()
            history: list[tuple[str, int]] = []
            if row is not None and row[0]:
                history = [(str(row[0]), int(row[1] or 0)), *health.history_of(row[2])]
            conn.execute(schema.OPEN_SESSION, {
                "token": secrets.token_hex(16), "opened_at": utcnow(),
                "history": json.dumps(history[: schema.SESSION_HISTORY])})  # fmt: skip
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        with suppress(sqlite3.Error):  # left in the -wal, the mark is ours all the same
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _failed(self, exc: BaseException) -> ArchiveWriteError:
        self.failure = exc if isinstance(exc, ArchiveWriteError) else write_error(self.path, exc)
        return self.failure

    @contextmanager
    def _transaction(self, retry: bool = False) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; any error rolls back and becomes the writer's
        failure (an :class:`ArchiveWriteError`), after which it writes nothing more, unless
        told to ``retry`` (the crawl's own row is worth a last try)."""
        if self.failure is not None and not retry:
            raise self.failure
        conn = self._connect()
        crawl_id = self.crawl_id  # a crawl row opened in a transaction rolled back is gone
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(schema.BUMP_COMMITS)  # so this commit's -wal frames carry our mark
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                with suppress(sqlite3.Error):  # SQLite may have rolled back already
                    conn.execute("ROLLBACK")
            self.crawl_id = crawl_id
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise self._failed(exc) from None
            raise  # a bug, not the disk: rolled back all the same

    def close(self) -> None:
        """Copy the WAL into the file (so the ``.db`` alone holds every commit), then close.
        A reader of an older snapshot can keep the copy from finishing: ``closing_checkpoint``
        says so, and the next writer completes it when it opens."""
        if self.conn is not None:
            try:
                self.closing_checkpoint = health.checkpoint(self.conn, self.path)
                self.conn.close()
            finally:
                self.conn = None
                self.captures = CaptureStore(None)

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def exists(self) -> bool:
        """True once the archive file holds our schema (opened or created)."""
        return self.conn is not None

    # --- captures: queued, then written with the next batch -------------------------------

    def queue_capture(self, capture: Capture) -> int:
        """Give ``capture`` its id and keep it for the next batch's transaction."""
        capture.id = self._next_capture_id
        capture.fetched_at = capture.fetched_at or utcnow()
        self._next_capture_id += 1
        self._queued.append(capture)
        self._queued_bytes += len(capture.body)
        return capture.id

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    def discard_queued(self) -> None:
        self._queued, self._queued_bytes = [], 0

    # --- the crawl's row ---------------------------------------------------------------

    def _begin_crawl(self, conn: sqlite3.Connection) -> None:
        """Inside the first batch's transaction: mark crawls still ``running`` (dead ones;
        the writer holds the archive's lock) ``interrupted``, and open this crawl's row."""
        if not self.record_crawl or self.crawl_id is not None:
            return
        conn.execute("UPDATE crawls SET status = 'interrupted' WHERE status = 'running'")
        cursor = conn.execute(
            "INSERT INTO crawls (started_at, status) VALUES (?, 'running')", [utcnow()]
        )
        self.crawl_id = int(cursor.lastrowid or 0)

    def finish_crawl(
        self, status: str, stats: dict[str, Any], reasons: Sequence[str] = (), retry: bool = False
    ) -> None:
        """Close the crawl's row (opening it first if no batch did): status, stats (JSON)
        and, for a crawl that did not succeed, its reasons. ``retry`` tries even after a
        failed write."""
        with self._transaction(retry=retry) as conn:
            self._begin_crawl(conn)
            conn.execute(
                _FINISH_CRAWL,
                [utcnow(), status, json.dumps(stats, default=str, sort_keys=True),
                 json.dumps(list(reasons)) if reasons else None, self.crawl_id],
            )  # fmt: skip

    # --- batches -----------------------------------------------------------------------

    def store(
        self, items: Sequence[Item], *, seen_at: str | None = None, touch_seen: bool = True
    ) -> StoreResult:
        """Write a batch in one transaction: the queued captures, then partners, cards,
        article bodies and completed walks, in that order.

        A true upsert: existing rows are updated in place (``first_seen`` kept, empty
        values never overwrite archived ones), never deleted and re-inserted. When a
        title, category, published date or body changes, the previous values go to
        ``article_versions`` first. ``touch_seen=False`` (a re-parse) leaves ``last_seen``
        and the partners' walks as they were.
        """
        seen = seen_at or utcnow()
        partners = [
            {"slug": i.slug, "name": i.name, "url": i.url, "started": seen if touch_seen else None}
            for i in items
            if isinstance(i, Partner)
        ]
        cards = [i for i in items if isinstance(i, ArticleCard) and i.url]
        bodies = [i for i in items if isinstance(i, ArticleBody)]
        # A re-parse walks nothing on the site.
        done = [i for i in items if isinstance(i, WalkDone)] if touch_seen else []
        walks = [{"partner": i.partner, "seen": seen} for i in done]
        # A re-parse asks the site for nothing: no page of it failed to come.
        failed = {
            i.url: {"url": i.url, "reason": i.reason, "seen": seen}
            for i in items
            if isinstance(i, ArticlePageFailed) and touch_seen
        }
        queued = self._queued
        with self._transaction() as conn:
            self._begin_crawl(conn)
            for capture in queued:
                self.captures.insert(capture, self.crawl_id)
            _many(conn, _UPSERT_PARTNER, partners)
            result = self._write_articles(conn, cards, bodies, seen, touch_seen)
            _many(conn, _FAIL_PAGE, list(failed.values()))
            self._shift_unreached(conn, done)
            _many(conn, _COMPLETE_WALK, walks)  # last: after the walk's cards and pages
        result.captures = len(queued)
        result.page_failures = len(failed)
        self.discard_queued()
        return result

    def _write_articles(
        self,
        conn: sqlite3.Connection,
        cards: list[ArticleCard],
        bodies: list[ArticleBody],
        seen: str,
        touch_seen: bool,
    ) -> StoreResult:
        """Insert what is new, upsert what changed, only touch (``last_seen``, the capture)
        what did not, a statement per page; index the new articles for full-text search
        at once."""
        indexed_up_to = conn.execute(schema.INDEXED_UP_TO).fetchone()[0]
        batch = _Batch(conn, seen, touch_seen, self._walks if touch_seen else None)
        # A cell that is not UTF-8 costs its bytes only (read again, decoded leniently).
        on_bad_text_leniently(conn, lambda: batch.read_archived(cards, bodies))
        for card in cards:
            batch.add_card(card)
        for body in bodies:
            batch.add_body(body)
        batch.write(self.crawl_id)
        conn.execute(schema.INDEX_NEW_ROWS, {"after": indexed_up_to})
        return batch.result

    def _shift_unreached(self, conn: sqlite3.Connection, done: list[WalkDone]) -> None:
        """Walks ended: an incremental one moves the partner's links it did not reach by
        as far as the known cards it saw moved (new cards were added above them), so that
        ``position`` stays the card's place on the listing, as a full walk numbers it.
        A full walk saw every card on the listing: nothing to move. (A batch that fails
        ends the writer's writing, so what this forgets is never needed again.)"""
        for item in done:
            walk = self._walks.pop(item.partner, None)
            params = walk.shift() if walk is not None and item.incremental else None
            if params is not None:
                conn.execute(_SHIFT_UNREACHED, params | {"partner": item.partner})

    # --- what a new crawl starts from (read on the writer's own connection) ---------------

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple]:
        if self.conn is None:
            return []
        try:
            conn = self.conn
            return on_bad_text_leniently(conn, lambda: conn.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise self._failed(exc) from None

    def known_links(self) -> dict[str, set[str]]:
        """Per partner, the article URLs its listing showed in earlier crawls."""
        known: dict[str, set[str]] = {}
        for partner, url in self._rows(_SEEN_LINKS):
            known.setdefault(partner, set()).add(url)
        return known

    def partners(self) -> list[tuple[str, str, str]]:
        """The partners the archive lists (slug, name, listing URL), in the order first
        found: what a re-parse walks when the capture of the partner list is lost."""
        sql = "SELECT slug, name, url FROM partners WHERE url IS NOT NULL ORDER BY rowid"
        return [(slug, name, url) for slug, name, url in self._rows(sql)]

    def completed_walks(self) -> set[str]:
        """Partners whose last walk of their listing ended (none interrupted since)."""
        return {slug for (slug,) in self._rows(_COMPLETED_WALKS)}

    def pages_wanted(
        self, max_failures: int, partners: Collection[str] | None = None
    ) -> list[tuple[str, str | None]]:
        """The articles on the canonical origin whose page is not stored (never fetched,
        failed, cut off by an interrupt) and has failed fewer than ``max_failures`` crawls in
        a row, each with a partner that showed it; only those ``partners`` showed, if given.
        Reads the holes only, never the whole archive."""
        chosen = sorted(partners) if partners is not None else []
        only = _ONLY_PARTNERS.format(marks=",".join("?" * len(chosen))) if chosen else ""
        origin = CANONICAL_ORIGIN + "/"
        rows = self._rows(_PAGES_WANTED.format(only=only),
                          [*chosen, len(origin), origin, max_failures])  # fmt: skip
        if partners is None:
            return [(url, partner) for url, partner in rows]
        return [(url, partner) for url, partner in rows if partner is not None]

    def pages_not_wanted(self, urls: Sequence[str], max_failures: int) -> set[str]:
        """Of ``urls``, the articles whose page is stored already, or failed
        ``max_failures`` crawls in a row: a crawl does not ask for them."""
        found: set[str] = set()
        for chunk in _chunks(urls):
            marks = ",".join("?" * len(chunk))
            sql = _PAGE_NOT_WANTED.format(marks=marks)
            found.update(url for (url,) in self._rows(sql, [*chunk, max_failures]))
        return found

    def missing_pages(self, max_failures: int, shown: int = 20) -> MissingPages:
        """What the archive still lacks: articles on the canonical origin without a page,
        and of those the pages given up on (``max_failures`` crawls in a row failed)."""
        origin = CANONICAL_ORIGIN + "/"
        params = {"n": len(origin), "origin": origin, "max": max_failures, "limit": shown}
        rows = self._rows(_MISSING_PAGES, params)
        missing, given_up = rows[0] if rows else (0, 0)
        listed = [
            {"url": url, "failures": failures, "reason": reason, "tried": tried}
            for url, failures, reason, tried in self._rows(_GIVEN_UP, params)
        ] if given_up else []  # fmt: skip
        return MissingPages(missing, given_up or 0, max_failures, listed)

    def article_partners(self) -> dict[str, str]:
        """Every archived article and one partner that showed it (the first by slug)."""
        sql = """SELECT a.url, min(l.partner) FROM partner_links l
            JOIN articles a ON a.id = l.article_id GROUP BY l.article_id"""
        return dict(self._rows(sql))

    def counts(self) -> dict[str, int]:
        """How many articles, partner links and partners the archive holds (committed)."""
        tables = {
            "articles": "articles",
            "article_partners": "partner_links",
            "partners": "partners",
        }
        return {
            name: (self._rows(f"SELECT count(*) FROM {table}") or [(0,)])[0][0]
            for name, table in tables.items()
        }

    def last_successful_stats(self, before_id: int | None = None) -> dict[str, Any] | None:
        """The stats of the newest crawl that ended ``ok`` (before ``before_id``): ``{}``
        when there is none, ``None`` when its stored stats are not a JSON object."""
        sql = "SELECT stats FROM crawls WHERE status = 'ok' AND id < ? ORDER BY id DESC LIMIT 1"
        rows = self._rows(sql, [before_id if before_id is not None else 2**62])
        return schema.crawl_stats(rows[0][0]) if rows else {}
