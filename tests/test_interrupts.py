"""Ctrl-C in the archive's other commands (``tables``, ``schema``, ``verify``, ``backup``):
one line, exit 130, the archive unchanged and nothing left behind, as for the query
commands (tests/test_streaming.py).

A real SIGINT is sent to the test process while the command runs a statement that never
ends on its real read connection: what is tested is the signal's way from Python's
handler through the connection's progress handler to SQLite's interrupt, and the
command's answer. Commands on the small session archive end too fast to be caught in the
act otherwise; the benchmarks' million-article archive shows the same by hand (the
figures are in docs/querying.md).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from pathlib import Path

import pytest

from olyscrape.archive import backup as backup_module
from olyscrape.archive import catalogue, health
from olyscrape.archive.paths import connect_read_only
from olyscrape.archive.running import QueryInterrupted
from olyscrape.cli import cli
from tests.helpers import cli_runner, sha256

ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"


def endless(conn: sqlite3.Connection, *_: object, **__: object) -> object:
    """A statement that only Ctrl-C ends, on the command's own connection."""
    return conn.execute(ENDLESS).fetchone()


def sigint_soon(delay: float = 0.3) -> threading.Timer:
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def run_interrupted(args: list[str]) -> tuple[int, str, str]:
    timer = sigint_soon()
    try:
        result = cli_runner().invoke(cli, args)
    finally:
        timer.cancel()
    return result.exit_code, result.stdout, result.stderr


def test_every_read_connection_stops_when_interrupted(archive_copy: Path) -> None:
    conn = connect_read_only(archive_copy, mode="ro")
    try:
        watch = conn.statement_watch  # type: ignore[attr-defined]
        threading.Timer(0.2, watch.interrupt).start()
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            endless(conn)
    finally:
        conn.close()


def test_ctrl_c_during_verify_is_one_line_and_exit_130(
    archive_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "integrity_problems", endless)
    before = sha256(archive_copy)
    code, out, err = run_interrupted(["verify", "--db", str(archive_copy)])
    assert code == 130
    assert err.strip() == (
        "Interrupted: the check was stopped before its end; the archive is unchanged"
    )
    assert "Traceback" not in err and "sound" not in out  # no report of a check not made
    assert sha256(archive_copy) == before


def test_ctrl_c_during_tables_is_one_line_and_exit_130(
    archive_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_count(archive: object, name: str) -> int:
        catalogue._read(archive, ENDLESS)  # type: ignore[arg-type]  # through the real read
        return 0

    monkeypatch.setattr(catalogue, "row_count", slow_count)
    before = sha256(archive_copy)
    code, _, err = run_interrupted(["tables", "--db", str(archive_copy)])
    assert (code, err.strip()) == (
        130,
        "Interrupted: the query was stopped; the archive is unchanged",
    )
    assert sha256(archive_copy) == before


def test_ctrl_c_during_backup_leaves_no_copy(
    archive_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = backup_module._copy_pages

    def copy_then_wait(src: sqlite3.Connection, out: sqlite3.Connection) -> None:
        real(src, out)  # the pages are in the partial copy: then Ctrl-C comes
        endless(src)

    monkeypatch.setattr(backup_module, "_copy_pages", copy_then_wait)
    dest = tmp_path / "copies" / "b.db"
    dest.parent.mkdir()
    before = sha256(archive_copy)
    code, _, err = run_interrupted(["backup", "--db", str(archive_copy), str(dest)])
    assert code == 130
    assert err.strip() == (
        "Interrupted: no copy made (nothing left at DEST); the archive is unchanged"
    )
    assert list(dest.parent.iterdir()) == []  # no partial file, -wal or -shm
    assert sha256(archive_copy) == before


def test_the_stepped_backup_copies_the_whole_archive(archive_copy: Path, tmp_path: Path) -> None:
    """The copy goes in steps (so that Ctrl-C can stop it) and still gives every row."""
    dest = tmp_path / "b.db"
    code = cli_runner().invoke(cli, ["backup", "--db", str(archive_copy), str(dest)]).exit_code
    assert code == 0
    counts = {}
    for path in (archive_copy, dest):
        conn = sqlite3.connect(path)
        counts[path] = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        conn.close()
    assert counts[dest] == counts[archive_copy] > 0


def test_query_interrupted_is_what_a_ctrl_c_catcher_catches() -> None:
    assert issubclass(QueryInterrupted, KeyboardInterrupt)
