"""One archive, one name; and crawl records whose stats cannot be read.

``--db`` is always a path, never a SQLite URI; a file with two names (hard links), a
device and a FIFO are refused before anything is created beside them; a symlink reaches
the file's own lock. A ``crawls`` row whose ``stats`` is not the JSON a crawl writes is
shown as such by ``runs`` and ``stats``, and the next crawl's checks compare with nothing.
Each case asserts the exit code, the one line, no traceback, and what the files hold.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from olyscrape.lock import ArchiveLock
from tests.helpers import SITE, one_error_line, query, run_olyscrape, sha256

pytestmark = pytest.mark.slow

BESIDE = ("-wal", "-shm", "-journal", ".lock")


def crawl(db: str | Path, *args: str, cwd: Path | None = None):
    return run_olyscrape(
        "crawl", "--replay", str(SITE), "--db", str(db), "--partners", "visa", *args, cwd=cwd
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """A small archive (one partner of the saved site), copied by each test."""
    db = tmp_path_factory.mktemp("archive") / "a.db"
    result = crawl(db)
    assert result.returncode == 0, result.stdout + result.stderr
    return db


def copy(archive: Path, to: Path) -> Path:
    to.write_bytes(archive.read_bytes())
    return to


# --- two names, devices, FIFOs -------------------------------------------------------------


def test_an_archive_with_two_hard_linked_names_is_refused_under_either(tmp_path, archive):
    db = copy(archive, tmp_path / "a.db")
    other = tmp_path / "b.db"
    os.link(db, other)
    digest, files = sha256(db), sorted(os.listdir(tmp_path))

    for name in (db, other):
        result = crawl(name)
        assert result.returncode == 1, result.stdout + result.stderr
        line = one_error_line(result.stderr)
        assert line == (
            f"Error: archive {name}: the file has 2 names (hard links), and SQLite under two"
            " names can corrupt it; keep one (a symlink is fine). Left unchanged"
        )
        assert "discovered" not in result.stderr
    for command in (["runs"], ["stats"], ["reparse"]):
        result = run_olyscrape(*command, "--db", str(other))
        assert result.returncode == 1
        assert "2 names (hard links)" in one_error_line(result.stderr)
    assert sorted(os.listdir(tmp_path)) == files  # no lock, -wal, -shm or -journal
    assert sha256(db) == digest

    other.unlink()  # one name again: a crawl runs
    assert crawl(db).returncode == 0


def test_a_file_name_is_a_path_never_a_sqlite_uri(tmp_path):
    """``file:x.db?mode=memory`` is the file of that name in the current folder: the crawl
    writes it (not an in-memory database), and the read commands read the same file."""
    name = "file:x.db?mode=memory"
    result = crawl(name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    db = tmp_path / name
    articles = query(db, "SELECT count(*) FROM articles")[0][0]
    assert articles > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [name, f"{name}.lock"]
    runs = run_olyscrape("sql", "--db", name, "SELECT count(*) AS n FROM articles",
                         "--format", "json", cwd=tmp_path)  # fmt: skip
    assert runs.returncode == 0, runs.stderr
    assert json.loads(runs.stdout) == [{"n": articles}]


def test_a_file_name_never_reaches_the_plain_name_past_its_lock(tmp_path, archive):
    """``--db file:big4.db`` beside a crawl holding ``big4.db``: a file named
    ``file:big4.db``, not big4.db; big4.db is untouched."""
    big = copy(archive, tmp_path / "big4.db")
    digest = sha256(big)
    with ArchiveLock(big):
        result = crawl("file:big4.db", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "file:big4.db").stat().st_size > 0
    assert sha256(big) == digest
    assert query(big, "SELECT count(*) FROM crawls")[0][0] == 1


def test_a_device_is_refused_and_nothing_is_created_beside_it():
    before = sorted(p for p in os.listdir("/dev") if p.startswith("null"))
    for command in (["crawl", "--replay", str(SITE)], ["runs"], ["stats"], ["reparse"]):
        result = run_olyscrape(*command, "--db", "/dev/null")
        assert result.returncode == 1, result.stdout + result.stderr
        line = one_error_line(result.stderr)
        assert line == "Error: archive /dev/null: a device, not a regular file; left unchanged"
    assert sorted(p for p in os.listdir("/dev") if p.startswith("null")) == before
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "a.db"
    os.mkfifo(fifo)
    for command in (["crawl", "--replay", str(SITE)], ["runs"], ["search", "visa"]):
        result = run_olyscrape(*command, "--db", str(fifo), timeout=60)  # never blocks
        assert result.returncode == 1, result.stdout + result.stderr
        line = one_error_line(result.stderr)
        assert (
            line
            == f"Error: archive {fifo}: a named pipe (FIFO), not a regular file; left unchanged"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.db"]


def test_a_symlink_with_uri_letters_in_its_name_still_shares_the_lock(tmp_path, archive):
    db = copy(archive, tmp_path / "a.db")
    alias = tmp_path / "file:alias.db?mode=ro"
    alias.symlink_to(db)
    digest = sha256(db)
    with ArchiveLock(db):
        result = crawl(alias)
    assert result.returncode == 3
    assert "in use by pid" in result.stderr and "Traceback" not in result.stderr
    assert sha256(db) == digest and not Path(f"{alias}.lock").exists()


# --- unreadable crawl records --------------------------------------------------------------


@pytest.mark.parametrize(
    "stored",
    ["not json {", "[1, 2]", '"a string"', '{"olyscrape/new": "many"}'],
    ids=["not-json", "a-list", "a-string", "a-count-that-is-no-number"],
)
def test_runs_and_stats_show_an_unreadable_crawl_record_as_such(tmp_path, archive, stored):
    db = copy(archive, tmp_path / "a.db")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE crawls SET stats = ?", [stored])
    conn.close()

    runs = run_olyscrape("runs", "--db", str(db))
    assert runs.returncode == 0 and "Traceback" not in runs.stderr, runs.stderr
    assert "ok (unreadable stats)" in runs.stdout
    as_json = run_olyscrape("runs", "--db", str(db), "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    (row,) = json.loads(as_json.stdout)
    assert row["status"] == "ok (unreadable stats)" and row["new"] is None
    stats = run_olyscrape("stats", "--db", str(db), "--format", "json")
    assert stats.returncode == 0 and "Traceback" not in stats.stderr, stats.stderr
    assert json.loads(stats.stdout)["crawls"][0]["status"] == "ok (unreadable stats)"
    table = run_olyscrape("stats", "--db", str(db))
    assert table.returncode == 0 and "(unreadable stats)" in table.stdout


def test_a_crawl_after_an_unreadable_record_compares_with_nothing_and_succeeds(tmp_path, archive):
    db = copy(archive, tmp_path / "a.db")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE crawls SET stats = 'not json {' WHERE status = 'ok'")
    conn.close()
    result = crawl(db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "crawl OK" in result.stdout
    assert "stats in the archive are unreadable" in result.stderr
    assert query(db, "SELECT status FROM crawls ORDER BY id") == [("ok",), ("ok",)]
    assert query(db, "SELECT stats FROM crawls WHERE id = 1") == [("not json {",)]
