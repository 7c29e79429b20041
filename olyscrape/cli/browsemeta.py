"""What Datasette shows of an archive: a description of every table, view and column, the
facets and sort of each, and the canned queries (``olyscrape browse`` writes it as
Datasette's metadata; ``docs/schema.md`` is generated from it).
"""

from __future__ import annotations

from typing import Any

from olyscrape.archive import CANNED_QUERIES
from olyscrape.archive.feeds import (
    FEED_QUERIES,
    FEEDS_SINCE_VERSION,
    needs_upgrade_sql,
    of_version,
)
from olyscrape.archive.schema import SCHEMA_VERSION

#: The database name Datasette gives ``data/olyscrape.db`` (it names a file by its stem).
DEFAULT_DB_NAME = "olyscrape"

_SEEN = {
    "first_seen": "When a crawl first saw this (UTC, ISO-8601)",
    "last_seen": "When a crawl last saw this (UTC, ISO-8601)",
}

#: Table or view → (description, {column: description}, extra Datasette table settings).
TABLES: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
    "partner_articles": (
        "One row per article and partner that showed it: the place to facet and search. "
        "An article shown by two partners appears twice.",
        {
            "article_rowid": "The article's number (articles.id, and its row in articles_fts)",
            "partner": "Slug of the partner whose listing showed the article",
            "url": "Canonical URL of the article",
            "title": "Title as the card gives it",
            "category": "Category label of the card (e.g. Tokyo 2020, IOC News), else the"
            " section the article's page gives",
            "published": "Publication date, YYYY-MM-DD (empty when the card gives none)",
            "year": "Year of publication, YYYY",
            "position": "Position on the partner's listing (1 = newest)",
            "body": "Text of the article's page: paragraphs and headings, a blank line apart",
            **_SEEN,
        },
        {
            "facets": ["partner", "category", "year"],
            "sort_desc": "published",
            "fts_table": "articles_fts",
            "fts_pk": "article_rowid",
            "label_column": "title",
        },
    ),
    "articles": (
        "A news article about a TOP partner, by its canonical URL (one row however many "
        "partners showed it).",
        {
            "id": "Article number (primary key; also the row's number in articles_fts)",
            "url": "Canonical URL of the article (unique)",
            "title": "Title as the card gives it",
            "category": "Category label of the card (e.g. Tokyo 2020, IOC News), else the"
            " section the article's page gives",
            "published": "Publication date from the card, YYYY-MM-DD (empty when it had none)",
            "published_raw": "The card's date as the page writes it",
            "image_url": "The card's image, else the image the article page's structured"
            " data declares",
            **_SEEN,
            "body": "Text of the article's page: paragraphs and headings, a blank line apart",
            "page_published": "Publication date the article's own page gives (its visible"
            " date, else its structured data's)",
            "capture_id": "The capture (captures.id) this row was last parsed from",
            "modified": "Date the article was last modified, YYYY-MM-DD, as its page's"
            " structured data declares it",
            "field_sources": "JSON: where each field came from: listing (the card), page"
            " (the article page's markup), json-ld or opengraph (its structured data)",
            "page_failures": "Crawls in a row whose fetch of the article's page failed (0 once"
            " stored); at OLYSCRAPE_PAGE_MAX_FAILURES it is no longer asked for",
            "page_error": "Why the last fetch of the article's page failed",
            "page_tried": "When the article's page was last asked for (UTC)",
        },
        {"facets": ["category"], "sort_desc": "published", "label_column": "title"},
    ),
    "partners": (
        "The worldwide TOP partners, as the olympics.com menu lists them.",
        {
            "slug": "Short name used everywhere else (primary key)",
            "name": "Name as the menu writes it",
            "url": "The partner's news listing on olympics.com",
            "walk_started": "When the last crawl started walking this partner's listing",
            "walk_completed": "When a crawl last walked this listing to its end; earlier than "
            "walk_started when the last walk was cut short",
        },
        {"label_column": "name", "sort": "slug"},
    ),
    "partner_links": (
        "Which partner's listing showed which article, and where (by article number).",
        {
            "article_id": "The article (articles.id)",
            "partner": "The partner (partners.slug)",
            "position": "Position on the partner's listing (1 = newest)",
            **_SEEN,
            "last_crawl": "The crawl that last saw it (crawls.id): what tells a card a full"
            " walk did not show, whatever the clock did",
        },
        {"facets": ["partner"]},
    ),
    "partner_counts": (
        "How many articles each partner's listing showed, per date published: what stats"
        " reads (kept by triggers; schema version 8 on).",
        {
            "partner": "The partner (partners.slug)",
            "published": "Date published (NULL: undated)",
            "articles": "Articles of that partner published that day",
        },
        {"facets": ["partner"], "sort": "partner"},
    ),
    "article_partners": (
        "partner_links by article URL: which partner's listing showed which article.",
        {
            "article_url": "The article (articles.url)",
            "partner": "The partner (partners.slug)",
            "position": "Position on the partner's listing (1 = newest)",
            **_SEEN,
        },
        {"facets": ["partner"]},
    ),
    "article_tags": (
        "Tags the article's own page gives.",
        {"article_url": "The article (articles.url)", "tag": "One tag"},
        {"facets": ["tag"]},
    ),
    "article_versions": (
        "The values an article had before a crawl saw them change (articles holds the newest).",
        {
            "id": "Version number (primary key)",
            "article_url": "The article (articles.url)",
            "changed_at": "When the change was seen (UTC, ISO-8601)",
            "crawl_id": "The crawl that saw it (crawls.id)",
            "title": "Previous title",
            "category": "Previous category",
            "published": "Previous publication date, YYYY-MM-DD",
            "body": "Previous page text",
        },
        {"sort_desc": "changed_at"},
    ),
    "captures": (
        "Every response a crawl received (robots.txt, listings, load-more answers, pages).",
        {
            "id": "Capture number (primary key)",
            "url": "URL as fetched (maybe from a mirror)",
            "canonical_url": "The same URL on https://olympics.com",
            "fetched_at": "When it was received (UTC, ISO-8601)",
            "status": "HTTP status",
            "content_type": "Content-Type header",
            "sha256": "SHA-256 of the body (capture_bodies.sha256)",
            "crawl_id": "The crawl that fetched it (crawls.id)",
        },
        {"facets": ["status", "content_type"], "sort_desc": "id"},
    ),
    "capture_bodies": (
        "Distinct response bodies, stored once each, zlib-compressed (hidden: binary).",
        {
            "sha256": "SHA-256 of the uncompressed body (primary key)",
            "size": "Uncompressed size in bytes",
            "body": "The body, zlib-compressed",
        },
        {"hidden": True},
    ),
    "crawls": (
        "One crawl: running, ok, failed or interrupted (a crawl that died).",
        {
            "id": "Crawl number (primary key)",
            "started_at": "When it started (UTC, ISO-8601)",
            "finished_at": "When it finished (UTC, ISO-8601)",
            "status": "running, ok, failed or interrupted",
            "stats": "Scrapy's crawl stats, as JSON",
            "reasons": "Why a failed crawl failed, as a JSON list of messages",
        },
        {"facets": ["status"], "sort_desc": "id"},
    ),
    "walks": (
        "One walk of a partner's listing that completed (an interrupted or failed walk has "
        "none): what tells a card gone from a listing from one a walk did not reach.",
        {
            "id": "Walk number (primary key)",
            "crawl_id": "The crawl that walked it (crawls.id)",
            "partner": "The partner (partners.slug)",
            "started": "When the walk started (UTC, ISO-8601)",
            "completed": "When its last card and page were stored (UTC, ISO-8601)",
            "kind": "full (to the listing's own end), incremental (stopped at cards archived"
            " before), cut (ended at a paging cycle or a next page elsewhere)"
            " or before (the last complete walk known when the archive was upgraded)",
        },
        {"facets": ["partner", "kind"], "sort_desc": "id"},
    ),
    "changes": (
        "Every change the crawls saw, one row per partner: an article new to the archive, "
        "an article edited (which fields), a card gone from a partner's listing (only on "
        "the word of a full walk). olyscrape changes lists them.",
        {
            "kind": "new, edited or gone",
            "at": "When: first stored, the edit stored, or the full walk that did not show it"
            " completed (UTC, ISO-8601)",
            "partner": "The partner whose listing shows (gone: showed) the article",
            "url": "The article (articles.url)",
            "title": "The article's title now",
            "fields": "An edit's replaced fields: title, published, category, body",
            "crawl_id": "The crawl that saw it (crawls.id)",
            "version_id": "An edit's earlier values (article_versions.id)",
        },
        {"facets": ["kind", "partner"], "sort_desc": "at", "label_column": "title"},
    ),
    "article_history": (
        "Every earlier version of each article, with the values it had and when a crawl saw "
        "them replaced (articles holds the newest). olyscrape history URL shows the diffs.",
        {
            "url": "The article (articles.url)",
            "replaced_at": "When a crawl saw these values replaced (UTC, ISO-8601)",
            "crawl_id": "The crawl that saw it (crawls.id)",
            "title": "The title then",
            "published": "The publication date then, YYYY-MM-DD",
            "category": "The category then",
            "body": "The page text then",
            "current_title": "The article's title now",
        },
        {"sort_desc": "replaced_at", "label_column": "current_title"},
    ),
    "writer_session": (
        "The mark of the crawl or re-parse that last opened the archive, by which a -wal left "
        "beside the file is told to be its own or another copy's (one row).",
        {
            "id": "Always 1: one row",
            "token": "A random token, new each time a writer opens the archive",
            "commits": "The commits that writer made so far (each one adds one)",
            "history": "JSON: the [token, commits] marks earlier writers started from, newest"
            " first",
            "opened_at": "When that writer opened the archive (UTC, ISO-8601)",
        },
        {},
    ),
    "articles_fts": (
        "Full-text index (SQLite FTS5, porter stemming) of articles' titles and bodies, kept "
        "in step by triggers. Search it from articles or partner_articles.",
        {"title": "Article title, indexed", "body": "Article text, indexed"},
        {"hidden": True},
    ),
}


