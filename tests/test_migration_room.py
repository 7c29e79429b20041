"""A migration checks the room it needs before it starts (olyscrape.archive.room): on a
disk too small, a crawl of an older archive is refused in one line naming the room needed
and the room free, exit 1, before any request and with the archive's bytes unchanged and
nothing beside it; with room, the migration gives back the pages version 4's rewrite left
free. Disks are real tmpfs mounts (the ``disk`` fixture: root only, skipped elsewhere)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from olyscrape.archive import ArchiveWriter, room
from olyscrape.archive.schema import SCHEMA_VERSION
from tests.helpers import REPO, make_large_v3, one_error_line, query, run_olyscrape, sha256

SITE = str(REPO / "tests/fixtures/site")
ARTICLES = 5_000
#: "it needs 25 MB free in FOLDER, 4 MB are free" (either figure may carry a comma).
FIGURES = re.compile(
    r"it needs ([\d,]+) MB free (?:in|on the disk of) (\S+?)[ ,].*?([\d,]+) MB are free"
)


def mb(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture(scope="module")
def old(tmp_path_factory) -> Path:
    """A version 3 archive of 5,000 more articles (about 5 MB), copied by each test."""
    return make_large_v3(tmp_path_factory.mktemp("old") / "v3.db", ARTICLES)


def beside(db: Path) -> list[str]:
    return [s for s in ("-wal", "-shm", "-journal") if Path(f"{db}{s}").exists()]


def crawl_refused(db: Path) -> tuple[str, int, int]:
    """Crawl into ``db``: refused in one line; (the line, MB needed, MB free)."""
    result = run_olyscrape("crawl", "--replay", SITE, "--db", str(db))
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_error_line(result.stderr)  # one line, no traceback
    assert line.startswith(f"Error: archive {db}: not enough free space to migrate it"
                           f" (schema version 3 to {SCHEMA_VERSION}, then compact it)"), line  # fmt: skip
    assert line.endswith("nothing was changed (free some space, or move the archive to a"
                         " larger disk)"), line  # fmt: skip
    assert "discovered" not in result.stderr  # nothing fetched
    found = FIGURES.search(line)
    assert found, line
    return line, mb(found.group(1)), mb(found.group(3))


def test_a_disk_too_small_is_refused_before_the_migration_starts(disk, old):
    size = old.stat().st_size
    point = disk(f"{(size + 4 * 2**20) // 1024}k")
    db = point / "a.db"
    db.write_bytes(old.read_bytes())
    before = sha256(db)
    free = room.free_bytes(point)

    line, needed, said_free = crawl_refused(db)

    assert f" in {point}," in line
    assert abs(said_free - free / 1e6) <= 1  # the disk's own figure
    assert needed > said_free and needed * 1e6 >= 1.5 * size  # the rewrite and its VACUUM
    assert sha256(db) == before and beside(db) == []  # untouched, nothing beside it
    assert query(db, "PRAGMA user_version") == [(3,)]


def test_sqlite_temporary_files_on_the_same_disk_count_too(disk, old, monkeypatch):
    """With SQLITE_TMPDIR on the archive's disk, the file's growth and SQLite's compacted
    copy share its room: one figure for both."""
    need = room.needed(old, 3)
    point = disk(f"{(old.stat().st_size + need.folder + 2**20) // 1024}k")  # the folder's room
    (point / "tmp").mkdir()
    monkeypatch.setenv("SQLITE_TMPDIR", str(point / "tmp"))
    db = point / "a.db"
    db.write_bytes(old.read_bytes())
    before = sha256(db)
    assert room.needed(db, 3).folder <= room.free_bytes(point)  # the folder alone would do

    line, needed, said_free = crawl_refused(db)

    assert f"on the disk of {point} (with SQLite's temporary files in {point / 'tmp'})" in line
    assert needed > said_free
    assert sha256(db) == before and beside(db) == []


def test_a_temporary_folder_too_small_is_named(disk, old, tmp_path, monkeypatch):
    """The archive's disk has room; the folder SQLite puts its temporary files in does not."""
    point = disk("2m")
    monkeypatch.setenv("SQLITE_TMPDIR", str(point))
    db = tmp_path / "a.db"
    db.write_bytes(old.read_bytes())
    before = sha256(db)

    result = run_olyscrape("crawl", "--replay", SITE, "--db", str(db))

    assert result.returncode == 1, result.stderr
    line = one_error_line(result.stderr)
    assert f"free in {point} for SQLite's temporary files" in line, line
    assert "MB are free (SQLITE_TMPDIR can name another folder)" in line, line
    assert sha256(db) == before and beside(db) == []


