"""Querying the archive (articles, search, sql, stats) on a crawled archive."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import sys

import pytest

from olyscrape.archive import ArchiveReader, ArchiveWriter
from olyscrape.items import ArticleCard
from tests.helpers import SHARED, query, run_olyscrape

CHRIS_TUNG_WORD = (
    "zephyrquillb68613"  # in that article's body only (tests/fixtures/site/MANIFEST.md)
)


# --- articles -------------------------------------------------------------------------------


def articles_json(olyscrape, db, *args):
    result = olyscrape("articles", "--db", str(db), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_articles_lists_every_article_with_its_partners(olyscrape, archive_db):
    rows = articles_json(olyscrape, archive_db)
    assert len(rows) == query(archive_db, "SELECT count(*) FROM articles")[0][0]
    shared = next(r for r in rows if r["url"] == SHARED)
    assert shared["partners"] == ["alibaba", "visa"]


def test_articles_newest_first_with_undated_last(olyscrape, archive_db):
    dates = [r["published"] for r in articles_json(olyscrape, archive_db)]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates[-2:] == [None, None]


def test_articles_by_partner(olyscrape, archive_db):
    rows = articles_json(olyscrape, archive_db, "--partner", "visa")
    assert len(rows) == 14 and all("visa" in r["partners"] for r in rows)


def test_articles_by_category_any_case(olyscrape, archive_db):
    rows = articles_json(olyscrape, archive_db, "--category", "tokyo 2020")
    expected = query(archive_db, "SELECT count(*) FROM articles WHERE category = 'Tokyo 2020'")[0][
        0
    ]
    assert len(rows) == expected > 0


def test_articles_between_dates(olyscrape, archive_db):
    rows = articles_json(olyscrape, archive_db, "--since", "2019-07", "--until", "2019")
    assert rows and all("2019-07-01" <= r["published"] <= "2019-12-31" for r in rows)
    expected = query(
        archive_db,
        "SELECT count(*) FROM articles WHERE published BETWEEN '2019-07-01' AND '2019-12-31'",
    )
    assert len(rows) == expected[0][0]


def test_articles_search_and_limit(olyscrape, archive_db):
    assert [
        r["title"] for r in articles_json(olyscrape, archive_db, "--search", CHRIS_TUNG_WORD)
    ] == [
        "“Much more than a sponsorship”: Alibaba’s Chris Tung hails TOP Partnership as company looks ahead to Tokyo 2020"
    ]
    assert len(articles_json(olyscrape, archive_db, "--limit", "3")) == 3


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "table"])
def test_every_format_parses_and_holds_the_right_number_of_rows(olyscrape, archive_db, fmt):
    result = olyscrape("articles", "--db", str(archive_db), "--partner", "alibaba", "--format", fmt)
    assert result.exit_code == 0
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.output)))
        assert rows[0].keys() == {"published", "title", "category", "partners", "url"}
    elif fmt == "json":
        rows = json.loads(result.output)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in result.output.splitlines()]
    else:
        rows = result.output.splitlines()[2:]  # header and rule
    assert len(rows) == 31


def test_a_bad_date_is_a_usage_error(olyscrape, archive_db):
    result = olyscrape("articles", "--db", str(archive_db), "--since", "last week")
    assert result.exit_code == 2 and "YYYY" in result.output


# --- search ---------------------------------------------------------------------------------


def test_search_a_word_of_one_body_finds_exactly_that_article(olyscrape, archive_db):
    result = olyscrape("search", "--db", str(archive_db), CHRIS_TUNG_WORD, "--format", "json")
    (hit,) = json.loads(result.output)
    assert hit["url"].endswith(
        "-chris-tung-hails-top-partnership-as-company-looks-ahead-to-tokyo-2020"
    )
    assert f"[{CHRIS_TUNG_WORD}]" in hit["snippet"]


def test_search_ranks_title_matches_first(olyscrape, archive_db):
    rows = json.loads(
        olyscrape("search", "--db", str(archive_db), "ticketing", "--format", "json").output
    )
    assert rows[0]["title"] == "Beijing 2022 ticketing solutions to be provided by Alibaba Group"


@pytest.mark.parametrize("bad", ['"unbalanced', "AND", "title:", "NEAR("])
def test_a_malformed_search_is_a_clear_error(olyscrape, archive_db, bad):
    result = olyscrape("search", "--db", str(archive_db), bad)
    assert result.exit_code == 2
    assert "invalid search query" in result.output


def test_the_index_follows_upserts(tmp_path, archive_db):
    db = tmp_path / "a.db"
    shutil.copy(archive_db, db)
    url = "https://olympics.com/ioc/news/beijing-2022-ticketing-solutions-to-be-provided-by-alibaba-group"
    with ArchiveWriter.open(db, record_crawl=False) as writer:
        writer.store(
            [ArticleCard(url=url, title="Beijing 2022 passes sold by Alibaba", partner="alibaba")]
        )
    with ArchiveReader.open(db) as archive:
        assert [r["url"] for r in archive.search("passes")] == [url]
        assert [r["url"] for r in archive.search("title:ticketing")] == []


# --- sql ------------------------------------------------------------------------------------


def test_sql_reads(olyscrape, archive_db):
    result = olyscrape(
        "sql", "--db", str(archive_db), "SELECT count(*) AS n FROM partners", "--format", "json"
    )
    assert json.loads(result.output) == [{"n": 14}]


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM articles",
        "UPDATE articles SET title = 'x'",
        "DROP TABLE articles",
        "CREATE TABLE t (x)",
        "ATTACH 'elsewhere.db' AS e",
        "VACUUM INTO 'copy.db'",
        "SELECT 1; DELETE FROM articles",
        "PRAGMA journal_mode = DELETE",
    ],
)
@pytest.mark.slow  # a subprocess per statement, in a folder of its own
def test_sql_refuses_every_write_and_changes_nothing(archive_db, statement, tmp_path):
    before = query(archive_db, "SELECT count(*), sum(length(title)) FROM articles")
    result = run_olyscrape("sql", "--db", str(archive_db), statement, cwd=tmp_path)
    assert result.returncode != 0
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    assert query(archive_db, "SELECT count(*), sum(length(title)) FROM articles") == before
    assert list(tmp_path.iterdir()) == []  # no file attached or vacuumed into


def test_sql_on_a_missing_archive(olyscrape, tmp_path):
    result = olyscrape("sql", "--db", str(tmp_path / "none.db"), "SELECT 1")
    assert result.exit_code == 1 and "no such file" in result.output
    assert not (tmp_path / "none.db").exists()


# --- stats ----------------------------------------------------------------------------------


def test_stats_per_partner_year_and_crawls(olyscrape, archive_db):
    result = olyscrape("stats", "--db", str(archive_db), "--format", "json")
    data = json.loads(result.output)
    alibaba = next(p for p in data["partners"] if p["partner"] == "alibaba")
    assert (alibaba["articles"], alibaba["last_published"], alibaba["added_by_last_crawl"]) == (
        31,
        "2021-07-22",
        31,
    )
    assert sum(y["articles"] for y in data["years"]) == 129
    assert data["crawls"][0]["status"] == "ok"


@pytest.mark.slow  # draws with matplotlib (seconds); stats itself is in the fast loop
def test_stats_table_and_chart(olyscrape, archive_db, tmp_path):
    chart = tmp_path / "chart.png"
    result = olyscrape("stats", "--db", str(archive_db), "--chart", str(chart))
    assert result.exit_code == 0
    assert "alibaba" in result.output and "undated" in result.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000


# --- standard tools ---------------------------------------------------------------------------


def test_plain_sqlite3_reads_the_archive_and_its_index(archive_db):
    conn = sqlite3.connect(archive_db)
    sql = "SELECT a.url FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid WHERE articles_fts MATCH ?"
    assert len(conn.execute(sql, [CHRIS_TUNG_WORD]).fetchall()) == 1
    assert conn.execute("SELECT count(*) FROM partner_articles").fetchone() == (130,)
    conn.close()


@pytest.mark.slow  # runs sqlite-utils in a subprocess
def test_sqlite_utils_cli_reads_and_searches_the_archive(archive_db):
    tool = [sys.executable, "-m", "sqlite_utils"]
    tables = subprocess.run(
        [*tool, "tables", str(archive_db), "--counts"], capture_output=True, text=True, timeout=60
    )
    assert '"table": "articles", "count": 129' in tables.stdout
    found = subprocess.run(
        [*tool, "search", str(archive_db), "articles", CHRIS_TUNG_WORD, "-c", "url"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)) == 1
