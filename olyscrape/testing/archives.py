"""Archives as each past olyscrape wrote them, for the tests of reading and migrating them.

:data:`PAST_VERSIONS` names every shape the archive ever had, from the git history of its
schema (``git log -- olyscrape/archive.py olyscrape/archive/schema.py``), oldest first:
four made before versioning (application id 0, ``user_version`` 0), then versions 1 to 7.
:func:`build` writes one, with the same few partners, articles, links, a tag, an
article's earlier version and a crawl in each (whatever columns that version had), its
tables created as sqlite-utils created them, in WAL mode as a crawl left them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from olyscrape.archive import schema

_OLYS = schema.APPLICATION_ID

# The columns each table had when it first appeared, and what later versions added.
_ARTICLES_0 = ("url", "title", "category", "published", "published_raw", "image_url",
               "first_seen", "last_seen")  # fmt: skip
_BODIES = ("body", "page_published", "capture_id")
_V3 = ("modified", "field_sources")
_V5 = ("page_failures", "page_error", "page_tried")
_LINKS = ("position", "first_seen", "last_seen")
_TYPES = {"id": "INTEGER", "position": "INTEGER", "capture_id": "INTEGER", "status": "INTEGER",
          "crawl_id": "INTEGER", "size": "INTEGER", "page_failures": "INTEGER",
          "commits": "INTEGER", "article_id": "INTEGER", "body": "TEXT",
          "last_crawl": "INTEGER"}  # fmt: skip
_CAPTURE_TABLES = {
    "article_tags": (("article_url", "tag"), ("article_url", "tag")),
    "article_versions": (
        ("id", "article_url", "changed_at", "crawl_id", "title", "category", "published", "body"),
        ("id",),
    ),
    "captures": (
        (
            "id",
            "url",
            "canonical_url",
            "fetched_at",
            "status",
            "content_type",
            "sha256",
            "crawl_id",
        ),
        ("id",),
    ),
    "capture_bodies": (("sha256", "size", "body"), ("sha256",)),
}

_OLD_PARTNER_ARTICLES = """
        SELECT a.rowid AS article_rowid, ap.partner, a.url, a.title, a.category, a.published,
               substr(a.published, 1, 4) AS year, ap.position, a.body, a.first_seen, a.last_seen
        FROM articles a JOIN article_partners ap ON ap.article_url = a.url"""


@dataclass(frozen=True)
class Version:
    """One shape of the archive: its tables (name → (columns, primary key)), ids, full-text
    index, views and the commit that introduced it."""

    name: str
    commit: str
    tables: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    version: int = 0
    application_id: int = 0
    fts: bool = True
    views: dict[str, str] = field(default_factory=dict)
    without_rowid: tuple[str, ...] = ()


def _tables(
    partners: tuple[str, ...], articles: tuple[str, ...], crawls: tuple[str, ...],
    captures: bool = True, by_number: bool = False, session: bool = False,
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:  # fmt: skip
    tables: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
        "partners": (partners, ("slug",)),
        "articles": (articles, ("id",) if by_number else ("url",)),
    }
    if captures:
        tables |= _CAPTURE_TABLES
    if by_number:
        tables["partner_links"] = (("article_id", "partner", *_LINKS), ("article_id", "partner"))
    else:
        tables["article_partners"] = (("article_url", "partner", *_LINKS),
                                      ("article_url", "partner"))  # fmt: skip
    tables["crawls"] = (crawls, ("id",))
    if session:
        tables["writer_session"] = (("id", "token", "commits", "history", "opened_at"), ("id",))
    return tables


_P0 = ("slug", "name", "url")
_P1 = (*_P0, "walk_started", "walk_completed")
_C0 = ("id", "started_at", "finished_at", "status", "stats")
_C1 = (*_C0, "reasons")
_A4 = ("id", *_ARTICLES_0, *_BODIES, *_V3)
#: The views of versions 4 to 6 (version 7 added ``changes`` and ``article_history``).
_V4_VIEWS = {name: schema.VIEWS[name] for name in ("partner_articles", "article_partners")}

#: Version 7: each link's last crawl, and the walks (the views of version 8 already).
_V7_TABLES = _tables(_P1, (*_A4, *_V5), _C1, by_number=True, session=True) | {
    "partner_links": (("article_id", "partner", *_LINKS, "last_crawl"), ("article_id", "partner")),
    "walks": (("id", "crawl_id", "partner", "started", "completed", "kind"), ("id",)),
}

#: Every shape the archive had, oldest first.
PAST_VERSIONS: dict[str, Version] = {
    v.name: v
    for v in (
        # Made before versioning: application id 0, user_version 0, recognised by its tables.
        Version("0-first", "0776ea1", _tables(_P0, _ARTICLES_0, _C0, captures=False), fts=False),
        Version("0-bodies", "134f13b", _tables(_P0, (*_ARTICLES_0, *_BODIES), _C0), fts=False),
        Version(
            "0-search",
            "f646cc8",
            _tables(_P0, (*_ARTICLES_0, *_BODIES), _C0),
            views={"partner_articles": _OLD_PARTNER_ARTICLES},
        ),
        Version(
            "0-walks",
            "133d7bf",
            _tables(_P1, (*_ARTICLES_0, *_BODIES), _C1),
            views={"partner_articles": _OLD_PARTNER_ARTICLES},
        ),
        Version(
            "1",
            "3d1b6c9",
            _tables(_P1, (*_ARTICLES_0, *_BODIES), _C1),
            1,
            _OLYS,
            views={"partner_articles": _OLD_PARTNER_ARTICLES},
        ),
        Version(
            "2",
            "11772b3",
            _tables(_P1, (*_ARTICLES_0, *_BODIES), _C1),
            2,
            _OLYS,
            views={"partner_articles": _OLD_PARTNER_ARTICLES},
        ),
        Version(
            "3",
            "9aeeadf",
            _tables(_P1, (*_ARTICLES_0, *_BODIES, *_V3), _C1),
            3,
            _OLYS,
            views={"partner_articles": _OLD_PARTNER_ARTICLES},
        ),
        Version(
            "4",
            "cd2c06a",
            _tables(_P1, _A4, _C1, by_number=True),
            4,
            _OLYS,
            views=_V4_VIEWS,
            without_rowid=("partner_links",),
        ),
        Version(
            "5",
            "0274f0c",
            _tables(_P1, (*_A4, *_V5), _C1, by_number=True),
            5,
            _OLYS,
            views=_V4_VIEWS,
            without_rowid=("partner_links",),
        ),
        Version(
            "6",
            "b4fb971",
            _tables(_P1, (*_A4, *_V5), _C1, by_number=True, session=True),
            6,
            _OLYS,
            views=_V4_VIEWS,
            without_rowid=("partner_links",),
        ),
        Version(
            "7",
            "d36bd79",
            _V7_TABLES,
            7,
            _OLYS,
            views=dict(schema.VIEWS),
            without_rowid=("partner_links",),
        ),
        # Not a release: the sparsest file the migrations accept as one made before
        # versioning (its four tables, few columns), as tests/helpers.py's legacy_archive.
        Version(
            "0-sparse",
            "-",
            {
                "partners": (("slug",), ("slug",)),
                "crawls": (("id",), ("id",)),
                "articles": (("url", "title"), ("url",)),
                "article_partners": (("article_url", "partner"), ()),
            },
            fts=False,
        ),
    )
}

PARTNERS = [
    {"slug": "alibaba", "name": "Alibaba", "url": "https://olympics.com/ioc/alibaba"},
    {"slug": "visa", "name": "Visa", "url": "https://olympics.com/ioc/visa"},
]
_SEEN = "2026-01-01T00:00:00Z"
ARTICLES: list[dict[str, object]] = [
    {"id": 1, "url": "https://olympics.com/ioc/news/cloud-games",
     "title": "Cloud games for Tokyo 2020", "category": "IOC News", "published": "2021-07-22",
     "body": "Alibaba brings the cloud to the Olympic Games."},
    {"id": 2, "url": "https://olympics.com/ioc/news/shared-story", "title": "A shared story",
     "category": "IOC News", "published": "2021-06-01"},
    {"id": 3, "url": "https://olympics.com/ioc/news/visa-athletes",
     "title": "Team Visa athletes", "category": "Paris 2024", "published": "2020-02-02"},
]  # fmt: skip
#: (article number, partner, position)
LINKS = [(1, "alibaba", 1), (2, "alibaba", 2), (2, "visa", 1), (3, "visa", 2)]
CRAWL = {"id": 1, "started_at": "2026-11-25T07:38:12Z", "finished_at": "2026-11-25T07:38:14Z",
         "status": "ok", "stats": '{"olyscrape/new": 4}', "reasons": "[]"}  # fmt: skip


def _create(name: str, columns: tuple[str, ...], pk: tuple[str, ...], rowid: bool) -> str:
    lines = [f'   "{c}" {_TYPES.get(c, "TEXT")}' + (" PRIMARY KEY" if pk == (c,) else "")
             for c in columns]  # fmt: skip
    if len(pk) > 1:
        lines.append("   PRIMARY KEY (" + ", ".join(f'"{c}"' for c in pk) + ")")
    kind = "" if rowid else " WITHOUT ROWID"
    return f'CREATE TABLE "{name}" (\n' + ",\n".join(lines) + f"\n){kind}"


def _insert(
    conn: sqlite3.Connection, table: str, columns: tuple[str, ...], row: dict[str, object]
) -> None:
    kept = [c for c in columns if c in row]
    marks = ", ".join(f":{c}" for c in kept)
    conn.execute(f"INSERT INTO [{table}] ({', '.join(kept)}) VALUES ({marks})", row)


def build(path: str | Path, name: str) -> Path:
    """Write the archive of the past version ``name`` (a key of :data:`PAST_VERSIONS`) at
    ``path`` (which must not exist), with :data:`PARTNERS`, :data:`ARTICLES`,
    :data:`LINKS` and :data:`CRAWL` in it; returns ``path``."""
    version = PAST_VERSIONS[name]
    path = Path(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for table, (columns, pk) in version.tables.items():
            conn.execute(_create(table, columns, pk, table not in version.without_rowid))
        tables = version.tables
        for each in PARTNERS:
            _insert(conn, "partners", tables["partners"][0], dict(each))
        for article in ARTICLES:
            row = article | {"first_seen": _SEEN, "last_seen": _SEEN, "rowid": article["id"]}
            kept = [c for c in tables["articles"][0] if c in row]
            conn.execute(f"INSERT INTO articles (rowid, {', '.join(kept)})"
                         f" VALUES (:rowid, {', '.join(':' + c for c in kept)})", row)  # fmt: skip
        urls = {a["id"]: a["url"] for a in ARTICLES}
        for number, partner, position in LINKS:
            link: dict[str, object] = {
                "article_id": number, "article_url": urls[number], "partner": partner,
                "position": position, "first_seen": _SEEN, "last_seen": _SEEN}  # fmt: skip
            table = "partner_links" if "partner_links" in tables else "article_partners"
            _insert(conn, table, tables[table][0], link)
        _insert(conn, "crawls", tables["crawls"][0], CRAWL)
        if "article_tags" in tables:
            conn.execute("INSERT INTO article_tags VALUES (?, 'cloud')", [urls[1]])
            conn.execute(
                "INSERT INTO article_versions (id, article_url, changed_at, crawl_id, title)"
                " VALUES (1, ?, ?, 1, 'Cloud games')",
                [urls[1], _SEEN],
            )
        if "writer_session" in tables:
            conn.execute("INSERT INTO writer_session VALUES (1, 'f00d', 3, '[]', ?)", [_SEEN])
        if version.fts:
            conn.execute("CREATE VIRTUAL TABLE [articles_fts] USING FTS5 ([title], [body],"
                         " tokenize='porter', content=[articles])")  # fmt: skip
            conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        for view, sql in version.views.items():
            conn.execute(f"CREATE VIEW {view} AS {sql}")
        if version.application_id:
            conn.execute(f"PRAGMA application_id = {version.application_id}")
        conn.execute(f"PRAGMA user_version = {version.version}")
        conn.execute("COMMIT")
        if name != "0-sparse":
            conn.execute("PRAGMA journal_mode = WAL")  # as a crawl left it
    finally:
        conn.close()
    return path
