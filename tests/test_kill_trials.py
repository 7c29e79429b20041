"""Kill trials: a crawl of a slow mirror stopped at several moments (SIGKILL, SIGTERM, a
double SIGTERM), then one ordinary rerun (no ``--full``), leaves the archive equal to a clean
crawl's, field by field. Some moments fall after cards of load-more answers were stored
and before their pages were: the cards an interrupted crawl used to leave without a page
for good."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from olyscrape.testing.mirror import serve_in_thread
from tests.helpers import (
    SITE,
    archive_fields,
    count,
    crawl_process,
    load_more_articles,
    query,
    run_olyscrape,
    stop_when,
)

pytestmark = pytest.mark.slow  # real crawls in subprocesses


def holes(db: Path) -> list[tuple]:
    """The articles on the canonical origin the archive holds without their page."""
    return query(
        db, "SELECT url FROM articles WHERE body IS NULL AND url LIKE 'https://olympics.com/%'"
    )


LINKS_STORED = "SELECT count(*) FROM partner_links"
PAGES_STORED = "SELECT count(*) FROM articles WHERE body IS NOT NULL"


def load_more_cards_without_page(db: Path) -> int:
    """Cards reached through load-more answers, stored, whose page is not stored yet."""
    wanted = load_more_articles()
    marks = ",".join("?" * len(wanted))
    sql = f"SELECT count(*) FROM articles WHERE body IS NULL AND url IN ({marks})"
    try:
        return query(db, sql, *wanted)[0][0]
    except sqlite3.OperationalError:
        return 0


# (signal, the moment: a condition on what the archive holds). Some land after cards of
# load-more answers were stored but before their pages were; others mid-way through pages.
TRIALS: list[tuple[str, str, Callable[[Path], bool]]] = [
    ("SIGKILL", "load-more cards stored, their pages not",
     lambda db: load_more_cards_without_page(db) >= 10),
    ("SIGKILL", "half the pages stored", lambda db: count(db, PAGES_STORED) >= 60),
    ("SIGTERM", "load-more cards stored, their pages not",
     lambda db: load_more_cards_without_page(db) >= 20),
    ("SIGTERM", "a few pages stored", lambda db: count(db, PAGES_STORED) >= 20),
    ("double SIGTERM", "first cards stored", lambda db: count(db, LINKS_STORED) >= 30),
    ("double SIGTERM", "most pages stored", lambda db: count(db, PAGES_STORED) >= 100),
]  # fmt: skip


@pytest.mark.parametrize(("how", "moment", "condition"), TRIALS,
                         ids=[f"{t[0]}-{t[1]}" for t in TRIALS])  # fmt: skip
def test_a_crawl_stopped_at_any_moment_is_completed_by_one_ordinary_rerun(
    tmp_path, archive_db, how, moment, condition
):
    db = tmp_path / "a.db"
    # A double SIGTERM's second signal must find the crawl still waiting for its requests
    # in flight (after that, the command is past Scrapy's signal handling): slower answers.
    with serve_in_thread(SITE, delay=0.3 if how == "double SIGTERM" else 0.02) as server:
        process = crawl_process(server.base_url, db, "--batch-size", "5")
        out, err = stop_when(process, lambda: condition(db), how)
        if how == "SIGKILL":
            assert process.returncode == -signal.SIGKILL
        else:  # stopped by Scrapy: the crawl's row and summary say so
            assert process.returncode == 1, out + err
            assert "crawl INTERRUPTED" in out and "Traceback" not in err
            assert query(db, "SELECT status FROM crawls") == [("interrupted",)]
        assert query(db, "PRAGMA integrity_check") == [("ok",)]
        lacking = len(holes(db))

        server.delay = 0
        # one ordinary rerun: no --full
        again = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db))

    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stderr and "Error:" not in again.stderr
    assert "crawl OK" in again.stdout
    if lacking:  # stored articles without their page: asked for again, incrementally or not
        assert f"asking again for {lacking} article page(s)" in again.stderr
    assert "archive: every article it holds has its page" in again.stdout
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert archive_fields(db) == archive_fields(archive_db)
    assert query(db, "SELECT status FROM crawls ORDER BY id")[-1] == ("ok",)
