"""One batch's cards and article pages: what they change in the archive, and the SQL that
writes it.

The writer reads, inside the batch's transaction, what the archive holds of the batch's
articles and links (:meth:`Batch.read_archived`); then each card and article page is
compared with it: a new article is one plain insert (numbered here: the writer holds the
write lock), a changed one an upsert whose previous values go to ``article_versions``, an
unchanged one is only touched (``last_seen``, its capture), a statement per page.
Each link met goes to its partner's :class:`~olyscrape.archive.walks.WalkLinks`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from olyscrape.archive import versions
from olyscrape.archive.schema import chunks
from olyscrape.archive.text import on_bad_text_leniently
from olyscrape.archive.walks import WalkLinks
from olyscrape.items import ArticleCard, ArticlePageItem

# Fields compared to tell an updated article from an unchanged one.
_TRACKED = ("title", "category", "published", "published_raw", "image_url")

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

#: A link: when it was first and last seen, and by which crawl last (``last_crawl``: what
#: tells a link a walk did not show, whatever the clock did between crawls).
_INSERT_LINK = """
INSERT INTO partner_links (article_id, partner, position, first_seen, last_seen, last_crawl)
VALUES (?1, ?2, ?3, ?4, ?4, ?5)
"""
#: A link seen again at another place on its listing.
_MOVE_LINK = """
UPDATE partner_links SET position = :position,
    last_seen = CASE WHEN :touch THEN :seen ELSE last_seen END,
    last_crawl = CASE WHEN :touch THEN coalesce(:crawl, last_crawl) ELSE last_crawl END
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

_INSERT_TAG = """
INSERT INTO article_tags (article_url, tag) VALUES (?, ?) ON CONFLICT DO NOTHING
"""


#: Articles a batch saw again unchanged: a statement per page, not an upsert per card.
_TOUCH_ARTICLES = """UPDATE articles SET last_seen = coalesce(?, last_seen),
    capture_id = coalesce(?, capture_id) WHERE id IN ({marks})"""
_TOUCH_LINKS = """UPDATE partner_links SET last_seen = ?, last_crawl = coalesce(?, last_crawl)
    WHERE partner = ? AND article_id IN ({marks})"""
#: What change detection and history compare, of the cards a batch holds: the archived
#: tracked fields and each partner link, in one pass (bodies are read only for article pages).
_EXISTING_CARDS = """SELECT a.url, a.id, l.partner, l.position, NULL, a.title,
    a.category, a.published, a.published_raw, a.image_url
    FROM articles a LEFT JOIN partner_links l ON l.article_id = a.id
    WHERE a.url IN ({marks})"""
_BODY = "SELECT body FROM articles WHERE url = ?"
_EXISTING_BODIES = """SELECT url, title, category, published, image_url, body, id
    FROM articles WHERE url IN ({marks})"""

#: A partner link a batch met: (already in the archive, its position).
Link = tuple[bool, int | None]


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


#: Article column → (the field of the article page's metadata in ``ArticlePageItem.sources``,
#: the item's attribute holding the value the archive keeps).
_PAGE_FIELDS = {
    "title": ("title", "title"),
    "category": ("section", "category"),
    "image_url": ("image", "image_url"),
    "page_published": ("published", "published"),
    "modified": ("modified", "modified"),
    "tags": ("keywords", "tags"),
}


def _field_sources(old: dict[str, Any], page: ArticlePageItem) -> dict[str, str]:
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


def many(conn: sqlite3.Connection, sql: str, rows: Collection[Any]) -> None:
    """``executemany``, skipped for no rows (a batch of cards has no bodies, most often)."""
    if rows:
        conn.executemany(sql, rows)


