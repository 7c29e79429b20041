"""What changed in the archive, and when: the SQL of ``olyscrape changes`` and ``history``.

Three kinds of change, each read from what the crawls already keep:

- ``new``: an article new to the archive (``articles.first_seen``).
- ``edited``: an article whose title, section, published date or body was replaced. Each
  ``article_versions`` row holds the values an article had *before* a change; the values
  after it are the next version's, or the article's own for the newest.
- ``gone``: a link no longer shown on its partner's listing. Only a **full** walk of that
  listing to its own end, recorded in ``walks`` once it completed, in a crawl that
  finished OK, can say so: the link was last seen by an earlier crawl than the walk's
  (``partner_links.last_crawl``: crawls, not the clock), and by the previous such walk's
  crawl or a later one. The first such walk is when it went. An incremental walk (it
  stops at cards archived before), an interrupted or failed one (none is recorded), one
  cut at a paging cycle or a next page elsewhere (``cut``) and any walk of a crawl whose
  closing checks failed never make a link gone. A link seen again later is no longer gone.

Times are the archive's: UTC, ISO 8601 to the second with a ``Z`` (``2026-12-04T07:00:00Z``),
so they compare as text; ``--since`` bounds them, but what a crawl saw is told by crawls.
The same SQL fragments make the ``changes`` view that Datasette facets
(:data:`CHANGES_VIEW`), one row per change and partner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: The kinds of change (changes of the same second are listed by kind, then URL).
KINDS = ("new", "edited", "gone")
#: The article fields whose change ``article_versions`` keeps, as the history shows them.
FIELDS = ("title", "published", "category", "body")

#: Each article version with the values after it: the next version's, or the article's own.
_EDITS = """
SELECT v.id AS version_id, v.article_url AS url, v.changed_at AS at, v.crawl_id,
       a.id AS article_id, a.title AS current_title,
       v.title AS title_before, v.published AS published_before,
       v.category AS category_before, v.body AS body_before,
       CASE WHEN n.id IS NULL THEN a.title ELSE n.title END AS title_after,
       CASE WHEN n.id IS NULL THEN a.published ELSE n.published END AS published_after,
       CASE WHEN n.id IS NULL THEN a.category ELSE n.category END AS category_after,
       CASE WHEN n.id IS NULL THEN a.body ELSE n.body END AS body_after
FROM article_versions v
JOIN articles a ON a.url = v.article_url
LEFT JOIN article_versions n ON n.id = (
    SELECT min(x.id) FROM article_versions x WHERE x.article_url = v.article_url AND x.id > v.id)
