"""Search ranks the bare FTS5 rowids and decorates only the rows shown: its order is the
bare bm25 query's wherever ranking is not bounded, its snippets are the ones SQLite's
``snippet()`` gives in the archive itself, and above ``RANK_NEWEST`` matches it ranks the
newest only, and says so on stderr (never in the data)."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from olyscrape.archive import ranking
from olyscrape.archive.reader import ArchiveReader, fts_query
from tests.helpers import cli_runner

BM25 = "bm25(articles_fts, 5.0, 1.0)"
NOTE = "note: more than"


def _bare(db: Path, match: str, where: str = "", params: tuple = ()) -> list[str]:
    """The bare FTS5 ranking, every match, as URLs (SQLite alone, no olyscrape code)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = conn.execute(
            f"SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? {where} ORDER BY {BM25}",
            (match, *params),
        ).fetchall()
        return [conn.execute("SELECT url FROM articles WHERE id = ?", i).fetchone()[0] for i in ids]
    finally:
        conn.close()


def _snippets(db: Path, match: str) -> dict[str, str]:
    """Each match's snippet as the archive's own index makes it, by URL."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(conn.execute(
            "SELECT a.url, snippet(articles_fts, -1, '[', ']', '…', 16) FROM articles_fts"
            " JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ?",
            (match,)).fetchall())  # fmt: skip
    finally:
        conn.close()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of 3,000 made-up articles (the search benchmark's builder): its first
    words are in nearly every article, so bounds can be reached with a small one."""
    from benchmarks.bench_search import _fill, articles

    db = tmp_path_factory.mktemp("generated") / "archive.db"
    _fill(db, articles(3000), rebuild=False)
    return db


def _vocabulary() -> list[str]:
    from benchmarks.common import Words

    return Words(size=50_000, seed=2021).vocabulary


SITE_QUERIES = ["Olympic", "Coca-Cola", "olymp*", "Games OR athletes", "Olympic NOT Games",
                "title:olympic", '"Olympic Games"', "sport AND partner"]  # fmt: skip


@pytest.mark.parametrize("typed", SITE_QUERIES)
def test_the_saved_site_ranks_as_bare_bm25_with_its_own_snippets(archive_db, typed):
    match = fts_query(typed)
    with ArchiveReader.open(archive_db) as reader:
        found = reader.iter_search(typed, limit=1000)
        rows = list(found)
    assert found.ranked_newest is None
    assert [r["url"] for r in rows] == _bare(archive_db, match)
    own = _snippets(archive_db, match)
    assert {r["url"]: r["snippet"] for r in rows} == {r["url"]: own[r["url"]] for r in rows}


def test_the_generated_archive_ranks_as_bare_bm25_below_the_bound(generated):
    words = _vocabulary()
    queries = [words[0], words[3], words[400], words[5000], f'"{words[0]} {words[1]}"',
               words[2][:3] + "*", f"{words[0]} OR {words[7]}", f"{words[1]} {words[30]}"]  # fmt: skip
    with ArchiveReader.open(generated) as reader:
        for query in queries:
            found = reader.iter_search(query, limit=5000)
            urls = [r["url"] for r in found]
            assert found.ranked_newest is None
            assert len(urls) > 0
            assert urls == _bare(generated, query), query
            top = [r["url"] for r in reader.search(query, limit=20)]
            assert top == urls[:20]


