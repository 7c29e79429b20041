"""Completeness belongs to the archive, not to one crawl: an article whose page a crawl did
not store (killed first, a failed fetch) is asked for by the next crawl, incremental or
not; a page that keeps failing is given up after a bounded number of crawls and named;
the summary always says what the archive still lacks."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from olyscrape.testing.mirror import Fault, serve_in_thread
from tests.helpers import ORIGIN, SITE, archive_fields, load_more_articles, query, run_olyscrape

pytestmark = pytest.mark.slow  # real crawls in subprocesses


def mirror_path(url: str) -> str:
    return url.removeprefix(ORIGIN)


def crawl(base_url: str, db: Path, *args: str) -> subprocess.CompletedProcess:
    return run_olyscrape("crawl", "--base-url", base_url, "--db", str(db), *args)


def assert_clean(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "Error:" not in result.stderr
    assert "crawl OK" in result.stdout


def holes(db: Path) -> list[tuple]:
    return query(
        db, "SELECT url, page_failures, page_error FROM articles WHERE body IS NULL"
        " AND url LIKE 'https://olympics.com/%' ORDER BY url",
    )  # fmt: skip


# --- a page that failed once ------------------------------------------------------------------


def test_an_article_page_failing_once_is_stored_by_the_next_crawl(tmp_path, archive_db):
    target = load_more_articles()[0]
    # More answers than the crawl's retries: this crawl does not get the page; the next does.
    fault = Fault("status", status=503, times=4)
    db = tmp_path / "a.db"
    with serve_in_thread(SITE, faults={mirror_path(target): fault}) as server:
        first = crawl(server.base_url, db)
        asked_first = server.hits[mirror_path(target)]
        after_first = query(
            db, "SELECT body, page_failures, page_error FROM articles WHERE url = ?", target
        )
        done = len(server.requests)
        second = crawl(server.base_url, db)
        asked_second = server.hits[mirror_path(target)] - asked_first
        second_requests = server.requests[done:]

    # A missing article page does not fail a crawl, but it is named, and the archive says
    # what it lacks.
    assert_clean(first)
    assert asked_first == 4  # the first answer and RETRY_TIMES retries, all 503
    assert f"{target}: HTTP 503" in first.stdout
    assert "archive: 1 article has no page yet (the next crawl asks for it)" in first.stdout
    # Only the stored fields of the page are missing: the card, its links, its walk are kept.
    assert after_first == [(None, 1, "HTTP 503")]

    # The next crawl is incremental (it stops at the first listing page), yet asks for it.
    assert_clean(second)
    assert asked_second == 1
    assert [p for p in second_requests if "loadmoreoverviewnews" in p] == []
    assert "archive: every article it holds has its page" in second.stdout
    assert holes(db) == []
    assert query(db, "SELECT page_failures, page_error FROM articles WHERE url = ?", target) == [
        (0, None)
    ]
    assert archive_fields(db) == archive_fields(archive_db)


# --- a page that never comes ------------------------------------------------------------------


def test_an_article_page_failing_every_crawl_is_given_up_and_named(archive_copy, archive_db):
    target = load_more_articles()[1]
    db = archive_copy
    conn = sqlite3.connect(db)
    with conn:  # an article an earlier crawl left without its page
        conn.execute("DELETE FROM article_tags WHERE article_url = ?", [target])
        conn.execute("UPDATE articles SET body = NULL WHERE url = ?", [target])
    conn.close()
    fault = Fault("status", status=404)  # never retried, never comes
    answers: list[Any] = []
    with serve_in_thread(SITE, faults={mirror_path(target): fault}) as server:
        for _ in range(4):
            before = server.hits[mirror_path(target)]
            result = crawl(server.base_url, db, "--format", "json")
            answers.append((result, server.hits[mirror_path(target)] - before))

    for number, (result, asked) in enumerate(answers, start=1):
        assert result.returncode == 0, result.stdout + result.stderr  # the verdict stays
        assert "Traceback" not in result.stderr and "Error:" not in result.stderr
        summary = json.loads(result.stdout)
        assert summary["verdict"] == "ok"
        archive = summary["archive"]
        assert archive["articles_without_page"] == 1
        assert archive["page_max_failures"] == 3
        # Asked for by each of the first three crawls (once each), then no more.
        assert asked == (1 if number <= 3 else 0), number
        assert archive["pages_given_up"] == (1 if number >= 3 else 0), number
        failed_here = [f["url"] for f in summary["article_failures"]]
        assert failed_here == ([target] if number <= 3 else [])
    assert query(db, "SELECT body, page_failures, page_error FROM articles WHERE url = ?",
                 target) == [(None, 3, "HTTP 404")]  # fmt: skip
    given_up = json.loads(answers[-1][0].stdout)["given_up_pages"]
    assert [(p["url"], p["failures"], p["reason"]) for p in given_up] == [(target, 3, "HTTP 404")]

    # The table names it too.
    text = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db))
    assert text.returncode == 0 and "Traceback" not in text.stderr
    assert "archive: 1 article has no page yet (1 failed 3 crawls in a row" in text.stdout
    assert f"  {target}: HTTP 404 (failed 3 crawls in a row)" in text.stdout
    # Everything else is as a clean crawl left it.
    expected = archive_fields(archive_db)
    got = archive_fields(db)
    assert got["links"] == expected["links"]
    assert [r for r in got["articles"] if r[0] != target] == [
        r for r in expected["articles"] if r[0] != target
    ]


# --- with --partners, and in a re-parse ---------------------------------------------------


def make_holes(db: Path, *urls_: str) -> None:
    """Articles an earlier crawl left without their page."""
    conn = sqlite3.connect(db)
    with conn:
        for url in urls_:
            conn.execute("DELETE FROM article_tags WHERE article_url = ?", [url])
            conn.execute("UPDATE articles SET body = NULL WHERE url = ?", [url])
    conn.close()


def only_partner(db: Path, partner: str) -> str:
    """An article that only ``partner`` showed (on a load-more answer, where there is one)."""
    linked = query(
        db, "SELECT article_url FROM article_partners GROUP BY article_url"
        " HAVING count(*) = 1 AND min(partner) = ? ORDER BY article_url", partner,
    )  # fmt: skip
    urls_ = [u for (u,) in linked]
    return next((u for u in load_more_articles() if u in urls_), urls_[0])


def test_partners_asks_only_for_the_pages_of_the_chosen_partners(archive_copy, archive_db):
    db = archive_copy
    alibaba, omega = only_partner(db, "alibaba"), only_partner(db, "omega")
    make_holes(db, alibaba, omega)
    result = run_olyscrape(
        "crawl", "--replay", str(SITE), "--db", str(db), "--partners", "alibaba"
    )  # fmt: skip
    assert_clean(result)
    assert "asking again for 1 article page(s)" in result.stderr
    assert "archive: 1 article has no page yet (the next crawl asks for it)" in result.stdout
    assert [u for (u, *_) in holes(db)] == [omega]
    again = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db))
    assert_clean(again)
    assert "archive: every article it holds has its page" in again.stdout
    assert archive_fields(db) == archive_fields(archive_db)


def test_a_reparse_reads_captures_only_and_leaves_holes_and_failures_as_they_were(
    archive_copy,
):
    db = archive_copy
    target = load_more_articles()[2]
    make_holes(db, target)
    conn = sqlite3.connect(db)
    with conn:  # its page was never captured, and failed once
        conn.execute(
            "UPDATE articles SET page_failures = 1, page_error = 'HTTP 503' WHERE url = ?", [target]
        )
        conn.execute("DELETE FROM captures WHERE canonical_url = ?", [target])
    conn.close()
    result = run_olyscrape("reparse", "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "asking again" not in result.stderr
    assert holes(db) == [(target, 1, "HTTP 503")]
