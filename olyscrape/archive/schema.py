"""The archive's schema (its tables, views, indexes and the SQL they share) and identity.

An olyscrape archive is a SQLite file whose ``PRAGMA application_id`` is
:data:`APPLICATION_ID` and whose ``PRAGMA user_version`` is the schema version it was
last migrated to. :func:`identify` tells an archive from anything else *without writing*,
so a file that is not ours is refused and left byte-for-byte as it was;
:func:`olyscrape.archive.migrations.migrate` brings an older archive up to
:data:`SCHEMA_VERSION` and never drops anything.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olyscrape.archive import changes, feeds, paths, traces
from olyscrape.archive.errors import (
    ArchiveDamaged,
    ArchiveRefused,
    damaged,
    damaged_line,
    is_corruption,
)
from olyscrape.archive.walowner import refuse_foreign_wal

#: ``PRAGMA application_id`` of every olyscrape archive: "OLYS" in ASCII.
APPLICATION_ID = 0x4F4C5953
#: The schema version this code writes (``PRAGMA user_version``). Version 0 is an archive
#: made before versioning, recognised by its tables; version 1 indexed each new article
#: by a trigger, version 2 indexes a batch's new articles at once (see INDEX_NEW_ROWS),
#: version 3 adds each article's ``modified`` date and ``field_sources``, version 4 numbers
#: articles (``articles.id``) and keys each partner link by that number (``partner_links``),
#: version 5 records each article page's failed fetches (``page_failures``, ``page_error``,
#: ``page_tried``) and indexes the articles still without a page (:data:`PARTIAL_INDEXES`),
#: version 6 keeps the last writer session's mark (``writer_session``: whose ``-wal``, see
#: :func:`olyscrape.archive.walowner.wal_owner`), version 7 records each complete walk of a
#: listing (``walks``: a link gone told from one not reached, see :mod:`.changes`), version 8
#: counts each partner's articles per date published (``partner_counts``: :mod:`.counts`).
SCHEMA_VERSION = 8

#: The origin every canonical URL the archive stores starts with: what "an article on
#: the site" means in its queries (the pages a crawl still wants, ``verify``'s note). A
#: fact of the stored data, like the tables, so the archive keeps it rather than asking
#: the site's code (which it never imports): the site's URL rules must canonicalise to the
#: same origin, and ``tests/test_layers.py`` says so.
CANONICAL_ORIGIN = "https://olympics.com"

#: Table → (columns in order, primary key). Opening an older archive adds what is
#: missing here (tables, columns); nothing is ever dropped, and the one rewrite (version 4's,
#: see :func:`_number_articles`) keeps every row.
SCHEMA: dict[str, tuple[dict[str, type], str | tuple[str, ...]]] = {
    "partners": (
        {"slug": str, "name": str, "url": str, "walk_started": str, "walk_completed": str},
        "slug",
    ),
    "articles": (
        {
            "id": int,
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
            "modified": str,
            "field_sources": str,
            # The article's page: crawls in a row whose fetch of it failed (reset when it is
            # stored), the last failure's reason and when the page was last asked for.
            "page_failures": int,
            "page_error": str,
            "page_tried": str,
        },
        "id",
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
    "partner_links": (
        {
            "article_id": int,
            "partner": str,
            "position": int,
            "first_seen": str,
            "last_seen": str,
            "last_crawl": int,
        },
        ("article_id", "partner"),
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
    # One row per walk of a listing that completed (none for an interrupted or failed one):
    # its crawl, start, end and kind (see olyscrape.archive.writer.walk_kind; ``before``:
    # the last complete walk an archive had recorded when it was upgraded to version 7).
    "walks": (
        {"id": int, "crawl_id": int, "partner": str, "started": str, "completed": str, "kind": str},
        "id",
    ),
    # Each partner's articles per date published, for ``stats``; keyed by counts.INDEX.
    "partner_counts": ({"partner": str, "published": str, "articles": int}, ""),
    # One row (id 1), on a page of its own: the writer session that last opened the file
    # (a random token), its commits so far (each commit adds one, so each commit's WAL
    # frames carry this page), and the stamps (token, commits) earlier sessions started
    # from, newest first, as JSON.
    "writer_session": (
        {"id": int, "token": str, "commits": int, "history": str, "opened_at": str},
        "id",
    ),
}

#: Tables stored WITHOUT ROWID: their primary key is the table. ``partner_links`` is keyed by
#: (article number, partner), so a batch of new articles appends its links at the end of one
#: b-tree instead of scattering them through an index of URLs.
WITHOUT_ROWID = {"partner_links"}
#: Foreign keys (table → [(column, other table, other column)]), for Datasette's links.
FOREIGN_KEYS = {"partner_links": [("article_id", "articles", "id")]}
#: Columns that are unique without being the primary key (``ON CONFLICT (url)`` needs it).
UNIQUE_INDEXES = {"articles": [["url"]]}

#: Full-text search over these article columns (FTS5, kept in sync by triggers).
FTS_COLUMNS = ["title", "body"]

#: One row per article and partner that showed it: what researchers facet and filter on.
VIEWS = {
    "partner_articles": """
        SELECT a.id AS article_rowid, l.partner, a.url, a.title, a.category, a.published,
               substr(a.published, 1, 4) AS year, l.position, a.body, a.first_seen, a.last_seen
        FROM articles a JOIN partner_links l ON l.article_id = a.id
    """,
    #: The links by article URL, as the table of that name held them before version 4: the
    #: name and columns researchers' queries use.
    "article_partners": """
        SELECT a.url AS article_url, l.partner, l.position, l.first_seen, l.last_seen
        FROM partner_links l JOIN articles a ON a.id = l.article_id
    """,
    #: Every change (new, edited, gone), one row per partner: ``olyscrape changes``.
    "changes": changes.CHANGES_VIEW,
    #: Every earlier version of each article: ``olyscrape history``.
    "article_history": changes.HISTORY_VIEW,
}

#: Index the articles added since the index's newest row (the writer runs it after each
#: batch; rows another program inserted are picked up by the next one).
INDEX_NEW_ROWS = """
INSERT INTO articles_fts (rowid, title, body)
SELECT rowid, title, body FROM articles
WHERE rowid > :after AND rowid NOT IN (SELECT id FROM articles_fts_docsize)
"""
INDEXED_UP_TO = "SELECT coalesce(max(id), 0) FROM articles_fts_docsize"

#: What every writer's commit runs once: its mark one commit further (a page SQLite writes
#: only when it changes, hence the count).
BUMP_COMMITS = "UPDATE writer_session SET commits = commits + 1 WHERE id = 1"
#: A writer session's mark, set when it opens: a new token, the stamp it started from
#: first in the history (of at most :data:`SESSION_HISTORY` stamps).
OPEN_SESSION = """
INSERT INTO writer_session (id, token, commits, history, opened_at)
VALUES (1, :token, 0, :history, :opened_at)
ON CONFLICT (id) DO UPDATE SET token = excluded.token, commits = 0,
    history = excluded.history, opened_at = excluded.opened_at
