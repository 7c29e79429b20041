"""The summary's closing ``archive:`` line, worded for each case: nothing missing, holes
the next crawl asks for, pages given up on (all of them, some, one)."""

from __future__ import annotations

import pytest

from olyscrape.cli.reports.crawl import CrawlSummary

ARCHIVE = {"articles": 129, "article_partners": 130, "partners": 14, "page_max_failures": 3}


def archive_line(missing: int, given_up: int, max_failures: int = 3) -> str:
    counts = {**ARCHIVE, "articles_without_page": missing, "pages_given_up": given_up,
              "page_max_failures": max_failures}  # fmt: skip
    text = CrawlSummary(rows={}, status="ok", archive=counts).render("a.db")
    lines = [line for line in text.splitlines() if line.startswith("archive: ")]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize(
    ("missing", "given_up", "expected"),
    [
        (0, 0, "archive: every article it holds has its page"),
        (1, 0, "archive: 1 article has no page yet (the next crawl asks for it)"),
        (3, 0, "archive: 3 articles have no page yet (the next crawl asks for them)"),
        # Every one given up: no "others" to ask for.
        (1, 1, "archive: 1 article has no page yet (1 failed 3 crawls in a row: no longer"
               " asked for)"),
        (3, 3, "archive: 3 articles have no page yet (3 failed 3 crawls in a row: no longer"
               " asked for)"),
        (3, 2, "archive: 3 articles have no page yet (2 failed 3 crawls in a row: no longer"
               " asked for; the other one is asked for by the next crawl)"),
        (5, 2, "archive: 5 articles have no page yet (2 failed 3 crawls in a row: no longer"
               " asked for; the other 3 are asked for by the next crawl)"),
    ],
)  # fmt: skip
def test_the_archive_line_says_what_the_next_crawl_asks_for(missing, given_up, expected):
    assert archive_line(missing, given_up) == expected


def test_one_crawl_is_singular():
    line = archive_line(2, 2, max_failures=1)
    assert line == "archive: 2 articles have no page yet (2 failed 1 crawl in a row: no longer" \
        " asked for)"  # fmt: skip


def test_a_page_given_up_is_listed_under_the_line():
    counts = {**ARCHIVE, "articles_without_page": 1, "pages_given_up": 1}
    page = {"url": "https://olympics.com/ioc/news/x", "failures": 3, "reason": "HTTP 404"}
    text = CrawlSummary(rows={}, archive=counts, given_up_pages=[page]).render()
    assert "\n  https://olympics.com/ioc/news/x: HTTP 404 (failed 3 crawls in a row)" in text
