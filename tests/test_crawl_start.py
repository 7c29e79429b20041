"""A crawl's start and its lookups cost what the crawl reads (issue 22, item 1).

What earlier crawls archived is asked of the archive's indexes page by page, never loaded
whole: the work SQLite does for a crawl of one partner does not grow with other partners'
links. The answers stay those of the archive at the crawl's start ("new links", the
incremental stop, the ``known`` count). And the full ``integrity_check`` runs only when
the file changed since the last writer that checked it closed it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from olyscrape import crawlstats
from olyscrape.archive import lookups, schema
from olyscrape.archive.writer import ArchiveWriter
from tests.helpers import SITE, one_error_line, query, run_olyscrape, sha256
from tests.test_integrity import flip_byte_in_page

#: Articles linked to other partners than the one crawled, added to one archive.
OTHERS = 20_000


async def crawl_partners(db: Path, partners: str, **settings: Any) -> dict[str, Any]:
    """A replay of the saved site in this process, of ``partners`` only; its stats."""
    from scrapy.crawler import Crawler

    from olyscrape.crawl import project_settings
    from olyscrape.spiders.partners import PartnersSpider

    overrides = {"OLYSCRAPE_DB": str(db), "OLYSCRAPE_REPLAY_DIR": str(SITE),
                 "LOG_LEVEL": "WARNING", **settings}  # fmt: skip
    crawler = Crawler(PartnersSpider, project_settings(**overrides))
    await crawler.crawl(partners=partners)
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())


def add_other_links(db: Path, count: int) -> None:
    """``count`` articles with their page, each linked to a partner other than Visa (and
    Airbnb, whose listing is empty: the monitors would say it lost its cards)."""
    others = ["alibaba", "allianz", "atos", "omega", "toyota"]
    conn = sqlite3.connect(db)
    with conn:
        (top,) = conn.execute("SELECT max(id) FROM articles").fetchone()
        conn.executemany(
            "INSERT INTO articles (id, url, title, body) VALUES (?, ?, ?, ?)",
            [(top + n, f"https://olympics.com/ioc/news/other-{n}", f"other {n}", "page")
             for n in range(1, count + 1)],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO partner_links (article_id, partner, position) VALUES (?, ?, ?)",
            [(top + n, others[n % len(others)], n) for n in range(1, count + 1)],
        )
        conn.execute(schema.INDEX_NEW_ROWS, {"after": top})  # as the writer's batches do
    conn.close()


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The writer's connection traced: its statements, and its SQLite VM steps (in tens,
    counted by a progress handler): the work the crawl asks of the archive."""
    seen: dict[str, Any] = {"sql": [], "steps": 0}
    connect = ArchiveWriter._connect

    def step() -> int:
        seen["steps"] += 10
        return 0

    def traced_connect(self: ArchiveWriter, migrate: bool = True) -> sqlite3.Connection:
        fresh = self.conn is None
        conn = connect(self, migrate)
        if fresh:
            conn.set_trace_callback(seen["sql"].append)
            conn.set_progress_handler(step, 10)
        return conn

    monkeypatch.setattr(ArchiveWriter, "_connect", traced_connect)
    return seen


def test_the_page_lookup_reads_the_url_index_then_the_links_key(archive_copy):
    """One query per page: each card URL found by ``idx_articles_url``, its link by the
    primary key (article, partner); never a scan of the partner's links."""
    sql = lookups._LINKED.format(marks="?,?")
    conn = sqlite3.connect(archive_copy)
    try:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ["visa", "a", "b"])]
    finally:
        conn.close()
    assert len(plan) == 2, plan
    assert plan[0].startswith("SEARCH a USING") and "idx_articles_url (url=?)" in plan[0]
    # by its primary key (article_id, partner) or its partner index (partner, article_id)
    assert plan[1].startswith("SEARCH l USING") and "=? AND " in plan[1], plan


@pytest.mark.slow
@pytest_twisted.ensureDeferred
async def test_a_crawl_of_one_partner_reads_no_more_for_other_partners_links(
    archive_copy, tmp_path, traced
):
    small = archive_copy  # the saved site, crawled once
    large = tmp_path / "large.db"
    large.write_bytes(small.read_bytes())
    add_other_links(large, OTHERS)
    runs = {}
    for name, db in (("small", small), ("large", large)):
        traced["sql"].clear()
        traced["steps"] = 0
        stats = await crawl_partners(db, "visa")
        assert crawlstats.CrawlStats(stats).verdict.ok, stats
        runs[name] = (traced["steps"], list(traced["sql"]), stats)
    (small_steps, _, small_stats), (large_steps, large_sql, large_stats) = runs.values()
    # Loading every link read each of the 20,000 (tens of VM steps each); asking the
    # indexes costs the same on both (a deeper b-tree may add a few steps).
    assert large_steps - small_steps < OTHERS // 20, (small_steps, large_steps)
    asked = [s for s in large_sql if "CROSS JOIN partner_links" in s]
    assert len(asked) == 1  # Visa stopped at its first page: one question, for its cards
    assert not [s for s in large_sql if "FROM partner_links l JOIN articles" in s]
    for stats in (small_stats, large_stats):
        assert stats[crawlstats.partner_key("visa", "stopped_early")] == 1
        assert stats.get(crawlstats.partner_key("alibaba", "known")) is None  # not crawled
    visa_links = query(small, "SELECT count(*) FROM partner_links WHERE partner = 'visa'")[0][0]
    assert small_stats[crawlstats.partner_key("visa", "known")] == visa_links
    assert large_stats[crawlstats.partner_key("visa", "known")] == visa_links


