"""No file a command writes may be the archive or one of its companions: ``-o``, a crawl's
feed (``-o``/``-O``), its log file, its WARC, a chart, a backup's copy, a recovery's new
file. One rule (:func:`olyscrape.archive.paths.part_of_archive`) checks them all, before
anything runs: a second trial turned the archive into a JSON-lines feed, a PNG and a log.

Each case: the documented exit code, one line naming the file and what it is, no
traceback, the archive's bytes and the folder's files unchanged.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from olyscrape.archive.paths import part_of_archive
from olyscrape.cli import cli
from tests.helpers import cli_runner, one_error_line, sha256

SITE = Path(__file__).parent / "fixtures" / "site"


def _crawl(*extra: str) -> list[str]:
    return ["crawl", "--replay", str(SITE), "--db", "a.db", *extra]


#: (the command's arguments, run in the archive's folder; the exit code; the one line's end)
CASES = {
    "feed -O the archive": (_crawl("-O", "a.db:jsonl"), 2, "a.db is the archive itself"),
    "feed -o the archive": (_crawl("-o", "a.db:csv"), 2, "a.db is the archive itself"),
    "feed through a symlink": (_crawl("-O", "link.jsonl"), 2, "is the archive itself"),
    "feed as a file:// URI": (_crawl("-O", "file://{folder}/a.db:jsonl"), 2, "the archive itself"),
    "feed onto the lock": (_crawl("-O", "a.db.lock:jsonl"), 2, "the archive's lock file"),
    "log file the archive": (_crawl("--logfile", "a.db"), 2, "a.db is the archive itself"),
    "-s LOG_FILE the -wal": (_crawl("-s", "LOG_FILE=a.db-wal"), 2, "the archive's wal file"),
    "warc the -shm": (_crawl("--warc", "a.db-shm"), 2, "a.db-shm is the archive's shm file"),
    "chart the archive": (["stats", "--db", "a.db", "--chart", "link.png"], 2, "the archive itself"),
    "-o the journal": (["sql", "--db", "a.db", "select 1", "-o", "a.db-journal"], 2,
                       "a.db-journal is the archive's journal file"),
    "backup onto the lock": (["backup", "--db", "a.db", "a.db.lock"], 1,
                             "a.db.lock: is the archive's lock file"),
    "recover into the -wal": (["recover", "--db", "a.db", "a.db-wal"], 2,
                              "a.db-wal is the archive's wal file"),
}  # fmt: skip


@pytest.mark.parametrize(("args", "code", "end"), CASES.values(), ids=CASES.keys())
def test_no_command_writes_over_the_archive_or_its_companions(
    archive_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args, code, end
) -> None:
    shutil.copyfile(archive_db, tmp_path / "a.db")
    (tmp_path / "link.jsonl").symlink_to("a.db")
    (tmp_path / "link.png").symlink_to("a.db")
    monkeypatch.chdir(tmp_path)
    before = sha256(tmp_path / "a.db")
    files = sorted(p.name for p in tmp_path.iterdir())
    args = [arg.replace("{folder}", str(tmp_path)) for arg in args]
    result = cli_runner().invoke(cli, args, prog_name="olyscrape")
    assert result.exit_code == code, result.stderr
    line = one_error_line(result.stderr)
    assert end in line, line
    assert "Traceback" not in result.stderr
    assert sha256(tmp_path / "a.db") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files


def test_the_rule_follows_links_and_knows_every_companion(tmp_path: Path) -> None:
    archive = tmp_path / "a.db"
    archive.write_bytes(b"")
    os.link(archive, tmp_path / "hard.db")
    assert part_of_archive(tmp_path / "hard.db", archive) == "the archive itself"
    assert part_of_archive(tmp_path / "a.db.lock", archive) == "the archive's lock file"
    assert part_of_archive(tmp_path / "sub" / ".." / "a.db-wal", archive) == (
        "the archive's wal file"
    )
    assert part_of_archive(tmp_path / "b.db", archive) is None
    assert part_of_archive(tmp_path / "a.db.lock.txt", archive) is None


def test_a_chart_through_a_symlink_replaces_its_target_and_keeps_the_link(
    archive_copy: Path, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    target, link = tmp_path / "t.png", tmp_path / "l.png"
    target.write_bytes(b"old")
    link.symlink_to(target.name)
    result = cli_runner().invoke(cli, ["stats", "--db", str(archive_copy), "--chart", str(link)])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "t.png"
    assert target.read_bytes().startswith(b"\x89PNG")


def test_a_chart_onto_a_device_writes_into_it_and_keeps_the_node(
    archive_copy: Path, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    node = tmp_path / "full.png"
    try:
        os.mknod(node, 0o644 | stat.S_IFCHR, os.makedev(1, 7))  # /dev/full's numbers
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    result = cli_runner().invoke(cli, ["stats", "--db", str(archive_copy), "--chart", str(node)])
    assert result.exit_code == 1
    assert one_error_line(result.stderr) == f"Error: cannot write {node}: No space left on device"
    assert stat.S_ISCHR(node.lstat().st_mode)  # still the device, not a regular file


def test_an_output_through_a_symlink_loop_is_one_line(archive_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "la").symlink_to("lb")
    (tmp_path / "lb").symlink_to("la")
    result = cli_runner().invoke(
        cli, ["sql", "--db", str(archive_copy), "select 1", "-o", str(tmp_path / "la")]
    )
    assert result.exit_code == 2
    assert "Symlink loop" in one_error_line(result.stderr)
    assert "Traceback" not in result.stderr
