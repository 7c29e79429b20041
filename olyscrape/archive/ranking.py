"""Full-text search that ranks cheaply: the only per-match work is SQLite's own bm25 sort
of bare FTS5 rowids; only the rows shown are joined to ``articles`` and given a snippet.

Why not one statement joining ``articles_fts`` to ``articles``: SQLite computes every
result column (the partners' subquery, ``snippet()``) of every match before its
``ORDER BY ... LIMIT`` keeps 20, so a word in 75,000 articles cost ×2.7 the bare ranking.
Why not a second ``MATCH ... AND rowid IN (...)`` for the snippets: FTS5 runs the whole
query again for each rowid of the list, and a prefix (``bro*``) merges the doclists of all
its terms each time (×5 the bare ranking). The snippets are made instead by an in-memory
FTS5 table holding only the rows shown (:class:`Snippets`): ``snippet()`` reads only the
row it is given, so they are the same.

**Bounded ranking.** bm25 scores every match: a word in most articles costs about a
second at a million. A query with more than :data:`RANK_NEWEST` matches ranks only its
newest :data:`RANK_NEWEST` (by rowid, the order articles were first archived), unless
the caller asks for every match (``rank_all``, or a ``limit`` of that many rows).
Finding out is cheap where it can be: FTS5 walks a word's doclist newest first without
scoring it (``ORDER BY rowid DESC LIMIT 1 OFFSET n``: 1 ms at 1M matches), and a query
of words and phrases has no more matches than its rarest word, so one rare word settles
it. A prefix (``bro*``) with more matches is not ranked: its newest matches come first,
as Lucene scores prefix queries (constant score): FTS5 merges all its terms' doclists
for the matches and again for bm25's document frequency, 70 ms each for a 3-letter
prefix at 1M, and the one walk that counts its matches gives its newest too. Anything
else (OR, NOT, NEAR, column filters, phrases of common words) is ranked in one pass over
its first n + 1 matches, counted as they are scored: all of them when there are no more
than n, the exact ranking in one pass; else the pass is thrown away and the newest n are
ranked. Wherever ranking is not bounded, its order is exactly the bare bm25 query's.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import weakref
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

#: More matches than this: only the newest this many are ranked (docs/querying.md).
RANK_NEWEST = 20_000
#: Rows decorated (looked up in ``articles``, given a snippet) at a time.
BATCH = 200

#: The ranking: exactly the bare FTS5 query, the only work done per match.
RANK = """SELECT rowid FROM articles_fts WHERE articles_fts MATCH :query
ORDER BY bm25(articles_fts, 5.0, 1.0) LIMIT :limit"""
#: A large export of every match ranked (``--limit`` of thousands, or none): one pass, each
#: match joined to its article and given its snippet by the archive's own index as SQLite
#: sorts them, cheaper per row than decorating them a batch at a time.
JOINED = """SELECT a.url, a.title, a.category, a.published, {partners_of} AS partners,
       snippet(articles_fts, -1, :open, :close, '…', 16) AS snippet
FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
WHERE articles_fts MATCH :query ORDER BY bm25(articles_fts, 5.0, 1.0) LIMIT :limit"""
#: From this many rows asked for (when every match is ranked), :data:`JOINED` is used.
JOINED_FROM = 2_000


def one_pass(limit: int, rank_all: bool) -> bool:
    """Whether a search of ``limit`` rows ranks every match in :data:`JOINED`'s one pass."""
    every = rank_all or limit < 0 or limit >= RANK_NEWEST
    return every and (limit < 0 or limit >= JOINED_FROM)


#: The ranking of the newest matches only: those after the cut (FTS5 seeks to it).
RANK_AFTER = """SELECT rowid FROM articles_fts WHERE articles_fts MATCH :query
AND rowid > :after ORDER BY bm25(articles_fts, 5.0, 1.0) LIMIT :limit"""
#: The ranking of every match if there are no more than :cap - 1, with their number; the
#: same order as :data:`RANK` (bm25 ties in rowid order, as SQLite's sort keeps them).
FIRST_PASS = """SELECT rowid, count(*) OVER () FROM (SELECT rowid,
bm25(articles_fts, 5.0, 1.0) AS score FROM articles_fts WHERE articles_fts MATCH :query
LIMIT :cap) ORDER BY score, rowid LIMIT :limit"""
#: The newest matches, no scoring: a broad prefix's matches when bounded.
NEWEST = """SELECT rowid FROM articles_fts WHERE articles_fts MATCH :query
ORDER BY rowid DESC LIMIT :cap"""
#: The rowid of the (n+1)-th newest match, if there are more than n: no scoring.
NEWEST_CUT = """SELECT rowid FROM articles_fts WHERE articles_fts MATCH :query
ORDER BY rowid DESC LIMIT 1 OFFSET :newest"""

