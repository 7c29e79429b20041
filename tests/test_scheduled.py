"""Crawls an analyst leaves running — incremental, monitored, locked, crash-safe."""

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
from pathlib import Path

import pytest

from olyscrape.testing.mirror import serve_in_thread
from tests.helpers import (
    EXPECTED_PER_PARTNER,
    REPO,
    SITE,
    links_per_partner,
    query,
    run_olyscrape,
    webhook,
)

pytestmark = pytest.mark.slow  # see pyproject's markers

# Cards on each partner's first listing page (tests/fixtures/site/MANIFEST.md).
FIRST_PAGE_CARDS = 77


@pytest.fixture
def archive(archive_copy):
    """An archive after one full crawl of the saved site (a copy of the session's)."""
    return archive_copy


@pytest.fixture
def site(tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy)
    return copy


def crawl_mirror(site: Path, db: Path, *args: str, delay: float = 0.0):
    with serve_in_thread(site, delay=delay) as server:
        result = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db), *args)
        return result, list(server.requests)


# --- incremental ------------------------------------------------------------------------------


def test_a_recrawl_of_an_unchanged_site_makes_no_load_more_request(archive, site):
    before = query(
        archive, "SELECT url, title, category, published, body FROM articles ORDER BY url"
    )
    result, requested = crawl_mirror(site, archive)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [p for p in requested if "loadmoreoverviewnews" in p] == []
    listings = [p for p in requested if p.startswith("/ioc/") and p != "/ioc/partners"]
    assert sorted(listings) == sorted(f"/ioc/{slug}" for slug in EXPECTED_PER_PARTNER)
    assert (
        query(archive, "SELECT url, title, category, published, body FROM articles ORDER BY url")
        == before
    )
    assert "incremental: 13 partner(s) stopped" in result.stdout
    assert query(archive, "SELECT count(*) FROM article_versions") == [(0,)]


def test_cards_seen_again_get_last_seen_updated(archive, site):
    conn = sqlite3.connect(archive)
    with conn:
        conn.execute("UPDATE partner_links SET last_seen = '2000-01-01T00:00:00Z'")
    conn.close()
    result, _ = crawl_mirror(site, archive)
    assert result.returncode == 0
    touched = query(
        archive, "SELECT count(*) FROM article_partners WHERE last_seen > '2000-01-01T00:00:00Z'"
    )
    assert touched == [(FIRST_PAGE_CARDS - 1,)]  # every linked card of the first pages


def add_cards_on_top(listing: Path, count: int) -> list[str]:
    """Put ``count`` new cards at the top of a saved listing page; their URLs."""
    html = listing.read_text()
    first = re.search(r"<article .*?</article>", html, re.S)
    old_url = re.search(r'href="(/ioc/news/[^"]+)"', first.group()).group(1)
    new_cards, urls = [], []
    for n in range(count):
        url = f"/ioc/news/brand-new-story-{n}"
        new_cards.append(
            first.group().replace(old_url, url).replace("<h2>", f"<h2>Brand new story {n} ", 1)
        )
        urls.append("https://olympics.com" + url)
    listing.write_text(html[: first.start()] + "".join(new_cards) + html[first.start() :])
    return urls


def test_new_cards_on_top_are_archived_by_the_next_incremental_crawl(archive, site):
    urls = add_cards_on_top(site / "ioc" / "alibaba.html", 2)
    result, requested = crawl_mirror(site, archive, "--no-articles")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = query(
        archive,
        "SELECT article_url, position FROM article_partners WHERE partner = 'alibaba' AND position <= 2 ORDER BY position",
    )
    assert rows == [(urls[0], 1), (urls[1], 2)]
    assert links_per_partner(archive)["alibaba"] == EXPECTED_PER_PARTNER["alibaba"] + 2
    assert [p for p in requested if "loadmoreoverviewnews" in p] == []


def test_full_walks_everything(archive, site):
    result, requested = crawl_mirror(site, archive, "--full", "--no-articles")
    assert result.returncode == 0
    assert len([p for p in requested if "loadmoreoverviewnews" in p]) == 11


# --- monitoring -------------------------------------------------------------------------------


def strip_cards(listing: Path) -> None:
    listing.write_text(re.sub(r"<article .*?</article>", "", listing.read_text(), flags=re.S))


def test_a_partner_losing_its_cards_fails_the_crawl_naming_it(archive, site):
    before = query(
        archive,
        "SELECT a.url, a.title, a.published FROM articles a JOIN article_partners ap ON ap.article_url = a.url WHERE ap.partner = 'omega' ORDER BY 1",
    )
    strip_cards(site / "ioc" / "omega.html")
    result, _ = crawl_mirror(site, archive)
    assert result.returncode == 1
    assert "partner omega: no card on its listing page, 15 archived before" in result.stdout
    assert "crawl FAILED" in result.stdout
    status, reasons = query(archive, "SELECT status, reasons FROM crawls ORDER BY id DESC LIMIT 1")[
        0
    ]
    assert status == "failed" and "partner omega" in reasons
    after = query(
        archive,
        "SELECT a.url, a.title, a.published FROM articles a JOIN article_partners ap ON ap.article_url = a.url WHERE ap.partner = 'omega' ORDER BY 1",
    )
    assert after == before and len(after) == 15


