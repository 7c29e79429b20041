"""The archive's read API: what ``articles``, ``search``, ``sql``, ``stats`` and ``runs`` ask.

:class:`ArchiveReader` opens an existing archive so that nothing done through it can
write: ``mode=ro`` (or ``immutable=1`` on a read-only disk or folder), ``query_only``,
and an authorizer refusing schema changes and ATTACH. It never creates, migrates or
changes a file: a missing, empty or foreign one is an error; an archive of an earlier
schema version is read as it is, in the current shape (:mod:`~olyscrape.archive.legacy`),
and, closed, it leaves nothing beside the file (:mod:`~olyscrape.archive.traces`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import weakref
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from olyscrape.archive import changes, counts, legacy, paths, ranking, running, schema, walowner
from olyscrape.archive.catalogue import has_table
from olyscrape.archive.crawlrows import crawl_summary
from olyscrape.archive.errors import ArchiveError, QueryError, damaged, is_corruption
from olyscrape.archive.ranking import fts_query
from olyscrape.archive.running import QueryRows, rows_of, statement_error, watch_of

T = TypeVar("T")


@dataclass
class ArticleQuery:
    """Filters of ``olyscrape articles``; dates are ISO ``YYYY-MM-DD`` bounds, inclusive."""

    partner: str | None = None
    category: str | None = None
    since: str | None = None
    until: str | None = None
    search: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class _Links:
    """How the queries reach an article ``a``'s partner links: by article number (schema
    version 4 on) or, in an older archive read as it is, by article URL."""

    partners_of: str  # the partners' slugs, comma-separated, in order
    shown_by: str  # true when :partner showed it
    per_partner: str  # FROM partners p, each partner's articles a (LEFT JOINs)


_BY_NUMBER = _Links(
    partners_of="""(SELECT group_concat(partner, ',') FROM
        (SELECT partner FROM partner_links WHERE article_id = a.id ORDER BY partner))""",
    shown_by="EXISTS (SELECT 1 FROM partner_links l"
    " WHERE l.article_id = a.id AND l.partner = :partner)",
    per_partner="""partners p LEFT JOIN partner_links l ON l.partner = p.slug
        LEFT JOIN articles a ON a.id = l.article_id""",
)
_BY_URL = _Links(
    partners_of="""(SELECT group_concat(partner, ',') FROM
        (SELECT partner FROM article_partners WHERE article_url = a.url ORDER BY partner))""",
    shown_by="EXISTS (SELECT 1 FROM article_partners p"
    " WHERE p.article_url = a.url AND p.partner = :partner)",
    per_partner="""partners p LEFT JOIN article_partners ap ON ap.partner = p.slug
        LEFT JOIN articles a ON a.url = ap.article_url""",
)

_WRITE_ACTIONS = {
    getattr(sqlite3, name)
    for name in dir(sqlite3)
    if name.startswith(("SQLITE_CREATE", "SQLITE_DROP", "SQLITE_ALTER"))
    or name in ("SQLITE_ATTACH", "SQLITE_DETACH", "SQLITE_REINDEX", "SQLITE_ANALYZE")
}  # fmt: skip


def _read_only_authorizer(action: int, *args: Any) -> int:
    """Deny schema changes, attaching other files, and the pragmas that write the file or
    its ``-wal`` (a checkpoint, a journal mode change: on a read-only connection SQLite
    answers those with a bare ``disk I/O error`` once a ``-wal`` exists). Row writes are
    refused by the read-only connection itself (FTS5 prepares UPDATEs of its own shadow
    tables while reading, so the authorizer cannot refuse those)."""
    if action == sqlite3.SQLITE_PRAGMA and _writing_pragma(args[0], args[1]):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_DENY if action in _WRITE_ACTIONS else sqlite3.SQLITE_OK


def _writing_pragma(name: str | None, argument: str | None) -> bool:
    """``PRAGMA wal_checkpoint`` (always), ``PRAGMA journal_mode = ...`` (a change)."""
    name = (name or "").lower()
    return name == "wal_checkpoint" or (name == "journal_mode" and argument is not None)


def _split_partners(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (row | {"partners": (row["partners"] or "").split(",") if row["partners"] else []}
            for row in rows)  # fmt: skip


def distinct_names(names: list[str]) -> list[str]:
    """Column names made distinct: the second ``a`` becomes ``a_2``, and so on."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


