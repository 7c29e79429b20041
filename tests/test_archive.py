from __future__ import annotations

import hashlib
import sqlite3

import pytest

from olyscrape.archive import SCHEMA, ArchiveRefused, ArchiveWriter, Capture
from olyscrape.archive.schema import APPLICATION_ID, SCHEMA_VERSION
from olyscrape.items import ArticleBody, ArticleCard, ArticlePageFailed, ArticlePageItem, Partner
from tests.helpers import legacy_archive, query


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
    with ArchiveWriter.open(tmp_path / "sub" / "a.db", record_crawl=False) as archive:
        yield archive


def rows(archive, sql, *params):
    cursor = archive.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def count(archive, table):
    return archive.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def store_in_crawl(archive, items, crawl_id, **options):
    archive.crawl_id = crawl_id
    return archive.store(items, **options)


def test_the_first_write_creates_folder_schema_and_wal(tmp_path):
    path = tmp_path / "new" / "dir" / "a.db"
    writer = ArchiveWriter.open(path)
    assert not path.parent.exists()  # opening alone creates nothing
    writer.store([])
    writer.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert set(SCHEMA) <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    pk = [
        r[1]
        for r in sorted(conn.execute("PRAGMA table_info(partner_links)"), key=lambda r: r[5])
        if r[5]
    ]
    assert pk == ["article_id", "partner"]
    views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='view'")}
    assert {"article_partners", "partner_articles"} <= views


def test_store_cards_counts_new_then_nothing_then_updated(archive):
    first = archive.store([card()], seen_at="2026-01-01T00:00:00Z")
    assert first.new == {"alibaba": 1}
    again = archive.store([card()], seen_at="2026-01-02T00:00:00Z")
    assert again.new == {} and again.updated == {}
    changed = archive.store([card(title="A new title")], seen_at="2026-01-03T00:00:00Z")
    assert changed.updated == {"alibaba": 1}
    row = rows(archive, "SELECT * FROM articles")[0]
    assert row["title"] == "A new title"
    assert (row["first_seen"], row["last_seen"]) == ("2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z")


def test_upsert_updates_in_place_and_keeps_the_article_number(archive):
    archive.store([card()])
    (number,) = archive.conn.execute("SELECT id FROM articles").fetchone()
    archive.store([card(title="Changed")])
    assert archive.conn.execute("SELECT id, rowid FROM articles").fetchall() == [(number, number)]


def test_empty_values_never_overwrite_archived_ones(archive):
    archive.store([card()])
    archive.store([card(category=None, published=None, published_raw=None)])
    row = rows(archive, "SELECT * FROM articles")[0]
    assert (row["category"], row["published"]) == ("IOC News", "2021-07-22")


def test_an_article_of_two_partners_is_one_row_and_two_links(archive):
    result = archive.store([card(partner="alibaba"), card(partner="visa", position=3)])
    assert result.new == {"alibaba": 1, "visa": 1}
    assert count(archive, "articles") == 1
    links = {(r["partner"], r["position"]) for r in rows(archive, "SELECT * FROM article_partners")}
    assert links == {("alibaba", 1), ("visa", 3)}


def test_partners_upsert(archive):
    archive.store([Partner("pg", "P&G", "https://olympics.com/ioc/pg")])
    archive.store([Partner("pg", "P&G", "https://olympics.com/ioc/pg")])
    assert rows(archive, "SELECT slug, name, url FROM partners") == [
        {"slug": "pg", "name": "P&G", "url": "https://olympics.com/ioc/pg"}
    ]


def test_the_crawl_row_opens_with_the_first_batch_and_closes_with_its_verdict(tmp_path):
    with ArchiveWriter.open(tmp_path / "a.db") as archive:
        archive.store([card()])
        (row,) = rows(archive, "SELECT * FROM crawls")
        assert (row["id"], row["status"]) == (archive.crawl_id, "running")
        archive.finish_crawl("ok", {"olyscrape/new": 3})
        (row,) = rows(archive, "SELECT * FROM crawls")
    assert row["status"] == "ok" and '"olyscrape/new": 3' in row["stats"] and row["finished_at"]


