from __future__ import annotations

import sqlite3

import pytest

from olyscrape.archive import SCHEMA, Archive, ArchiveError
from olyscrape.items import ArticleCard, Partner


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
    first = archive.store_cards([card()], seen_at="2026-01-01T00:00:00Z")
    assert first.new == {"alibaba": 1}
    again = archive.store_cards([card()], seen_at="2026-01-02T00:00:00Z")
    assert again.new == {} and again.updated == {}
    changed = archive.store_cards([card(title="A new title")], seen_at="2026-01-03T00:00:00Z")
    assert changed.updated == {"alibaba": 1}
    row = next(archive.db.query("SELECT * FROM articles"))
    assert row["title"] == "A new title"
    assert (row["first_seen"], row["last_seen"]) == ("2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z")


def test_upsert_updates_in_place_and_keeps_rowid(archive):
    archive.store_cards([card()])
    rowid = next(archive.db.query("SELECT rowid FROM articles"))["rowid"]
    archive.store_cards([card(title="Changed")])
    assert next(archive.db.query("SELECT rowid FROM articles"))["rowid"] == rowid


def test_empty_values_never_overwrite_archived_ones(archive):
    archive.store_cards([card()])
    archive.store_cards([card(category=None, published=None, published_raw=None)])
    row = next(archive.db.query("SELECT * FROM articles"))
    assert (row["category"], row["published"]) == ("IOC News", "2021-07-22")


def test_an_article_of_two_partners_is_one_row_and_two_links(archive):
    result = archive.store_cards([card(partner="alibaba"), card(partner="visa", position=3)])
    assert result.new == {"alibaba": 1, "visa": 1}
    assert archive.count("articles") == 1
    links = {
        (r["partner"], r["position"]) for r in archive.db.query("SELECT * FROM article_partners")
    }
    assert links == {("alibaba", 1), ("visa", 3)}


def test_partners_upsert(archive):
    archive.upsert_partners([Partner("pg", "P&G", "https://olympics.com/ioc/pg")])
    archive.upsert_partners([Partner("pg", "P&G", "https://olympics.com/ioc/pg")])
    assert list(archive.db.query("SELECT * FROM partners")) == [
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