#: What makes a search text FTS5 syntax on purpose: a phrase in quotes, an operator, a
#: prefix query, a column filter, or grouping.
_FTS_SYNTAX = re.compile(r'"|\b(?:AND|OR|NOT|NEAR)\b|\w\*|^\s*\w+\s*:|\(')
_PLAIN_TERM = re.compile(r"\w+")


def fts_query(text: str) -> str:
    """What people type, as an FTS5 query: each term with punctuation (``Coca-Cola``,
    ``P&G``, ``Alibaba's``) becomes a phrase in double quotes; text already written in
    FTS5 syntax (``"…"``, ``AND``/``OR``/``NOT``, ``prefix*``, ``title:word``) is kept."""
    if _FTS_SYNTAX.search(text):
        return text
    terms = text.split()
    return " ".join(t if _PLAIN_TERM.fullmatch(t) else f'"{t}"' for t in terms)


#: A query of words and "phrases" only (AND-ed): every match holds each of its words.
_WORDS_AND_PHRASES = re.compile(r'\s*(?:(?:[^\W_]+|"[^"]*")\s*)+')
_WORD = re.compile(r"[^\W_]+")
_OPERATORS = {"OR", "NOT", "NEAR"}


def words_every_match_holds(query: str) -> list[str]:
    """The words each match of the FTS5 ``query`` must contain; [] when the query is more
    than words and phrases AND-ed (an OR, a NOT, a prefix, a column filter)."""
    if not _WORDS_AND_PHRASES.fullmatch(query):
        return []
    outside = re.sub(r'"[^"]*"', " ", query).split()
    if any(word in _OPERATORS for word in outside):
        return []
    words = [w for w in outside if w != "AND"] + _WORD.findall(
        " ".join(re.findall(r'"[^"]*"', query))
    )
    return list(dict.fromkeys(word.lower() for word in words))


def newest_cut(conn: sqlite3.Connection, query: str, newest: int) -> int | None:
    """The rowid below the ``newest`` newest matches of ``query``; None: it has no more
    matches than that. No scoring: FTS5 only walks the matches, newest first."""
    row = conn.execute(NEWEST_CUT, {"query": query, "newest": newest}).fetchone()
    return None if row is None else int(row[0])


def _rare_word(conn: sqlite3.Connection, words: list[str], newest: int) -> tuple[bool, int | None]:
    """Whether one of ``words`` is in no more than ``newest`` articles (then so is a query
    all of whose matches hold it), and the cut of the last word asked."""
    cut = None
    for word in words:
        cut = newest_cut(conn, f'"{word}"', newest)
        if cut is None:
            return True, None
    return False, cut


#: A word in more articles than this: ``articles --search`` first walks the articles
#: newest first, asking FTS5 of each (it finds 20 in a few dozen), rather than looking each
#: match up and sorting them all (3 s for a word in every article of a million).
WALK_ABOVE = 50_000
#: That walk reads at most this many articles per row asked for, and this many in all: a
#: word common only in old articles (a past Games' city) would make it read most of the
#: archive. Fewer rows found than asked: the matches are looked up and sorted after all.
WALK_PER_ROW = 50
WALK_MOST = 20_000

#: ``articles --search``'s two conditions on article ``a`` for the FTS5 query ``:search``.
LOOKUP = "a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :search)"
WALK = (
    "EXISTS (SELECT 1 FROM articles_fts WHERE articles_fts MATCH :search"
    " AND articles_fts.rowid = a.id)"
)


def walk_budget(conn: sqlite3.Connection, query: str, limit: int | None) -> int | None:
    """How many articles ``articles --search`` may walk, in its own order, to find its
    ``limit`` rows (see :data:`WALK_PER_ROW`); None: look the matches up (no limit, a large
    one, or a query that is not one word in more than :data:`WALK_ABOVE` articles)."""
    if limit is None or not 0 < limit * WALK_PER_ROW <= WALK_MOST:
        return None
    words = words_every_match_holds(query)
    if _only_word(query, words) and newest_cut(conn, f'"{words[0]}"', WALK_ABOVE) is not None:
        return limit * WALK_PER_ROW
    return None


