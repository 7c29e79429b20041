"""Archiving end to end: article bodies, captures, WARC, change history, re-parse, WARC replay.

Crawls run for real (subprocess) against a loopback mirror of a copy of the saved site,
so that a test can change the site between two crawls.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import zlib
from pathlib import Path

import pytest
import pytest_twisted
from warcio.archiveiterator import ArchiveIterator

from olyscrape.testing.mirror import serve_in_thread
from tests.helpers import SITE, crawl_in_process, query, run_olyscrape

pytestmark = pytest.mark.slow  # see pyproject's markers

WORD = re.compile(r"zephyrquill[0-9a-f]+")


def distinctive_words(site: Path) -> dict[str, str]:
    """Canonical article URL → the invented word in the second paragraph of its saved page."""
    words = {}
    for path in (site / "ioc" / "news").glob("*.html"):
        paragraphs = re.findall(r"<p>(.*?)</p>", path.read_text(), re.S)
        words[f"https://olympics.com/ioc/news/{path.stem}"] = WORD.search(paragraphs[1]).group()
    return words


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, to compare an archive before and after; but the writer's
    own mark (``writer_session``), which every writer opening the file renews by design."""
    conn = sqlite3.connect(db)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'writer_session'"
            )
        ]
        return {t: sorted(map(repr, conn.execute(f"SELECT * FROM [{t}]"))) for t in tables}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One crawl of a mirror of the saved site, with a WARC; the mirror's request log."""
    root = tmp_path_factory.mktemp("archiving")
    site = root / "site"
    shutil.copytree(SITE, site)
    db, warc = root / "archive.db", root / "crawl.warc.gz"
    with serve_in_thread(site) as server:
        result = run_olyscrape(
            "crawl", "--base-url", server.base_url, "--db", str(db), "--warc", str(warc)
        )
        requests = list(server.requests)
        base_url = server.base_url
    assert result.returncode == 0, result.stdout + result.stderr
    return {"site": site, "db": db, "warc": warc, "requests": requests, "base_url": base_url}


def test_every_article_body_holds_the_distinctive_word_of_its_second_paragraph(crawled):
    words = distinctive_words(crawled["site"])
    bodies = dict(query(crawled["db"], "SELECT url, body FROM articles WHERE body IS NOT NULL"))
    assert set(bodies) == set(words)
    assert [url for url, word in words.items() if word not in bodies[url]] == []


def test_article_tags_and_page_dates_are_stored(crawled):
    assert query(crawled["db"], "SELECT count(DISTINCT article_url) FROM article_tags") == [(128,)]
    # Samsung's TBC card: the page says TBC too, so no page date either.
    assert query(
        crawled["db"],
        "SELECT count(*) FROM articles WHERE body IS NOT NULL AND page_published IS NULL",
    ) == [(1,)]


def test_links_to_other_hosts_stay_cards_and_are_not_fetched(crawled):
    assert query(
        crawled["db"], "SELECT body FROM articles WHERE url LIKE 'https://www.bridgestone.com/%'"
    ) == [(None,)]
    assert query(
        crawled["db"],
        "SELECT count(*) FROM captures WHERE url NOT LIKE ?",
        crawled["base_url"] + "/%",
    ) == [(0,)]


def test_every_fetched_response_has_a_capture_whose_sha256_matches_its_body(crawled):
    db = crawled["db"]
    captured = query(
        db, "SELECT c.url, c.sha256, b.body FROM captures c JOIN capture_bodies b USING (sha256)"
    )
    fetched = sorted(crawled["base_url"] + path for path in crawled["requests"])
    assert sorted(url for url, _, _ in captured) == fetched
    assert all(
        hashlib.sha256(zlib.decompress(body)).hexdigest() == sha for _, sha, body in captured
    )


