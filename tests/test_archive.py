from __future__ import annotations

import hashlib
import sqlite3

import pytest

from olyscrape.archive import SCHEMA, Archive, ArchiveError, Capture
from olyscrape.items import ArticleBody, ArticleCard, Partner


def card(url="https://olympics.com/ioc/news/a", partner="alibaba", **fields) -> ArticleCard:
    values = {
        "title": "A title",
        "category": "IOC News",
        "published": "2021-07-22",
        "published_raw": "22 Jul 2021",
        "position": 1,
    } | fields
    return ArticleCard(url=url, partner=partner, **values)


@pytest.fixture
def archive(tmp_path):
    with Archive.open(tmp_path / "sub" / "a.db") as archive:
        yield archive


def test_open_creates_folder_schema_and_wal(tmp_path):
    path = tmp_path / "new" / "dir" / "a.db"
    Archive.open(path).close()
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert set(SCHEMA) <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    pk = [r[1] for r in conn.execute("PRAGMA table_info(article_partners)") if r[5]]
    assert pk == ["article_url", "partner"]


def test_store_cards_counts_new_then_nothing_then_updated(archive):
    first = archive.store([card()], seen_at="2026-01-01T00:00:00Z")
    assert first.new == {"alibaba": 1}
    again = archive.store([card()], seen_at="2026-01-02T00:00:00Z")
    assert again.new == {} and again.updated == {}
    changed = archive.store([card(title="A new title")], seen_at="2026-01-03T00:00:00Z")
    assert changed.updated == {"alibaba": 1}
    row = next(archive.db.query("SELECT * FROM articles"))
    assert row["title"] == "A new title"
    assert (row["first_seen"], row["last_seen"]) == ("2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z")


def test_upsert_updates_in_place_and_keeps_rowid(archive):
    archive.store([card()])
    rowid = next(archive.db.query("SELECT rowid FROM articles"))["rowid"]
    archive.store([card(title="Changed")])
    assert next(archive.db.query("SELECT rowid FROM articles"))["rowid"] == rowid


def test_empty_values_never_overwrite_archived_ones(archive):
    archive.store([card()])
    archive.store([card(category=None, published=None, published_raw=None)])
    row = next(archive.db.query("SELECT * FROM articles"))
    assert (row["category"], row["published"]) == ("IOC News", "2021-07-22")


def test_an_article_of_two_partners_is_one_row_and_two_links(archive):
    result = archive.store([card(partner="alibaba"), card(partner="visa", position=3)])
    assert result.new == {"alibaba": 1, "visa": 1}
    assert archive.count("articles") == 1
    links = {
        (r["partner"], r["position"]) for r in archive.db.query("SELECT * FROM article_partners")
    }
    assert links == {("alibaba", 1), ("visa", 3)}


def test_partners_upsert(archive):
    archive.upsert_partners([Partner("pg", "P&G", "https://olympics.com/ioc/pg")])
    archive.upsert_partners([Partner("pg", "P&G", "https://olympics.com/ioc/pg")])
    assert list(archive.db.query("SELECT slug, name, url FROM partners")) == [
        {"slug": "pg", "name": "P&G", "url": "https://olympics.com/ioc/pg"}
    ]


def test_crawl_rows(archive):
    crawl_id = archive.start_crawl("2026-01-01T00:00:00Z")
    assert archive.crawl(crawl_id)["status"] == "running"
    archive.finish_crawl(crawl_id, "ok", {"olyscrape/new": 3})
    row = archive.crawl(crawl_id)
    assert row["status"] == "ok" and '"olyscrape/new": 3' in row["stats"] and row["finished_at"]