def walked(select: str, where: list[str], order: str) -> str:
    """The articles of ``where``, the first ``:budget`` of them in ``order``, then those
    :data:`WALK` finds among them (``select``: the columns, of ``a``)."""
    inner = " AND ".join(where) or "1"
    # No ORDER BY outside: the walk (a subquery with a LIMIT, which SQLite runs as a
    # co-routine, never flattened under a WHERE) hands its rows over in its own order, and
    # the LIMIT stops it at the last row needed; sorting again would check all :budget.
    return (
        f"{select} FROM (SELECT a.id, a.url, a.title, a.category, a.published FROM articles a"
        f" WHERE {inner} ORDER BY {order} LIMIT :budget) a WHERE {WALK} LIMIT :limit"
    )


class SearchRows(Iterator[dict[str, Any]]):
    """A search's rows as they come; once the first is read, :attr:`ranked_newest` says
    whether ranking was bounded (the number of newest matches ranked) or not (None), and
    :attr:`newest_first` whether a prefix's matches came newest first, unranked."""

    def __init__(self) -> None:
        self.ranked_newest: int | None = None
        self.newest_first = False
        self.rows: Iterator[dict[str, Any]] = iter(())

    def __next__(self) -> dict[str, Any]:
        return next(self.rows)

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


class Snippets:
    """``snippet()`` of the rows shown, from an in-memory FTS5 table holding only them
    (same columns and tokenizer as ``articles_fts``): FTS5 makes a snippet from its row
    alone, so it is the one the archive's index would give."""

    def __init__(self, tokenize: str, marks: tuple[str, str] = ("[", "]")) -> None:
        # External content, emptied by 'delete-all' and filled by 'rebuild': a third of
        # the cost of deleting and inserting the rows of an FTS5 table of its own.
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.execute("CREATE TABLE shown (id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
        self.conn.execute(
            "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body,"
            f" tokenize={tokenize}, content='shown', content_rowid='id')"
        )
        self.marks = marks

    def of(self, query: str, rows: Sequence[tuple[int, str | None, str | None]]) -> dict[int, str]:
        """Each row's snippet (id, title, body) for ``query``, by id."""
        run = self.conn.execute
        run("BEGIN")
        run("INSERT INTO articles_fts (articles_fts) VALUES ('delete-all')")
        run("DELETE FROM shown")
        self.conn.executemany("INSERT INTO shown (id, title, body) VALUES (?, ?, ?)", rows)
        run("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        run("COMMIT")
        found = run(
            "SELECT rowid, snippet(articles_fts, -1, ?, ?, '…', 16) FROM articles_fts"
            " WHERE articles_fts MATCH ?",
            (*self.marks, query),
        )
        return dict(found.fetchall())

    def close(self) -> None:
        self.conn.close()


def snippets_of(reader: Any, marks: tuple[str, str]) -> Snippets:
    """The ``reader``'s in-memory table making snippets, made at its first search (making
    it costs more than the bare ranking of a rare word), closed when it is collected."""
    if reader.snippet_table is None:
        reader.snippet_table = Snippets(tokenizer_of(reader.conn))
        weakref.finalize(reader, reader.snippet_table.close)
    reader.snippet_table.marks = marks
    return reader.snippet_table


_TOKENIZE = re.compile(r"""tokenize\s*=\s*('(?:[^']|'')*'|"(?:[^"]|"")*")""", re.I)


def tokenizer_of(conn: sqlite3.Connection) -> str:
    """The ``tokenize=`` argument of the archive's ``articles_fts`` (a TEMP one in an older
    archive read as it is), quoted as written; ``'porter'`` if none can be read."""
    for table in ("sqlite_temp_master", "sqlite_master"):
        row = conn.execute(f"SELECT sql FROM {table} WHERE name = 'articles_fts'").fetchone()
        if row and (found := _TOKENIZE.search(row[0] or "")):
            return found.group(1)
    return "'porter'"


def decorated(
    conn: sqlite3.Connection,
    ids: Sequence[int],
    query: str,
    partners_of: str,
    snippets: Snippets,
) -> Iterator[dict[str, Any]]:
    """The articles ``ids`` (in that order), each with its partners and snippet."""
    marks = ",".join("?" * len(ids))
    found = conn.execute(
        f"SELECT a.id, a.url, a.title, a.category, a.published, {partners_of} AS partners,"
        f" a.body FROM articles a WHERE a.id IN ({marks})",
        list(ids),
    ).fetchall()
    by_id = {row[0]: row for row in found}
    texts = [(row[0], row[2], row[6]) for row in found]
    snippet = snippets.of(query, texts)
    for id_ in ids:
        if (row := by_id.get(id_)) is not None:
            _, url, title, category, published, partners, _ = row
            yield {"url": url, "title": title, "category": category, "published": published,
                   "partners": partners, "snippet": snippet.get(id_)}  # fmt: skip


def ranked(
    conn: sqlite3.Connection, query: str, limit: int, rank_all: bool, result: SearchRows,
    partners_of: str, snippets: Callable[[], Snippets],
) -> Generator[dict[str, Any], None, None]:  # fmt: skip
    """The search's rows, best first: rank the bare FTS5 rowids (the newest
    :data:`RANK_NEWEST` only, said in ``result``, unless ``rank_all`` or a ``limit`` of
    that many), then look up and decorate them a batch at a time."""
    cursor = None
    try:
        if rank_all or not 0 <= limit < RANK_NEWEST:
            cursor = conn.execute(RANK, {"query": query, "limit": limit})
            ids: Iterator[list[tuple[int]]] = iter(lambda: cursor.fetchmany(BATCH), [])
        else:
            ids = iter([_bounded(conn, query, limit, result)])
        table = snippets()
        for batch in ids:
            for start in range(0, len(batch), BATCH):
                chosen = [rowid for (rowid,) in batch[start : start + BATCH]]
                yield from decorated(conn, chosen, query, partners_of, table)
    finally:
        if cursor is not None:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed first
                cursor.close()


def _newest_walk(conn: sqlite3.Connection, query: str, limit: int, cap: int) -> tuple[list, int]:
    """The newest ``limit`` matches, and how many matches there are up to ``cap``: one
    walk, one merge of a prefix's doclists, no scoring."""
    cursor = conn.execute(NEWEST, {"query": query, "cap": cap})
    try:
        shown = cursor.fetchmany(limit) if limit else []
        return shown, len(shown) + sum(len(b) for b in iter(lambda: cursor.fetchmany(4096), []))
    finally:
        cursor.close()


def _only_word(query: str, words: list[str]) -> bool:
    """Whether the FTS5 ``query`` is its one word alone (``word`` or ``"word"``): then its
    matches are the word's, and the word's cut is the query's. A phrase of that word
    repeated (``"Baden Baden"``) has fewer."""
    return len(words) == 1 and query.strip().strip('"').strip().lower() == words[0]


def _bounded(conn: sqlite3.Connection, query: str, limit: int, result: SearchRows) -> list:
    """The best ``limit`` rowids, of the newest :data:`RANK_NEWEST` matches only if there
    are more (said in ``result``); the cheapest way to tell for each kind of query."""
    newest = RANK_NEWEST
    params = {"query": query, "limit": limit}
    words = words_every_match_holds(query)
    cut = None
    if words:  # words and phrases: a rare word settles it, else one common word is a cut
        rare, cut = _rare_word(conn, words, newest)
        if rare:
            return conn.execute(RANK, params).fetchall()
        if not _only_word(query, words):  # its matches are fewer than the word's
            cut = None
    if cut is None:
        if "*" in re.sub(r'"[^"]*"', "", query):  # a prefix (a * inside quotes is none):
            # merging its terms' doclists is what costs
            shown, seen = _newest_walk(conn, query, limit, newest + 1)
            if seen <= newest:
                return conn.execute(RANK, params).fetchall()
            result.newest_first = True
            return shown
        else:  # rank the first matches, counting them: all of them if they are few
            found = conn.execute(FIRST_PASS, params | {"cap": newest + 1}).fetchall()
            if not found or found[0][1] <= newest:
                return [(rowid,) for rowid, _ in found]
            cut = newest_cut(conn, query, newest)
    result.ranked_newest = newest
    return conn.execute(RANK_AFTER, params | {"after": cut}).fetchall()