class ArchiveReader:
    """A read-only view of an olyscrape archive."""

    #: Made by the first search, closed when the reader is collected (an in-memory file).
    snippet_table: ranking.Snippets | None = None

    def __init__(self, conn: sqlite3.Connection, path: str | Path = "") -> None:
        self.path = path
        self.conn = conn
        self.watch = watch_of(conn)  # Ctrl-C and the time limit reach SQLite
        self._open_rows: weakref.WeakSet[Iterator[Any]] = weakref.WeakSet()
        try:
            self.links = _BY_NUMBER if has_table(conn, "partner_links") else _BY_URL
        except sqlite3.DatabaseError as exc:
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: sqlite3.DatabaseError) -> ArchiveError:
        """SQLite's error as one line (damaged, else unreadable); Ctrl-C's is raised."""
        running.raise_if_interrupted(exc)
        if is_corruption(exc):
            return damaged(self.path, exc)
        return ArchiveError(f"cannot read the archive ({exc})")

    @classmethod
    def open(
        cls, path: str | Path, held_by_another: walowner.LockProbe | None = None
    ) -> ArchiveReader:
        """Open the archive at ``path`` for reading; :class:`ArchiveError` (one line) for a
        missing, empty, foreign or unreadable file, which is left as it is."""
        path = Path(path)
        identity = schema.identify(path)
        if not identity.exists:
            raise ArchiveError(f"archive {path}: no such file")
        if identity.empty:
            raise ArchiveError(f"archive {path}: an empty file, not an olyscrape archive")
        # Never answer from another copy's -wal (a crawl's live one is not judged).
        walowner.check_before_read(path, held_by_another)
        conn = cls.connect(path, older=identity.version < schema.SCHEMA_VERSION)
        return cls(conn, path)

    @staticmethod
    def connect(path: Path, older: bool = False) -> sqlite3.Connection:
        """The reader's connection: read-only (:func:`~olyscrape.archive.paths.read_connection`,
        which leaves nothing beside the file once closed), an ``older`` archive given the
        current shape in TEMP views (:mod:`~olyscrape.archive.legacy`: made first, since
        nothing can be created once) then ``query_only`` and the authorizer refusing writes.
        A current archive is read as it is: a table missing there is an error."""
        conn = None
        try:
            conn = paths.read_connection(path)
            if older:
                legacy.present_current_shape(conn)
            conn.execute("PRAGMA query_only = ON")
            conn.set_authorizer(_read_only_authorizer)
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            if is_corruption(exc):
                raise damaged(path, exc) from None
            raise ArchiveError(f"archive {path}: cannot be opened ({exc})") from None
        return conn

    def _tracked(self, rows: Iterator[T]) -> Iterator[T]:
        self._open_rows.add(rows)
        return rows

    def close(self) -> None:
        """Close the rows of a query cut short (a closed pipe, a full disk, Ctrl-C) first:
        a statement still open would keep the connection alive past its close, and the
        empty ``-wal`` and ``-shm`` beside the file would stay (see
        :class:`~olyscrape.archive.paths.LeavesNothing`)."""
        for rows in list(self._open_rows):
            with contextlib.suppress(Exception):
                rows.close()  # type: ignore[attr-defined]  # a generator
        self.conn.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def crawl_history(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest crawls for ``olyscrape runs``: status, duration, counts, reasons."""
        sql = "SELECT * FROM crawls ORDER BY id DESC LIMIT :limit"
        return [crawl_summary(row) for row in self._query(sql, {"limit": limit})]

    def set_time_limit(self, limit_ms: int | None) -> None:
        """Stop each later statement that runs longer than ``limit_ms`` milliseconds, from
        its start to its last row (:class:`~olyscrape.archive.running.QueryTimeLimit`);
        None: no limit."""
        self.watch.limit_ms = limit_ms

    def run_sql(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> tuple[list[str], list[tuple]]:
        """:meth:`query_rows`, every row in a list (for small results)."""
        result = self.query_rows(sql, params)
        return result.columns, list(result.rows)

    def query_rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> QueryRows:
        """Run one statement (``:name`` parameters from ``params``): its column names, made
        distinct (``a``, ``a_2``, as Datasette does), and its rows as SQLite yields them.
        Errors, on the first row or any later one, become ``QueryError``; Ctrl-C and the
        time limit stop it (see :mod:`~olyscrape.archive.running`)."""
        self.watch.start()
        try:
            cursor = self.conn.execute(sql, params)
        except (sqlite3.DatabaseError, sqlite3.Warning, ValueError) as exc:
            raise statement_error(exc, self.watch, self.path) from None
        columns = distinct_names([d[0] for d in cursor.description or []])
        return QueryRows(columns, self._tracked(rows_of(cursor, self.watch, self.path)))

    def articles(self, query: ArticleQuery) -> list[dict[str, Any]]:
        """Articles matching every filter, newest first, each with its partners (a list)."""
        return list(self.iter_articles(query))

    def iter_articles(self, query: ArticleQuery) -> Iterator[dict[str, Any]]:
        """:meth:`articles`, row by row as SQLite yields them."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if query.partner:
            where.append(self.links.shown_by)
            params["partner"] = query.partner
        if query.category:
            where.append("a.category = :category COLLATE NOCASE")
            params["category"] = query.category
        if query.since:
            where.append("a.published >= :since")
            params["since"] = query.since
        if query.until:
            where.append("a.published <= :until")
            params["until"] = query.until
        params["limit"] = query.limit if query.limit is not None else -1
        select = (
            f"SELECT a.url, a.title, a.category, a.published, {self.links.partners_of} AS partners"
        )
        order = "a.published DESC NULLS LAST, a.url"
        if query.search:
            params["search"] = fts_query(query.search)
            try:
                self.watch.start()
                budget = ranking.walk_budget(self.conn, params["search"], query.limit)
            except sqlite3.DatabaseError as exc:
                raise self._read_error(exc, searching=True) from None
            if budget is not None:  # the newest articles first; enough rows found: done
                sql = ranking.walked(select, where, order)
                rows = self._query(sql, params | {"budget": budget})
                if len(rows) == query.limit:
                    return _split_partners(iter(rows))
            where.append(ranking.LOOKUP)
        sql = f"{select} FROM articles a {'WHERE ' + ' AND '.join(where) if where else ''}"
        return _split_partners(self._iter_query(f"{sql} ORDER BY {order} LIMIT :limit", params))

    def search(self, text: str, limit: int = 20, marks: tuple[str, str] = ("[", "]"),
               rank_all: bool = False) -> list[dict]:  # fmt: skip
        """Full-text search of titles (weighted 5×) and bodies, best first, with a snippet.
        ``text`` is what a person typed (see :func:`fts_query`)."""
        return list(self.iter_search(text, limit, marks, rank_all))

    def iter_search(self, text: str, limit: int = 20, marks: tuple[str, str] = ("[", "]"),
                    rank_all: bool = False) -> ranking.SearchRows:  # fmt: skip
        """:meth:`search`, row by row (``--limit`` may be a million); its
        ``ranked_newest`` says, once a row is read, whether ranking was bounded (see
        :mod:`~olyscrape.archive.ranking`)."""
        rows = ranking.SearchRows()
        rows.rows = self._search_rows(fts_query(text), limit, marks, rank_all, rows)
        self._tracked(rows)
        return rows

    def _search_rows(
        self, query: str, limit: int, marks: tuple[str, str], rank_all: bool,
        result: ranking.SearchRows,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        """:func:`.ranking.ranked`, its errors made one line; one time limit for it all."""
        self.watch.start()
        params = {"query": query, "limit": limit, "open": marks[0], "close": marks[1]}
        rows = (  # a large export in one pass, as SQLite ranks it
            self._rows(ranking.JOINED.format(partners_of=self.links.partners_of), params)
            if ranking.one_pass(limit, rank_all)
            else ranking.ranked(self.conn, query, limit, rank_all, result,
                                self.links.partners_of, lambda: ranking.snippets_of(self, marks))
        )  # fmt: skip
        try:
            yield from _split_partners(rows)
        except sqlite3.DatabaseError as exc:
            raise self._read_error(exc, searching=True) from None
        finally:
            rows.close()

    def _query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Rows of a query whose only user input is its parameters, in a list."""
        return list(self._iter_query(sql, params))

    def _iter_query(self, sql: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """:meth:`_query`'s rows as SQLite yields them (closed with the reader)."""
        return self._tracked(self._rows(sql, params))

    def _rows(self, sql: str, params: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """With a search text, an error is that text's FTS5 syntax; without one, the
        archive itself (a missing table). The cursor is closed however the rows end."""
        self.watch.start()
        cursor = None
        try:
            cursor = self.conn.execute(sql, params)
            keys = [d[0] for d in cursor.description or []]
            while batch := cursor.fetchmany(256):
                yield from (dict(zip(keys, row, strict=True)) for row in batch)
        except sqlite3.DatabaseError as exc:
            raise self._read_error(exc, searching=bool(params.get("search"))) from None
        finally:
            if cursor is not None:
                with contextlib.suppress(sqlite3.ProgrammingError):  # closed first
                    cursor.close()

    def _read_error(self, exc: sqlite3.DatabaseError, searching: bool) -> BaseException:
        """What SQLite's error means: Ctrl-C or the time limit, a damaged or unreadable
        archive, or (``searching``) the search text's FTS5 syntax."""
        stopped = self.watch.stopped(exc)
        if stopped is not None:
            return stopped
        if is_corruption(exc) or not isinstance(exc, sqlite3.OperationalError):
            return self._unreadable(exc)
        if searching:
            return QueryError(
                f"invalid search query ({exc}): put words with punctuation in double"
                ' quotes, e.g. "Coca-Cola", or use words, AND, OR, NOT, prefix*'
            )
        return ArchiveError(f"cannot read the archive ({exc})")

    def iter_changes(self, query: changes.ChangeQuery) -> Iterator[dict[str, Any]]:
        """Articles new, edited and gone from a listing (:func:`.changes.shaped` rows),
        newest first, as SQLite yields them."""
        return map(changes.shaped, self._iter_query(*changes.changes_sql(query)))

    def last_crawl_start(self) -> str | None:
        """When the newest crawl started: ``changes --since last-crawl``."""
        return self._query(changes.LAST_CRAWL_START, {})[0]["at"]

    def history(self, url: str) -> changes.History | None:
        """Every version of the article at ``url`` (None: the archive has no such article)."""
        rows = {name: self._query(sql, {"url": url}) for name, sql in changes.HISTORY.items()}
        return changes.history_of(**rows) if rows["article"] else None

    def partners(self) -> list[tuple[str, str]]:
        """Every partner of the archive: (slug, name), by slug."""
        return [(r["slug"], r["name"]) for r in self._query(
            "SELECT slug, name FROM partners ORDER BY slug", {})]  # fmt: skip

    def undated_articles(self) -> int:
        return int(self._query(
            "SELECT count(*) AS n FROM articles WHERE published IS NULL", {})[0]["n"])  # fmt: skip

    def archive_date(self) -> str | None:
        """When the archive last changed: the newest crawl's end, else the newest sighting."""
        rows = self._query(
            "SELECT coalesce((SELECT max(finished_at) FROM crawls),"
            " (SELECT max(last_seen) FROM articles)) AS at", {})  # fmt: skip
        return rows[0]["at"]

    def partner_stats(self) -> list[dict[str, Any]]:
        """Per partner: articles, first and last published date (from ``partner_counts``:
        see :mod:`~olyscrape.archive.counts`)."""
        return self._query(counts.PARTNER_STATS, {})

    def counts_per_year(self) -> list[dict[str, Any]]:
        """Articles (each once, however many partners showed it) per year published."""
        return self._query(counts.PER_YEAR, {})

    def counts_per_partner_year(self) -> list[dict[str, Any]]:
        """Per partner and year published: the articles its listing showed (dated ones)."""
        return self._query(counts.PER_PARTNER_YEAR, {})

    def count(self, table: str) -> int:
        try:
            return int(self.conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise self._unreadable(exc) from None

    def crawl(self, crawl_id: int) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM crawls WHERE id = :id", {"id": crawl_id})
        return rows[0] if rows else None
