"""``search`` streams its rows, as ``articles`` does: its CSV is the ranking SQLite's FTS5
gives (checked against a query of our own on the archive), and a reader that goes away
(``| head -1``) stops it at once, with nothing left beside the archive."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys

import pytest

from olyscrape.archive.reader import ArchiveReader
from tests.helpers import REPO, cli_runner, sha256


def _expected(db, match: str) -> list[dict[str, str]]:
    """The search's rows straight from SQLite: rank by bm25 (titles 5×), partners by slug."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        found = conn.execute(
            """SELECT a.published, a.title, a.url, a.id FROM articles_fts
            JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ?
            ORDER BY bm25(articles_fts, 5.0, 1.0)""",
            (match,),
        ).fetchall()
        partners = {
            aid: [p for (p,) in conn.execute(
                "SELECT partner FROM partner_links WHERE article_id = ? ORDER BY partner",
                (aid,))]
            for *_, aid in found
        }  # fmt: skip
    finally:
        conn.close()
    return [
        {"published": pub or "", "title": title, "url": url, "partners": partners[aid]}
        for pub, title, url, aid in found
    ]


@pytest.mark.parametrize(("typed", "match"), [("Olympic", "Olympic"),
                                             ("Coca-Cola", '"Coca-Cola"')])  # fmt: skip
def test_search_csv_is_the_fts_ranking_whole(archive_db, typed, match):
    from olyscrape.cli import cli

    result = cli_runner().invoke(
        cli, ["search", typed, "--db", str(archive_db), "--limit", "1000", "--csv"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = _expected(archive_db, match)
    assert len(expected) > 1
    assert [(r["published"], r["title"], r["url"]) for r in rows] == [
        (e["published"], e["title"], e["url"]) for e in expected
    ]
    assert [sorted(filter(None, r["partners"].split(","))) for r in rows] == [
        e["partners"] for e in expected
    ]
    assert all("[" in r["snippet"] and "]" in r["snippet"] for r in rows)


def test_search_rows_come_one_at_a_time_and_close_with_the_reader(archive_db):
    reader = ArchiveReader.open(archive_db)
    rows = reader.iter_search("Olympic", limit=1000)
    assert not isinstance(rows, list)
    first = next(rows)
    assert first["url"] == _expected(archive_db, "Olympic")[0]["url"]
    reader.close()
    assert list(rows) == []  # closed with the reader, its statement finalised


@pytest.mark.slow
def test_search_cut_short_by_a_closed_pipe(archive_copy):
    before = sha256(archive_copy)
    files = sorted(p.name for p in archive_copy.parent.iterdir())
    process = subprocess.Popen(
        [sys.executable, "-m", "olyscrape", "search", "Olympic", "--db", str(archive_copy),
         "--limit", "1000000", "--csv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == b"published,title,partners,snippet,url\n"
    process.stdout.close()
    code = process.wait(timeout=60)
    assert code in (0, 141)  # 129 articles may all fit the pipe before it closes
    assert process.stderr is not None and process.stderr.read() == b""
    assert sorted(p.name for p in archive_copy.parent.iterdir()) == files
    assert sha256(archive_copy) == before
