"""Feed exports (``crawl -o/-O``) that cannot be written, on a real full disk (a small
tmpfs: the test skips, saying why, where it cannot mount one).

A feed that fails fails the crawl: one ``Error: feed FILE: disk full (...)`` line, exit 1,
no traceback, and the crawl's row ``failed`` with that line as its reason; the archive is
filled as without a feed. It used to print one traceback per page and Scrapy's ``Error
storing``, record the crawl ``ok`` and exit 0 with a cut file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import SITE, count, one_error_line, query, run_olyscrape

pytestmark = pytest.mark.slow  # crawls in a subprocess, mounts a tmpfs


def _fill(place: Path, leave: int) -> None:
    """Fill the mounted disk at ``place`` until at most ``leave`` bytes are free."""
    stat = os.statvfs(place)
    free = stat.f_bavail * stat.f_frsize
    with open(place / "filler", "wb") as filler:
        try:
            filler.write(b"\0" * max(free - leave, 0))
            filler.flush()
        except OSError:
            pass  # full already: as wanted


def _assert_feed_failed(result, feed: Path, db: Path) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Error storing" not in result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: feed {feed}: disk full ("), line
    assert "the archive is not" in line
    ((status, reasons),) = query(db, "SELECT status, reasons FROM crawls")
    assert status == "failed"
    assert line.removeprefix("Error: ") in json.loads(reasons)
    return line


def test_a_feed_that_fills_the_disk_mid_crawl_fails_the_crawl(disk, tmp_path, archive_db):
    """The disk fills while items are exported: the crawl goes on filling the archive
    (every article, as without a feed), the feed writes nothing more."""
    place = disk("64k")
    _fill(place, 4096)
    feed, db = place / "items.jsonl", tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), "-O", str(feed))
    _assert_feed_failed(result, feed, db)
    assert count(db, "SELECT count(*) FROM articles") == count(
        archive_db, "SELECT count(*) FROM articles"
    )
    assert count(db, "PRAGMA integrity_check") == "ok"
    assert feed.stat().st_size <= 8192  # cut: what fitted, no more


def test_a_feed_that_cannot_be_stored_at_the_end_fails_the_crawl(disk, tmp_path):
    """A few items, held in the file's buffer until the crawl closes, on a disk with no
    room: the failure comes when the feed is closed, before the crawl's row is written."""
    place = disk("64k")
    _fill(place, 0)
    feed, db = place / "items.jsonl", tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db),
                           "--partners", "alibaba", "-O", str(feed))  # fmt: skip
    _assert_feed_failed(result, feed, db)
    assert count(db, "SELECT count(*) FROM partner_links WHERE partner = 'alibaba'") > 0
    assert feed.read_bytes() == b""  # nothing fitted


def test_a_feed_that_fits_leaves_the_crawl_ok(disk, tmp_path):
    """The same small crawl on a disk with room: exit 0, the row ``ok``, every item."""
    place = disk("64k")
    feed, db = place / "items.jsonl", tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db),
                           "--partners", "alibaba", "-O", str(feed))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT status FROM crawls") == [("ok",)]
    urls = [json.loads(line)["url"] for line in feed.read_text().splitlines()]
    assert (
        len(urls)
        == len(set(urls))
        == count(db, "SELECT count(*) FROM partner_links WHERE partner = 'alibaba'")
    )