#: The schema version that keeps ``partner_counts``; before it, the canned queries reading it
#: count the links themselves (the same figures, at the join's cost).
COUNTS_SINCE_VERSION = 8
_BEFORE_COUNTS = {
    "articles_by_partner_per_year": """
SELECT partner, coalesce(year, 'undated') AS year, count(*) AS count
FROM partner_articles
GROUP BY partner, year
ORDER BY partner, year
""",
}


def _canned_sql(name: str, sql: str, version: int) -> str:
    """The SQL of canned query ``name`` over an archive of schema ``version``: a feed over
    an archive older than the feeds' views says so (Datasette reads the file as it is)."""
    if name in FEED_QUERIES and version < FEEDS_SINCE_VERSION:
        return needs_upgrade_sql(version).strip()
    if name in _BEFORE_COUNTS and version < COUNTS_SINCE_VERSION:
        return _BEFORE_COUNTS[name].strip()
    return sql.strip()


def _note(version: int) -> dict[str, str]:
    """The database's description for an archive older than the changes: what it lacks."""
    if version >= FEEDS_SINCE_VERSION:
        return {}
    return {
        "description": f"An archive {of_version(version)}, served as it is: the changes"
        f" and article_history views and the feeds come with version {FEEDS_SINCE_VERSION},"
        " which the next olyscrape crawl of it upgrades it to."
    }


def metadata(db_name: str = DEFAULT_DB_NAME, version: int = SCHEMA_VERSION) -> dict[str, Any]:
    """Datasette 0.65 metadata for an archive of schema ``version`` that Datasette names
    ``db_name``."""
    tables = {
        name: {"description": description, "columns": columns, **settings}
        for name, (description, columns, settings) in TABLES.items()
    }
    queries = {
        name: {"title": title, "description": description,
               "sql": _canned_sql(name, sql, version),
               # a feed's page shows its entries first; its long SQL behind "Show SQL"
               **({"hide_sql": True} if name in FEED_QUERIES else {})}
        for name, (title, description, sql) in CANNED_QUERIES.items()
    }  # fmt: skip
    return {
        "title": "olyscrape: IOC TOP partner news",
        "description": (
            "News the International Olympic Committee publishes about its worldwide TOP "
            "partners, archived by olyscrape. Start with partner_articles: facet by partner, "
            "category and year, or search titles and bodies."
        ),
        "source": "International Olympic Committee, olympics.com",
        "source_url": "https://olympics.com/ioc/partners",
        "databases": {db_name: {"tables": tables, "queries": queries, **_note(version)}},
    }