@pytest.mark.slow
@pytest_twisted.ensureDeferred
async def test_new_links_are_counted_against_the_archive_at_the_crawls_start(tmp_path, caplog):
    """Visa's first load-more answer repeats the cards of its page (offset 0). Committed
    a card at a time, those cards are in the archive by then; they were not when the crawl
    started, and every line of this first crawl counts each card as a new link."""
    db = tmp_path / "first.db"
    with caplog.at_level(logging.DEBUG, logger="olyscrape.spiders.partners"):
        stats = await crawl_partners(db, "visa", OLYSCRAPE_BATCH_SIZE=1, LOG_LEVEL="DEBUG")
    assert crawlstats.CrawlStats(stats).verdict.ok
    lines = [r.getMessage() for r in caplog.records if "new links" in r.getMessage()]
    assert len(lines) == 4, lines  # the listing page and three load-more answers
    for line in lines:
        cards, new = line.rsplit(": ", 1)[1].replace(" new links", "").split(" cards, ")
        assert cards == new, line
    assert crawlstats.partner_key("visa", "known") not in stats  # nothing archived before


def crawl(db: Path, *args: str) -> Any:
    return run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), *args)


def check_of(db: Path) -> str | None:
    stats = query(db, "SELECT stats FROM crawls ORDER BY id DESC LIMIT 1")[0][0]
    return json.loads(stats).get(crawlstats.ARCHIVE_CHECK)


@pytest.mark.slow
def test_the_full_check_is_skipped_only_for_the_file_the_last_checked_writer_left(tmp_path):
    db = tmp_path / "a.db"
    assert crawl(db).returncode == 0
    assert check_of(db) is None  # a new file: nothing to check
    lock = Path(f"{db}.lock").read_text().splitlines()
    assert lock[1].startswith("checked ")
    assert crawl(db).returncode == 0
    assert check_of(db) == "unchanged"
    assert crawl(db, "-s", "OLYSCRAPE_ARCHIVE_CHECK=always").returncode == 0
    assert check_of(db) == "integrity_check"
    assert crawl(db, "-s", "OLYSCRAPE_ARCHIVE_CHECK=quick").returncode == 0
    assert check_of(db) == "quick_check"
    assert len(Path(f"{db}.lock").read_text().splitlines()) == 1  # quick vouches for nothing
    assert crawl(db).returncode == 0
    assert check_of(db) == "integrity_check"
    assert crawl(db).returncode == 0
    assert check_of(db) == "unchanged"

    # A byte flipped in place at once, its modification time put back: still checked.
    stat = db.stat()
    flip_byte_in_page(db, "articles")
    os.utime(db, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    before = sha256(db)
    result = crawl(db)
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: archive {db}: damaged (integrity_check: ")
    assert "Traceback" not in result.stderr
    assert sha256(db) == before


_HALF_WRITTEN = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = DELETE")
conn.execute("PRAGMA cache_size = 1")  # pages spill into the file before the commit
conn.execute("BEGIN")
conn.execute("UPDATE articles SET body = coalesce(body, '') || 'x'")
conn.execute("UPDATE captures SET url = url || 'y'")
os._exit(0)  # killed inside the transaction: its -journal is hot
"""


@pytest.mark.slow
def test_a_journal_beside_the_file_is_never_skipped_over(tmp_path):
    """The file as the last checked crawl left it, but a ``-journal`` with content beside
    it (another file's, put there by hand): the fingerprint cannot vouch for what that
    journal rolls back, so the crawl never skips the check on its word. SQLite rolls the
    journal back on the first read (as the sqlite3 shell would); the full check then finds
    what it did, and the crawl is refused in one line before its first request."""
    db, other = tmp_path / "a.db", tmp_path / "other.db"
    assert crawl(db).returncode == 0
    assert crawl(db).returncode == 0 and check_of(db) == "unchanged"
    assert crawl(other).returncode == 0
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", _HALF_WRITTEN, str(other)], check=True)
    note = Path(f"{db}.lock").read_text()
    Path(f"{db}-journal").write_bytes(Path(f"{other}-journal").read_bytes())
    result = crawl(db)
    assert "Traceback" not in result.stderr and "Unhandled error" not in result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: archive {db}: "), line
    assert "damaged" in line or "cannot be read" in line, line
    assert note.splitlines()[1].startswith("checked ")  # the note did vouch for the file
