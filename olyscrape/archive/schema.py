"""The archive's schema, its identity, and migrations.

An olyscrape archive is a SQLite file whose ``PRAGMA application_id`` is
:data:`APPLICATION_ID` and whose ``PRAGMA user_version`` is the schema version it was
last migrated to. :func:`identify` tells an archive from anything else *without writing*,
so a file that is not ours is refused and left byte-for-byte as it was; :func:`migrate`
brings an older archive up to :data:`SCHEMA_VERSION` and never drops anything.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olyscrape.archive import paths
from olyscrape.archive.errors import (
    ArchiveDamaged,
    ArchiveError,
    ArchiveRefused,
    damaged,
    damaged_line,
    is_corruption,
)

#: ``PRAGMA application_id`` of every olyscrape archive: "OLYS" in ASCII.
APPLICATION_ID = 0x4F4C5953
#: The schema version this code writes (``PRAGMA user_version``). Version 0 is an archive
#: made before versioning, recognised by its tables; version 1 indexed each new article
#: by a trigger, version 2 indexes a batch's new articles at once (see INDEX_NEW_ROWS),
#: version 3 adds each article's ``modified`` date and ``field_sources``, version 4 numbers
#: articles (``articles.id``) and keys each partner link by that number (``partner_links``),
#: version 5 records each article page's failed fetches (``page_failures``, ``page_error``,
#: ``page_tried``) and indexes the articles still without a page (:data:`PARTIAL_INDEXES`),
#: version 6 keeps the mark of the last writer session (``writer_session``), by which a
#: ``-wal`` left beside the file is told to be its own or another copy's
#: (:func:`olyscrape.archive.health.wal_owner`).
SCHEMA_VERSION = 6


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
        {"article_id": int, "partner": str, "position": int, "first_seen": str, "last_seen": str},
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
    # An article deleted (by another program: olyscrape deletes nothing) takes its links
    # with it, so a later article given the same number never inherits them.
    "articles_links_ad": """CREATE TRIGGER articles_links_ad AFTER DELETE ON articles BEGIN
        DELETE FROM partner_links WHERE article_id = old.id; END""",
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
    "partner_links": [["partner"]],
    "articles": [["published"]],
    "article_versions": [["article_url"]],
    "captures": [["canonical_url"]],
}

#: Index name → (table, columns, condition): indexes of a few rows only. The articles
#: still without a page are what every crawl asks for again and every summary counts: at a
#: million articles, reading them must not read the million bodies.
PARTIAL_INDEXES = {
    "articles_without_page": ("articles", ["id"], "body IS NULL"),
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
    paths.check_file(path, writing=False)  # a device, a FIFO, a second name: not opened
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
        if is_corruption(exc):  # a SQLite header, then damage: or another copy's -wal
            from olyscrape.archive.health import refuse_foreign_wal

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
    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
    except OSError:
        return None
    if len(header) < 20 or header[18] in _WRITE_VERSIONS:
        return None
    return (
        f"its SQLite header gives a file format write version of {header[18]} (byte 18),"
        " which this SQLite cannot write: only 1 or 2 are written, so SQLite would open it"
        " read-only"
    )


#: SQLITE_READONLY_ROLLBACK: a read-only connection met a hot journal it cannot roll back.
_READONLY_ROLLBACK = 776


def read_connection(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot write to ``path``: ``mode=ro``, or SQLite's ``immutable=1``
    where the file or its folder is read-only (a WAL archive's reader needs to write its
    ``-shm`` file otherwise), as Datasette's immutable mode does.

    A write cut short in rollback-journal mode (a migration killed half-way) leaves a hot
    ``-journal`` that only a writable connection can roll back: it is rolled back first, as
    the ``sqlite3`` shell would on its first read, so the file reads as it was before that
    write. Where it cannot be (a read-only disk), the file is refused, never read with
    ``immutable=1``, which would ignore the journal and read half-written pages."""
    try:
        return paths.connect_read_only(path, mode="ro", timeout=30)
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", None) == _READONLY_ROLLBACK:
            _roll_back_hot_journal(path)
            return paths.connect_read_only(path, mode="ro", timeout=30)
        journal = Path(f"{Path(path).resolve()}-journal")
        if journal.exists() and journal.stat().st_size:
            raise ArchiveError(_HOT_JOURNAL.format(path=path, journal=journal)) from None
        from olyscrape.archive.health import refuse_stale_read  # immutable ignores the -wal

        refuse_stale_read(path)
        return paths.connect_read_only(path, immutable=1)


_HOT_JOURNAL = (
    "archive {path}: an interrupted write left {journal}, which must be rolled back before"
    " the file can be read, and this disk or folder is read-only; left unchanged"
)


