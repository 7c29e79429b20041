"""A damaged archive is noticed, ``verify`` says whether an archive is sound, and the
``.db`` alone holds what a crawl committed (issue 18, items 2, 3 and 5).

Real files throughout: bytes flipped in the pages SQLite's ``dbstat`` table names, a
``-wal`` written by another process on another copy, a reader holding a snapshot in
another process, a tmpfs remounted read-only. Each case asserts the exit code, the one
``Error:`` line, no traceback, and what the file holds afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pytest

from tests.helpers import EXPECTED_PER_PARTNER, SITE, one_error_line, query, run_olyscrape, sha256

pytestmark = pytest.mark.slow  # real crawls in subprocesses

ALL_ARTICLES = sum(EXPECTED_PER_PARTNER.values()) - 1  # one article is shared by two


def crawl(db: Path, *args: str) -> subprocess.CompletedProcess:
    return run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), *args)


def flip_byte_in_page(db: Path, table: str) -> int:
    """Invert the first byte (the b-tree page type) of a leaf page of ``table``, found with
    SQLite's ``dbstat`` table, in the file itself; the page number back."""
    conn = sqlite3.connect(db)
    try:
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        pages = [row[0] for row in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
            [table])]  # fmt: skip
    finally:
        conn.close()
    assert pages, table
    page = pages[len(pages) // 2]
    data = bytearray(db.read_bytes())
    data[(page - 1) * page_size] ^= 0xFF
    db.write_bytes(bytes(data))
    return page


@pytest.fixture
def damaged(archive_copy: Path):
    """``damaged(table)``: the saved site's archive with a byte flipped in a page of
    ``table``; the file's sha256 before any command ran on it."""

    def make(table: str) -> tuple[Path, str]:
        assert not Path(f"{archive_copy}-wal").exists()  # the crawl checkpointed it
        flip_byte_in_page(archive_copy, table)
        return archive_copy, sha256(archive_copy)

    return make


# --- a flipped byte ----------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["articles", "capture_bodies"])
def test_a_flipped_byte_is_refused_by_crawl_and_reparse_and_named_by_verify(damaged, table):
    db, before = damaged(table)
    result = crawl(db)
    line = one_error_line(result.stderr)
    assert result.returncode == 1
    assert line.startswith(f"Error: archive {db}: damaged (")
    assert line.endswith("; left unchanged")
    assert "crawl OK" not in result.stdout
    assert sha256(db) == before

    reparse = run_olyscrape("reparse", "--db", str(db))
    assert reparse.returncode == 1
    assert one_error_line(reparse.stderr).startswith(f"Error: archive {db}: damaged (")
    assert sha256(db) == before

    verify = run_olyscrape("verify", "--db", str(db), "--format", "json")
    assert verify.returncode == 1 and "Traceback" not in verify.stderr
    report = json.loads(verify.stdout)
    assert report["sound"] is False
    assert any(f["check"] == "integrity_check" and not f["sound"] for f in report["findings"])
    assert sha256(db) == before


def test_a_damaged_articles_page_makes_every_read_command_one_line(damaged):
    db, before = damaged("articles")
    # Each reads every article (a search exporting every match ranked reads each one).
    for args in (["search", "olympic", "--limit", "100000"], ["articles"],
                 ["sql", "SELECT count(body) FROM articles"]):  # fmt: skip
        result = run_olyscrape(*args, "--db", str(db))
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        line = one_error_line(result.stderr)
        assert line.startswith(f"Error: archive {db}: damaged ("), line
    # A search of 20 reads the index and those 20 articles only: it answers unless one of
    # them lies on the damaged page, and then it is the same one line.
    search = run_olyscrape("search", "olympic", "--db", str(db), "--format", "jsonl")
    assert "Traceback" not in search.stderr
    if search.returncode == 0:
        assert len(search.stdout.splitlines()) == 20 and search.stderr == ""
    else:
        assert search.returncode == 1 and search.stdout == ""
        assert one_error_line(search.stderr).startswith(f"Error: archive {db}: damaged (")
    browse = run_olyscrape("browse", "--db", str(db), "--port", "0", timeout=60)
    assert browse.returncode == 1  # before Datasette starts
    assert one_error_line(browse.stderr).startswith(f"Error: archive {db}: damaged (quick_check: ")
    runs = run_olyscrape("runs", "--db", str(db))  # the crawls' pages are intact
    assert runs.returncode == 0 and "Traceback" not in runs.stderr
    # stats reads partner_counts and the index of dates (version 8), not the articles' rows
    stats = run_olyscrape("stats", "--db", str(db))
    assert stats.returncode == 0 and "Traceback" not in stats.stderr, stats.stderr
    assert sha256(db) == before


def test_a_damaged_page_of_the_counts_makes_stats_one_line(damaged):
    db, before = damaged("partner_counts")
    result = run_olyscrape("stats", "--db", str(db))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert one_error_line(result.stderr).startswith(f"Error: archive {db}: damaged (")
    assert result.stdout == ""  # no table before the error
    assert sha256(db) == before


def test_recover_rebuilds_a_damaged_archive_from_its_captures(damaged, archive_db, tmp_path):
    db, before = damaged("articles")
    new = tmp_path / "rebuilt.db"
    result = run_olyscrape("recover", "--db", str(db), str(new))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert sha256(db) == before
    fields = "SELECT url, title, category, published, body FROM articles ORDER BY url"
    assert query(new, fields) == query(archive_db, fields)
    links = "SELECT article_url, partner, position FROM article_partners ORDER BY 1, 2"
    assert query(new, links) == query(archive_db, links)
    assert run_olyscrape("verify", "--db", str(new)).returncode == 0


def test_verify_finds_a_damaged_capture_body_the_quick_check_cannot_see(archive_copy):
    """A byte flipped inside a compressed body: SQLite's checks pass (the page is well
    formed), verify's sha256 check does not."""
    sha, body = query(archive_copy, "SELECT sha256, body FROM capture_bodies "
                      "ORDER BY length(body) DESC LIMIT 1")[0]  # fmt: skip
    data = bytearray(archive_copy.read_bytes())
    where = data.find(body[100:140])
    assert where > 0 and data.find(body[100:140], where + 1) == -1
    data[where + 10] ^= 0xFF
    archive_copy.write_bytes(bytes(data))
    assert query(archive_copy, "PRAGMA quick_check") == [("ok",)]
    with pytest.raises(zlib.error):
        zlib.decompress(query(archive_copy, "SELECT body FROM capture_bodies WHERE sha256 = ?",
                              sha)[0][0])  # fmt: skip
    result = run_olyscrape("verify", "--db", str(archive_copy), "--quick")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    problems = [line for line in result.stdout.splitlines() if line.startswith("PROBLEM")]
    assert problems == [
        f"PROBLEM [capture bodies] the body {sha} cannot be decompressed -> `olyscrape recover`"
        " leaves it out; the next crawl of that page stores a new capture"
    ]


def test_verify_says_a_sound_archive_is_sound(archive_db):
    before = sha256(archive_db)
    result = run_olyscrape("verify", "--db", str(archive_db), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    (articles,) = query(archive_db, "SELECT count(*) FROM articles")[0]
    # Holes as a crawl counts them: on the site; the saved site links one article elsewhere.
    (missing,) = query(archive_db, "SELECT count(*) FROM articles WHERE body IS NULL"
                       " AND url LIKE 'https://olympics.com/%'")[0]  # fmt: skip
    assert report["sound"] is True
    assert report["facts"]["articles"] == articles
    assert report["facts"]["articles_without_page"] == missing
    assert report["facts"]["capture_bodies"] == query(
        archive_db, "SELECT count(*) FROM capture_bodies")[0][0]  # fmt: skip
    assert report["facts"]["wal"]["not_checkpointed"] == 0
    assert sha256(archive_db) == before


# --- a -wal from another copy ------------------------------------------------------------------

_WRITE_AND_DIE = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute(sys.argv[2])
os._exit(0)  # killed: no checkpoint, the -wal stays
"""


def write_and_die(db: Path, sql: str) -> None:
    """Commit ``sql`` into ``db`` from another process that dies before any checkpoint,
    leaving the change in the ``-wal``."""
    subprocess.run([sys.executable, "-c", _WRITE_AND_DIE, str(db), sql], check=True)


def test_a_wal_from_another_copy_is_refused_and_never_checkpointed(archive_copy, tmp_path):
    db = archive_copy
    other = tmp_path / "other" / "archive.db"
    other.parent.mkdir()
    shutil.copyfile(db, other)
    # Each copy gets its own crawl: this one's is in its file, the other's in its -wal.
    # Both touch every article (as a crawl touches last_seen); only this one's changes an
    # index (published), so the other's table pages and this one's index pages disagree.
    write_and_die(db, "UPDATE articles SET published = '2030-01-01', last_seen = 'here'")
    conn = sqlite3.connect(db)
    conn.execute("SELECT count(*) FROM articles").fetchone()
    conn.close()  # the last connection checkpoints and removes the -wal
    write_and_die(other, "UPDATE articles SET last_seen = 'there'")
    assert not Path(f"{db}-wal").exists()
    shutil.copyfile(f"{other}-wal", f"{db}-wal")  # the other copy's -wal, left beside this file
    before, wal_before = sha256(db), sha256(Path(f"{db}-wal"))
    probe = tmp_path / "probe.db"  # SQLite's own view of the pair, read on a copy
    shutil.copyfile(db, probe)
    shutil.copyfile(f"{db}-wal", f"{probe}-wal")
    assert query(probe, "PRAGMA quick_check") == [("ok",)]  # the quick check misses it
    assert query(probe, "PRAGMA integrity_check") != [("ok",)]

    result = crawl(db)
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    # Told by the writers' marks (schema 6; a version 5 archive by the integrity check:
    # tests/test_wal_owner.py).
    assert line.startswith(f"Error: archive {db}: damaged (its -wal belongs to another copy")
    assert sha256(db) == before and sha256(Path(f"{db}-wal")) == wal_before

    for args in (["search", "olympic"], ["stats"], ["runs"]):
        answer = run_olyscrape(*args, "--db", str(db))
        assert "Traceback" not in answer.stderr
        if answer.returncode:
            assert one_error_line(answer.stderr).startswith(f"Error: archive {db}: ")
    verify = run_olyscrape("verify", "--db", str(db))
    assert verify.returncode == 1 and "Traceback" not in verify.stderr
    assert f"move {db}-wal and {db}-shm aside" in verify.stdout
    assert sha256(db) == before

    # What verify says to do works: the file alone is sound, and the next crawl is OK.
    Path(f"{db}-wal").rename(tmp_path / "foreign-wal")
    Path(f"{db}-shm").unlink(missing_ok=True)
    assert run_olyscrape("verify", "--db", str(db)).returncode == 0
    again = crawl(db)
    assert again.returncode == 0, again.stdout + again.stderr
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT count(*) FROM articles WHERE last_seen = 'there'") == [(0,)]


# --- the .db alone holds what a crawl committed ------------------------------------------------

_HOLD_SNAPSHOT = """
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, isolation_level=None)
conn.execute("BEGIN")  # read-only, as Datasette or a long query: its close copies nothing
print(conn.execute("SELECT count(*) FROM articles").fetchone()[0], flush=True)
sys.stdin.read()  # holds its snapshot until told to stop
"""


def test_a_reader_holding_a_snapshot_is_named_and_the_next_crawl_checkpoints(tmp_path):
    db = tmp_path / "archive.db"
    first = crawl(db, "--partners", "alibaba")
    assert first.returncode == 0, first.stdout + first.stderr
    reader = subprocess.Popen([sys.executable, "-c", _HOLD_SNAPSHOT, str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    alone = tmp_path / "alone" / "archive.db"  # the file as `cp` would copy it
    alone.parent.mkdir()
    try:
        held = int(reader.stdout.readline())  # type: ignore[union-attr]
        result = crawl(db)
        shutil.copyfile(db, alone)
    finally:
        reader.communicate("", timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert held == EXPECTED_PER_PARTNER["alibaba"]
    lines = [line for line in result.stdout.splitlines() if "still only in its -wal" in line]
    assert len(lines) == 1 and lines[0].startswith(f"archive {db}: ")
    assert "a reader held an older snapshot" in lines[0]
    assert query(alone, "SELECT count(*) FROM articles")[0][0] < ALL_ARTICLES

    json_run = crawl(db, "--format", "json")  # the reader is gone: this one completes it
    assert json_run.returncode == 0, json_run.stdout + json_run.stderr
    assert json.loads(json_run.stdout)["checkpoint"]["complete"] is True
    assert Path(f"{db}-wal").stat().st_size == 0 if Path(f"{db}-wal").exists() else True
    shutil.copyfile(db, alone)
    assert query(alone, "SELECT count(*) FROM articles")[0][0] == ALL_ARTICLES
    assert query(alone, "SELECT count(*) FROM crawls") == [(3,)]


def test_a_read_only_copy_with_a_wal_and_no_shm_refuses_to_answer_stale(disk, archive_copy):
    place = disk("20m")
    db = place / "archive.db"
    shutil.copyfile(archive_copy, db)
    subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import os, sqlite3, sys
        conn = sqlite3.connect(sys.argv[1], isolation_level=None)
        conn.execute("UPDATE crawls SET status = 'changed'")
        os._exit(0)
    """), str(db)], check=True)  # fmt: skip
    Path(f"{db}-shm").unlink()
    assert Path(f"{db}-wal").stat().st_size > 0
    disk.remount("ro")
    for args in (["sql", "SELECT status FROM crawls"], ["stats"], ["runs"], ["search", "a"]):
        result = run_olyscrape(*args, "--db", str(db))
        assert result.returncode == 1, (args, result.stdout)
        line = one_error_line(result.stderr)
        assert line.startswith(f"Error: archive {db}: its -wal (")
        assert "refusing to answer from the file alone" in line
        assert "changed" not in result.stdout and "ok" not in result.stdout


