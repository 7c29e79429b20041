"""The Atom feeds ``olyscrape browse`` serves: canned queries shaped for ``datasette-atom``.

Datasette's plugin ``datasette-atom`` renders any query that returns ``atom_id``,
``atom_title`` and ``atom_updated`` (with ``atom_content_html``, ``atom_link`` and
``atom_author_name`` if given) as an Atom feed at the query's URL with ``.atom``. These
queries are canned so that a feed reader subscribes to a fixed URL, e.g.
``/olyscrape/new_articles_feed.atom?partner=visa``; ``:partner`` is optional (Datasette
gives a parameter left out as ``''``: every partner).

An entry's id is the same as ``olyscrape changes --format atom`` gives it, so that a reader
fed by both sees one entry per change: a new article is its URL, an edit
``<url>#edited-<at>``, a link gone ``<url>#gone-<partner>-<at>`` (``at``: the archive's UTC
time, ``2026-12-04T07:00:00Z``). Newest first, the :data:`FEED_SIZE` newest.

Two things the plugin does not handle, handled here:

- It takes the feed's ``updated`` as the newest entry's: with no entry it fails (HTTP
  500). A feed with nothing in it yet (a new archive, a partner with no news) gets one
  entry that says so (:data:`EMPTY_ID`), rather than an error a feed reader reports.
- It sanitises ``atom_content_html`` with bleach (a few tags kept, the rest escaped): the
  archive's text (titles may hold ``<`` or ``&``) is escaped here first, in SQL, so that
  it reads as the text it is, and only this module's own ``<p>`` and ``<a>`` are markup.

An archive of an earlier schema version has no ``changes`` view (version 7 made it):
Datasette serves the file as it is, so there each feed is :func:`needs_upgrade_sql`, one
entry and one row saying what to do, rather than an SQL error.
"""

from __future__ import annotations

import sqlite3

from olyscrape.archive import changes

#: A CTE computed once, however often the query reads it (SQLite 3.35+; before, as SQLite
#: chooses): without it the newest entries were computed again for each reading, 42 s
#: instead of 4 s where a million articles share one second.
_ONCE = "MATERIALIZED " if sqlite3.sqlite_version_info >= (3, 35, 0) else ""
#: How many entries a feed gives: the newest.
FEED_SIZE = 100
#: The schema version the feeds read (the ``changes`` view).
FEEDS_SINCE_VERSION = 7
#: The id of the one entry of a feed with nothing in it yet.
EMPTY_ID = "urn:olyscrape:feed:empty"
#: When a feed with nothing in it was last updated: the newest crawl's start, or the epoch.
_EPOCH = "1970-01-01T00:00:00Z"
_LAST_CRAWL = f"coalesce((SELECT max(started_at) FROM crawls), '{_EPOCH}')"
#: Where the entry of a feed with nothing in it links: the partner's page, or every
#: partner's (the plugin gives every entry a link: NULL would fail the feed).
_ALL_PARTNERS = "https://olympics.com/ioc/partners"
_PARTNER_PAGE = f"coalesce((SELECT url FROM partners WHERE slug = :partner), '{_ALL_PARTNERS}')"


#: The characters XML 1.0 forbids (controls below a space but tab, newline and return, and
#: the non-characters U+FFFE and U+FFFF):
#: a title the site wrote with one would make the plugin's XML writer fail the whole feed.
#: (The crawl removes them from what it stores; an archive written before may hold them.)
_NOT_XML = [n for n in range(1, 32) if n not in (9, 10, 13)] + [0xFFFE, 0xFFFF]
#: A feed's columns, in order: what datasette-atom reads, then what the table page shows.
_COLUMNS = ("atom_id", "atom_title", "atom_updated", "atom_content_html", "atom_link",
            "atom_author_name", "kind", "partners", "url", "fields")  # fmt: skip
_TEXT_COLUMNS = ("atom_id", "atom_title", "atom_content_html", "atom_link", "atom_author_name")