def _roll_back_hot_journal(path: str | Path) -> None:
    """Let SQLite roll back a hot journal through a writable connection (its first read
    does), or refuse the file in one line when it cannot be written."""
    journal = Path(f"{Path(path).resolve()}-journal")
    try:
        conn = sqlite3.connect(paths.sqlite_uri(path, mode="rw"), uri=True, timeout=30)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        raise ArchiveError(_HOT_JOURNAL.format(path=path, journal=journal)) from None


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the archive on ``conn`` (autocommit, no transaction open) up to
    :data:`SCHEMA_VERSION` in **one** ``BEGIN IMMEDIATE`` … ``COMMIT``: the id, the missing
    tables, columns and indexes (whatever :data:`SCHEMA` and :data:`INDEXES` name), version
    4's rewrite, the views, the full-text index and its triggers, and the version last.

    Cut short at any point (a full disk, a kill), nothing of it is committed: the file keeps
    its version, tables, views, triggers and rows, and the next open migrates again. Every
    statement is built here and run on ``conn``; no helper that commits on its own
    (sqlite-utils' ``add_column``, ``create_index``, ``with conn:``) is used.

    The transaction runs in SQLite's rollback-journal mode, then the file goes back to WAL:
    a journal holds only the original pages a migration overwrites (next to nothing: the
    rewrite writes new tables at the end of the file), where a WAL would hold a copy of
    every page written, then need as much room again in the file when checkpointed. A
    migration cut short by a full disk is rolled back and its journal removed; one
    killed leaves a hot journal, which the next connection rolls back (see
    :func:`read_connection`). When another connection holds the file open in WAL mode, the
    mode cannot change and the migration runs in WAL mode, one transaction all the same;
    the WAL it leaves on failure is truncated.
    """
    # A new file has nothing to keep: it is made in the writer's WAL mode, as before.
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    journal = _enter_rollback_journal(conn) if has_tables else "wal"
    secure_delete = conn.execute("PRAGMA secure_delete").fetchone()[0]
    # Overwriting the pages of version 3's dropped tables with zeros would put each of
    # them in the journal: as much room again as those tables. Their text lives on in the
    # new tables, so nothing is kept that was meant to be erased.
    conn.execute("PRAGMA secure_delete = OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            _migrate_in_transaction(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled it back already (a full disk)
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if journal == "wal":
                with suppress(sqlite3.Error):  # the WAL's frames were never committed
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raise
    finally:
        with suppress(sqlite3.Error):
            conn.execute(f"PRAGMA secure_delete = {int(secure_delete)}")
        if journal == "delete":
            # Back to WAL (the writer's mode); on a disk too full even for that, the file
            # stays in rollback-journal mode, readable as it is, and the next open retries.
            with suppress(sqlite3.Error):
                conn.execute("PRAGMA journal_mode = WAL")


def _enter_rollback_journal(conn: sqlite3.Connection) -> str:
    """Switch ``conn``'s file to rollback-journal (``DELETE``) mode for the migration, and
    say which mode it runs in: ``delete``, or ``wal`` when the file could not change mode
    (another connection has it open)."""
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 1000")  # a reader holding the file: not worth 30 s
    try:
        return str(conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]).lower()
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return "wal"
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def _names(conn: sqlite3.Connection, kind: str) -> set[str]:
    return {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = ?", [kind])}  # fmt: skip


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_TYPES = {str: "TEXT", int: "INTEGER", float: "FLOAT", bytes: "BLOB"}


def create_table_sql(name: str, as_name: str = "") -> str:
    """``CREATE TABLE`` for :data:`SCHEMA`'s table ``name`` (called ``as_name`` if given),
    written as sqlite-utils writes it, so older and newer archives read alike."""
    columns, pk = SCHEMA[name]
    references = {column: (table, other) for column, table, other in FOREIGN_KEYS.get(name, [])}
    lines = []
    for column, kind in columns.items():
        line = f"   {_quote(column)} {_TYPES[kind]}" + (" PRIMARY KEY" if pk == column else "")
        if column in references:
            table, other = references[column]
            line += f" REFERENCES {_quote(table)}({_quote(other)})"
        lines.append(line)
    if isinstance(pk, tuple):
        lines.append(f"   PRIMARY KEY ({', '.join(_quote(c) for c in pk)})")
    rowid = " WITHOUT ROWID" if name in WITHOUT_ROWID else ""
    return f"CREATE TABLE {_quote(as_name or name)} (\n" + ",\n".join(lines) + f"\n){rowid}"


def create_index_sql(table: str, columns: list[str], unique: bool = False) -> str:
    """``CREATE [UNIQUE] INDEX IF NOT EXISTS``, named as sqlite-utils names it."""
    name = f"idx_{table.replace(' ', '_')}_{'_'.join(columns)}"
    return (
        f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {_quote(name)}"
        f" ON {_quote(table)} ({', '.join(_quote(c) for c in columns)})"
    )


def _migrate_in_transaction(conn: sqlite3.Connection) -> None:
    """Every step of :func:`migrate`, inside its transaction."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    _number_articles(conn)
    tables = _names(conn, "table")
    for name, (columns, _) in SCHEMA.items():
        if name not in tables:
            conn.execute(create_table_sql(name))
            continue
        present = set(_columns(conn, name))
        for column, kind in columns.items():
            if column not in present:
                conn.execute(
                    f"ALTER TABLE {_quote(name)} ADD COLUMN {_quote(column)} {_TYPES[kind]}"
                )
    _create_indexes(conn)
    _create_partial_indexes(conn)
    for name, sql in VIEWS.items():
        conn.execute(f"DROP VIEW IF EXISTS {name}")  # an older version's definition
        conn.execute(f"CREATE VIEW {name} AS {sql}")
    if "articles_fts" not in _names(conn, "table"):
        # An external-content FTS5 index, filled from the rows already there.
        conn.execute(_FTS_CREATE)
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    conn.execute("DROP TRIGGER IF EXISTS articles_fts_ai")  # version 1's, per row
    for name, trigger in _FTS_TRIGGERS.items():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        conn.execute(trigger)
    conn.execute(INDEX_NEW_ROWS, {"after": 0})  # whatever no trigger indexed
    conn.execute(BUMP_COMMITS)  # a migration's -wal carries the writer's mark too
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")  # last: the migration is whole


def _create_indexes(conn: sqlite3.Connection) -> None:
    """The unique indexes, then the others, each made once: :data:`INDEXES` may name new ones."""
    for name, indexes in UNIQUE_INDEXES.items():
        for index in indexes:
            conn.execute(create_index_sql(name, index, unique=True))
    for name, indexes in INDEXES.items():
        for index in indexes:
            conn.execute(create_index_sql(name, index))


def _create_partial_indexes(conn: sqlite3.Connection) -> None:
    for name, (table, columns, where) in PARTIAL_INDEXES.items():
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS [{name}] ON [{table}] ({', '.join(columns)}) WHERE {where}"
        )