def test_opening_an_older_archive_adds_what_is_missing_and_keeps_data(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE articles (url TEXT PRIMARY KEY, title TEXT)")
    conn.execute("INSERT INTO articles VALUES ('https://olympics.com/ioc/news/old', 'Old')")
    conn.commit()
    conn.close()
    with Archive.open(path) as archive:
        columns = archive.db.table("articles").columns_dict
        assert {"published", "first_seen", "image_url"} <= set(columns)
        assert archive.db.table("crawls").exists()
        assert list(archive.db.query("SELECT url, title FROM articles")) == [
            {"url": "https://olympics.com/ioc/news/old", "title": "Old"}
        ]


def test_a_file_that_is_not_sqlite_is_a_clear_error_and_left_alone(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 100)
    with pytest.raises(ArchiveError, match="cannot open archive"):
        Archive.open(path)
    assert path.read_text() == "not a database\n" * 100


# --- change history -----------------------------------------------------------------------


def body(url="https://olympics.com/ioc/news/a", text="First paragraph.\n\nSecond.", **fields):
    return ArticleBody(url=url, body=text, **fields)


def versions(archive):
    return list(archive.db.query("SELECT * FROM article_versions ORDER BY id"))


def test_an_unchanged_article_writes_no_version(archive):
    archive.store([card(), body()], crawl_id=1)
    archive.store([card(), body()], crawl_id=2)
    assert versions(archive) == []


def test_a_changed_title_keeps_exactly_one_version_with_the_old_values(archive):
    archive.store([card(title="Old title"), body()], crawl_id=1)
    result = archive.store([card(title="New title")], crawl_id=2, seen_at="2026-02-01T00:00:00Z")
    assert result.versions == 1
    (version,) = versions(archive)
    assert (version["title"], version["body"], version["crawl_id"]) == ("Old title", body().body, 2)
    assert version["changed_at"] == "2026-02-01T00:00:00Z"
    assert next(archive.db.query("SELECT title FROM articles"))["title"] == "New title"


def test_a_changed_body_keeps_the_old_body(archive):
    archive.store([card(), body(text="Old body.")])
    archive.store([body(text="New body.")])
    assert [v["body"] for v in versions(archive)] == ["Old body."]


def test_one_article_from_two_partners_in_one_batch_is_one_version(archive):
    archive.store([card(title="Old")])
    archive.store([card(title="New", partner="alibaba"), card(title="New", partner="visa")])
    assert len(versions(archive)) == 1


def test_a_first_body_or_date_is_no_change(archive):
    archive.store([card(published=None)])
    archive.store([card(), body()])
    assert versions(archive) == []


def test_bodies_and_tags_are_stored(archive):
    archive.store([card(), body(tags=["Alibaba", "Tokyo 2020"])])
    archive.store([body(tags=["Alibaba"])])
    row = next(archive.db.query("SELECT body FROM articles"))
    assert row["body"] == "First paragraph.\n\nSecond."
    tags = [r["tag"] for r in archive.db.query("SELECT tag FROM article_tags ORDER BY tag")]
    assert tags == ["Alibaba", "Tokyo 2020"]


def test_a_reparse_does_not_move_last_seen(archive):
    archive.store([card()], seen_at="2026-01-01T00:00:00Z")
    archive.store([card()], seen_at="2026-03-01T00:00:00Z", touch_seen=False)
    row = next(archive.db.query("SELECT last_seen FROM articles"))
    assert row["last_seen"] == "2026-01-01T00:00:00Z"


# --- captures -------------------------------------------------------------------------------


def capture(url="https://olympics.com/ioc/visa", body=b"<html>visa</html>", **fields):
    values = {"canonical_url": url, "status": 200, "content_type": "text/html"} | fields
    return Capture(url=url, body=body, **values)


def test_a_body_seen_before_is_stored_once(archive):
    first = archive.add_capture(capture())
    second = archive.add_capture(
        capture(url="http://127.0.0.1:9/ioc/visa", canonical_url="https://olympics.com/ioc/visa")
    )
    assert first != second
    assert archive.count("captures") == 2
    assert archive.count("capture_bodies") == 1


def test_capture_sha256_matches_the_body_and_the_body_reads_back(archive):
    archive.add_capture(capture(body=b"\x00binary\xff"))
    row = next(archive.db.query("SELECT sha256 FROM captures"))
    assert row["sha256"] == hashlib.sha256(b"\x00binary\xff").hexdigest()
    assert archive.capture_body(row["sha256"]) == b"\x00binary\xff"


def test_latest_capture_is_the_newest_of_a_canonical_url(archive):
    archive.add_capture(capture(body=b"old"))
    newest = archive.add_capture(capture(body=b"new", status=503))
    got = archive.latest_capture("https://olympics.com/ioc/visa")
    assert (got.id, got.body, got.status) == (newest, b"new", 503)
    assert archive.latest_capture("https://olympics.com/ioc/none") is None
