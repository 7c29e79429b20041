"""Storage faults on real files: a full disk, a read-only archive, a foreign file, an
unwritable WARC, a busy archive through a symlink. Each asserts the exit code, the one
line that says what happened, that no traceback was printed, and what the archive holds.

Disks are real: a small tmpfs the test mounts (it needs root, as on CI), remounted
read-only or larger. Where mounting is not possible the test skips and says why; the
full-disk case also runs everywhere through SQLite's ``max_page_count``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from olyscrape.archive.schema import SCHEMA_VERSION
from olyscrape.lock import ArchiveLock
from tests.helpers import (
    EXPECTED_PER_PARTNER,
    SITE,
    content,
    free_port,
    links_per_partner,
    make_v3,
    mount,
    one_error_line,
    query,
    run_olyscrape,
    sha256,
    webhook,
)

pytestmark = pytest.mark.slow  # see pyproject's markers

ALL_LINKS = sum(EXPECTED_PER_PARTNER.values())


def committed(message: str) -> int:
    # The crawl's own row may not fit either (assert_full_disk_outcome allows it): then the
    # line goes on to say so.
    match = re.search(
        r"; (\d+) cards committed before it(?:$|; and the crawl's own row could not be written)",
        message,
    )
    assert match, message
    return int(match.group(1))


def crawl(db: Path, *args: str) -> subprocess.CompletedProcess:
    return run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), *args)


# --- a full disk -------------------------------------------------------------------------------


def assert_full_disk_outcome(result: subprocess.CompletedProcess, db: Path) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: archive {db}: disk full (database or disk is full); ")
    # The archive holds exactly what the message says was committed, and the summary
    # counts only that: each card of a fresh archive is one new partner link.
    links = query(db, "SELECT count(*) FROM article_partners")[0][0]
    assert committed(line) == links < ALL_LINKS
    total = next(row for row in result.stdout.splitlines() if row.startswith("total"))
    assert int(total.split()[3]) == links  # the "new links" column
    assert "crawl FAILED" in result.stdout and "crawl OK" not in result.stdout
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    statuses = query(db, "SELECT status FROM crawls")
    assert statuses == [("failed",)] or (
        statuses in ([], [("running",)]) and "crawl's own row could not be written" in result.stderr
    )


def test_a_full_disk_stops_the_crawl_and_a_rerun_on_a_larger_disk_completes(disk):
    db = disk("800k") / "a.db"
    result = crawl(db, "--batch-size", "10")
    assert_full_disk_outcome(result, db)

    disk.remount("size=20m")  # the fault cleared
    again = crawl(db)
    assert again.returncode == 0, again.stdout + again.stderr
    assert links_per_partner(db) == EXPECTED_PER_PARTNER
    assert query(db, "SELECT status FROM crawls ORDER BY id") == [("failed",), ("ok",)]


def test_a_disk_too_small_for_the_schema_leaves_a_file_the_rerun_completes(disk):
    db = disk("100k") / "a.db"
    result = crawl(db)
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: archive {db}: disk full (database or disk is full); 0 cards")
    assert "crawl FAILED" in result.stdout
    disk.remount("size=20m")
    again = crawl(db)  # the half-made archive is still known as olyscrape's, and completed
    assert again.returncode == 0, again.stdout + again.stderr
    assert links_per_partner(db) == EXPECTED_PER_PARTNER


def test_a_full_disk_made_by_sqlites_page_cap_behaves_the_same(tmp_path):
    """Where no tmpfs can be mounted, the same fault through ``max_page_count``."""
    db = tmp_path / "a.db"
    result = crawl(db, "--batch-size", "10", "-s", "OLYSCRAPE_MAX_PAGE_COUNT=120")
    assert_full_disk_outcome(result, db)
    again = crawl(db)
    assert again.returncode == 0, again.stdout + again.stderr
    assert links_per_partner(db) == EXPECTED_PER_PARTNER


def test_a_warc_on_a_full_disk_stops_the_crawl_naming_the_warc(disk, tmp_path):
    warc = disk("64k") / "crawl.warc.gz"
    db = tmp_path / "a.db"
    result = crawl(db, "--warc", str(warc))
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: warc {warc}: disk full (No space left on device)")
    assert "crawl FAILED" in result.stdout
    assert query(db, "SELECT status FROM crawls") == [("failed",)]


@pytest.mark.parametrize(
    "room", [16, 32], ids=["no-room-for-the-wal-index", "full-during-the-migration"]
)
def test_an_older_archive_on_a_full_disk_is_not_migrated_half_way(disk, room):
    """Opening a version 3 archive rewrites its links (version 4). With 16 KiB left SQLite
    cannot even make its WAL index (``-shm``, 32 KiB); with 32 KiB the WAL index or the
    migration finds the disk full (it runs in rollback-journal mode, so 48 KiB is enough
    for it; tests/test_migration_faults.py fills a large archive's disk at set levels).
    Either way the crawl is refused before the migration starts, naming the room it needs
    (olyscrape.archive.room), and the file still holds version 3, row for row."""
    point = disk("256k")
    db = point / "a.db"
    make_v3(db)
    before = content(db)
    free = os.statvfs(point).f_bavail * os.statvfs(point).f_frsize
    (point / "filler").write_bytes(b"\0" * (free - room * 1024))

    result = crawl(db)
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: archive {db}: not enough free space to migrate it"), line
    assert f"MB free in {point}, 0 MB are free; nothing was changed" in line, line
    assert "discovered" not in result.stderr  # nothing fetched
    (point / "filler").unlink()
    assert query(db, "PRAGMA user_version") == [(3,)] and content(db) == before

    disk.remount("size=20m")
    again = crawl(db)  # room again: migrated, then crawled
    assert again.returncode == 0, again.stdout + again.stderr
    assert query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    kept = Counter(partner for _, partner, *_ in before["links"])  # not on the saved site
    assert links_per_partner(db) == {p: n + kept[p] for p, n in EXPECTED_PER_PARTNER.items()}


# --- read-only archives ------------------------------------------------------------------------


QUERIES = {
    "sql": ["sql", "SELECT count(*) AS n FROM articles", "--format", "json"],
    "articles": ["articles", "--partner", "visa", "--format", "json"],
    "search": ["search", "Alibaba", "--limit", "3", "--format", "json"],
    "stats": ["stats", "--format", "json"],
    "runs": ["runs", "--format", "json"],
}


def assert_queries_answer(db: Path, articles: int) -> None:
    """Every query command answers, with the archive's own figures (``articles`` counted
    before the disk went read-only: plain sqlite3 cannot open a WAL file there)."""
    for name, args in QUERIES.items():
        result = run_olyscrape(*args, "--db", str(db))
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert "Traceback" not in result.stderr
    answer = run_olyscrape(*QUERIES["sql"], "--db", str(db))
    assert json.loads(answer.stdout) == [{"n": articles}]
    visa = run_olyscrape(*QUERIES["articles"], "--db", str(db))
    assert len(json.loads(visa.stdout)) == EXPECTED_PER_PARTNER["visa"]


def test_a_read_only_disk_refuses_the_crawl_and_answers_every_query(disk):
    db = disk("20m") / "a.db"
    assert crawl(db).returncode == 0
    articles = query(db, "SELECT count(*) FROM articles")[0][0]
    files = {p.name: sha256(p) for p in disk.path.iterdir()}
    disk.remount("ro")

    result = crawl(db)
    assert result.returncode == 1
    assert (
        one_error_line(result.stderr)
        == f"Error: archive {db}: read-only (the file cannot be written)"
    )
    assert "discovered" not in result.stderr  # refused before the first request
    reparse = run_olyscrape("reparse", "--db", str(db))
    assert reparse.returncode == 1 and "read-only" in one_error_line(reparse.stderr)

    assert_queries_answer(db, articles)  # a WAL archive, read through SQLite's immutable mode
    assert {p.name: sha256(p) for p in disk.path.iterdir()} == files


def test_browse_serves_an_archive_on_a_read_only_disk(disk):
    from olyscrape.cli import browse

    if not browse.datasette_available():
        pytest.skip("Datasette (the browse extra) is not installed")
    db = disk("20m") / "a.db"
    assert crawl(db).returncode == 0
    articles = query(db, "SELECT count(*) FROM articles")[0][0]
    disk.remount("ro")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "olyscrape", "browse", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = f"http://127.0.0.1:{port}/a/articles.json?_size=0"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                with opener.open(url, timeout=2) as response:
                    answer = json.loads(response.read())
                break
            except OSError:
                assert time.monotonic() < deadline, "Datasette did not answer"
                time.sleep(0.2)
    finally:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        process.terminate()  # as a supervisor stops it
        process.wait(timeout=10)
    assert answer["filtered_table_rows_count"] == articles
    # SIGTERM stops browse as it stops Datasette: 128 + 15 (docs/browsing.md)
    assert process.returncode == 143 and children  # browse runs Datasette as its child
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "Datasette left running"


def test_a_read_only_folder_bind_mount_refuses_the_crawl_and_answers_queries(tmp_path, disk):
    source = disk("20m")
    db = source / "a.db"
    assert crawl(db).returncode == 0
    articles = query(db, "SELECT count(*) FROM articles")[0][0]
    view = tmp_path / "shared"
    view.mkdir()
    try:
        mount("--bind", str(source), str(view))
        mount("-o", "remount,bind,ro", str(view))
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot make a read-only bind mount here: {exc.stderr}")
    try:
        before = sha256(db)
        result = crawl(view / "a.db")
        assert result.returncode == 1
        assert "read-only" in one_error_line(result.stderr)
        assert_queries_answer(view / "a.db", articles)
        assert sha256(db) == before
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True)


# --- files that are not ours -----------------------------------------------------------------


def foreign_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO articles (name) VALUES (?)", [("a",), ("b",)])
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            foreign_sqlite,
            "not an olyscrape archive (another program's SQLite file, with tables articles); left unchanged",
        ),
        (
            lambda p: p.write_text("my notes\n" * 50) and p,
            "not an olyscrape archive (not a SQLite file); left unchanged",
        ),
    ],
    ids=["foreign-sqlite", "text"],
)
def test_a_file_that_is_not_ours_is_refused_by_every_command_and_left_unchanged(
    tmp_path, make, message
):
    db = tmp_path / "theirs.db"
    make(db)
    before = sha256(db)
    commands = [["crawl", "--replay", str(SITE)], ["reparse"], *QUERIES.values(), ["browse"]]
    for args in commands:
        result = run_olyscrape(*args, "--db", str(db))
        assert result.returncode == 1, (args, result.stderr)
        assert one_error_line(result.stderr) == f"Error: archive {db}: {message}", args
    assert sha256(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs.db"]  # no -wal, -shm, lock


def test_an_archive_newer_than_the_code_is_refused_not_downgraded(tmp_path):
    db = tmp_path / "a.db"
    assert crawl(db, "--partners", "visa").returncode == 0
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = sha256(db)
    result = crawl(db)
    assert result.returncode == 1
    assert "written by a newer olyscrape (schema version 99" in one_error_line(result.stderr)
    assert sha256(db) == before


def test_read_commands_refuse_a_missing_or_empty_file_and_never_create_one(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    hint = "; name the archive with --db or the OLYSCRAPE_DB environment variable"
    for db, message in [(tmp_path / "none.db", "no such file" + hint),
                        (empty, "an empty file, not an olyscrape archive")]:  # fmt: skip
        for args in QUERIES.values():
            result = run_olyscrape(*args, "--db", str(db))
            assert result.returncode == 1
            assert one_error_line(result.stderr) == f"Error: archive {db}: {message}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
    assert empty.stat().st_size == 0


# --- options checked before the first request ----------------------------------------------


def test_an_unwritable_warc_path_is_a_usage_error_before_any_request(disk, tmp_path):
    folder = disk("1m")
    disk.remount("ro")
    db = tmp_path / "a.db"
    result = crawl(db, "--warc", str(folder / "crawl.warc.gz"))
    assert result.returncode == 2
    assert "--warc" in one_error_line(result.stderr) and "read-only" in result.stderr
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-s", "DOWNLOAD_TIMEOUT=soon"], "DOWNLOAD_TIMEOUT takes a number"),
        (["-s", "ROBOTSTXT_OBEY=perhaps"], "ROBOTSTXT_OBEY takes true or false"),
        (["-s", "NOEQUALS"], "is not NAME=VALUE"),
    ],
)
def test_mistyped_settings_are_usage_errors(tmp_path, args, words):
    db = tmp_path / "a.db"
    result = crawl(db, *args)
    assert result.returncode == 2
    assert words in one_error_line(result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_a_db_under_a_file_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("x")
    result = crawl(tmp_path / "file" / "a.db")
    assert result.returncode == 2
    assert "is not a folder" in one_error_line(result.stderr)


def test_an_unknown_partner_creates_no_file_records_no_crawl_sends_no_alert(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    alerted = tmp_path / "alerted"
    command = f"{sys.executable} -c \"open({str(alerted)!r}, 'w')\""
    result = crawl(folder / "a.db", "--partners", "nope", "--alert-command", command)
    assert result.returncode == 2
    assert "unknown partner(s): nope" in one_error_line(result.stderr)
    assert list(folder.iterdir()) == []
    assert not alerted.exists()


# --- one lock per archive ------------------------------------------------------------------


def test_a_busy_archive_is_refused_through_a_symlink(tmp_path):
    db = tmp_path / "a.db"
    assert crawl(db, "--partners", "visa").returncode == 0
    alias = tmp_path / "alias.db"
    alias.symlink_to(db)
    before = sha256(db)
    with ArchiveLock(db):  # another crawl holds it, through the real path
        result = crawl(alias)
    assert result.returncode == 3
    assert "in use by pid" in result.stderr and "Traceback" not in result.stderr
    assert sha256(db) == before


def test_a_stale_lock_file_does_not_confuse_a_later_run(tmp_path):
    db = tmp_path / "a.db"
    Path(f"{db}.lock").write_text("pid 999999\n")  # left by a crawl long dead
    result = crawl(db, "--partners", "visa")
    assert result.returncode == 0, result.stderr


# --- re-parse reads every capture ------------------------------------------------------------


def load_more_card_url() -> str:
    answers = sorted((SITE / "ioc" / "ajaxscript").rglob("index.json"))
    alibaba = next(a for a in answers if a.parent.name == "18")  # alibaba's second answer
    return "https://olympics.com" + json.loads(alibaba.read_text())["content"][0]["url"]


def test_reparse_restores_a_blanked_title_of_a_card_from_a_load_more_answer(tmp_path):
    db = tmp_path / "a.db"
    assert crawl(db).returncode == 0
    url = load_more_card_url()
    (title,) = query(db, "SELECT title FROM articles WHERE url = ?", url)[0]
    assert title
    conn = sqlite3.connect(db)
    conn.execute("UPDATE articles SET title = NULL WHERE url = ?", [url])
    conn.commit()
    conn.close()
    result = run_olyscrape("reparse", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT title FROM articles WHERE url = ?", url) == [(title,)]


def test_reparse_of_a_one_partner_archive_names_and_skips_the_others(tmp_path):
    db = tmp_path / "a.db"
    assert crawl(db, "--partners", "visa").returncode == 0
    before = query(db, "SELECT url, title, body FROM articles ORDER BY url")
    result = run_olyscrape("reparse", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "reparse: 0 rows changed" in result.stdout
    skipped = re.search(r"skipped, no capture of their listing: (.*)", result.stderr)
    assert skipped and set(skipped.group(1).split(", ")) == set(EXPECTED_PER_PARTNER) - {"visa"}
    assert query(db, "SELECT url, title, body FROM articles ORDER BY url") == before


def test_refresh_articles_after_a_no_articles_crawl_fetches_every_article_page(tmp_path):
    full = tmp_path / "full.db"
    assert crawl(full).returncode == 0
    pages = query(full, "SELECT count(*) FROM articles WHERE body IS NOT NULL")[0][0]
    db = tmp_path / "a.db"
    assert crawl(db, "--no-articles").returncode == 0
    assert query(db, "SELECT count(*) FROM articles WHERE body IS NOT NULL") == [(0,)]
    assert crawl(db, "--refresh-articles").returncode == 0  # incremental: first pages only
    assert query(db, "SELECT count(*) FROM articles WHERE body IS NOT NULL") == [(pages,)]


# --- alerts ------------------------------------------------------------------------------------


def test_a_failing_alert_command_never_skips_the_webhook_and_both_show(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    (site / "ioc" / "visa.html").unlink()  # a failed listing request fails the checks
    command = f'{sys.executable} -c "import sys; sys.exit(3)"'
    with webhook() as hook:
        result = run_olyscrape(
            "crawl", "--replay", str(site), "--db", str(tmp_path / "a.db"),
            "--alert-command", command, "--alert-webhook", hook.url,
        )  # fmt: skip
    webhook_down = run_olyscrape(
        "crawl", "--replay", str(site), "--db", str(tmp_path / "b.db"),
        "--alert-webhook", "http://127.0.0.1:9/nothing-listens",
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert any("visa" in f for f in hook.received[-1]["failures"])
    assert re.search(r"^alert command .* failed: exit status 3$", result.stdout, re.M)
    assert webhook_down.returncode == 1
    assert re.search(r"^alert webhook http://127.0.0.1:9/nothing-listens failed: ",
                     webhook_down.stdout, re.M)  # fmt: skip


# --- interrupted crawls ---------------------------------------------------------------------


def test_a_forced_stop_records_the_crawl_interrupted_and_the_summary_matches(tmp_path):
    from olyscrape.testing.mirror import serve_in_thread

    db = tmp_path / "a.db"
    with serve_in_thread(SITE, delay=1.0) as server:  # slow: the first stop waits for it
        crawl_process = subprocess.Popen(
            [sys.executable, "-m", "olyscrape", "crawl", "--base-url", server.base_url,
             "--db", str(db), "--batch-size", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if query(db, "SELECT count(*) FROM article_partners")[0][0] >= 10:
                    break
            except sqlite3.OperationalError:
                pass
            time.sleep(0.05)
        crawl_process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        crawl_process.send_signal(signal.SIGINT)
        out, err = crawl_process.communicate(timeout=60)
    assert crawl_process.returncode == 1
    assert "Traceback" not in err
    assert "stopping: waiting for the requests in flight" in err
    assert query(db, "SELECT status FROM crawls") == [("interrupted",)]
    total = next(row for row in out.splitlines() if row.startswith("total")).split()
    links = query(db, "SELECT count(*) FROM article_partners")[0][0]
    pages = query(db, "SELECT count(*) FROM articles WHERE body IS NOT NULL")[0][0]
    assert (int(total[3]), int(total[6])) == (links, pages)  # new links, article pages
    assert links < ALL_LINKS