"""
SESSION_HISTORY = 8

#: Canned queries (``olyscrape browse`` offers them in Datasette): name → (title,
#: description, SQL).
CANNED_QUERIES: dict[str, tuple[str, str, str]] = {
    "articles_by_partner_per_year": (
        "Articles per partner per year",
        "How many articles each partner's listing showed, per year of publication.",
        """SELECT partner, coalesce(substr(published, 1, 4), 'undated') AS year,
    sum(articles) AS count FROM partner_counts GROUP BY 1, 2 ORDER BY 1, 2""",
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
    #: The Atom feeds (``datasette-atom`` renders them at ``.atom``): new articles, changes.
    **feeds.FEED_QUERIES,
}

INDEXES = {
    "partner_links": [["partner"]],
    # first_seen: the new articles since a date, newest first (``olyscrape changes``).
    "articles": [["published"], ["first_seen"]],
    "article_versions": [["article_url"]],
    "captures": [["canonical_url"]],
    "walks": [["partner", "started"]],
}

#: Index name → (table, columns, condition): indexes of a few rows only. The articles
#: still without a page are what every crawl asks for again and every summary counts: at a
#: million articles, reading them must not read the million bodies.
PARTIAL_INDEXES = {
    "articles_without_page": ("articles", ["id"], "body IS NULL"),
}


#: The tables that make a file made before versioning (application id 0) an olyscrape archive.
_LEGACY_TABLES = {"partners", "articles", "article_partners", "crawls"}


@dataclass(frozen=True)
class Identity:
    """What a file at an archive's path is, read without writing to it."""

    exists: bool
    empty: bool  # no file, a 0-byte file, or SQLite with no table at all
    version: int = 0

    @property
    def needs_migration(self) -> bool:
        return self.empty or self.version < SCHEMA_VERSION


