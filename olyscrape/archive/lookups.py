"""What a crawl asks of the archive it writes: read on the writer's own connection.

A crawl starts from what earlier crawls archived (the links each partner's listing showed,
the walks that ended, the article pages still wanted) and ends by counting what the archive
holds and comparing its stats with the previous crawl's. These reads go through the
writer's connection, not a reader's: the writer holds the archive's lock, sees its own
commits, and a failed read ends its writing as a failed write does (see
:class:`~olyscrape.archive.writer.ArchiveWriter`). Before the archive file exists there is
nothing to read, and every answer is empty.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from olyscrape.archive import schema
from olyscrape.archive.errors import ArchiveWriteError
from olyscrape.archive.text import on_bad_text_leniently

#: Of some article URLs, those linked to a partner: each URL found by the unique index on
#: ``articles.url``, then its link by ``partner_links``' primary key (article, partner).
#: CROSS JOIN keeps that order: without statistics the planner may start from the
#: partner's index instead, and read every link of the partner.
_LINKED = """SELECT a.url FROM articles a CROSS JOIN partner_links l
    ON l.article_id = a.id AND l.partner = ? WHERE a.url IN ({marks})"""
#: A partner's links, counted on its index (``idx_partner_links_partner``, covering).
_LINK_COUNT = "SELECT count(*) FROM partner_links WHERE partner = ?"
_COMPLETED_WALKS = """SELECT slug FROM partners WHERE walk_completed IS NOT NULL
    AND (walk_started IS NULL OR walk_completed >= walk_started)"""
_PARTNERS = "SELECT slug, name, url FROM partners WHERE url IS NOT NULL ORDER BY rowid"
_ARTICLE_PARTNERS = """SELECT a.url, min(l.partner) FROM partner_links l
    JOIN articles a ON a.id = l.article_id GROUP BY l.article_id"""
_LAST_SUCCESSFUL_STATS = (
    "SELECT stats FROM crawls WHERE status = 'ok' AND id < ? ORDER BY id DESC LIMIT 1"
)
#: What :meth:`ArchiveLookups.counts` names → the table it counts.
_COUNTED = {"articles": "articles", "article_partners": "partner_links", "partners": "partners"}

#: Articles on the canonical origin whose page is not stored: ``body IS NULL`` reads the
#: partial index ``articles_without_page`` (the holes, not the archive).
_WITHOUT_PAGE = "a.body IS NULL AND substr(a.url, 1, :n) = :origin"
#: The pages a crawl asks for again: holes that failed fewer than ``:max`` crawls in a row,
#: each with one partner that showed it (the first by slug; None for an article no link
#: names), only those of ``partners`` when given.
_PAGES_WANTED = """SELECT a.url, (SELECT min(l.partner) FROM partner_links l
        WHERE l.article_id = a.id {only}) AS partner
    FROM articles a WHERE a.body IS NULL AND substr(a.url, 1, ?) = ?
        AND coalesce(a.page_failures, 0) < ?"""
_ONLY_PARTNERS = "AND l.partner IN ({marks})"
_MISSING_PAGES = f"""SELECT count(*), count(*) FILTER (WHERE a.page_failures >= :max)
    FROM articles a WHERE {_WITHOUT_PAGE}"""
_GIVEN_UP = f"""SELECT a.url, a.page_failures, a.page_error, a.page_tried FROM articles a
    WHERE {_WITHOUT_PAGE} AND a.page_failures >= :max ORDER BY a.id LIMIT :limit"""
#: Of some article URLs, those whose page a crawl need not ask for: stored already, or
#: failed ``:max`` crawls in a row (reported, not asked for again).
_PAGE_NOT_WANTED = """SELECT url FROM articles WHERE url IN ({marks})
    AND (body IS NOT NULL OR coalesce(page_failures, 0) >= ?)"""


@dataclass
class MissingPages:
    """The articles of the archive still without a page (``missing``), and the ``given_up``
    ones among them: their page failed ``max_failures`` crawls in a row, so crawls no longer
    ask for it (``listed``: the first of them, with their last failure)."""

    missing: int
    given_up: int
    max_failures: int
    listed: list[dict[str, Any]] = field(default_factory=list)


class ArchiveLookups:
    """The reads of a crawl, on the connection ``connection()`` gives (``None`` until the
    archive file exists: every answer is then empty). A read that fails goes through
    ``failed``, which makes it the writer's failure, and is raised as what it returns."""

    def __init__(
        self,
        connection: Callable[[], sqlite3.Connection | None],
        failed: Callable[[BaseException], ArchiveWriteError],
    ) -> None:
        self._connection = connection
        self._failed = failed

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple]:
        conn = self._connection()
        if conn is None:
            return []
        try:
            return on_bad_text_leniently(conn, lambda: conn.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise self._failed(exc) from None

    def linked(self, partner: str, urls: Sequence[str]) -> set[str]:
        """Of ``urls``, the article URLs linked to ``partner`` (its listing showed them in
        an earlier crawl): asked of the indexes for these URLs only, a page of cards at a
        time, never the archive's every link (1.1M at a million articles)."""
        found: set[str] = set()
        for chunk in schema.chunks(urls):
            sql = _LINKED.format(marks=",".join("?" * len(chunk)))
            found.update(url for (url,) in self._rows(sql, [partner, *chunk]))
        return found

    def link_counts(self, partners: Collection[str]) -> dict[str, int]:
        """How many articles the archive links to each of ``partners`` (those it links
        to none are left out): one count on the partner index per partner asked for."""
        counts = {p: (self._rows(_LINK_COUNT, [p]) or [(0,)])[0][0] for p in partners}
        return {partner: count for partner, count in counts.items() if count}

    def partners(self) -> list[tuple[str, str, str]]:
        """The partners the archive lists (slug, name, listing URL), in the order first
        found: what a re-parse walks when the capture of the partner list is lost."""
        return [(slug, name, url) for slug, name, url in self._rows(_PARTNERS)]

    def completed_walks(self) -> set[str]:
        """Partners whose last walk of their listing ended (none interrupted since)."""
        return {slug for (slug,) in self._rows(_COMPLETED_WALKS)}

    def pages_wanted(
        self, max_failures: int, partners: Collection[str] | None = None
    ) -> list[tuple[str, str | None]]:
        """The articles on the canonical origin whose page is not stored (never fetched,
        failed, cut off by an interrupt) and has failed fewer than ``max_failures`` crawls in
        a row, each with a partner that showed it; only those ``partners`` showed, if given.
        Reads the holes only, never the whole archive."""
        chosen = sorted(partners) if partners is not None else []
        only = _ONLY_PARTNERS.format(marks=",".join("?" * len(chosen))) if chosen else ""
        origin = schema.CANONICAL_ORIGIN + "/"
        rows = self._rows(_PAGES_WANTED.format(only=only),
                          [*chosen, len(origin), origin, max_failures])  # fmt: skip
        if partners is None:
            return [(url, partner) for url, partner in rows]
        return [(url, partner) for url, partner in rows if partner is not None]

    def pages_not_wanted(self, urls: Sequence[str], max_failures: int) -> set[str]:
        """Of ``urls``, the articles whose page is stored already, or failed
        ``max_failures`` crawls in a row: a crawl does not ask for them."""
        found: set[str] = set()
        for chunk in schema.chunks(urls):
            marks = ",".join("?" * len(chunk))
            sql = _PAGE_NOT_WANTED.format(marks=marks)
            found.update(url for (url,) in self._rows(sql, [*chunk, max_failures]))
        return found

    def missing_pages(self, max_failures: int, shown: int = 20) -> MissingPages:
        """What the archive still lacks: articles on the canonical origin without a page,
        and of those the pages given up on (``max_failures`` crawls in a row failed)."""
        origin = schema.CANONICAL_ORIGIN + "/"
        params = {"n": len(origin), "origin": origin, "max": max_failures, "limit": shown}
        rows = self._rows(_MISSING_PAGES, params)
        missing, given_up = rows[0] if rows else (0, 0)
        listed = [
            {"url": url, "failures": failures, "reason": reason, "tried": tried}
            for url, failures, reason, tried in self._rows(_GIVEN_UP, params)
        ] if given_up else []  # fmt: skip
        return MissingPages(missing, given_up or 0, max_failures, listed)

    def article_partners(self) -> dict[str, str]:
        """Every archived article and one partner that showed it (the first by slug)."""
        return dict(self._rows(_ARTICLE_PARTNERS))

    def counts(self) -> dict[str, int]:
        """How many articles, partner links and partners the archive holds (committed)."""
        return {
            name: (self._rows(f"SELECT count(*) FROM {table}") or [(0,)])[0][0]
            for name, table in _COUNTED.items()
        }

    def last_successful_stats(self, before_id: int | None = None) -> dict[str, Any] | None:
        """The stats of the newest crawl that ended ``ok`` (before ``before_id``): ``{}``
        when there is none, ``None`` when its stored stats are not a JSON object."""
        rows = self._rows(_LAST_SUCCESSFUL_STATS, [before_id if before_id is not None else 2**62])
        return schema.crawl_stats(rows[0][0]) if rows else {}