def test_identical_bodies_are_stored_once(crawled):
    # Panasonic's offset-ignoring answers are byte-identical: three captures, one body.
    (captures, bodies) = query(
        crawled["db"], "SELECT count(*), count(DISTINCT sha256) FROM captures"
    )[0]
    assert query(crawled["db"], "SELECT count(*) FROM capture_bodies") == [(bodies,)]
    assert captures - bodies >= 2


def test_articles_record_the_capture_they_were_parsed_from(crawled):
    rows = query(
        crawled["db"],
        "SELECT a.url, c.canonical_url FROM articles a JOIN captures c ON c.id = a.capture_id WHERE a.body IS NOT NULL",
    )
    assert len(rows) == 128 and all(url == canonical for url, canonical in rows)


def test_the_warc_reads_back_with_a_response_record_for_each_fetched_url(crawled):
    responses = []
    with open(crawled["warc"], "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                responses.append(
                    (
                        record.rec_headers.get_header("WARC-Target-URI"),
                        record.content_stream().read(),
                    )
                )
    assert sorted(uri for uri, _ in responses) == sorted(
        crawled["base_url"] + p for p in crawled["requests"]
    )
    by_uri = dict(responses)
    alibaba = crawled["base_url"] + "/ioc/alibaba"
    assert by_uri[alibaba] == (crawled["site"] / "ioc" / "alibaba.html").read_bytes()


def test_a_crawl_replayed_from_its_warc_archives_the_same(crawled, tmp_path):
    db = tmp_path / "from-warc.db"
    result = run_olyscrape("crawl", "--replay-warc", str(crawled["warc"]), "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    same = "SELECT a.url, a.title, a.body, ap.partner, ap.position FROM articles a JOIN article_partners ap ON ap.article_url = a.url ORDER BY 1, 4"
    assert query(db, same) == query(crawled["db"], same)


def test_a_second_crawl_fetches_no_article_page_and_refresh_fetches_them_all(crawled, tmp_path):
    db = tmp_path / "a.db"
    shutil.copy(crawled["db"], db)
    with serve_in_thread(crawled["site"]) as server:
        again = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db))
        news_again = [p for p in server.requests if p.startswith("/ioc/news/")]
        server.requests.clear()
        refresh = run_olyscrape(
            "crawl", "--base-url", server.base_url, "--db", str(db), "--refresh-articles", "--full"
        )
        news_refresh = [p for p in server.requests if p.startswith("/ioc/news/")]
    assert again.returncode == 0 and refresh.returncode == 0
    assert news_again == []
    assert len(news_refresh) == 128
    assert query(db, "SELECT count(*) FROM article_versions") == [(0,)]


def test_changing_a_title_on_the_mirror_keeps_exactly_one_version_with_the_old_title(
    crawled, tmp_path
):
    site, db = tmp_path / "site", tmp_path / "a.db"
    shutil.copytree(crawled["site"], site)
    shutil.copy(crawled["db"], db)
    old = "Beijing 2022 ticketing solutions to be provided by Alibaba Group"
    listing = site / "ioc" / "alibaba.html"
    title_link = re.compile(
        r'(<h2>\s*<a href="/ioc/news/beijing-2022-ticketing[^"]*">)(.*?)(</a>)', re.S
    )
    changed, count = title_link.subn(
        r"\1Beijing 2022 tickets sold through Alibaba\3", listing.read_text()
    )
    assert count == 1
    listing.write_text(changed)
    with serve_in_thread(site) as server:
        result = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    assert query(db, "SELECT title FROM article_versions") == [(old,)]
    url = "https://olympics.com/ioc/news/beijing-2022-ticketing-solutions-to-be-provided-by-alibaba-group"
    assert query(db, "SELECT title FROM articles WHERE url = ?", url) == [
        ("Beijing 2022 tickets sold through Alibaba",)
    ]
    assert query(
        db,
        "SELECT count(*) FROM article_versions v JOIN crawls c ON c.id = v.crawl_id WHERE c.id = 2",
    ) == [(1,)]