def _describe(path: Path, tables: list[str]) -> str:
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    return (
        f"archive {path}: not an olyscrape archive (another program's SQLite file, with"
        f" tables {shown}); left unchanged"
    )


def _identity_of(conn: sqlite3.Connection) -> tuple[int, int, list[str]]:
    """The file's application id, schema version and tables."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]  # fmt: skip
    return app_id, version, tables


def identify(path: str | Path) -> Identity:
    """Tell what the file at ``path`` is, opening it read-only, or raise
    :class:`ArchiveRefused` for a file that is not an olyscrape archive (not SQLite, another
    program's SQLite file, an archive written by a newer olyscrape)."""
    path = Path(path)
    if not path.exists():
        return Identity(exists=False, empty=True)
    if path.is_dir():
        raise ArchiveRefused(f"archive {path}: is a folder, not a file")
    paths.check_file(path, writing=False)  # a device, a FIFO, a second name: not opened
    if path.stat().st_size == 0:
        return Identity(exists=True, empty=True)
    # Read through a descriptor never closed (see olyscrape.archive.traces).
    if os.pread(traces.kept_fd(path), 16, 0) != b"SQLite format 3\x00":
        raise ArchiveRefused(
            f"archive {path}: not an olyscrape archive (not a SQLite file); left unchanged"
        )
    try:  # a look that creates nothing beside the file, even another program's WAL file
        app_id, version, tables = paths.read_briefly(path, _identity_of)
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):  # a SQLite header, then damage: or another copy's -wal
            refuse_foreign_wal(path)
            raise damaged(path, exc) from None
        raise ArchiveRefused(
            f"archive {path}: cannot be read as SQLite ({exc}); left unchanged"
        ) from None
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise ArchiveRefused(
                f"archive {path}: written by a newer olyscrape (schema version {version}, this"
                f" one knows {SCHEMA_VERSION}); upgrade olyscrape to use it. Left unchanged"
            )
        return Identity(exists=True, empty=False, version=version)
    if app_id == 0 and not tables:
        return Identity(exists=True, empty=True)
    if app_id == 0 and set(tables) >= _LEGACY_TABLES:
        return Identity(exists=True, empty=False, version=0)
    if app_id not in (0, APPLICATION_ID):
        raise ArchiveRefused(
            f"archive {path}: not an olyscrape archive (SQLite application id {app_id:#x});"
            " left unchanged"
        )
    raise ArchiveRefused(_describe(path, tables))


def crawl_stats(text: str | None) -> dict[str, Any] | None:
    """A ``crawls`` row's ``stats`` as the dict a crawl wrote: ``{}`` for none yet (a crawl
    still running), ``None`` for text that is not a JSON object (edited by hand, written by
    a bug), which every reader shows as unreadable rather than failing on."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def check_for_writing(path: str | Path) -> Identity:
    """The one check before an archive is written (``crawl``, ``reparse``, ``check
    --keep``, :meth:`ArchiveWriter.open`): the path can be written, is a regular file with
    one name, and holds an olyscrape archive or nothing. Raises :class:`ArchiveError` (or
    :class:`ArchiveRefused`) having written nothing."""
    paths.check_writable(path)
    identity = identify(path)
    problem = None if identity.empty else header_problem(path)
    if problem:
        raise ArchiveDamaged(
            damaged_line(path, f"{problem}; `olyscrape verify --db {path}` says more")
        )
    return identity


#: The file format write versions SQLite writes (header byte 18): 1 legacy, 2 WAL.
_WRITE_VERSIONS = (1, 2)


def header_problem(path: str | Path) -> str | None:
    """What is wrong in the SQLite header of the file at ``path`` that SQLite itself does
    not report: a file format write version (byte 18) other than 1 or 2 makes SQLite open
    the file read-only, and every write fails as ``attempt to write a readonly database``
    on a file that can be written. ``None`` when it is right (or the file is unreadable:
    its opening says so)."""
    header = traces.read_bytes(path, 20)
    if len(header) < 20 or header[18] in _WRITE_VERSIONS:
        return None
    return (
        f"its SQLite header gives a file format write version of {header[18]} (byte 18),"
        " which this SQLite cannot write: only 1 or 2 are written, so SQLite would open it"
        " read-only"
    )


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """``values`` in slices of ``size``: no more ``?`` marks in one statement than the
    999 an older SQLite binds."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
