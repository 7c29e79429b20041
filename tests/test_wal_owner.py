"""A ``-wal`` that does not belong to the archive is refused, never checkpointed into it nor
answered from; the archive's own ``-wal`` (a killed crawl's) is taken (issue 18, item 2).

A ``-wal`` names no file, so SQLite copies any intact one into whatever file lies beside
it, and one from another copy of the archive can be consistent enough to pass
``integrity_check``. Since schema version 6 each writer session marks the file
(``writer_session``) and each of its commits carries that mark. Real files and processes
throughout: copies changed by a crawl, by a process killed holding its connection, a
crawl of a slow mirror killed with SIGKILL.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from olyscrape.archive import ArchiveWriter, health, walowner
from olyscrape.archive.errors import ArchiveDamaged
from olyscrape.archive.schema import SCHEMA_VERSION
from olyscrape.testing.mirror import serve_in_thread
from tests.helpers import (
    REPO,
    SITE,
    crawl_process,
    one_error_line,
    query,
    run_olyscrape,
    sha256,
    stop_when,
)

# A process that commits ``sql`` and is killed (SIGKILL) holding its connection: its commit
# stays in the -wal, never checkpointed.
_COMMIT_AND_DIE = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute(sys.argv[2])
os.kill(os.getpid(), signal.SIGKILL)
"""

# An olyscrape writer that stores a partner and dies (no closing checkpoint); with
# ``copied``, after a checkpoint copied its whole -wal into the file (not yet reset).
_WRITER_DIES = """
import os, sys
from olyscrape.archive import ArchiveWriter
from olyscrape.items import Partner
writer = ArchiveWriter.open(sys.argv[1])
writer.store([Partner(slug="zz", name="Zed", url="https://olympics.com/ioc/zz")])
if sys.argv[2] == "copied":
    writer.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
os._exit(0)
"""


def commit_and_die(db: Path, sql: str) -> None:
    process = subprocess.run([sys.executable, "-c", _COMMIT_AND_DIE, str(db), sql])
    assert process.returncode == -signal.SIGKILL
    assert health.wal_state(db).frames > 0


def writer_dies(db: Path, how: str = "") -> None:
    subprocess.run([sys.executable, "-c", _WRITER_DIES, str(db), how], check=True, cwd=REPO)
    assert health.wal_state(db).frames > 0


def files(db: Path) -> tuple[str, str]:
    """The sha256 of the archive and of its -wal."""
    return sha256(db), sha256(Path(f"{db}-wal"))


def ro_query(db: Path, sql: str) -> list[tuple]:
    """Read with the -wal, never checkpointing (a plain connection's close would)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def consistent_with(db: Path, wal: Path, tmp_path: Path) -> bool:
    """Does SQLite find ``db`` read with ``wal`` sound? Asked of copies of both."""
    probe = tmp_path / "probe" / "archive.db"
    probe.parent.mkdir(exist_ok=True)
    shutil.copyfile(db, probe)
    shutil.copyfile(wal, f"{probe}-wal")
    return query(probe, "PRAGMA integrity_check") == [("ok",)]


def to_version_5(db: Path) -> None:
    """``db`` as version 5 wrote it: version 6 only added ``writer_session``."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TABLE writer_session")
    conn.execute("PRAGMA user_version = 5")
    conn.close()  # the last connection: checkpointed, the -wal removed


READS = [["search", "olympic"], ["stats"], ["runs"], ["articles"],
         ["sql", "SELECT status FROM crawls"], ["backup", "COPY"]]  # fmt: skip


def assert_refused_everywhere(db: Path, tmp_path: Path) -> None:
    """crawl, reparse and every read command: exit 1, the one damaged line naming the
    -wal, nothing from it shown; the file and the -wal left as they were."""
    before = files(db)
    expected = f"Error: archive {db}: damaged (its -wal belongs to another copy of the archive: "
    for args in (["crawl", "--replay", str(SITE)], ["reparse"], *READS):
        args = [str(tmp_path / "copy.db") if a == "COPY" else a for a in args]
        result = run_olyscrape(*args, "--db", str(db))
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        line = one_error_line(result.stderr)
        assert line.startswith(expected) and line.endswith("; left unchanged"), (args, line)
        assert "failed" not in result.stdout, args
        assert files(db) == before, args
    assert not (tmp_path / "copy.db").exists()
    verify = run_olyscrape("verify", "--db", str(db))
    assert verify.returncode == 1 and "Traceback" not in verify.stderr
    assert "PROBLEM [wal]" in verify.stdout and "belongs to another copy" in verify.stdout
    assert f"the file is sound without it: move {db}-wal and {db}-shm aside" in verify.stdout
    assert "the next crawl copies them in" not in verify.stdout
    assert files(db) == before


def diverged_copy(db: Path, tmp_path: Path) -> Path:
    """A copy of the archive ``db``, made before ``db`` takes a crawl of its own (checkpointed
    when it ends): two copies of one archive, grown apart."""
    other = tmp_path / "other" / "archive.db"
    other.parent.mkdir()
    shutil.copyfile(db, other)
    changed = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), "--partners", "dow")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    return other


@pytest.mark.slow
def test_a_consistent_wal_from_another_copy_is_refused_by_every_command(archive_copy, tmp_path):
    db = archive_copy
    other = diverged_copy(db, tmp_path)
    assert not Path(f"{db}-wal").exists()  # checkpointed when the crawl ended
    commit_and_die(other, "UPDATE crawls SET status = 'failed'")
    shutil.copyfile(f"{other}-wal", f"{db}-wal")
    assert consistent_with(db, Path(f"{db}-wal"), tmp_path)  # integrity_check cannot tell

    assert_refused_everywhere(db, tmp_path)

    # What verify says to do: the file alone is this copy's, and the next crawl is OK.
    Path(f"{db}-wal").rename(tmp_path / "foreign-wal")
    Path(f"{db}-shm").unlink(missing_ok=True)
    again = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), "--partners", "dow")
    assert again.returncode == 0, again.stdout + again.stderr
    assert query(db, "SELECT count(*) FROM crawls WHERE status = 'failed'") == [(0,)]


