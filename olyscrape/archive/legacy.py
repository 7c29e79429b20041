"""An archive of an earlier schema version, read as it is, in the current shape.

A crawl migrates an older archive (:mod:`~olyscrape.archive.migrations`); the read
commands never write, so they read it as it is. Each past version lacks something the
current queries name: before version 4 articles have no ``id`` and the links are
``article_partners`` keyed by URL; before version 3 no ``modified``; an archive made
before versioning may lack a partner's ``name``, an article's ``category``, a crawl's
``reasons``, the ``partner_articles`` view or the full-text index itself.

:func:`present_current_shape` gives a read-only connection to such a file the current
shape without writing a byte of it: TEMP views (they live in the connection's own
temporary database, gone when it closes) named as the current tables and views, each
reading the file's own table with every column it lacks as NULL, and an article's ``id``
as its rowid, the number a migration gives it. SQLite looks a name up in TEMP first, so
the readers' queries and a researcher's ``sql`` see the current columns; the file's own
tables stay reachable as ``main.articles`` and so on. Simple views are flattened into the
queries that use them, so the file's indexes serve as before.
"""

from __future__ import annotations

import sqlite3

from olyscrape.archive import counts, schema

#: The columns of the ``article_partners`` view (``schema.VIEWS``), which a file before
#: version 4 holds as a table, made before versioning perhaps with fewer of them.
_LINK_COLUMNS = ("article_url", "partner", "position", "first_seen", "last_seen")
#: The full-text index an archive made before it existed gets for the connection's life.
_TEMP_FTS = "CREATE VIRTUAL TABLE temp.articles_fts USING fts5(title, body, tokenize='porter')"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _objects(conn: sqlite3.Connection) -> dict[str, str]:
    """The file's tables and views: name → type."""
    sql = "SELECT name, type FROM main.sqlite_master WHERE type IN ('table', 'view')"
    return dict(conn.execute(sql).fetchall())


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA main.table_info({_q(table)})")]


def _select(table: str, present: list[str], wanted: list[str]) -> str:
    """``SELECT`` of ``wanted`` from the file's ``table``: a missing column as NULL, an
    article's missing ``id`` as its rowid; columns only the file has come after them."""
    parts = []
    for column in wanted:
        if column in present:
            parts.append(f"t.{_q(column)}")
        elif table == "articles" and column == "id":
            parts.append("t.rowid AS id")
        else:
            parts.append(f"NULL AS {_q(column)}")
    parts += [f"t.{_q(c)}" for c in present if c not in wanted]
    return f"SELECT {', '.join(parts)} FROM main.{_q(table)} t"


def _empty(wanted: list[str] | tuple[str, ...]) -> str:
    return "SELECT " + ", ".join(f"NULL AS {_q(c)}" for c in wanted) + " WHERE 0"


def _links_by_url(conn: sqlite3.Connection) -> str:
    """``partner_links`` as before version 4's ``article_partners`` holds them: each link
    keyed by its article's number (rowid). A link to an article the file never stored (a
    file made before versioning) has no number until a migration gives it a row."""
    present = _columns(conn, "article_partners")
    kept = ", ".join(f"l.{_q(c)}" if c in present else f"NULL AS {_q(c)}"
                     for c in ("partner", "position", "first_seen", "last_seen"))  # fmt: skip
    return (
        f"SELECT a.rowid AS article_id, {kept}, NULL AS last_crawl FROM main.article_partners l"
        " JOIN main.articles a ON a.url = l.article_url"
    )


def views_for(conn: sqlite3.Connection) -> dict[str, str]:
    """The TEMP views (name → SELECT) that give the file on ``conn`` the current shape;
    none for a file already in it."""
    objects = _objects(conn)
    views: dict[str, str] = {}
    for table, (columns, _) in schema.SCHEMA.items():
        wanted = list(columns)
        if objects.get(table) == "table":
            present = _columns(conn, table)
            if not set(wanted) <= set(present):
                views[table] = _select(table, present, wanted)
        elif table == "partner_links" and objects.get("article_partners") == "table":
            views[table] = _links_by_url(conn)
        elif table == "partner_counts" and table not in objects:  # before version 8
            views[table] = counts.COMPUTED
        elif table not in objects:
            views[table] = _empty(wanted)
    if objects.get("article_partners") == "table":  # before version 4: a table of links
        present = _columns(conn, "article_partners")
        if not set(_LINK_COLUMNS) <= set(present):
            views["article_partners"] = _select("article_partners", present, list(_LINK_COLUMNS))
    if views:  # the current views, over the current shape (a file's own may use old columns)
        for name, sql in schema.VIEWS.items():
            if objects.get(name) != "table":
                views[name] = sql
    return views


def present_current_shape(conn: sqlite3.Connection, search: bool = True) -> list[str]:
    """Give the read-only connection ``conn`` (before ``query_only`` and the readers'
    authorizer, which refuse any CREATE) the current schema's shape over an older file
    (see above); the names it made, none for a current file. With ``search``, a file with
    no full-text index (made before there was one) gets one in TEMP, filled from its
    articles: the cost of reading every article once."""
    made = []
    for name, sql in views_for(conn).items():
        conn.execute(f"CREATE TEMP VIEW {_q(name)} AS {sql}")
        made.append(name)
    if search and "articles_fts" not in _objects(conn):
        conn.execute(_TEMP_FTS)
        body = "body" if "body" in _columns(conn, "articles") else "NULL"
        conn.execute(
            "INSERT INTO temp.articles_fts (rowid, title, body)"
            f" SELECT rowid, title, {body} FROM main.articles"
        )
        made.append("articles_fts")
    if conn.in_transaction:  # Python's implicit BEGIN before the INSERT: never left open,
        conn.commit()  # or it would hold a read lock (a snapshot) for the reader's life
    return made