# --- backup ------------------------------------------------------------------------------------


def test_backup_while_a_crawl_writes_gives_sound_copies(tmp_path):
    db = tmp_path / "archive.db"
    assert crawl(db, "--partners", "alibaba").returncode == 0
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    running = subprocess.Popen(
        [sys.executable, "-m", "olyscrape", "crawl", "--replay", str(SITE), "--db", str(db),
         "--batch-size", "1", "-s", "DOWNLOAD_DELAY=0.02"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    copies: list[int] = []
    try:
        while running.poll() is None and len(copies) < 8:
            copy = tmp_path / f"copy{len(copies)}.db"
            result = run_olyscrape("backup", "--db", str(db), str(copy))
            assert result.returncode == 0, result.stderr
            assert query(copy, "PRAGMA integrity_check") == [("ok",)]
            copies.append(query(copy, "SELECT count(*) FROM articles")[0][0])
            time.sleep(0.2)
    finally:
        out, err = running.communicate(timeout=240)
    assert running.returncode == 0, out + err
    assert copies == sorted(copies) and copies[0] >= EXPECTED_PER_PARTNER["alibaba"]
    final = tmp_path / "final.db"
    assert run_olyscrape("backup", "--db", str(db), str(final)).returncode == 0
    assert query(final, "SELECT count(*) FROM articles") == [(ALL_ARTICLES,)]
    assert not Path(f"{final}-wal").exists()


def test_backup_refuses_to_overwrite_a_file_that_is_not_an_archive(archive_db, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = run_olyscrape("backup", "--db", str(archive_db), str(notes))
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: archive {notes}: not an olyscrape archive")
    assert line.endswith("(not overwritten)")
    assert notes.read_text() == "my notes\n"
    assert not list(tmp_path.glob(".notes.txt.partial*"))
    # An archive there is replaced by the copy.
    old = tmp_path / "old.db"
    shutil.copyfile(archive_db, old)
    conn = sqlite3.connect(old)
    conn.execute("DELETE FROM crawls")
    conn.commit()
    conn.close()
    assert run_olyscrape("backup", "--db", str(archive_db), str(old)).returncode == 0
    assert query(old, "SELECT count(*) FROM crawls") == query(
        archive_db, "SELECT count(*) FROM crawls"
    )