def test_with_room_the_migration_gives_back_the_pages_it_freed(tmp_path, old):
    db = tmp_path / "a.db"
    db.write_bytes(old.read_bytes())
    size = db.stat().st_size
    ArchiveWriter.open(db).close()
    assert query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    (free,), (pages,) = query(db, "PRAGMA freelist_count")[0], query(db, "PRAGMA page_count")[0]
    assert free <= room.FREE_LIMIT * pages  # was 44 % before VACUUM
    assert db.stat().st_size < size  # the links keyed by URL gone, nothing left free
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "PRAGMA journal_mode") == [("wal",)]
    assert query(db, "SELECT count(*) FROM partner_links") == [(ARTICLES + 4,)]


def test_an_archive_already_current_is_not_checked(disk, tmp_path, old):
    """Only a migration is checked: a current archive opens on a disk with little room."""
    current = tmp_path / "a.db"
    current.write_bytes(old.read_bytes())
    ArchiveWriter.open(current).close()
    point = disk(f"{(current.stat().st_size + 2**20) // 1024}k")
    db = point / "a.db"
    db.write_bytes(current.read_bytes())
    assert room.free_bytes(point) < room.needed(db, 3).folder  # too little for a migration
    ArchiveWriter.open(db).close()  # no NotEnoughRoom
    assert room.needed(db, SCHEMA_VERSION).vacuum is False  # nothing left to give back


def _first_version_archive(path: Path, articles: int) -> Path:
    """An archive of the first shape (bodies, no full-text index yet) holding ``articles``
    articles of 250 words each: its migration builds the whole search index."""
    import random
    import sqlite3

    from olyscrape.testing.archives import build

    build(path, "0-bodies")
    words = [f"w{i:x}" for i in range(20_000)]
    pick = random.Random(1).choice
    seen = "2026-01-01T00:00:00Z"
    conn = sqlite3.connect(path)
    with conn:
        for i in range(articles):
            url = f"https://olympics.com/ioc/news/big-{i}"
            body = " ".join(pick(words) for _ in range(250))
            conn.execute(
                "INSERT INTO articles (url, title, category, published, first_seen, last_seen,"
                " body) VALUES (?, ?, 'News', ?, ?, ?, ?)",
                [url, f"Title {i}", f"20{i % 20:02d}-01-01", seen, seen, body],
            )
            conn.execute(
                "INSERT INTO article_partners (article_url, partner, position, first_seen,"
                " last_seen) VALUES (?, 'visa', ?, ?, ?)",
                [url, i, seen, seen],
            )
    conn.close()
    return path


@pytest.mark.parametrize("short", ["folder", "temp"])
def test_an_archive_made_before_the_search_index_is_given_room_to_build_it(
    disk, tmp_path, monkeypatch, short
):
    """The first archives had no full-text index: their migration builds it whole, about as
    large as the text, and its ``VACUUM`` copies it too. With only the room the check asks
    for (and 2 MB more) beside the file, or in SQLite's temporary folder, the migration
    completes and is compacted: the check does not let it start only to fill a disk."""
    made = _first_version_archive(tmp_path / "v0.db", 12_000)
    need = room.needed(made, 0)
    assert need.folder >= 1.9 * made.stat().st_size  # the rewrite and the index
    if short == "folder":
        db = disk(f"{(made.stat().st_size + need.folder + 2 * 2**20) // 1024}k") / "a.db"
    else:
        monkeypatch.setenv("SQLITE_TMPDIR", str(disk(f"{(need.temp + 2 * 2**20) // 1024}k")))
        db = tmp_path / "a.db"
    db.write_bytes(made.read_bytes())
    result = run_olyscrape("crawl", "--replay", SITE, "--db", str(db))
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert query(db, "SELECT count(*) FROM articles_fts_docsize")[0][0] >= 12_000
    ((free, pages),) = query(db, "SELECT * FROM pragma_freelist_count, pragma_page_count")
    assert free <= 0.05 * pages  # compacted within that room