class Batch:
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
        crawl_id: int | None = None,
        crawl_first_id: int | None = None,
    ) -> None:
        self.conn, self.seen, self.touch_seen = conn, seen, touch_seen
        self.crawl_id, self.crawl_first_id = crawl_id, crawl_first_id
        self.touching = crawl_id if touch_seen else None  # the crawl a link is seen by
        self.versioned: set[str] = set()  # articles this crawl kept a version of
        self.versioned_before: set[str] = set()  # ... in an earlier batch
        self.earlier: set[str] = set()  # articles an earlier crawl stored
        # The crawl's links met per partner (the writer keeps them across batches).
        self.walks = walks if walks is not None else {}
        self.result = StoreResult()
        # What the archive holds: each card's article as a tuple of its _TRACKED fields
        # and its number, each article page's article as a dict of its versioned fields,
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

    def read_archived(
        self, cards: Sequence[ArticleCard], bodies: Sequence[ArticlePageItem]
    ) -> None:
        """Read, in the batch's transaction, what the archive holds of its cards and pages,
        and the number the next new article gets."""
        conn = self.conn
        if self.crawl_id is not None:
            urls = sorted({c.url for c in cards if c.url} | {b.url for b in bodies})
            for chunk in chunks(urls):
                sql = versions.VERSIONED_IN_CRAWL.format(marks=",".join("?" * len(chunk)))
                self.versioned.update(r[0] for r in conn.execute(sql, [self.crawl_id, *chunk]))
            self.versioned_before = set(self.versioned)
        for chunk in chunks(sorted({card.url for card in cards if card.url})):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(_EXISTING_CARDS.format(marks=marks), chunk):
                url, partner = row[0], row[2]
                self.tracked[url] = row[5:]  # the _TRACKED fields
                self.ids[url] = row[1]
                if self._before_crawl(row[1]):
                    self.earlier.add(url)
                if partner is not None:
                    self.links[(url, partner)] = (True, row[3])
        for chunk in chunks(sorted({body.url for body in bodies})):
            marks = ",".join("?" * len(chunk))
            cursor = conn.execute(_EXISTING_BODIES.format(marks=marks), chunk)
            names = [d[0] for d in cursor.description]
            for values in cursor:
                page = self.pages[values[0]] = dict(zip(names, values, strict=True))
                if self._before_crawl(page["id"]):
                    self.earlier.add(values[0])
        self.next_id = conn.execute(_NEXT_ARTICLE_ID).fetchone()[0]

    def _before_crawl(self, article_id: int) -> bool:
        """Whether the article numbered ``article_id`` was stored before this crawl: its
        number is below the first this crawl gave (numbers only grow, whatever the clock
        says; a crawl the writer did not open: every archived article was; no crawl, a
        re-parse: none, so only a value replaced is a change)."""
        if self.crawl_id is None:
            return False
        return self.crawl_first_id is None or article_id < self.crawl_first_id

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
        """Keep the values ``url``'s article had before ``new`` changes them, once a crawl
        (its first change in the crawl: the next version, or the article, holds the rest)."""
        old = self.state(url)
        if old is None:
            self.result.new_articles += 1
            self.result.count("new_articles_by", partner)
        elif (
            url not in self.versioned
            and (self.crawl_id is None or url in self.earlier)
            and (
                versions.replaced(new, old, versions.VERSIONED)
                or (url in self.earlier and versions.filled(new, old, versions.CARD_VERSIONED))
            )
        ):
            self.versioned.add(url)
            self.versions.append({f: old.get(f) for f in versions.VERSIONED} | {"url": url})
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
            self.new_links[(article_id, partner)] = [article_id, partner, card.position, seen,
                                                     self.touching]  # fmt: skip
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
                                     "touch": self.touch_seen, "crawl": self.touching})  # fmt: skip

    def add_body(self, item: ArticlePageItem) -> None:
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
        # A change this batch undid (an article two partners' cards title differently,
        # each card read in turn) keeps no version: the article is as it was.
        self.versions = [v for v in self.versions if versions.differs(v, self.current[v["url"]])]
        for version in self.versions:
            version |= {"changed_at": seen, "crawl_id": crawl_id}
        self.result.versions = len(self.versions)
        many(conn, versions.INSERT_VERSION, self.versions)
        many(conn, _INSERT_ARTICLE, self.new_articles)
        many(conn, _UPSERT_ARTICLE, self.card_rows)
        last_seen = seen if self.touch_seen else None
        for capture_id, article_ids in self.touched.items():
            for chunk in chunks(article_ids):
                marks = ",".join("?" * len(chunk))
                conn.execute(_TOUCH_ARTICLES.format(marks=marks), [last_seen, capture_id, *chunk])
        many(conn, _INSERT_LINK, self.new_links.values())
        many(conn, _MOVE_LINK, self.moved_links)
        for partner, article_ids in self.touched_links.items():
            for chunk in chunks(article_ids):
                marks = ",".join("?" * len(chunk))
                conn.execute(
                    _TOUCH_LINKS.format(marks=marks), [seen, self.touching, partner, *chunk]
                )
        many(conn, _UPSERT_BODY, self.body_rows)
        many(conn, _INSERT_TAG, [(row["url"], t) for row in self.body_rows for t in row["tags"]])
        # ... and one an earlier batch of the crawl kept, that this batch undid, goes.
        undone = sorted(self.versioned_before & self.current.keys())
        for chunk in chunks(undone):
            marks = ",".join("?" * len(chunk))
            cursor = conn.execute(versions.UNDONE_VERSIONS.format(marks=marks), [crawl_id, *chunk])
            self.result.versions -= max(cursor.rowcount, 0)