def _number_articles(conn: sqlite3.Connection) -> None:
    """Version 4: give ``articles`` its ``id`` column (each row keeps its rowid as its id,
    so the full-text index stays valid) and move the partner links from ``article_partners``
    (keyed by article URL) to ``partner_links`` (keyed by that id), inside the migration's
    transaction.

    SQLite's own procedure for changing a table's key: create the new table, copy, drop the
    old one, rename. A link whose article had no row (possible in a file made before
    versioning) gets a bare article row first: every link is kept.
    """
    tables = _names(conn, "table")
    old_links = "article_partners" in tables
    columns = _columns(conn, "articles") if "articles" in tables else []
    if not columns or ("id" in columns and not old_links):
        return
    # Rename without rewriting (or checking) views: a researcher's own view of ``articles``
    # keeps naming the new table.
    legacy = conn.execute("PRAGMA legacy_alter_table").fetchone()[0]
    conn.execute("PRAGMA legacy_alter_table = ON")
    try:
        views = _names(conn, "view")
        for view in VIEWS:  # ours are made anew once the tables stand
            if view in views:
                conn.execute(f"DROP VIEW {view}")
        if "id" not in columns:
            kept = ", ".join(f"[{c}]" for c in SCHEMA["articles"][0] if c in columns)
            conn.execute(create_table_sql("articles", as_name="articles_v4"))
            conn.execute(f"INSERT INTO articles_v4 (id, {kept}) SELECT rowid, {kept} FROM articles")
            conn.execute("DROP TABLE articles")  # its triggers and indexes with it
            conn.execute("ALTER TABLE articles_v4 RENAME TO articles")
        for index in UNIQUE_INDEXES["articles"]:  # the links are moved by a join on the URL
            conn.execute(create_index_sql("articles", index, unique=True))
        if old_links:
            _move_links(conn)
    finally:
        conn.execute(f"PRAGMA legacy_alter_table = {int(legacy)}")


def _move_links(conn: sqlite3.Connection) -> None:
    """``article_partners`` (article URL, partner, ...) → ``partner_links`` (article id, ...)."""
    present = _columns(conn, "article_partners")
    for column in ("position", "first_seen", "last_seen"):  # a file made before versioning
        if column not in present:
            conn.execute(f"ALTER TABLE article_partners ADD COLUMN {column} TEXT")
    conn.execute(_ARTICLES_ONLY_LINKED)
    if "partner_links" not in _names(conn, "table"):
        conn.execute(create_table_sql("partner_links"))
    conn.execute(_MOVE_LINKS)
    conn.execute("DROP TABLE article_partners")


#: Bare rows for the articles only a link names.
_ARTICLES_ONLY_LINKED = """
INSERT INTO articles (url, first_seen, last_seen)
SELECT article_url, min(first_seen), max(last_seen) FROM article_partners
WHERE article_url IS NOT NULL
    AND article_url NOT IN (SELECT url FROM articles WHERE url IS NOT NULL)
GROUP BY article_url
"""
_MOVE_LINKS = """
INSERT OR IGNORE INTO partner_links (article_id, partner, position, first_seen, last_seen)
SELECT a.id, l.partner, l.position, l.first_seen, l.last_seen
FROM article_partners l JOIN articles a ON a.url = l.article_url
WHERE l.partner IS NOT NULL
"""
