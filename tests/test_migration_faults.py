"""A large version 3 archive whose migration is cut short: by a disk too full for it, at
several fill levels, and by ``kill -9`` half-way. The migration is one transaction, so
the file reads exactly as before (version, schema, views, triggers, every row) with no
large ``-wal`` or ``-journal`` beside it, and the next open with room migrates it.

Disks are real tmpfs mounts (see tests/test_storage_faults.py's ``disk`` fixture).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from olyscrape.archive.schema import SCHEMA_VERSION
from tests.helpers import (
    REPO,
    make_large_v3,
    one_error_line,
    query,
    run_olyscrape,
    sha256,
    snapshot,
)

pytestmark = pytest.mark.slow

ARTICLES = 40_000
#: What may stay beside the file after a failed migration: at most an empty WAL and the
#: WAL index SQLite made before the disk filled up.
SMALL = 64 * 1024


@pytest.fixture(scope="module")
def large_v3(tmp_path_factory) -> Path:
    """One large version 3 archive, copied by each test."""
    return make_large_v3(tmp_path_factory.mktemp("large") / "v3.db", ARTICLES)


def beside(db: Path) -> dict[str, int]:
    """The files SQLite keeps beside ``db``, with their sizes."""
    return {
        suffix: Path(f"{db}{suffix}").stat().st_size
        for suffix in ("-wal", "-shm", "-journal")
        if Path(f"{db}{suffix}").exists()
    }


def fill(point: Path, room: int) -> Path:
    """Fill the disk at ``point`` until ``room`` bytes are left; the filler's path."""
    info = os.statvfs(point)
    filler = point / "filler"
    filler.write_bytes(b"\0" * (info.f_bavail * info.f_frsize - room))
    return filler


@pytest.mark.parametrize(
    "room",
    [16 * 1024, 0.05, 0.4],
    ids=["16KiB-no-room-for-the-wal-index", "5pct-of-the-file", "40pct-of-the-file"],
)
def test_a_large_migration_on_a_full_disk_changes_nothing_then_completes(
    disk,
    large_v3,
    room,
):
    size = large_v3.stat().st_size
    point = disk(f"{size * 2 // 1024 // 1024 + 8}m")
    db = point / "a.db"
    db.write_bytes(large_v3.read_bytes())
    before = snapshot(db)
    assert before["user_version"] == 3 and before["rows"]["articles"][0] == ARTICLES + 3
    digest = sha256(db)
    filler = fill(point, room if isinstance(room, int) else int(size * room))

    result = run_olyscrape("crawl", "--replay", str(REPO / "tests/fixtures/site"), "--db", str(db))
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_error_line(result.stderr)  # one line, no traceback
    # Refused before it starts (olyscrape.archive.room), naming the room needed and free.
    assert line.startswith(f"Error: archive {db}: not enough free space to migrate it"), line
    assert " MB free in " in line and " MB are free; nothing was changed" in line, line
    assert "discovered" not in result.stderr  # nothing fetched
    assert beside(db) == {} and sha256(db) == digest  # not a byte changed

    # The check bypassed, the migration meets the full disk itself: rolled back whole.
    skip_check = "from olyscrape.archive import room; room.check = lambda *a: None; "
    run = subprocess.run([sys.executable, "-c", skip_check + _MIGRATE, str(db)], cwd=REPO,
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode != 0 and "disk full" in run.stderr, run.stderr
    assert not any(size > SMALL for size in beside(db).values()), beside(db)
    assert "-journal" not in beside(db)
    filler.unlink()
    assert snapshot(db) == before  # version, schema, views, triggers, every row

    disk.remount(f"size={size * 4 // 1024 // 1024 + 32}m")
    again = run_olyscrape("crawl", "--replay", str(REPO / "tests/fixtures/site"), "--db", str(db))
    assert again.returncode == 0, again.stdout + again.stderr
    after = snapshot(db)
    assert after["user_version"] == SCHEMA_VERSION
    assert query(
        db, "SELECT count(*) FROM article_partners WHERE article_url LIKE '%/story-%'"
    ) == [(ARTICLES,)]
    assert query(db, "PRAGMA journal_mode") == [("wal",)]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    (free,), (pages,) = query(db, "PRAGMA freelist_count")[0], query(db, "PRAGMA page_count")[0]
    assert free <= 0.05 * pages  # the pages version 4's rewrite freed, given back


_MIGRATE = (
    "import sys; from olyscrape.archive import ArchiveWriter; ArchiveWriter.open(sys.argv[1])"
)


def killed_migrating(db: Path, journal_bytes: int) -> Path:
    """Migrate ``db`` in a process of its own, ``kill -9`` it once its ``-journal`` holds
    more than ``journal_bytes``; the journal, hot (the kill landed inside the transaction)."""
    journal = Path(f"{db}-journal")
    process = subprocess.Popen([sys.executable, "-c", _MIGRATE, str(db)], cwd=REPO)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and journal.stat().st_size > journal_bytes:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    assert process.wait() == -signal.SIGKILL, "the migration ended before it could be killed"
    assert journal.exists() and journal.stat().st_size > 0
    return journal


def test_a_migration_killed_half_way_reads_as_before_and_the_next_open_migrates(tmp_path, large_v3):
    """``kill -9`` while the migration's journal grows: the hot journal is rolled back
    by the next reader, which reads version 3 as it was; the next open migrates."""
    db = tmp_path / "a.db"
    db.write_bytes(large_v3.read_bytes())
    before = snapshot(db)
    journal = killed_migrating(db, 256 * 1024)  # mid-way

    runs = run_olyscrape("runs", "--db", str(db), "--format", "json")  # a read command
    assert runs.returncode == 0 and "Traceback" not in runs.stderr, runs.stderr
    assert '"status": "ok"' in runs.stdout  # the fixture's one crawl
    assert not journal.exists()
    assert snapshot(db) == before

    result = run_olyscrape("sql", "--db", str(db), "PRAGMA user_version", "--format", "csv")
    assert result.returncode == 0 and result.stdout.split() == ["user_version", "3"]
    subprocess.run([sys.executable, "-c", _MIGRATE, str(db)], cwd=REPO, check=True)
    assert snapshot(db)["user_version"] == SCHEMA_VERSION
    assert query(db, "SELECT count(*) FROM article_partners") == [(ARTICLES + 4,)]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def test_a_migration_killed_once_its_pages_reached_the_file_is_rolled_back_not_called_damaged(
    tmp_path, large_v3
):
    """Killed later, once SQLite has spilled half-written pages into the file itself (a
    journal of megabytes): the file at rest is not read with ``immutable=1``, which would
    ignore the journal and find it "damaged"; ``verify`` rolls the journal back first, as
    the sqlite3 shell does, finds version 3 sound, and the next crawl's check passes."""
    db = tmp_path / "a.db"
    db.write_bytes(large_v3.read_bytes())
    before = snapshot(db)
    journal = killed_migrating(db, 4 * 1024 * 1024)

    verify = run_olyscrape("verify", "--db", str(db))
    assert "Traceback" not in verify.stderr
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.startswith(f"archive {db}: sound"), verify.stdout
    assert not journal.exists()
    assert snapshot(db) == before
    subprocess.run([sys.executable, "-c", _MIGRATE, str(db)], cwd=REPO, check=True)
    assert snapshot(db)["user_version"] == SCHEMA_VERSION
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
