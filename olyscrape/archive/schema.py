"""The archive's schema, its identity, and migrations.

An olyscrape archive is a SQLite file whose ``PRAGMA application_id`` is
:data:`APPLICATION_ID` and whose ``PRAGMA user_version`` is the schema version it was
last migrated to. :func:`identify` tells an archive from anything else *without writing*,
so a file that is not ours is refused and left byte-for-byte as it was; :func:`migrate`
brings an older archive up to :data:`SCHEMA_VERSION` and never drops anything.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from olyscrape.archive.errors import ArchiveRefused

#: ``PRAGMA application_id`` of every olyscrape archive: "OLYS" in ASCII.
APPLICATION_ID = 0x4F4C5953
#: The schema version this code writes (``PRAGMA user_version``). Version 0 is an archive
#: made before versioning, recognised by its tables; version 1 indexed each new article
#: by a trigger, version 2 indexes a batch's new articles at once (see INDEX_NEW_ROWS),
#: version 3 adds each article's ``modified`` date and ``field_sources``.
SCHEMA_VERSION = 3


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
            "modified": str,
            "field_sources": str,
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
_INDEXED = "EXISTS (SELECT 1 FROM articles_fts_docsize WHERE id = old.rowid)"
#: Keep articles_fts in step with changed and deleted articles, re-indexing a row only
#: when its text changes (a crawl touching last_seen, or a re-parse writing the same
#: text, costs nothing). New rows are indexed a batch at a time (INDEX_NEW_ROWS): one
#: FTS5 insert per batch costs half what one per row does. A row not indexed yet is
#: indexed by its first change instead, so no row is ever deleted from the index twice.
_FTS_TRIGGERS = {
    "articles_fts_ad": f"""CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles
        WHEN {_INDEXED} BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, body)
        VALUES ('delete', {_OLD}); END""",
    "articles_fts_au": f"""CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, body ON articles
        WHEN old.title IS NOT new.title OR old.body IS NOT new.body BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, body)
        SELECT 'delete', {_OLD} WHERE {_INDEXED};
        INSERT INTO articles_fts (rowid, title, body) VALUES ({_NEW}); END""",
}
#: Index the articles added since the index's newest row (the writer runs it after each
#: batch; rows another program inserted are picked up by the next one).
INDEX_NEW_ROWS = """
INSERT INTO articles_fts (rowid, title, body)
SELECT rowid, title, body FROM articles
WHERE rowid > :after AND rowid NOT IN (SELECT id FROM articles_fts_docsize)
"""
INDEXED_UP_TO = "SELECT coalesce(max(id), 0) FROM articles_fts_docsize"

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


#: The tables that make a file made before versioning (application id 0) an olyscrape archive.
_LEGACY_TABLES = {"partners", "articles", "article_partners", "crawls"}

_FTS_CREATE = """CREATE VIRTUAL TABLE [articles_fts] USING FTS5 (
    [title], [body],
    tokenize='porter',
    content=[articles]
)"""


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


def identify(path: str | Path) -> Identity:
    """Tell what the file at ``path`` is, opening it read-only, or raise
    :class:`ArchiveRefused` for a file that is not an olyscrape archive (not SQLite, another
    program's SQLite file, an archive written by a newer olyscrape)."""
    path = Path(path)
    if not path.exists():
        return Identity(exists=False, empty=True)
    if path.is_dir():
        raise ArchiveRefused(f"archive {path}: is a folder, not a file")
    if path.stat().st_size == 0:
        return Identity(exists=True, empty=True)
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise ArchiveRefused(
                f"archive {path}: not an olyscrape archive (not a SQLite file); left unchanged"
            )
    try:
        conn = read_connection(path)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]  # fmt: skip
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
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


def read_connection(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot write to ``path``: ``mode=ro``, or SQLite's ``immutable=1``
    where the file or its folder is read-only (a WAL archive's reader needs to write its
    ``-shm`` file otherwise), as Datasette's immutable mode does."""
    uri = Path(path).resolve().as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn = sqlite3.connect(f"{uri}?immutable=1", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Create what is missing (tables, columns, indexes, the view, the full-text index and
    its triggers), then stamp the file with olyscrape's id and the schema version. Nothing
    is dropped or rewritten; a migration cut short is simply run again on the next open."""
    import sqlite_utils  # only when a file needs migrating, never on a crawl's hot path

    # The id first: a migration cut short (a full disk) leaves a file still known as ours,
    # which the next open migrates again, rather than one refused as another program's.
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db = sqlite_utils.Database(conn)
    for name, (columns, pk) in SCHEMA.items():
        table = db.table(name)
        if not table.exists():
            table.create(columns, pk=pk)
            continue
        for column, kind in columns.items():
            if column not in table.columns_dict:
                table.add_column(column, kind)
    for name, indexes in INDEXES.items():
        for index in indexes:
            db.table(name).create_index(index, if_not_exists=True)
    for name, sql in VIEWS.items():
        conn.execute(f"CREATE VIEW IF NOT EXISTS {name} AS {sql}")
    if not db.table("articles").detect_fts():
        # An external-content FTS5 index, filled from the rows already there.
        conn.execute(_FTS_CREATE)
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    conn.execute("DROP TRIGGER IF EXISTS articles_fts_ai")  # version 1's, per row
    for name, trigger in _FTS_TRIGGERS.items():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        conn.execute(trigger)
    conn.execute(INDEX_NEW_ROWS, {"after": 0})  # whatever no trigger indexed
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")  # last: the migration is whole
