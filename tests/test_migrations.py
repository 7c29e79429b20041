"""Opening an archive an older olyscrape wrote: version 3's links keyed by article URL
become version 4's ``partner_links`` keyed by article number, keeping every row; a shared
read-only copy is read as it is; a migration cut short changes nothing.

``fixtures/archives/v3.sql`` is an archive olyscrape wrote at schema version 3 (commit
93ab4e5), as SQL: two partners, three articles, one shown by both, a body with tags, a
changed title (one version), its captures and one finished crawl.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from olyscrape.archive import ArchiveReader, ArchiveWriteError, ArchiveWriter, ArticleQuery
from olyscrape.archive.schema import SCHEMA_VERSION
from olyscrape.items import ArticleCard
from tests.helpers import CONTENT, content, legacy_archive, make_v3, query, snapshot

SHARED = "https://olympics.com/ioc/news/shared-story"


def version(db: Path) -> int:
    return query(db, "PRAGMA user_version")[0][0]


def kind(db: Path, name: str) -> str:
    return query(db, "SELECT type FROM sqlite_master WHERE name = ?", name)[0][0]


@pytest.fixture
def v3(tmp_path) -> Path:
    return make_v3(tmp_path / "v3.db")


def test_the_fixture_is_a_version_3_archive_with_links_by_url(v3):
    assert version(v3) == 3 and kind(v3, "article_partners") == "table"
    before = content(v3)
    assert len(before["links"]) == 4 and {r[1] for r in before["links"] if r[0] == SHARED} == {
        "alibaba",
        "visa",
    }
    assert before["search"] == [("https://olympics.com/ioc/news/cloud-games",)]


def test_opening_a_version_3_archive_numbers_its_articles_and_keeps_every_row(v3):
    before = content(v3)
    ArchiveWriter.open(v3).close()

    assert version(v3) == SCHEMA_VERSION
    assert content(v3) == before  # every link, tag, version, crawl; search finds the same
    assert (kind(v3, "partner_links"), kind(v3, "article_partners")) == ("table", "view")
    ids = query(v3, "SELECT id, rowid, url FROM articles ORDER BY id")
    assert [(i, u) for i, _, u in ids] == [(r[0], r[1]) for r in before["articles"]]
    assert all(i == rowid for i, rowid, _ in ids)  # the full-text index's row numbers
    assert query(v3, "PRAGMA integrity_check") == [("ok",)]
    assert query(v3, "INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')") == []


def test_a_migrated_archive_takes_new_cards_and_moves_a_link(v3):
    ArchiveWriter.open(v3).close()
    with ArchiveWriter.open(v3) as archive:
        result = archive.store(
            [
                ArticleCard(url=SHARED, partner="visa", position=5, title="A shared story"),
                ArticleCard(
                    url="https://olympics.com/ioc/news/new",
                    partner="visa",
                    position=1,
                    title="A new cloud story",
                ),
            ],
            seen_at="2026-02-01T00:00:00Z",
        )
    assert result.new == {"visa": 1} and result.new_articles == 1
    links = query(v3, "SELECT partner, position, last_seen FROM article_partners"
                      " WHERE article_url = ? ORDER BY 1", SHARED)  # fmt: skip
    assert links == [("alibaba", 2, "2026-01-01T00:00:00Z"), ("visa", 5, "2026-02-01T00:00:00Z")]
    found = query(v3, CONTENT["search"])
    assert found == [("https://olympics.com/ioc/news/cloud-games",),
                     ("https://olympics.com/ioc/news/new",)]  # fmt: skip


def test_a_read_only_version_3_copy_is_read_as_it_is(v3):
    """A shared copy nobody may write: the query API reads version 3's tables unmigrated."""
    digest = hashlib.sha256(v3.read_bytes()).hexdigest()
    v3.chmod(0o444)
    v3.parent.chmod(0o555)
    try:
        with ArchiveReader.open(v3) as reader:
            visa = reader.articles(ArticleQuery(partner="visa", limit=10))
            stats = {row["partner"]: row["articles"] for row in reader.partner_stats()}
    finally:
        v3.parent.chmod(0o755)
    assert sorted(row["url"] for row in visa) == [
        SHARED,
        "https://olympics.com/ioc/news/visa-athletes",
    ]
    assert [row["partners"] for row in visa if row["url"] == SHARED] == [["alibaba", "visa"]]
    assert stats == {"alibaba": 2, "visa": 2}
    assert hashlib.sha256(v3.read_bytes()).hexdigest() == digest and version(v3) == 3


