"""The ``-wal``'s commits not yet in the file, counted from the ``-wal`` itself; the
``-shm`` trusted only when it checks out and belongs to that ``-wal`` (``verify``'s WAL check).

Real WAL files, written by SQLite in another process that dies before any checkpoint (as
a killed crawl leaves them); SQLite's own count, read on a copy, is what each count is
checked against. Garbage and stale ``-shm`` files, and a read-only mount where SQLite
cannot rebuild the ``-shm``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from olyscrape.archive import migrations
from olyscrape.archive.walfile import wal_frames
from tests.helpers import run_olyscrape

_WRITE_AND_DIE = """
import os, shutil, sqlite3, sys
db, *steps = sys.argv[1:]
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute("PRAGMA cache_size = 2")  # a long transaction spills its pages into the -wal
for step in steps:
    if step == "checkpoint":
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    elif step.startswith("keep-shm:"):
        shutil.copyfile(db + "-shm", step.split(":", 1)[1])
    else:
        conn.execute(step)
os._exit(0)  # killed: no checkpoint at close, the -wal and -shm stay
"""


def write_and_die(db: Path, *steps: str) -> None:
    """Run ``steps`` (SQL, ``checkpoint`` for a passive one, ``keep-shm:PATH`` to copy the
    ``-shm`` as it is then) in another process that dies with no closing checkpoint."""
    subprocess.run([sys.executable, "-c", _WRITE_AND_DIE, str(db), *steps], check=True)


def sqlite_counts(db: Path, tmp_path: Path, with_shm: bool = False) -> tuple[int, int]:
    """SQLite's own view, on a copy: the WAL's committed frames and those already copied
    into the file (``PRAGMA wal_checkpoint`` on a copy; without the ``-shm`` SQLite
    rebuilds its index from the ``-wal``)."""
    probe = tmp_path / "probe" / "probe.db"
    if probe.parent.exists():
        shutil.rmtree(probe.parent)
    probe.parent.mkdir()
    shutil.copyfile(db, probe)
    shutil.copyfile(f"{db}-wal", f"{probe}-wal")
    if with_shm:
        shutil.copyfile(f"{db}-shm", f"{probe}-shm")
    conn = sqlite3.connect(probe)
    try:
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        # A checkpoint copies only what was not copied yet: wal_checkpoint(PASSIVE) then
        # says (busy, frames in the WAL, frames copied so far), copied ones included.
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if not with_shm:
            return frames, 0
        return frames, before_copy(db, tmp_path)
    finally:
        conn.close()


def before_copy(db: Path, tmp_path: Path) -> int:
    """How many frames SQLite, reading the real ``-shm``, takes as copied already: a
    ``wal_checkpoint`` with no room to copy (a reader holds every frame) reports them."""
    probe = tmp_path / "probe2" / "probe.db"
    if probe.parent.exists():
        shutil.rmtree(probe.parent)
    probe.parent.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(f"{db}{suffix}", f"{probe}{suffix}")
    reader = sqlite3.connect(probe, isolation_level=None)
    writer = sqlite3.connect(probe, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # holds a snapshot
        _, _, copied = writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(copied)
    finally:
        reader.close()
        writer.close()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """An empty olyscrape archive (the current schema, in WAL mode), checkpointed."""
    db = tmp_path / "archive.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.migrate(conn)
    conn.close()
    assert not Path(f"{db}-wal").exists()
    return db


def insert_crawls(count: int) -> list[str]:
    """``count`` statements, each its own transaction (a commit frame each)."""
    return [
        f"INSERT INTO crawls (started_at, status, stats) VALUES ('t{n}', 'ok', '{'x' * 3000}')"
        for n in range(count)
    ]


def test_the_committed_frames_are_sqlites_own_count(archive, tmp_path):
    write_and_die(archive, *insert_crawls(5))
    frames, _ = sqlite_counts(archive, tmp_path)
    assert frames > 5
    found = wal_frames(archive)
    assert found.committed == frames
    assert found.shm_trusted and found.backfilled == 0 and found.not_copied == frames


def test_a_torn_tail_and_an_uncommitted_transaction_are_not_counted(archive, tmp_path):
    write_and_die(archive, *insert_crawls(3))
    (committed, _) = sqlite_counts(archive, tmp_path)
    # A transaction cut off by the kill: pages spilled into the -wal, no commit frame.
    write_and_die(archive, "BEGIN", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
                  " FROM n WHERE i < 200) INSERT INTO crawls (started_at, status, stats)"
                  " SELECT 'u' || i, 'ok', hex(randomblob(1000)) FROM n")  # fmt: skip
    wal = Path(f"{archive}-wal")
    spilled = wal.stat().st_size
    with open(wal, "ab") as fh:  # and half a frame of garbage, as a torn write leaves
        fh.write(os.urandom(3000))
    assert spilled > 32 + committed * (24 + 4096)
    assert sqlite_counts(archive, tmp_path)[0] == committed
    assert wal_frames(archive).committed == committed


def test_a_garbage_shm_is_not_trusted(archive, tmp_path):
    write_and_die(archive, *insert_crawls(2), "checkpoint")
    frames, copied = sqlite_counts(archive, tmp_path, with_shm=True)
    assert copied == frames  # the passive checkpoint copied every frame, the -shm says so
    found = wal_frames(archive)
    assert found.shm_trusted and found.backfilled == frames and found.not_copied == 0

    shm = Path(f"{archive}-shm")
    for garbage in (b"\xff" * shm.stat().st_size, os.urandom(shm.stat().st_size)):
        shm.write_bytes(garbage)
        found = wal_frames(archive)
        assert not found.shm_trusted and found.not_copied == frames


def test_a_stale_shm_from_an_earlier_wal_is_not_trusted(archive, tmp_path):
    stale = str(tmp_path / "stale-shm")
    # After a checkpoint that copied every frame, the next write restarts the WAL with
    # new salts; the -shm of before is of the WAL's earlier generation.
    write_and_die(archive, *insert_crawls(2), "checkpoint", f"keep-shm:{stale}",
                  *insert_crawls(1))  # fmt: skip
    assert Path(f"{archive}-wal").read_bytes()[16:24] != Path(stale).read_bytes()[32:40]
    shutil.copyfile(stale, f"{archive}-shm")
    frames, _ = sqlite_counts(archive, tmp_path)
    found = wal_frames(archive)
    assert not found.shm_trusted and found.committed == frames and found.not_copied == frames


@pytest.mark.parametrize("shm", ["garbage", "stale"])
def test_verify_on_a_read_only_mount_names_the_wal_whatever_the_shm_says(disk, tmp_path, shm):
    place = disk("20m")
    db = place / "archive.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.migrate(conn)
    conn.close()
    stale = str(tmp_path / "stale-shm")
    write_and_die(db, *insert_crawls(2), "checkpoint", f"keep-shm:{stale}",
                  "UPDATE crawls SET status = 'changed'")  # fmt: skip
    if shm == "garbage":
        Path(f"{db}-shm").write_bytes(b"\xff" * Path(f"{db}-shm").stat().st_size)
    else:
        shutil.copyfile(stale, f"{db}-shm")
    frames, _ = sqlite_counts(db, tmp_path)
    assert frames > 0
    disk.remount("ro")
    result = run_olyscrape("verify", "--db", str(db))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBLEM [wal]")]
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith(f"PROBLEM [wal] {frames} page(s) of its -wal (")
    assert "NOT sound" in result.stdout.splitlines()[0]
