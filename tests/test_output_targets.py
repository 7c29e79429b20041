"""What ``-o FILE`` does to what ``FILE`` already is (a symlink is followed, a device or a
FIFO written directly as ``>`` would, never replaced by a regular file; the archive's
companions refused), and that a query cut short leaves nothing beside the archive.

The device is a node of our own in ``tmp_path`` (``mknod``, as root), never ``/dev/null``.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import cli_runner, one_error_line, sha256, start_olyscrape


def _sql(db: Path, *args: str) -> object:
    from olyscrape.cli import cli

    return cli_runner().invoke(cli, ["sql", "--db", str(db), *args])


def test_a_symlink_is_followed_its_target_replaced_the_link_kept(archive_db, tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(target.name)
    result = _sql(archive_db, "select 1 as one", "--csv", "-o", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert target.read_text() == "one\n1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.csv", "real.csv"]


def test_a_dangling_symlink_creates_its_target(archive_db, tmp_path):
    link = tmp_path / "latest.csv"
    link.symlink_to("made.csv")
    result = _sql(archive_db, "select 2 as two", "--csv", "-o", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert (tmp_path / "made.csv").read_text() == "two\n2\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_a_device_node_is_written_through_not_replaced(archive_db, tmp_path):
    node = tmp_path / "mynull"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a null device of our own
    result = _sql(archive_db, "select 1 as one", "--csv", "-o", str(node))
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(node.stat().st_mode)
    assert node.stat().st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mynull"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_a_full_device_is_one_line_exit_1_and_stays_a_device(archive_db, tmp_path):
    node = tmp_path / "myfull"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # a full device of our own
    result = _sql(archive_db, "select 1 as one", "--csv", "-o", str(node))
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert line == (
        f"Error: cannot write to {node} (No space left on device): the output is incomplete"
    )
    assert stat.S_ISCHR(node.stat().st_mode)


def test_a_fifo_is_written_through_to_its_reader(archive_db, tmp_path):
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = _sql(archive_db, "select 1 as one union all select 2", "--csv", "-o", str(fifo))
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert received == [b"one\n1\n2\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


def test_a_folder_is_a_usage_error(archive_db, tmp_path):
    result = _sql(archive_db, "select 1", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "Error: " in one_error_line(result.stderr)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".lock", "-wal", "-shm", "-journal"])
def test_the_archives_companions_are_refused_before_the_query(archive_copy, suffix):
    folder = archive_copy.parent
    companion = folder / f"{archive_copy.name}{suffix}"
    if suffix == ".lock":
        companion.write_text("")  # a crawl's lock file, as it stays between crawls
    before = sha256(archive_copy)
    files = sorted(p.name for p in folder.iterdir())
    # also through another spelling of the same path
    spelled = folder / "x" / ".." / companion.name
    (folder / "x").mkdir()
    for given in (companion, spelled):
        result = _sql(archive_copy, "select 1", "--csv", "-o", str(given))
        assert result.exit_code == 2
        line = one_error_line(result.stderr)
        assert f"is the archive's {suffix.lstrip('.-')} file" in line
    (folder / "x").rmdir()
    assert sorted(p.name for p in folder.iterdir()) == files
    assert sha256(archive_copy) == before
    if suffix == ".lock":
        assert companion.read_text() == ""


# --- a query cut short leaves nothing beside the archive --------------------------------------

CROSS = "select a.id, a.title from articles a, articles b, articles c"


def _folder(archive: Path) -> list[str]:
    return sorted(p.name for p in archive.parent.iterdir())


@pytest.mark.slow
def test_a_closed_pipe_leaves_nothing_beside_the_archive(archive_copy):
    before, files = sha256(archive_copy), _folder(archive_copy)
    process = start_olyscrape("sql", "--db", str(archive_copy), CROSS, "--csv")
    assert process.stdout is not None
    assert process.stdout.readline() == b"id,title\n"
    process.stdout.close()  # as `| head -1` does
    assert process.wait(timeout=60) == 141
    assert process.stderr is not None and process.stderr.read() == b""
    assert _folder(archive_copy) == files
    assert sha256(archive_copy) == before


@pytest.mark.slow
def test_a_full_disk_behind_stdout_leaves_nothing_beside_the_archive(archive_copy):
    before, files = sha256(archive_copy), _folder(archive_copy)
    with open("/dev/full", "wb") as full:  # opened for writing only, never replaced
        process = start_olyscrape("sql", "--db", str(archive_copy), CROSS, "--json", stdout=full)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "No space left on device" in one_error_line(err.decode())
    assert _folder(archive_copy) == files
    assert sha256(archive_copy) == before


@pytest.mark.slow
def test_ctrl_c_while_writing_leaves_nothing_beside_the_archive(archive_copy):
    before, files = sha256(archive_copy), _folder(archive_copy)
    out = archive_copy.parent / "out" / "rows.csv"
    out.parent.mkdir()
    process = start_olyscrape("sql", "--db", str(archive_copy), CROSS, "--csv", "-o", str(out))
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > 100_000 for p in out.parent.iterdir()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)  # rows are being written: the statement is mid-way
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.decode().splitlines() == [
        "Interrupted: the query was stopped; the archive is unchanged"
    ]
    assert list(out.parent.iterdir()) == []
    out.parent.rmdir()
    assert _folder(archive_copy) == files
    assert sha256(archive_copy) == before


def test_dash_as_the_output_is_standard_output(archive_copy, tmp_path, monkeypatch):
    """``-o -`` writes to stdout, as Scrapy's ``-o -`` and most tools read it: no file "-"."""
    from olyscrape.cli import cli

    monkeypatch.chdir(tmp_path)
    result = cli_runner().invoke(
        cli, ["sql", "--db", str(archive_copy), "select 7 as x", "-o", "-", "--csv"]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "x\n7\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [archive_copy.name]  # no "-"