def test_a_link_whose_article_has_no_row_gets_a_bare_article(tmp_path):
    """Files made before versioning could hold a link to an article never stored."""
    path = legacy_archive(
        tmp_path / "old.db",
        [("https://olympics.com/ioc/news/a", "A")],
        [("https://olympics.com/ioc/news/a", "visa"), ("https://olympics.com/ioc/news/b", "dow"),
         ("https://olympics.com/ioc/news/b", "dow")],  # the same link twice: no key then
    )  # fmt: skip
    ArchiveWriter.open(path).close()
    assert query(path, "SELECT id, url, title FROM articles ORDER BY id") == [
        (1, "https://olympics.com/ioc/news/a", "A"),
        (2, "https://olympics.com/ioc/news/b", None),
    ]
    assert query(path, "SELECT article_url, partner FROM article_partners ORDER BY 1") == [
        ("https://olympics.com/ioc/news/a", "visa"),
        ("https://olympics.com/ioc/news/b", "dow"),
    ]


def test_a_migration_cut_short_by_a_full_disk_leaves_version_3_whole(v3):
    """SQLite's page cap makes the disk full half-way through the rewrite: it is rolled
    back, the file is still version 3 with every row, and the next open completes it."""
    before = content(v3)
    pages = query(v3, "PRAGMA page_count")[0][0]
    with pytest.raises(ArchiveWriteError, match="disk full"):
        ArchiveWriter.open(v3, max_page_count=pages)
    assert version(v3) == 3 and kind(v3, "article_partners") == "table"
    assert content(v3) == before
    ArchiveWriter.open(v3).close()
    assert version(v3) == SCHEMA_VERSION and content(v3) == before


def test_a_migration_is_one_transaction_no_helper_commits_half_way(v3):
    """Every step runs inside one BEGIN ... COMMIT: SQLite's commit hook fires once, at
    the end, with the version already stamped (no step committed on its own)."""
    conn = sqlite3.connect(v3, isolation_level=None)
    commits: list[int] = []
    conn.execute("PRAGMA journal_mode = WAL")
    from olyscrape.archive import migrations

    def hook(statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            commits.append(conn.execute("PRAGMA user_version").fetchone()[0])

    conn.set_trace_callback(hook)
    migrations.migrate(conn)
    conn.close()
    assert commits == [SCHEMA_VERSION]
    assert version(v3) == SCHEMA_VERSION and kind(v3, "partner_links") == "table"


def test_a_current_archive_gains_a_later_column_and_index_in_the_same_transaction(v3, monkeypatch):
    """A later version adds columns to SCHEMA and indexes to INDEXES: the migration adds
    them from those dicts, generically, and a page cap cutting it short adds none."""
    from olyscrape.archive import schema

    ArchiveWriter.open(v3).close()
    query(v3, "VACUUM")  # no free page left: the index needs a new one
    columns, pk = schema.SCHEMA["articles"]
    monkeypatch.setitem(schema.SCHEMA, "articles", ({**columns, "later_column": int}, pk))
    monkeypatch.setitem(schema.INDEXES, "articles", [["published"], ["later_column"]])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    before = snapshot(v3)
    pages = query(v3, "PRAGMA page_count")[0][0]
    with pytest.raises(ArchiveWriteError, match="disk full"):
        ArchiveWriter.open(v3, max_page_count=pages)
    assert snapshot(v3) == before
    ArchiveWriter.open(v3).close()
    assert version(v3) == SCHEMA_VERSION + 1
    assert "later_column" in [r[1] for r in query(v3, "PRAGMA table_info(articles)")]
    assert query(v3, "SELECT name FROM sqlite_master WHERE name = 'idx_articles_later_column'")


def test_a_reader_holding_the_file_open_leaves_the_migration_in_wal_mode_whole(v3):
    """A reader mid-query keeps the file in WAL mode: the migration cannot switch to its
    rollback journal, and runs as one transaction in WAL mode instead."""
    query(v3, "PRAGMA journal_mode = WAL")  # as olyscrape leaves an archive
    reader = sqlite3.connect(v3, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 3
    try:
        ArchiveWriter.open(v3).close()
    finally:
        reader.close()
    assert version(v3) == SCHEMA_VERSION and kind(v3, "partner_links") == "table"
    assert query(v3, "PRAGMA journal_mode") == [("wal",)]


def test_a_deleted_article_takes_its_links_so_its_number_is_never_inherited(v3):
    """Another program deletes the newest article; the next new article gets its number
    (SQLite's max + 1) and must not appear on the deleted one's listings."""
    ArchiveWriter.open(v3).close()
    (newest,) = query(v3, "SELECT max(id) FROM articles")[0]
    conn = sqlite3.connect(v3)
    with conn:
        conn.execute("DELETE FROM articles WHERE id = ?", [newest])
    conn.close()
    with ArchiveWriter.open(v3) as archive:
        archive.store([ArticleCard(url="https://olympics.com/ioc/news/new", partner="dow",
                                   position=1, title="New")])  # fmt: skip
    assert query(v3, "SELECT id FROM articles WHERE url LIKE '%/new'") == [(newest,)]
    assert query(v3, "SELECT partner FROM partner_links WHERE article_id = ?", newest) == [("dow",)]