def _newest(db: Path, match: str, count: int) -> list[str]:
    """The bare ranking of the ``count`` newest matches only (rowids taken by SQLite)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    newest = [r for (r,) in conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
        (match, count))]  # fmt: skip
    conn.close()
    marks = ",".join(str(r) for r in newest)
    return _bare(db, match, f"AND rowid IN ({marks})")


@pytest.mark.parametrize("kind", ["word", "phrase", "or", "not"])
def test_above_the_bound_only_the_newest_matches_are_ranked(generated, monkeypatch, kind):
    monkeypatch.setattr(ranking, "RANK_NEWEST", 100)
    words = _vocabulary()
    query = {"word": words[0], "phrase": f'"{words[0]} {words[1]}"',
             "or": f"{words[0]} OR {words[3]}", "not": f"{words[0]} NOT {words[9]}"}[kind]  # fmt: skip
    assert len(_bare(generated, query)) > 100
    with ArchiveReader.open(generated) as reader:
        found = reader.iter_search(query, limit=20)
        urls = [r["url"] for r in found]
        assert found.ranked_newest == 100 and not found.newest_first
        assert urls == _newest(generated, query, 100)[:20]
        every = reader.iter_search(query, limit=20, rank_all=True)
        assert [r["url"] for r in every] == _bare(generated, query)[:20]
        assert every.ranked_newest is None


def test_a_prefix_above_the_bound_lists_its_last_archived_matches_first(generated, monkeypatch):
    monkeypatch.setattr(ranking, "RANK_NEWEST", 100)
    query = _vocabulary()[2][:2] + "*"
    conn = sqlite3.connect(f"file:{generated}?mode=ro", uri=True)
    last = [url for (url,) in conn.execute(
        "SELECT a.url FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid"
        " WHERE articles_fts MATCH ? ORDER BY a.id DESC LIMIT 20", (query,))]  # fmt: skip
    conn.close()
    assert len(_bare(generated, query)) > 100
    with ArchiveReader.open(generated) as reader:
        found = reader.iter_search(query, limit=20)
        assert [r["url"] for r in found] == last
        assert found.newest_first and found.ranked_newest is None
        every = reader.iter_search(query, limit=20, rank_all=True)
        assert [r["url"] for r in every] == _bare(generated, query)[:20]
        assert not every.newest_first


def test_a_star_inside_quotes_is_no_prefix(generated, monkeypatch):
    """``"word*"`` is the phrase of one word (FTS5 drops the star inside quotes): ranked,
    bounded as words are, never listed newest first as a prefix is."""
    monkeypatch.setattr(ranking, "RANK_NEWEST", 100)
    words = _vocabulary()
    query = f'"{words[0]}*" OR {words[3]}'
    with ArchiveReader.open(generated) as reader:
        found = reader.iter_search(query, limit=20)
        urls = [r["url"] for r in found]
    assert not found.newest_first and found.ranked_newest == 100
    assert urls == _newest(generated, query, 100)[:20]


def test_a_narrow_prefix_is_ranked_whole(generated, monkeypatch):
    monkeypatch.setattr(ranking, "RANK_NEWEST", 100)
    narrow = (w[:5] + "*" for w in _vocabulary()[100:400])
    query = next(q for q in narrow if 20 < len(_bare(generated, q)) <= 100)
    with ArchiveReader.open(generated) as reader:
        found = reader.iter_search(query, limit=20)
        assert [r["url"] for r in found] == _bare(generated, query)[:20]
        assert not found.newest_first and found.ranked_newest is None


def test_a_rare_word_of_a_query_keeps_it_unbounded(generated, monkeypatch):
    monkeypatch.setattr(ranking, "RANK_NEWEST", 100)
    words = _vocabulary()
    query = f"{words[0]} {words[300]}"  # the first in nearly all, the other in few
    assert 0 < len(_bare(generated, query)) <= 100 < len(_bare(generated, words[0]))
    with ArchiveReader.open(generated) as reader:
        found = reader.iter_search(query, limit=20)
        assert [r["url"] for r in found] == _bare(generated, query)[:20]
        assert found.ranked_newest is None


@pytest.mark.parametrize("repeats", [2, 50])
def test_a_phrase_of_one_word_repeated_is_bounded_by_its_own_matches(
    generated, monkeypatch, repeats
):
    """``"Baden Baden"`` holds one distinct word, but its matches are the phrase's, not the
    word's: it is bounded (and said to be) only when the phrase itself has more matches
    than the bound, and then among the phrase's newest, never the word's."""
    monkeypatch.setattr(ranking, "RANK_NEWEST", 100)
    word = _vocabulary()[0]
    query = '"' + " ".join([word] * repeats) + '"'
    matches = len(_bare(generated, query))
    assert len(_bare(generated, word)) > 100
    with ArchiveReader.open(generated) as reader:
        found = reader.iter_search(query, limit=20)
        urls = [r["url"] for r in found]
    if matches > 100:
        assert found.ranked_newest == 100
        assert urls == _newest(generated, query, 100)[:20]
    else:
        assert found.ranked_newest is None and not found.newest_first
        assert urls == _bare(generated, query)[:20]
    assert repeats == 2 or matches == 0  # fifty in a row: in no article, and no note


@pytest.mark.parametrize("fmt", ["--csv", "--json", "--format=table"])
def test_the_command_says_on_stderr_when_ranking_was_bounded(generated, monkeypatch, fmt):
    from olyscrape.cli import cli

    monkeypatch.setattr(ranking, "RANK_NEWEST", 100)
    word = _vocabulary()[0]
    runner = cli_runner()
    bounded = runner.invoke(cli, ["search", word, "--db", str(generated), fmt])
    assert bounded.exit_code == 0, bounded.output
    assert bounded.stderr.count(NOTE) == 1
    assert "more than 100 matches; ranked the 100 archived last" in bounded.stderr
    prefix = runner.invoke(cli, ["search", word[:2] + "*", "--db", str(generated), fmt])
    assert prefix.exit_code == 0, prefix.output
    assert "more than 100 matches; listed the last archived first" in prefix.stderr
    assert NOTE not in prefix.stdout
    assert NOTE not in bounded.stdout
    if fmt == "--csv":
        urls = [r["url"] for r in csv.DictReader(io.StringIO(bounded.stdout))]
        assert urls == _newest(generated, word, 100)[:20]
    for args in (["--rank-all"], ["--limit", "100"]):
        full = runner.invoke(cli, ["search", word, "--db", str(generated), fmt, *args])
        assert full.exit_code == 0, full.output
        assert NOTE not in full.stderr
    rare = runner.invoke(cli, ["search", _vocabulary()[5000], "--db", str(generated), fmt])
    assert rare.exit_code == 0 and rare.stdout.strip()
    assert rare.stderr == ""


def test_bad_syntax_is_still_one_line_when_bounding_is_asked(generated, monkeypatch):
    from olyscrape.cli import cli

    monkeypatch.setattr(ranking, "RANK_NEWEST", 100)
    result = cli_runner().invoke(cli, ["search", "NEAR(", "--db", str(generated)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: invalid search query")
    assert "Traceback" not in result.stderr


def test_words_every_match_holds():
    holds = ranking.words_every_match_holds
    assert holds('Alpha "beta gamma" AND delta') == ["alpha", "delta", "beta", "gamma"]
    assert holds("alpha OR beta") == []
    assert holds("alpha NOT beta") == []
    assert holds("alph*") == []
    assert holds("title:alpha") == []
    assert holds('"Coca-Cola"') == ["coca", "cola"]


@pytest.mark.parametrize("per_row", [1, 50])
@pytest.mark.parametrize("walk_above", [10, 10**9])
def test_articles_search_lists_the_same_articles_either_way(
    generated, monkeypatch, walk_above, per_row
):
    """A common word walks the articles newest first (EXISTS per article), a rarer one
    looks its matches up, and a walk that finds too few in its budget (``per_row`` 1: a
    word common only among old articles) looks them up after all: the same articles in the
    same order, as SQLite's own query."""
    from olyscrape.archive.reader import ArticleQuery

    monkeypatch.setattr(ranking, "WALK_ABOVE", walk_above)
    monkeypatch.setattr(ranking, "WALK_PER_ROW", per_row)
    words = _vocabulary()
    conn = sqlite3.connect(f"file:{generated}?mode=ro", uri=True)
    with ArchiveReader.open(generated) as reader:
        for word, since in ((words[0], None), (words[1], "2016-01-01"), (words[400], None)):
            expected = [url for (url,) in conn.execute(
                "SELECT url FROM articles WHERE id IN (SELECT rowid FROM articles_fts"
                " WHERE articles_fts MATCH ?) AND (? IS NULL OR published >= ?)"
                " ORDER BY published DESC NULLS LAST, url LIMIT 30", (word, since, since))]  # fmt: skip
            found = reader.articles(ArticleQuery(search=word, since=since, limit=30))
            assert len(expected) > 0
            assert [a["url"] for a in found] == expected
    conn.close()


