"""Bring an archive of any earlier schema version up to this one, in one transaction.

:func:`migrate` adds whatever :data:`~olyscrape.archive.schema.SCHEMA` and its indexes
name that the file lacks (tables, columns, indexes, views, the full-text index and its
triggers), rewrites version 3's tables once (:func:`_number_articles`), and sets the
version last. Nothing is ever dropped; cut short at any point, nothing of it is committed.
The tables' ``CREATE`` statements are built here from the schema's data, written as
sqlite-utils writes them.
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress

from olyscrape.archive import counts, room, schema


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the archive on ``conn`` (autocommit, no transaction open) up to
    ``schema.SCHEMA_VERSION`` in **one** ``BEGIN IMMEDIATE`` … ``COMMIT``: the id, the
    missing tables, columns and indexes (whatever ``schema.SCHEMA`` and ``schema.INDEXES``
    name), version 4's rewrite, the views, the full-text index and its triggers, and the
    version last.

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
    :func:`~olyscrape.archive.paths.read_connection`). When another connection holds the
    file open in WAL mode, the mode cannot change and the migration runs in WAL mode, one
    transaction all the same; the WAL it leaves on failure is truncated.

    Committed, the file's free pages go back to the disk when they are more than a few
    percent of it (:func:`~olyscrape.archive.room.give_back`: version 4's rewrite leaves
    44 %). :func:`~olyscrape.archive.room.check` tells beforehand whether the disk has the
    room for all of it.
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
        if has_tables:  # the pages version 4's rewrite (or an older one) left free
            room.give_back(conn)
    finally:
        with suppress(sqlite3.Error):
            conn.execute(f"PRAGMA secure_delete = {int(secure_delete)}")
        if journal == "delete":
            # Back to WAL (the writer's mode); on a disk too full even for that, the file
            # stays in rollback-journal mode, readable as it is, and the next open retries.
            with suppress(sqlite3.Error):
                conn.execute("PRAGMA journal_mode = WAL")


_FTS_CREATE = """CREATE VIRTUAL TABLE [articles_fts] USING FTS5 (
    [title], [body],
    tokenize='porter',
    content=[articles]
)"""

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
    """``CREATE TABLE`` for ``schema.SCHEMA``'s table ``name`` (called ``as_name`` if given),
    written as sqlite-utils writes it, so older and newer archives read alike."""
    columns, pk = schema.SCHEMA[name]
    references = {
        column: (table, other) for column, table, other in schema.FOREIGN_KEYS.get(name, [])
    }
    lines = []
    for column, kind in columns.items():
        line = f"   {_quote(column)} {_TYPES[kind]}" + (" PRIMARY KEY" if pk == column else "")
        if column in references:
            table, other = references[column]
            line += f" REFERENCES {_quote(table)}({_quote(other)})"
        lines.append(line)
    if isinstance(pk, tuple):
        lines.append(f"   PRIMARY KEY ({', '.join(_quote(c) for c in pk)})")
    rowid = " WITHOUT ROWID" if name in schema.WITHOUT_ROWID else ""
    return f"CREATE TABLE {_quote(as_name or name)} (\n" + ",\n".join(lines) + f"\n){rowid}"


def create_index_sql(table: str, columns: list[str], unique: bool = False) -> str:
    """``CREATE [UNIQUE] INDEX IF NOT EXISTS``, named as sqlite-utils names it."""
    name = f"idx_{table.replace(' ', '_')}_{'_'.join(columns)}"
    return (
        f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {_quote(name)}"
        f" ON {_quote(table)} ({', '.join(_quote(c) for c in columns)})"
    )


#: Version 7's record of walks starts from the last complete walk of each partner that the
#: archive knew (its kind unknown, so it never makes a link gone; a link last seen before
#: it went before the upgrade, when is not known, and is never reported gone).
_WALKS_BEFORE = """INSERT INTO walks (partner, started, completed, kind)
    SELECT slug, walk_started, walk_completed, 'before' FROM partners
    WHERE walk_completed IS NOT NULL AND walk_started IS NOT NULL
        AND walk_completed >= walk_started ORDER BY slug"""


def _migrate_in_transaction(conn: sqlite3.Connection) -> None:
    """Every step of :func:`migrate`, inside its transaction."""
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    _number_articles(conn)
    tables = _names(conn, "table")
    for name, (columns, _) in schema.SCHEMA.items():
        if name not in tables:
            conn.execute(create_table_sql(name))
            if name == "walks":
                conn.execute(_WALKS_BEFORE)
            if name == "partner_counts":  # version 8: filled once, then kept by its triggers
                conn.execute(counts.INDEX)
                conn.execute(counts.FILL)
            continue
        present = set(_columns(conn, name))
        for column, kind in columns.items():
            if column not in present:
                conn.execute(
                    f"ALTER TABLE {_quote(name)} ADD COLUMN {_quote(column)} {_TYPES[kind]}"
                )
    _create_indexes(conn)
    _create_partial_indexes(conn)
    for name, sql in schema.VIEWS.items():
        conn.execute(f"DROP VIEW IF EXISTS {name}")  # an older version's definition
        conn.execute(f"CREATE VIEW {name} AS {sql}")
    if "articles_fts" not in _names(conn, "table"):
        # An external-content FTS5 index, filled from the rows already there.
        conn.execute(_FTS_CREATE)
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    conn.execute("DROP TRIGGER IF EXISTS articles_fts_ai")  # version 1's, per row
    for name, trigger in (_FTS_TRIGGERS | counts.TRIGGERS).items():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        conn.execute(trigger)
    conn.execute(schema.INDEX_NEW_ROWS, {"after": 0})  # whatever no trigger indexed
    conn.execute(schema.BUMP_COMMITS)  # a migration's -wal carries the writer's mark too
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")  # last: the migration is whole


def _create_indexes(conn: sqlite3.Connection) -> None:
    """The unique indexes, then the others, each made once: ``schema.INDEXES`` may name new ones."""
    for name, indexes in schema.UNIQUE_INDEXES.items():
        for index in indexes:
            conn.execute(create_index_sql(name, index, unique=True))
    for name, indexes in schema.INDEXES.items():
        for index in indexes:
            conn.execute(create_index_sql(name, index))


def _create_partial_indexes(conn: sqlite3.Connection) -> None:
    for name, (table, columns, where) in schema.PARTIAL_INDEXES.items():
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
        for view in schema.VIEWS:  # ours are made anew once the tables stand
            if view in views:
                conn.execute(f"DROP VIEW {view}")
        if "id" not in columns:
            kept = ", ".join(f"[{c}]" for c in schema.SCHEMA["articles"][0] if c in columns)
            conn.execute(create_table_sql("articles", as_name="articles_v4"))
            conn.execute(f"INSERT INTO articles_v4 (id, {kept}) SELECT rowid, {kept} FROM articles")
            conn.execute("DROP TABLE articles")  # its triggers and indexes with it
            conn.execute("ALTER TABLE articles_v4 RENAME TO articles")
        for index in schema.UNIQUE_INDEXES["articles"]:  # the links are moved by a join on the URL
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
