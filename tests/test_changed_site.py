"""Real crawls of the saved site and then of its changed copy (the site a week later,
``python -m olyscrape.testing.site --changed``): what the archive keeps of each of the
four changes (``olyscrape.testing.sitegen.CHANGES``), read with SQL.

A full crawl (``--full --refresh-articles``) sees all four: the retitled article's old
title and the edited article's old body in ``article_versions`` (nothing else), the new
article first seen by the second crawl, and the removed card's link left at the first
crawl's time while every other link moves on. A plain incremental crawl sees only what
its partners' first listing pages show (the new card, the retitled card): the edited body
is not fetched again, and the removed card's link is left behind together with every card
past its listing's first page, so no removal can be inferred from it.

Both crawls run with ``--replay`` and take about a second each; the archive's times are to
the second, so the second crawl starts at a later second than the first ended
(:func:`next_second`), else "after the first crawl" could not be told from its times.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from olyscrape.testing.sitegen import CHANGES
from olyscrape.testing.sitegen.data import ADDED
from tests.helpers import SITE, changed_site, query, run_olyscrape

pytestmark = pytest.mark.slow  # four crawls of the saved site

LINKS = """SELECT a.url, l.partner, l.first_seen, l.last_seen
    FROM partner_links l JOIN articles a ON a.id = l.article_id"""
ARTICLES = "SELECT url, title, body, first_seen FROM articles"
VERSIONS = "SELECT article_url, crawl_id, title, body FROM article_versions ORDER BY id"


def next_second() -> None:
    """Sleep to just past the next whole second: a crawl started then stamps its times at
    a later second than anything the last one wrote (the archive's times are to the
    second)."""
    time.sleep(1.02 - time.time() % 1)


def crawl(site: Path, db: Path, *options: str) -> None:
    result = run_olyscrape("crawl", "--replay", str(site), "--db", str(db), *options)
    assert result.returncode == 0, result.stdout + result.stderr


def links(db: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(article URL, partner) → (first_seen, last_seen) of every partner link."""
    return {(url, partner): (first, last) for url, partner, first, last in query(db, LINKS)}


def articles(db: Path) -> dict[str, tuple[str, str, str]]:
    """Article URL → (title, body, first_seen)."""
    return {url: (title, body, seen) for url, title, body, seen in query(db, ARTICLES)}


def crawl_times(db: Path, crawl_id: int) -> tuple[str, str]:
    ((started, finished),) = query(
        db, "SELECT started_at, finished_at FROM crawls WHERE id = ?", crawl_id
    )
    return started, finished


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The changed copy, and an archive of one crawl of the saved site (read only)."""
    root = tmp_path_factory.mktemp("changed-site")
    site = changed_site(root / "site")
    db = root / "first.db"
    crawl(SITE, db)
    return site, db


def second(first: tuple[Path, Path], name: str, *options: str) -> Path:
    """A copy of the first crawl's archive, crawled again over the changed copy."""
    site, db = first
    again = db.with_name(name)
    shutil.copyfile(db, again)
    next_second()
    crawl(site, again, *options)
    return again


@pytest.fixture(scope="module")
def full(first: tuple[Path, Path]) -> Path:
    return second(first, "full.db", "--full", "--refresh-articles")


@pytest.fixture(scope="module")
def incremental(first: tuple[Path, Path]) -> Path:
    return second(first, "incremental.db")


def test_the_second_crawl_started_after_the_first_ended(first, full, incremental):
    _, ended = crawl_times(first[1], 1)
    for db in (full, incremental):
        assert crawl_times(db, 1)[1] == ended
        assert crawl_times(db, 2)[0] > ended


def test_the_first_crawl_archived_the_three_old_articles_with_their_pages(first):
    held = articles(first[1])
    c = CHANGES
    for url in (c.retitled_url, c.edited_url, c.removed_url):
        assert held[url][1], url  # a body: its page was archived
    assert held[c.retitled_url][0] == c.retitled_old_title
    assert c.new_url not in held
    assert (c.removed_url, c.removed_partner) in links(first[1])
    assert query(first[1], "SELECT count(*) FROM article_versions") == [(0,)]


def test_full_crawl_keeps_exactly_the_old_title_and_the_old_body(first, full):
    before, after = articles(first[1]), articles(full)
    c = CHANGES
    title, body, _ = before[c.retitled_url]
    edited_title, edited_body, _ = before[c.edited_url]
    assert sorted(query(full, VERSIONS)) == sorted(
        [
            (c.retitled_url, 2, c.retitled_old_title, body),
            (c.edited_url, 2, edited_title, edited_body),
        ]
    )
    assert title == c.retitled_old_title
    assert after[c.retitled_url][:2] == (c.retitled_new_title, body)  # retitled, body as it was
    assert after[c.edited_url][0] == edited_title
    assert after[c.edited_url][1] != edited_body
    assert ADDED.split("{")[0] in after[c.edited_url][1]


def test_full_crawl_finds_the_new_article_after_the_first_crawl(first, full):
    c = CHANGES
    _, ended = crawl_times(first[1], 1)
    started, _ = crawl_times(full, 2)
    title, body, first_seen = articles(full)[c.new_url]
    assert (title, first_seen > ended, first_seen >= started) == (c.new_title, True, True)
    assert body
    new_first_seen, _ = links(full)[(c.new_url, c.new_partner)]
    assert new_first_seen >= started
    assert set(articles(full)) == set(articles(first[1])) | {c.new_url}


def test_full_crawl_leaves_only_the_removed_cards_link_behind(first, full):
    before, after = links(first[1]), links(full)
    started, _ = crawl_times(full, 2)
    c = CHANGES
    removed = (c.removed_url, c.removed_partner)
    assert after[removed] == before[removed]  # last_seen stayed at the first crawl's time
    behind = sorted(key for key, (_, last) in after.items() if last < started)
    assert behind == [removed]  # every other link, of every partner, moved on
    assert len(after) == len(before) + 1


def test_incremental_crawl_sees_the_new_and_the_retitled_card(first, incremental):
    c = CHANGES
    held = articles(incremental)
    assert held[c.new_url][0] == c.new_title and held[c.new_url][1]
    assert held[c.retitled_url][0] == c.retitled_new_title  # its card is on a first listing page
    assert [row[:3] for row in query(incremental, VERSIONS)] == [
        (c.retitled_url, 2, c.retitled_old_title)
    ]


def test_incremental_crawl_does_not_see_the_edited_body(first, incremental):
    c = CHANGES
    assert articles(incremental)[c.edited_url] == articles(first[1])[c.edited_url]


def test_incremental_crawl_cannot_tell_the_removed_card_from_older_ones(first, incremental):
    """The walk stops at the listing page's known cards: every card past it is left at
    the first crawl's time, the removed one among them."""
    before, after = links(first[1]), links(incremental)
    started, _ = crawl_times(incremental, 2)
    c = CHANGES
    behind = [url for (url, partner), (_, last) in after.items()
              if partner == c.removed_partner and last < started]  # fmt: skip
    assert c.removed_url in behind
    assert len(behind) > 1  # indistinguishable from the cards the walk did not reach
    assert after[(c.removed_url, c.removed_partner)] == before[(c.removed_url, c.removed_partner)]