"""

#: The fields an edit changed, comma-separated: a card's title, date or section that is
#: no longer what it was (a date where the card said "TBC" included); a body that replaced
#: another (a first body is the page read at last, not an edit).
_FIELDS_CHANGED = " || ".join(
    f"CASE WHEN {'' if f != 'body' else f'e.{f}_before IS NOT NULL AND '}"
    f"e.{f}_before IS NOT e.{f}_after THEN '{f}, ' ELSE '' END"
    for f in FIELDS
)
#: An edit's values before and after it; the other kinds have none.
_VALUES = [f"{f}_{side}" for f in FIELDS for side in ("before", "after")]
_EDIT_VALUES = ", ".join(f"e.{c}" for c in _VALUES)
_NO_VALUES = ", ".join(f"NULL AS {c}" for c in _VALUES)


def _first_crawl(first_seen: str) -> str:
    """The crawl that first stored an article: the last one started by its first sighting."""
    return f"(SELECT max(c.id) FROM crawls c WHERE c.started_at <= {first_seen})"


#: A walk whose word a card's absence is taken on: a full walk to the listing's own end
#: (``walks.kind = 'full'``) in a crawl that finished OK (``crawls.status``: its closing
#: checks passed; a listing that parsed no card, or far fewer than before, fails them).
_TRUSTED = """{w}.kind = 'full' AND EXISTS (
    SELECT 1 FROM crawls c WHERE c.id = {w}.crawl_id AND c.status = 'ok')"""

#: The trusted walk before walk ``w`` of the same partner, by crawl: a link the crawls
#: saw (``last_crawl``) went at ``w`` if the last crawl that saw it was that walk's or later.
_PREVIOUS_CRAWL = f"""(SELECT max(p.crawl_id) FROM walks p WHERE p.partner = w.partner
    AND p.crawl_id < w.crawl_id AND {_TRUSTED.format(w="p")})"""
#: For a link no crawl of version 7 saw (``last_crawl`` NULL: last seen before the archive
#: was upgraded), by time: the trusted walk, or the walk recorded at the upgrade (kind
#: ``before``), that started before ``w``; a link last seen before it went before it.
_PREVIOUS_START = f"""(SELECT max(p.started) FROM walks p WHERE p.partner = w.partner
    AND p.started < w.started AND (p.kind = 'before' OR ({_TRUSTED.format(w="p")})))"""
#: The links a trusted walk ``w`` did not show that the crawls before it did: last seen
#: by an earlier crawl than ``w``'s, and by the previous trusted walk's or a later one.
#: Read from the walks (a few a day), each of one partner's links: CROSS JOIN keeps that
#: order, where the planner would read every link first.
_GONE_AT_WALK = f"""FROM walks w
CROSS JOIN partner_links l ON l.partner = w.partner AND CASE
    WHEN l.last_crawl IS NOT NULL THEN l.last_crawl < w.crawl_id
        AND l.last_crawl >= coalesce({_PREVIOUS_CRAWL}, 0)
    ELSE l.last_seen < w.started AND l.last_seen >= coalesce({_PREVIOUS_START}, '') END
JOIN articles a ON a.id = l.article_id
WHERE {_TRUSTED.format(w="w")}"""
#: Each version with the fields its edit changed (``fields``, comma-separated), worked out
#: once; an edit that changed none (undone within the crawl, a first body) has ``''``.
_EDITED = f"(SELECT e.*, rtrim({_FIELDS_CHANGED}, ', ') AS fields FROM ({_EDITS}) e)"

#: The ``changes`` view: every change, one row per change and partner, for Datasette's
#: facets (``olyscrape changes`` joins an article's partners in one row instead).
CHANGES_VIEW = f"""
SELECT 'new' AS kind, a.first_seen AS at, l.partner, a.url, a.title, NULL AS fields,
       {_first_crawl("a.first_seen")} AS crawl_id, NULL AS version_id
FROM articles a LEFT JOIN partner_links l ON l.article_id = a.id
WHERE a.first_seen IS NOT NULL
UNION ALL
SELECT 'edited', e.at, l.partner, e.url, e.current_title, e.fields, e.crawl_id, e.version_id
FROM {_EDITED} e LEFT JOIN partner_links l ON l.article_id = e.article_id
WHERE e.fields <> ''
UNION ALL
SELECT 'gone', w.completed, w.partner, a.url, a.title, NULL, w.crawl_id, NULL
{_GONE_AT_WALK}
"""

#: The ``article_history`` view: every earlier version of each article, with the values it
#: had and when it was replaced.
HISTORY_VIEW = """
SELECT v.article_url AS url, v.changed_at AS replaced_at, v.crawl_id, v.title, v.published,
       v.category, v.body, a.title AS current_title