def _captures(db: Path) -> int:
    try:
        return ro_query(db, "SELECT count(*) FROM captures")[0][0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def kill_a_crawl(db: Path, captures: int = 5) -> None:
    """A crawl of a slow mirror into ``db``, killed with SIGKILL once it committed
    ``captures`` new captures: its -wal is left beside the file."""
    start = _captures(db)
    with serve_in_thread(SITE, delay=0.02) as server:
        process = crawl_process(server.base_url, db, "--batch-size", "5")
        stop_when(process, lambda: _captures(db) >= start + captures)
        assert process.returncode == -signal.SIGKILL
    assert health.wal_state(db).frames > 0


@pytest.mark.slow
def test_the_wal_of_a_crawl_killed_on_another_copy_is_refused(archive_copy, tmp_path):
    db = archive_copy
    other = diverged_copy(db, tmp_path)
    kill_a_crawl(other)  # its -wal carries its own writer's mark
    shutil.copyfile(f"{other}-wal", f"{db}-wal")  # consistent with this file or not
    owner = walowner.wal_owner(db)  # its pages may even make the file unreadable
    assert owner.foreign and (
        "written by a crawl of another copy" in owner.why
        or "read with it, the file is unreadable" in owner.why
    )

    assert_refused_everywhere(db, tmp_path)


@pytest.mark.slow
def test_our_own_crawl_killed_leaves_a_wal_the_next_crawl_takes(tmp_path):
    db = tmp_path / "archive.db"
    first = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), "--partners", "dow")
    assert first.returncode == 0, first.stdout + first.stderr
    kill_a_crawl(db)
    committed = ro_query(db, "SELECT count(*) FROM captures")[0][0]
    assert walowner.wal_owner(db).verdict == "ours"

    stats = run_olyscrape("stats", "--db", str(db))  # read with its -wal: the file's own
    assert stats.returncode == 0, stats.stderr
    again = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "crawl OK" in again.stdout and "Error:" not in again.stderr
    assert not health.wal_state(db).frames  # checkpointed when it ended
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT count(*) FROM captures")[0][0] > committed
    assert [s for (s,) in query(db, "SELECT status FROM crawls ORDER BY id")] == [
        "ok", "interrupted", "ok"]  # fmt: skip


@pytest.mark.slow
def test_a_diverged_wal_is_still_refused_in_a_version_5_archive(archive_copy, tmp_path):
    """No writer marks before version 6: the integrity check judges, as before."""
    db = archive_copy
    to_version_5(db)
    other = tmp_path / "other" / "archive.db"
    other.parent.mkdir()
    shutil.copyfile(db, other)
    commit_and_die(db, "UPDATE articles SET published = '2030-01-01', last_seen = 'here'")
    query(db, "SELECT count(*) FROM articles")  # the last connection checkpoints it
    assert not Path(f"{db}-wal").exists()
    commit_and_die(other, "UPDATE articles SET last_seen = 'there'")
    shutil.copyfile(f"{other}-wal", f"{db}-wal")
    assert not consistent_with(db, Path(f"{db}-wal"), tmp_path)
    before = files(db)
    assert walowner.wal_owner(db).verdict == "unknown"

    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db))
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: archive {db}: damaged (integrity_check: ")
    assert files(db) == before
    assert ro_query(db, "PRAGMA user_version") == [(5,)]


def test_a_version_5_archive_is_marked_when_migrated(archive_copy):
    db = archive_copy
    to_version_5(db)
    with ArchiveWriter.open(db) as writer:
        writer.store([])
    assert query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)] and SCHEMA_VERSION >= 6
    ((token, commits, history),) = query(db, "SELECT token, commits, history FROM writer_session")
    assert len(token) == 32 and commits >= 1 and history == "[]"
    with ArchiveWriter.open(db) as writer:  # the next session: a new token, the last kept
        writer.store([])
    ((second, _, history),) = query(db, "SELECT token, commits, history FROM writer_session")
    assert second != token and history == f'[["{token}", {commits}]]'


def test_a_writer_killed_leaves_a_wal_the_next_writer_takes(archive_copy):
    db = archive_copy
    writer_dies(db)
    assert walowner.wal_owner(db).verdict == "ours"
    ArchiveWriter.open(db).close()  # took it: checkpointed into the file
    assert not health.wal_state(db).frames
    assert query(db, "SELECT name FROM partners WHERE slug = 'zz'") == [("Zed",)]


def test_a_wal_copied_whole_into_the_file_before_the_kill_is_ours(archive_copy):
    """The -wal's last commit already in the file (an automatic checkpoint just before the
    kill): the marks agree, and the -wal changes no page of the file."""
    db = archive_copy
    writer_dies(db, "copied")
    assert walowner.wal_owner(db).verdict == "ours"
    ArchiveWriter.open(db).close()


def test_a_wal_another_program_left_is_refused_by_the_writer(archive_copy):
    db = archive_copy
    commit_and_die(db, "UPDATE crawls SET status = 'edited'")
    before = files(db)
    with pytest.raises(ArchiveDamaged) as refused:
        ArchiveWriter.open(db)
    assert "its -wal belongs to another copy of the archive" in str(refused.value)
    assert "carry no mark of a crawl of this file" in str(refused.value)
    assert files(db) == before
