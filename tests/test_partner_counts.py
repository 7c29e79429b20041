"""``partner_counts`` (schema version 8): per partner and date published, the articles its
listing showed, kept by triggers through every kind of write, so that ``stats`` reads it
instead of joining every link to its article. Each test compares the table with the same
figures worked out from the links, on a real archive file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from olyscrape.archive import ArchiveWriter, counts
from olyscrape.archive.schema import SCHEMA_VERSION
from olyscrape.testing import archives
from tests.helpers import make_v3, query, run_olyscrape


def kept(db: Path) -> list[tuple]:
    return query(db, "SELECT partner, published, articles FROM partner_counts ORDER BY 1, 2")


def worked_out(db: Path) -> list[tuple]:
    return query(db, f"SELECT * FROM ({counts.COMPUTED}) ORDER BY 1, 2")


@pytest.fixture
def db(tmp_path) -> Path:
    """A current archive (made by a migration of the version 3 fixture) with its links."""
    path = make_v3(tmp_path / "a.db")
    ArchiveWriter.open(path).close()
    assert query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    return path


def write(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for sql in statements:
            conn.execute(sql)
    finally:
        conn.close()


def test_a_migration_fills_it_from_the_links(db):
    rows = kept(db)
    assert rows == worked_out(db)
    assert sum(n for _, _, n in rows) == query(db, "SELECT count(*) FROM partner_links")[0][0]


NEW = "INSERT INTO articles (id, url, published) VALUES ({id}, 'https://olympics.com/x/{id}', {d})"
LINK = "INSERT INTO partner_links (article_id, partner) VALUES ({id}, '{p}')"


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param([NEW.format(id=90, d="'2019-05-01'"), LINK.format(id=90, p="visa"),
                      LINK.format(id=90, p="omega")], id="new-links-new-partner-and-date"),
        pytest.param([NEW.format(id=91, d="NULL"), LINK.format(id=91, p="visa")],
                     id="an-undated-article"),
        pytest.param([NEW.format(id=94, d="''"), LINK.format(id=94, p="visa"),
                      NEW.format(id=95, d="NULL"), LINK.format(id=95, p="visa")],
                     id="an-empty-date-apart-from-undated"),
        pytest.param(["UPDATE articles SET published = '1999-01-01'"], id="every-date-changed"),
        pytest.param(["UPDATE articles SET published = NULL WHERE id = 2"], id="a-date-removed"),
        pytest.param(["UPDATE articles SET title = 'x', published = published"],
                     id="nothing-that-counts-changed"),
        pytest.param(["DELETE FROM articles WHERE id = 2"], id="an-article-deleted-with-links"),
        pytest.param(["DELETE FROM partner_links WHERE partner = 'visa'"], id="links-removed"),
        pytest.param(["UPDATE partner_links SET partner = 'omega' WHERE partner = 'visa'"],
                     id="links-moved-to-another-partner"),
        pytest.param(["UPDATE partner_links SET article_id = 3 WHERE article_id = 1"],
                     id="a-link-moved-to-another-article"),
        pytest.param([LINK.format(id=92, p="visa"), NEW.format(id=92, d="'2018-01-01'")],
                     id="a-link-before-its-article"),
        pytest.param(["DELETE FROM articles"], id="everything-deleted"),
    ],
)  # fmt: skip
def test_every_write_keeps_it_equal_to_the_links(db, statements):
    before = kept(db)
    write(db, *statements)
    assert kept(db) == worked_out(db)
    if statements[0].startswith("UPDATE articles SET title"):
        assert kept(db) == before
    else:
        assert kept(db) != before  # the write changed the figures, and the table followed
    assert all(n > 0 for _, _, n in kept(db))  # a partner and date with none has no row


def test_a_crawl_keeps_it_equal_to_the_links(tmp_path):
    db = tmp_path / "crawl.db"
    site = Path(__file__).parent / "fixtures" / "site"
    result = run_olyscrape("crawl", "--replay", str(site), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert kept(db) == worked_out(db) and kept(db)


def stats_json(db: Path) -> dict:
    result = run_olyscrape("stats", "--db", str(db), "--format", "json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)


def as_version_7(db: Path) -> None:
    """``db`` as version 7 had it: no ``partner_counts``, none of its triggers."""
    names = [name for (name,) in query(
        db, "SELECT name FROM sqlite_master WHERE name LIKE 'partner_counts%'"
        " AND type = 'trigger'")]  # fmt: skip
    write(db, *(f"DROP TRIGGER {name}" for name in names), "DROP TABLE partner_counts",
          "PRAGMA user_version = 7")  # fmt: skip


def test_stats_of_a_version_7_archive_read_as_it_is_equal_those_after_its_migration(db):
    """A read command never writes: the figures of a version 7 file come from the links."""
    current = stats_json(db)
    as_version_7(db)
    snapshot = db.read_bytes()
    assert stats_json(db) == current
    assert db.read_bytes() == snapshot  # read as it is
    ArchiveWriter.open(db).close()  # the migration back to version 8
    assert query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert kept(db) == worked_out(db) and stats_json(db) == current


@pytest.mark.parametrize("name", sorted(archives.PAST_VERSIONS))
def test_every_past_version_migrates_to_counts_equal_to_its_links(tmp_path, name):
    db = archives.build(tmp_path / "old.db", name)
    ArchiveWriter.open(db).close()
    assert kept(db) == worked_out(db)


def test_the_canned_query_per_partner_and_year_reads_the_counts_with_the_same_figures(db):
    from olyscrape.archive.schema import CANNED_QUERIES
    from olyscrape.cli.browsemeta import _BEFORE_COUNTS, metadata

    name = "articles_by_partner_per_year"
    write(db, NEW.format(id=93, d="NULL"), LINK.format(id=93, p="visa"))  # an undated one
    assert "partner_counts" in CANNED_QUERIES[name][2]
    figures = query(db, CANNED_QUERIES[name][2])
    assert figures == query(db, _BEFORE_COUNTS[name]) and ("visa", "undated", 1) in figures
    # An older archive served as it is (no partner_counts) gets the query over the links.
    queries = metadata("a", 7)["databases"]["a"]["queries"]
    assert queries[name]["sql"] == _BEFORE_COUNTS[name].strip()
    assert metadata("a", SCHEMA_VERSION)["databases"]["a"]["queries"][name]["sql"] != (
        _BEFORE_COUNTS[name].strip()
    )


def test_verify_finds_counts_that_disagree_with_the_links(db):
    """A write with the triggers dropped (another program's, say) leaves the figures wrong:
    ``verify`` says so, exit 1, with the statement that rebuilds them; a sound archive
    passes the check."""
    sound = run_olyscrape("verify", "--db", str(db))
    assert sound.returncode == 0, sound.stdout + sound.stderr
    write(db, "DROP TRIGGER partner_counts_link_ai", LINK.format(id=1, p="omega"))
    result = run_olyscrape("verify", "--db", str(db))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "partner_counts disagrees with the links it counts (1 partner and date rows)" in (
        result.stdout + result.stderr
    )
    hint = next(line for line in (result.stdout + result.stderr).splitlines()
                if "DELETE FROM partner_counts;" in line)  # fmt: skip
    statement = hint.split('"')[1]
    conn = sqlite3.connect(db)
    conn.executescript(statement)
    conn.close()
    assert kept(db) == worked_out(db)
    assert run_olyscrape("verify", "--db", str(db)).returncode == 0