@pytest.mark.parametrize("joined_from", [2_000, 10**9])
def test_a_large_export_ranks_and_snips_alike_in_one_pass_or_in_batches(
    generated, monkeypatch, joined_from
):
    """Thousands of rows with every match ranked go through one joined pass (each snippet
    from the archive's own index), fewer through the ranking then batches: the same rows,
    order and snippets either way, those of SQLite's own ranking."""
    monkeypatch.setattr(ranking, "JOINED_FROM", joined_from)
    word = _vocabulary()[0]
    with ArchiveReader.open(generated) as reader:
        rows = list(reader.iter_search(word, limit=2500, rank_all=True))
    assert len(rows) == 2500
    assert [r["url"] for r in rows] == _bare(generated, word)[:2500]
    own = _snippets(generated, word)
    assert all(r["snippet"] == own[r["url"]] for r in rows)


def test_only_one_word_alone_walks_and_the_walk_stops_at_its_last_row(generated, monkeypatch):
    """``articles --search`` walks the articles newest first only for a query that is one
    common word alone (a phrase of it repeated has far fewer matches: looked up), and the
    walk is not sorted again, so SQLite stops it at the last row asked for."""
    monkeypatch.setattr(ranking, "WALK_ABOVE", 10)
    word = _vocabulary()[0]
    conn = sqlite3.connect(f"file:{generated}?mode=ro", uri=True)
    try:
        assert ranking.walk_budget(conn, word, 20) == 20 * ranking.WALK_PER_ROW
        assert ranking.walk_budget(conn, f'"{word}"', 20) == 20 * ranking.WALK_PER_ROW
        assert ranking.walk_budget(conn, f'"{word} {word}"', 20) is None
        assert ranking.walk_budget(conn, word, None) is None  # no limit: looked up
        sql = ranking.walked("SELECT a.url", [], "a.published DESC NULLS LAST, a.url")
        plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                 {"search": word, "budget": 1000, "limit": 20})]  # fmt: skip
    finally:
        conn.close()
    assert sum("TEMP B-TREE" in step for step in plan) == 1, plan  # the walk's own order only