def test_listing_cards_falling_by_more_than_the_set_share_fail(archive, site):
    listing = site / "ioc" / "atos.html"
    html = listing.read_text()
    cards = list(re.finditer(r"<article .*?</article>", html, re.S))
    listing.write_text(html[: cards[2].start()] + html[cards[-1].end() :])  # 10 cards → 2
    result, _ = crawl_mirror(site, archive)
    assert result.returncode == 1
    assert "partner atos: 2 cards on its listing page, 10 last time" in result.stdout


def test_cards_losing_their_titles_fail_the_coverage_check(archive, site):
    listing = site / "ioc" / "dow.html"
    listing.write_text(re.sub(r"<h2>.*?</h2>", "<h3>moved</h3>", listing.read_text(), flags=re.S))
    result, _ = crawl_mirror(site, archive)
    assert result.returncode == 1
    assert "of linked cards have a title" in result.stdout
    assert query(archive, "SELECT count(*) FROM articles WHERE title IS NULL OR title = ''") == [
        (0,)
    ]


def test_a_failing_check_alerts_a_command_and_a_webhook(archive, site, tmp_path):
    strip_cards(site / "ioc" / "visa.html")
    report = tmp_path / "report.txt"
    command = (
        f"{sys.executable} -c \"import sys; open({str(report)!r}, 'w').write(sys.stdin.read())\""
    )
    with webhook() as hook:
        result, _ = crawl_mirror(
            site, archive, "--alert-command", command, "--alert-webhook", hook.url
        )
    assert result.returncode == 1
    assert "partner visa" in report.read_text()
    assert any("partner visa" in failure for failure in hook.received[-1]["failures"])


# --- runs -------------------------------------------------------------------------------------


def test_runs_lists_crawls_with_status_and_reasons(archive, site):
    strip_cards(site / "ioc" / "omega.html")
    crawl_mirror(site, archive)
    result = run_olyscrape("runs", "--db", str(archive), "--format", "json")
    runs = json.loads(result.stdout)
    assert [r["status"] for r in runs] == ["failed", "ok"]
    assert any("partner omega" in reason for reason in runs[0]["reasons"])
    assert runs[1]["new"] == 130 and runs[1]["seconds"] > 0


# --- one crawl at a time ----------------------------------------------------------------------


def start_crawl(site_url: str, db: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "olyscrape", "crawl", "--base-url", site_url, "--db", str(db), *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def committed_links(db: Path) -> int:
    try:
        return query(db, "SELECT count(*) FROM article_partners")[0][0]
    except sqlite3.OperationalError:
        return 0


def test_of_two_crawls_on_one_archive_one_runs_and_one_refuses(tmp_path):
    db = tmp_path / "a.db"
    # Slow enough that the first crawl still runs (seconds) when the second one starts,
    # however busy the machine: the second interpreter's start-up alone can take 2 s.
    with serve_in_thread(SITE, delay=0.3) as server:
        first = start_crawl(server.base_url, db)
        try:
            # the first crawl holds the lock and has recorded itself (at its first batch)
            wait_for(lambda: committed_links(db) > 0)
            second = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db))
            crawls_during = query(db, "SELECT count(*) FROM crawls")
        finally:
            out, err = first.communicate(timeout=240)
    assert second.returncode == 3
    assert "in use by pid" in second.stderr and "Traceback" not in second.stderr
    assert crawls_during == [(1,)]
    assert first.returncode == 0, out + err
    assert links_per_partner(db) == EXPECTED_PER_PARTNER


def test_a_crawl_killed_with_sigkill_leaves_an_intact_archive_the_next_run_completes(tmp_path):
    db = tmp_path / "a.db"
    with serve_in_thread(SITE, delay=0.05) as server:
        crawl = start_crawl(server.base_url, db, "--batch-size", "5", "--no-articles")
        try:
            wait_for(lambda: committed_links(db) >= 20)
            seen = committed_links(db)
        finally:
            os.kill(crawl.pid, signal.SIGKILL)
            crawl.communicate(timeout=60)
        assert query(db, "PRAGMA integrity_check") == [("ok",)]
        assert committed_links(db) >= seen
        assert committed_links(db) < sum(EXPECTED_PER_PARTNER.values())
        again = run_olyscrape(
            "crawl", "--base-url", server.base_url, "--db", str(db), "--no-articles"
        )
    assert again.returncode == 0, again.stdout + again.stderr
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert links_per_partner(db) == EXPECTED_PER_PARTNER
    assert query(db, "SELECT status FROM crawls ORDER BY id") == [("interrupted",), ("ok",)]