def _stripped(column: str, codes: list[int]) -> str:
    text = column
    for code in codes:
        text = f"replace({text}, char({code}), '')"
    return f"{text} AS {column}"


def xml_safe(source: str) -> str:
    """The rows of ``source`` (a feed's entries) with the characters XML cannot hold
    removed from their text, in two steps (one ``replace`` per character, nested: SQLite's
    parser takes about thirty at once)."""
    select = source
    for codes in ([n for n in _NOT_XML if n < 16], [n for n in _NOT_XML if n >= 16]):
        shown = [_stripped(c, codes) if c in _TEXT_COLUMNS else c for c in _COLUMNS]
        select = f"SELECT {', '.join(shown)} FROM ({select})"
    return select


def _html(expr: str) -> str:
    """SQL for the text ``expr`` escaped as HTML (``&``, ``<``, ``>``; NULL as empty)."""
    return (
        f"replace(replace(replace(coalesce({expr}, ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    )


def _para(label: str, expr: str) -> str:
    """SQL for ``<p>label: value</p>``, or nothing where ``expr`` is NULL or empty."""
    return (
        f"CASE WHEN coalesce({expr}, '') = '' THEN '' ELSE"
        f" '<p>{label}: ' || {_html(expr)} || '</p>' END"
    )


def _first_paragraph(expr: str) -> str:
    """SQL for the first paragraph of a body (paragraphs are a blank line apart)."""
    blank = "char(10) || char(10)"
    return f"substr({expr}, 1, instr({expr} || {blank}, {blank}) - 1)"


def _empty_entry(what: str) -> str:
    """SQL for the one entry a feed with nothing in it gives (after its ``entries``):
    nothing ``what`` yet, of the partner asked for if one was."""
    return f"""
SELECT '{EMPTY_ID}' AS atom_id, 'Nothing {what} in this archive yet' AS atom_title,
       {_LAST_CRAWL} AS atom_updated,
       '<p>olyscrape found nothing {what} here yet' ||
       CASE WHEN :partner = '' THEN '' ELSE ' for partner ' || {_html(":partner")} END ||
       '. This entry stands in until it does.</p>' AS atom_content_html,
       {_PARTNER_PAGE} AS atom_link, 'olyscrape' AS atom_author_name,
       NULL AS kind, NULL AS partners, NULL AS url, NULL AS fields
WHERE NOT EXISTS (SELECT 1 FROM entries)"""


#: The newest articles first (the same query as ``changes --kind new``), then what each
#: entry says of them: the first paragraph is read for those few only.
_NEW_ARTICLES = f"""
WITH newest AS {_ONCE}({changes.feed_sql(("new",), FEED_SIZE)}),
named AS (
  SELECT n.url, n.title, n.at AS first_seen, n.names AS partners,
         (SELECT category FROM articles b WHERE b.url = n.url) AS category,
         (SELECT published FROM articles b WHERE b.url = n.url) AS published,
         (SELECT body FROM articles b WHERE b.url = n.url) AS body
  FROM newest n
),
entries AS {_ONCE}(
  SELECT url AS atom_id, coalesce(title, url) AS atom_title, first_seen AS atom_updated,
         {_para("Partners", "partners")} || {_para("Category", "category")} ||
         {_para("Published", "published")} || {_para("Text", _first_paragraph("body"))}
           AS atom_content_html,
         url AS atom_link, coalesce(partners, 'olyscrape') AS atom_author_name,
         'new' AS kind, partners, url, NULL AS fields
  FROM named
  ORDER BY first_seen DESC, url
)
SELECT * FROM ({xml_safe("entries")})
UNION ALL {_empty_entry("new")}
"""


def _edit(field: str) -> str:
    """SQL for ``<p>Field: before → after</p>`` where an edit replaced ``field``."""
    before, after = (_html(f"coalesce(c.{field}_{side}, '(none)')") for side in ("before", "after"))
    return (
        f"CASE WHEN ', ' || c.fields || ', ' LIKE '%, {field}, %' THEN"
        f" '<p>{field.capitalize()}: ' || {before} || ' → ' || {after} || '</p>' ELSE '' END"
    )


#: An entry's id and title, by the rules ``olyscrape changes --format atom`` follows.
_ENTRY_ID = """CASE c.kind WHEN 'new' THEN c.url WHEN 'edited' THEN c.url || '#edited-' || c.at
    ELSE c.url || '#gone-' || c.partners || '-' || c.at END"""
_ENTRY_TITLE = """CASE c.kind WHEN 'new' THEN 'New: ' WHEN 'edited' THEN 'Edited (' || c.fields
    || '): ' ELSE 'Gone from ' || c.names || '''s listing: ' END || coalesce(c.title, c.url)"""

#: The newest changes (the same query as ``olyscrape changes``), then what each entry says.
_CHANGES = f"""
WITH newest AS {_ONCE}({changes.feed_sql(changes.KINDS, FEED_SIZE)}),
entries AS {_ONCE}(
  SELECT {_ENTRY_ID} AS atom_id, {_ENTRY_TITLE} AS atom_title,
         c.at AS atom_updated,
         CASE c.kind
           WHEN 'new' THEN CASE WHEN c.names IS NULL THEN '<p>New to the archive.</p>' ELSE
             '<p>New to the archive, on the listing of ' || {_html("c.names")} || '.</p>' END
           WHEN 'edited' THEN {" || ".join(_edit(f) for f in ("title", "published", "category"))}
             || CASE WHEN ', ' || c.fields || ', ' LIKE '%, body, %'
                THEN '<p>The text of the page changed.</p>' ELSE '' END
           ELSE '<p>No longer on the listing of ' || {_html("c.names")} || ': a full walk of it'
             || ' that completed at ' || c.at || ' did not show it.</p>'
         END || '<p><a href="' || replace({_html("c.url")}, '"', '&quot;') || '">'
           || {_html("c.url")} || '</a></p>' AS atom_content_html,
         c.url AS atom_link, coalesce(c.names, 'olyscrape') AS atom_author_name,
         c.kind, c.partners, c.url, c.fields
  FROM newest c
)
SELECT * FROM ({xml_safe("entries")})
UNION ALL {_empty_entry("changed")}
"""

#: Feed name → (title, description, SQL): canned queries (see ``schema.CANNED_QUERIES``).
FEED_QUERIES: dict[str, tuple[str, str, str]] = {
    "new_articles_feed": (
        "New articles",
        f"The {FEED_SIZE} articles newest to the archive, of every partner or of one"
        " (partner: its slug, e.g. visa). Add .atom to the URL for an Atom feed.",
        _NEW_ARTICLES,
    ),
    "changes_feed": (
        "Changes: new, edited, gone",
        f"The {FEED_SIZE} newest changes (articles new to the archive, articles edited,"
        " links gone from a partner's listing on a full walk's word), of every partner or"
        " of one (partner: its slug, e.g. visa). Add .atom to the URL for an Atom feed.",
        _CHANGES,
    ),
}


def of_version(version: int) -> str:
    """How an archive of schema ``version`` is named to its reader."""
    return f"of schema version {version}" if version else "made before schema versions"


def needs_upgrade_sql(version: int) -> str:
    """What a feed query is over an archive of schema ``version`` (before
    :data:`FEEDS_SINCE_VERSION`): one row, one feed entry, that says why there is nothing
    and what to do. It reads no table (a file made before versioning may lack the columns
    the real query reads); ``:partner`` stays a parameter, as in the real query."""
    message = (
        f"This archive is {of_version(version)}: the changes and these feeds need"
        f" version {FEEDS_SINCE_VERSION}. The next olyscrape crawl of it upgrades it."
    )
    return f"""
SELECT 'urn:olyscrape:feed:needs-version-{FEEDS_SINCE_VERSION}' AS atom_id,
       '{message}' AS atom_title, '{_EPOCH}' AS atom_updated,
       '<p>{message}</p>' AS atom_content_html, '{_ALL_PARTNERS}' AS atom_link,
       'olyscrape' AS atom_author_name, :partner AS partner
"""