FROM article_versions v JOIN articles a ON a.url = v.article_url
"""

#: The start of the newest crawl: what ``--since last-crawl`` means.
LAST_CRAWL_START = "SELECT max(started_at) AS at FROM crawls"


def _partners_of(article_id: str) -> str:
    """The partners whose listing shows an article, by slug, comma-separated."""
    return (
        "(SELECT group_concat(partner, ', ') FROM (SELECT partner FROM partner_links"
        f" WHERE article_id = {article_id} ORDER BY partner))"
    )


def _names_of(article_id: str) -> str:
    """Their names, in the same order (a partner the archive has no row of by its slug)."""
    return (
        "(SELECT group_concat(name, ', ') FROM (SELECT coalesce(p.name, l.partner) AS name"
        " FROM partner_links l LEFT JOIN partners p ON p.slug = l.partner"
        f" WHERE l.article_id = {article_id} ORDER BY l.partner))"
    )


_GONE_NAME = "coalesce((SELECT name FROM partners WHERE slug = w.partner), w.partner)"


@dataclass(frozen=True)
class ChangeQuery:
    """What ``olyscrape changes`` asks: changes at or after ``since`` (an archive time, or
    None for all), of these ``partners`` (slugs; empty: all), of these ``kinds``."""

    since: str | None = None
    partners: tuple[str, ...] = ()
    kinds: tuple[str, ...] = KINDS
    limit: int | None = None


def _select(kinds: tuple[str, ...], shown: dict[str, str], since: str, limit: str) -> str:
    """Every change of ``kinds`` at or after ``since`` (SQL), newest first, at most
    ``limit`` (SQL), one row per change (``partners``: the article's slugs, comma-separated,
    ``names`` theirs; a gone link's own partner). ``shown``: each kind's condition on its
    partners (``AND ...``). Each kind's rows are read in time order from its own index and
    merged, so that a limit of 20 reads 20 rows."""
    branches = {
        # The newest articles first, by their index; their partners and crawl for those
        # only. Many articles may share a second (a first crawl's batch, an import): of
        # those, the last stored (by number, which the index holds), so that no sort of
        # every article of that second is needed.
        "new": f"""SELECT 'new' AS kind, a.at, {_partners_of("a.id")} AS partners,
       {_names_of("a.id")} AS names, a.url, a.title, NULL AS fields,
       {_first_crawl("a.at")} AS crawl_id, NULL AS version_id, {_NO_VALUES}
FROM (SELECT a.id, a.first_seen AS at, a.url, a.title FROM articles a
      WHERE a.first_seen >= {since} {shown["new"]}
      ORDER BY a.first_seen DESC, a.id DESC LIMIT {limit}) a""",
        "edited": f"""SELECT 'edited' AS kind, e.at, {_partners_of("e.article_id")} AS partners,
       {_names_of("e.article_id")} AS names, e.url, e.current_title AS title,
       e.fields, e.crawl_id, e.version_id, {_EDIT_VALUES}
FROM {_EDITED} e WHERE e.fields <> '' AND e.at >= {since} {shown["edited"]}""",
        "gone": f"""SELECT 'gone' AS kind, w.completed AS at, w.partner AS partners,
       {_GONE_NAME} AS names, a.url, a.title, NULL AS fields, w.crawl_id, NULL AS version_id,
       {_NO_VALUES}
{_GONE_AT_WALK} AND w.completed >= {since} {shown["gone"]}""",
    }
    chosen = [branches[kind] for kind in KINDS if kind in kinds]
    return "\nUNION ALL\n".join(chosen) + f"\nORDER BY at DESC, kind, url LIMIT {limit}"


def _shown_by(partners: str) -> dict[str, str]:
    """Each kind's condition that one of ``partners`` (SQL: a list, or one value) shows
    (or showed) the change."""
    return {
        kind: f"AND EXISTS (SELECT 1 FROM partner_links s WHERE s.article_id = {ref}"
        f" AND s.partner IN ({partners}))"
        for kind, ref in (("new", "a.id"), ("edited", "e.article_id"))
    } | {"gone": f"AND w.partner IN ({partners})"}


def changes_sql(query: ChangeQuery) -> tuple[str, dict[str, Any]]:
    """The SQL (and its parameters) of ``query``'s changes (see :func:`_select`)."""
    params: dict[str, Any] = {"since": query.since or "", "limit": query.limit or -1}
    shown = {"new": "", "edited": "", "gone": ""}
    if query.partners:
        marks = ", ".join(f":p{i}" for i in range(len(query.partners)))
        params |= {f"p{i}": slug for i, slug in enumerate(query.partners)}
        shown = _shown_by(marks)
    return _select(query.kinds, shown, ":since", ":limit"), params


def feed_sql(kinds: tuple[str, ...], limit: int) -> str:
    """The ``limit`` newest changes of ``kinds`` as a canned query reads them: of the
    partner ``:partner`` (a slug), or of every partner where it is ``''``."""
    shown = {kind: f"AND (:partner = '' OR {cond.removeprefix('AND ')})"
             for kind, cond in _shown_by(":partner").items()}  # fmt: skip
    return _select(kinds, shown, "''", str(int(limit)))


def shaped(row: dict[str, Any]) -> dict[str, Any]:
    """A row of :func:`changes_sql` as ``changes`` gives it: ``partners`` and ``fields``
    lists; an edit's ``before`` and ``after`` values of the fields it replaced (empty for
    the other kinds)."""
    fields = row["fields"].split(", ") if row["fields"] else []
    return {
        "kind": row["kind"],
        "at": row["at"],
        "partners": row["partners"].split(", ") if row["partners"] else [],
        "url": row["url"],
        "title": row["title"],
        "fields": fields,
        "before": {f: row[f"{f}_before"] for f in fields},
        "after": {f: row[f"{f}_after"] for f in fields},
        "crawl_id": row["crawl_id"],
        "version_id": row["version_id"],
    }


#: An article and every version of it, oldest first.
ARTICLE = """SELECT id, url, title, published, category, body, first_seen, last_seen
    FROM articles WHERE url = :url"""
VERSIONS = """SELECT id, changed_at, crawl_id, title, published, category, body
    FROM article_versions WHERE article_url = :url ORDER BY id"""
#: The responses the crawls received for an article's URL, oldest first.
CAPTURES = """SELECT id, fetched_at, status, crawl_id FROM captures
    WHERE canonical_url = :url ORDER BY id"""
#: The partners whose listing shows (or showed) an article, with when.
LINKS = """SELECT l.partner, l.position, l.first_seen, l.last_seen FROM partner_links l
    JOIN articles a ON a.id = l.article_id WHERE a.url = :url ORDER BY l.partner"""
#: What :func:`history_of` reads of one article (``:url``).
HISTORY = {"article": ARTICLE, "versions": VERSIONS, "captures": CAPTURES, "links": LINKS}


@dataclass
class Version:
    """One state of an article: its :data:`FIELDS`' values, the time it was first stored
    as such (``since``: the article's first sighting, or the change that made it) and the
    change that replaced it (``until``; None for the current one)."""

    number: int
    values: dict[str, Any]
    since: str | None
    until: str | None
    crawl_id: int | None = None  # the crawl that replaced it
    captures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class History:
    """Every version of one article, oldest first, and the partners' links to it."""

    url: str
    versions: list[Version]
    links: list[dict[str, Any]]
    last_seen: str | None


def history_of(
    article: list[dict[str, Any]],
    versions: Iterable[dict[str, Any]],
    captures: Iterable[dict[str, Any]],
    links: Iterable[dict[str, Any]],
) -> History:
    """The :class:`History` of ``article`` (the one row of :data:`ARTICLE`) from its rows of
    :data:`VERSIONS`, :data:`CAPTURES` and :data:`LINKS`: each earlier version held the
    values its row keeps from the previous change (or the first sighting) until its
    ``changed_at``; the article's own values since the last change. Each capture goes to
    the version it shows: the crawl that fetched it stored what it found, so a capture of
    the crawl that replaced a version shows the next one."""
    (row,) = article
    states: list[Version] = []
    since = row["first_seen"]
    for old in versions:
        values = {f: old[f] for f in FIELDS}
        states.append(Version(len(states) + 1, values, since, old["changed_at"], old["crawl_id"]))
        since = old["changed_at"]
    states.append(Version(len(states) + 1, {f: row[f] for f in FIELDS}, since, None))
    for capture in captures:
        shown = next((s for s in states if _before(capture, s)), states[-1])
        shown.captures.append(capture)
    return History(row["url"], states, list(links), row["last_seen"])


def _before(capture: dict[str, Any], version: Version) -> bool:
    """True when ``capture`` was stored before ``version`` was replaced: by an earlier
    crawl than the one that replaced it (by time where a crawl is not known)."""
    if version.until is None:
        return True
    if version.crawl_id is not None and capture["crawl_id"] is not None:
        return bool(capture["crawl_id"] < version.crawl_id)
    return bool((capture["fetched_at"] or "") < version.until)
