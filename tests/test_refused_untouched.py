"""A run refused for partners the site does not list (a usage error found once the site
answered) leaves the archive byte for byte as it was and no lock file beside it: the
writer's session mark, written when it opened, changed its sha256, and ``.lock`` stayed.
Real command runs on a copy of the session's archive."""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import SITE, one_error_line, query, run_olyscrape, sha256

pytestmark = pytest.mark.slow  # crawls in a subprocess

REFUSED = {
    "crawl": ["crawl", "--replay", str(SITE), "--partners", "nope", "--db"],
    "crawl --check-first": ["crawl", "--check-first", "--replay", str(SITE), "--partners",
                            "nope", "--db"],
    "check --keep": ["check", "--replay", str(SITE), "--partners", "nope", "--keep"],
}  # fmt: skip


@pytest.mark.parametrize("how", sorted(REFUSED))
def test_a_run_for_unknown_partners_leaves_the_archive_byte_identical(archive_copy, how):
    folder = archive_copy.parent
    before, digest = sorted(os.listdir(folder)), sha256(archive_copy)
    result = run_olyscrape(*REFUSED[how], str(archive_copy), cwd=folder)
    assert result.returncode == 2, result.stdout + result.stderr
    assert one_error_line(result.stderr).startswith("Error: unknown partner(s): nope.")
    assert sha256(archive_copy) == digest
    assert sorted(os.listdir(folder)) == before  # no .lock, -wal or -shm left


def test_a_crawl_after_a_refused_one_still_marks_and_locks(archive_copy):
    """The mark is made by the first commit instead: a crawl that writes still renews it,
    and takes (and leaves) its lock as before."""
    run_olyscrape("crawl", "--replay", str(SITE), "--partners", "nope", "--db",
                  str(archive_copy))  # fmt: skip
    (mark,) = query(archive_copy, "SELECT token, history FROM writer_session")
    result = run_olyscrape("crawl", "--replay", str(SITE), "--partners", "alibaba", "--db",
                           str(archive_copy))  # fmt: skip
    assert result.returncode == 0, result.stderr
    ((token, history),) = query(archive_copy, "SELECT token, history FROM writer_session")
    assert token != mark[0] and json.loads(history)[0][0] == mark[0]  # it started from it
    assert (archive_copy.parent / f"{archive_copy.name}.lock").exists()