def test_a_missing_article_page_is_reported_and_its_card_kept(tmp_path):
    site, db = tmp_path / "site", tmp_path / "a.db"
    shutil.copytree(SITE, site)
    missing = next((site / "ioc" / "news").glob("beijing-2022-ticketing*.html"))
    missing.unlink()
    broken = next((site / "ioc" / "news").glob("ioc-launches-tokyo-2020-portal*.html"))
    broken.write_text("<html><body><h1>Oops</h1></body></html>")
    result = run_olyscrape("crawl", "--replay", str(site), "--db", str(db))
    assert result.returncode == 0, (
        result.stdout + result.stderr
    )  # article pages do not fail a crawl
    assert "2 article page(s) not archived" in result.stdout
    assert f"/ioc/news/{missing.stem}: HTTP 404" in result.stdout
    assert f"/ioc/news/{broken.stem}: no section.post-box" in result.stdout
    rows = query(db, "SELECT count(*), count(body) FROM articles WHERE url LIKE '%/ioc/news/%'")
    assert rows == [(128, 126)]


@pytest_twisted.ensureDeferred
async def test_no_articles_skips_article_pages(tmp_path):
    db = tmp_path / "a.db"
    stats = await crawl_in_process(db, OLYSCRAPE_ARTICLES=False)
    assert stats["finish_reason"] == "finished" and not stats.get("olyscrape/articles")
    assert query(db, "SELECT count(*), count(body) FROM articles") == [(129, 0)]
    assert query(db, "SELECT count(*) FROM captures WHERE canonical_url LIKE '%/ioc/news/%'") == [
        (0,)
    ]


def test_reparse_of_an_untouched_archive_changes_nothing(crawled, tmp_path):
    db = tmp_path / "a.db"
    shutil.copy(crawled["db"], db)
    before = dump(db)
    result = run_olyscrape("reparse", "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reparse: 0 rows changed" in result.stdout
    assert dump(db) == before


def test_reparse_restores_a_title_blanked_by_hand(crawled, tmp_path):
    db = tmp_path / "a.db"
    shutil.copy(crawled["db"], db)
    url = "https://olympics.com/ioc/news/beijing-2022-ticketing-solutions-to-be-provided-by-alibaba-group"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE articles SET title = '', body = NULL WHERE url = ?", [url])
    conn.close()
    result = run_olyscrape("reparse", "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "reparse: 2 rows changed" in result.stdout
    )  # the title (from the card), the body (its page)
    assert query(db, "SELECT title, body IS NOT NULL FROM articles WHERE url = ?", url) == [
        ("Beijing 2022 ticketing solutions to be provided by Alibaba Group", 1)
    ]


@pytest.mark.parametrize(
    ("setup", "message"),
    [("missing", "no such file"), ("empty", "an empty file, not an olyscrape archive")],
)
def test_reparse_refuses_what_it_cannot_reparse(tmp_path, setup, message):
    db = tmp_path / "a.db"
    if setup == "empty":
        sqlite3.connect(db).close()
    result = run_olyscrape("reparse", "--db", str(db))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    # never created, never migrated: a missing file stays missing, an empty one empty
    assert sorted(p.name for p in tmp_path.iterdir()) == (["a.db"] if setup == "empty" else [])
    assert setup == "missing" or db.stat().st_size == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a warc at all", "holds no response records"),
        (b"\x1f\x8b\x08\x00broken gzip", "cannot read WARC"),
        (b"WARC/1.0\r\nWARC-Type: response\r\n\r\n", "cannot read WARC"),
    ],
)
def test_replay_warc_refuses_a_file_that_is_no_warc(tmp_path, content, message):
    bogus = tmp_path / "x.warc.gz"
    bogus.write_bytes(content)
    result = run_olyscrape("crawl", "--replay-warc", str(bogus), "--db", str(tmp_path / "a.db"))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
