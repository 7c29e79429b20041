"""Every input of the crawl commands checked before any work: the WARC and archive paths
proved writable, a path that names two files refused, the alert channels' form checked.
Each refusal is one ``Error:`` line, exit 2, with nothing created and no crawl row."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.helpers import SITE, one_error_line, query, run_olyscrape, sha256

SMALL = ("--replay", str(SITE), "--partners", "visa", "--max-pages", "1", "--no-articles")


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_warc_where_nothing_can_be_created_is_refused_before_the_crawl(tmp_path):
    # /proc takes no new file, even for root (whom the permission bits let through).
    result = run_olyscrape("crawl", "--db", str(tmp_path / "a.db"), "--warc",
                           "/proc/x.warc.gz", *SMALL, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert "--warc" in line and "/proc" in line
    assert result.stderr.count("\n") == 1
    assert _listing(tmp_path) == []  # no archive, no lock, no crawl row
    assert not Path("/proc/x.warc.gz").exists()


def test_an_archive_where_nothing_can_be_created_is_refused_before_the_crawl(tmp_path):
    result = run_olyscrape("crawl", "--db", "/proc/olyscrape-x.db", *SMALL, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--db" in one_error_line(result.stderr)
    assert _listing(tmp_path) == []


def test_a_dotdot_after_a_missing_folder_is_refused_and_the_archive_untouched(
    archive_copy: Path,
):
    """``missing/../archive.db``: SQLite (which resolves the path) opened the archive while
    the checks (which stat it) found no file, so the crawl wrote it as a new archive and
    failed on UNIQUE constraint failed: captures.id, creating ``missing/``."""
    folder = archive_copy.parent
    before = sha256(archive_copy)
    crawls = query(archive_copy, "SELECT count(*) FROM crawls")
    result = run_olyscrape("crawl", "--db", "./missing/../archive.db", *SMALL, cwd=folder)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert "missing" in line and "UNIQUE" not in line
    assert not (folder / "missing").exists()
    assert sha256(archive_copy) == before
    assert query(archive_copy, "SELECT count(*) FROM crawls") == crawls


def test_a_dotdot_after_an_existing_folder_is_the_archive_itself(archive_copy: Path):
    folder = archive_copy.parent
    (folder / "sub").mkdir()
    result = run_olyscrape("crawl", "--db", "sub/../archive.db", *SMALL, cwd=folder)
    assert result.returncode == 0, result.stderr
    assert query(archive_copy, "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == [("ok",)]


def test_a_dangling_symlink_as_the_archive_is_refused_and_its_target_not_made(tmp_path):
    target = tmp_path / "gone" / "deeper" / "x.db"
    (tmp_path / "a.db").symlink_to(target)
    result = run_olyscrape("crawl", "--db", "a.db", *SMALL, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "dangling symlink" in one_error_line(result.stderr)
    assert not (tmp_path / "gone").exists()
    assert _listing(tmp_path) == ["a.db"]


def test_a_dangling_symlink_as_the_warc_is_refused(tmp_path):
    (tmp_path / "out.warc.gz").symlink_to(tmp_path / "gone" / "w.warc.gz")
    result = run_olyscrape("crawl", "--db", "a.db", "--warc", "out.warc.gz", *SMALL,
                           cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "--warc" in one_error_line(result.stderr)
    assert _listing(tmp_path) == ["out.warc.gz"]


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--alert-webhook", "not a url", "not an http:// or https:// URL"),
        ("--alert-webhook", "ftp://example.org/hook", "not an http:// or https:// URL"),
        ("--alert-webhook", "https://", "with a host"),
        ("--alert-webhook", "http://example.org:99999/", "not a URL"),
        ("--alert-command", "no-such-program-olyscrape --to me", "not found on PATH"),
        ("--alert-command", "./not-here.sh", "not an executable file"),
        ("--alert-command", "cat | mail root", "not run by a shell"),
        ("--alert-command", "mail -s 'unclosed", "cannot be split into words"),
        ("--alert-command", "   ", "runs nothing"),
    ],
)
def test_an_alert_channel_that_cannot_work_is_refused_at_start(
    olyscrape, tmp_path, option, value, said
):
    db = tmp_path / "a.db"
    result = olyscrape("crawl", "--db", str(db), option, value, "--replay", str(SITE))
    assert result.exit_code == 2
    line = one_error_line(result.output)
    assert option in line and said in line
    assert not db.exists()


def test_an_alert_command_given_by_path_must_be_executable(olyscrape, tmp_path):
    script = tmp_path / "alert.sh"
    script.write_text("#!/bin/sh\ncat > /dev/null\n")
    db = tmp_path / "a.db"
    refused = olyscrape("crawl", "--db", str(db), "--alert-command", str(script),
                        "--replay", str(SITE))  # fmt: skip
    assert "not an executable file" in one_error_line(refused.output)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    from olyscrape.monitors import command_problem, webhook_problem

    assert command_problem(f"{script} --subject 'crawl failed'") is None
    assert command_problem("cat") is None
    assert webhook_problem("https://hooks.example.org/x?y=1") is None
    assert os.access(script, os.X_OK)