def test_opening_an_archive_made_before_versioning_adds_what_is_missing(tmp_path):
    path = legacy_archive(tmp_path / "old.db", [("https://olympics.com/ioc/news/old", "Old")])
    with ArchiveWriter.open(path) as archive:
        columns = {r["name"] for r in rows(archive, "PRAGMA table_info(articles)")}
        assert {"published", "first_seen", "image_url"} <= columns
        assert rows(archive, "SELECT url, title FROM articles") == [
            {"url": "https://olympics.com/ioc/news/old", "title": "Old"}
        ]
        assert archive.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 100)
    with pytest.raises(ArchiveRefused, match="not a SQLite file"):
        ArchiveWriter.open(path)
    assert path.read_text() == "not a database\n" * 100


def test_another_programs_sqlite_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ArchiveRefused, match="another program's SQLite file"):
        ArchiveWriter.open(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_an_archive_newer_than_the_code_is_refused_not_downgraded(tmp_path):
    path = tmp_path / "new.db"
    ArchiveWriter.open(path).store([])
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ArchiveRefused, match="newer olyscrape"):
        ArchiveWriter.open(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


# --- change history -----------------------------------------------------------------------


def body(url="https://olympics.com/ioc/news/a", text="First paragraph.\n\nSecond.", **fields):
    return ArticlePageItem(url=url, body=text, **fields)


def versions(archive):
    return rows(archive, "SELECT * FROM article_versions ORDER BY id")


def test_an_unchanged_article_writes_no_version(archive):
    store_in_crawl(archive, [card(), body()], 1)
    store_in_crawl(archive, [card(), body()], 2)
    assert versions(archive) == []


def test_a_changed_title_keeps_exactly_one_version_with_the_old_values(archive):
    store_in_crawl(archive, [card(title="Old title"), body()], 1)
    result = store_in_crawl(archive, [card(title="New title")], 2, seen_at="2026-02-01T00:00:00Z")
    assert result.versions == 1
    (version,) = versions(archive)
    assert (version["title"], version["body"], version["crawl_id"]) == ("Old title", body().body, 2)
    assert version["changed_at"] == "2026-02-01T00:00:00Z"
    assert rows(archive, "SELECT title FROM articles")[0]["title"] == "New title"


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
    row = rows(archive, "SELECT body FROM articles")[0]
    assert row["body"] == "First paragraph.\n\nSecond."
    tags = [r["tag"] for r in rows(archive, "SELECT tag FROM article_tags ORDER BY tag")]
    assert tags == ["Alibaba", "Tokyo 2020"]


def test_a_reparse_does_not_move_last_seen(archive):
    archive.store([card()], seen_at="2026-01-01T00:00:00Z")
    archive.store([card()], seen_at="2026-03-01T00:00:00Z", touch_seen=False)
    row = rows(archive, "SELECT last_seen FROM articles")[0]
    assert row["last_seen"] == "2026-01-01T00:00:00Z"


# --- captures -------------------------------------------------------------------------------


def capture(url="https://olympics.com/ioc/visa", body=b"<html>visa</html>", **fields):
    values = {"canonical_url": url, "status": 200, "content_type": "text/html"} | fields
    return Capture(url=url, body=body, **values)


def add_capture(archive, capture):
    capture_id = archive.queue_capture(capture)
    archive.store([])
    return capture_id


def test_a_body_seen_before_is_stored_once(archive):
    first = add_capture(archive, capture())
    second = add_capture(
        archive,
        capture(url="http://127.0.0.1:9/ioc/visa", canonical_url="https://olympics.com/ioc/visa"),
    )
    assert first != second
    assert count(archive, "captures") == 2
    assert count(archive, "capture_bodies") == 1


def test_capture_sha256_matches_the_body_and_the_body_reads_back(archive):
    add_capture(archive, capture(body=b"\x00binary\xff"))
    row = rows(archive, "SELECT sha256 FROM captures")[0]
    assert row["sha256"] == hashlib.sha256(b"\x00binary\xff").hexdigest()
    assert archive.captures.latest("https://olympics.com/ioc/visa").body == b"\x00binary\xff"


def test_latest_capture_is_the_newest_of_a_canonical_url(archive):
    add_capture(archive, capture(body=b"old"))
    newest = add_capture(archive, capture(body=b"new", status=503))
    got = archive.captures.latest("https://olympics.com/ioc/visa")
    assert (got.id, got.body, got.status) == (newest, b"new", 503)
    assert archive.captures.latest("https://olympics.com/ioc/none") is None


def test_sqlite_result_codes_name_the_causes_python_names():
    """The causes are keyed by SQLite's numbers (Python 3.10 has no names for them);
    where Python has the names, they agree."""
    from olyscrape.archive.errors import _SQLITE_CAUSES

    for name, cause in [("SQLITE_FULL", "disk full"), ("SQLITE_READONLY", "read-only"),
                        ("SQLITE_IOERR", "I/O error"), ("SQLITE_NOTADB", "not a SQLite database")]:  # fmt: skip
        code = getattr(sqlite3, name, None)
        if code is not None:
            assert _SQLITE_CAUSES[code] == cause


# --- article pages the archive lacks -------------------------------------------------------


def test_a_failed_page_counts_once_a_batch_and_a_stored_page_resets_it(archive):
    url, other = "https://olympics.com/ioc/news/a", "https://olympics.com/ioc/news/b"
    archive.store([card(url), card(other, partner="visa")])
    failed = ArticlePageFailed(url=url, reason="HTTP 503", partner="alibaba")
    result = archive.store([failed, failed])  # retries of one crawl: one failure
    assert result.page_failures == 1
    archive.store([ArticlePageFailed(url=url, reason="HTTP 404")])
    fields = "SELECT page_failures, page_error FROM articles WHERE url = ?"
    assert rows(archive, fields, url) == [{"page_failures": 2, "page_error": "HTTP 404"}]
    assert archive.lookups.pages_wanted(3) == [(url, "alibaba"), (other, "visa")]
    assert archive.lookups.pages_wanted(2) == [(other, "visa")]  # given up after 2 crawls in a row
    assert archive.lookups.pages_wanted(3, ["visa"]) == [(other, "visa")]
    assert archive.lookups.pages_not_wanted([url, other], 2) == {url}
    missing = archive.lookups.missing_pages(2)
    assert (missing.missing, missing.given_up) == (2, 1)
    assert [(p["url"], p["failures"], p["reason"]) for p in missing.listed] == [
        (url, 2, "HTTP 404")
    ]

    archive.store([ArticlePageItem(url=url, body="Text.")])
    assert rows(archive, fields, url) == [{"page_failures": 0, "page_error": None}]
    assert archive.lookups.pages_not_wanted([url, other], 2) == {url}
    assert archive.lookups.pages_wanted(3) == [(other, "visa")]
    assert archive.lookups.missing_pages(2).missing == 1


def test_a_reparse_records_no_page_failure(archive):
    url = "https://olympics.com/ioc/news/a"
    archive.store([card(url)])
    archive.store([ArticlePageFailed(url=url, reason="no body")], touch_seen=False)
    assert rows(archive, "SELECT page_failures FROM articles") == [{"page_failures": None}]


def test_articles_off_the_canonical_origin_are_no_hole(archive):
    archive.store([card("https://www.bridgestone.com/news")])
    assert archive.lookups.pages_wanted(3) == [] and archive.lookups.missing_pages(3).missing == 0


def test_the_former_item_name_still_stores_an_article_page(tmp_path):
    """``ArticleBody`` was renamed ``ArticlePageItem`` (issue 19); code that still builds
    the old name stores the same page."""
    assert ArticleBody is ArticlePageItem
    url = "https://olympics.com/ioc/news/old-name"
    with ArchiveWriter.open(tmp_path / "a.db") as archive:
        archive.store([ArticleCard(url=url, partner="visa", position=1, title="Old name")])
        archive.store([ArticleBody(url=url, body="Stored under the old name.")])
    assert query(tmp_path / "a.db", "SELECT body FROM articles") == [
        ("Stored under the old name.",)
    ]
