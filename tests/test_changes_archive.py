"""What changed, as the archive tells it (olyscrape.archive.changes): new, edited and gone,
each walk recorded only once it completed, a link gone only on a full walk's word."""

from __future__ import annotations

import sqlite3

import pytest

from olyscrape.archive import ArchiveWriter
from olyscrape.archive.changes import ChangeQuery, changes_sql
from olyscrape.archive.reader import ArchiveReader
from olyscrape.items import ArticleCard, ArticlePageItem, Partner, WalkDone
from olyscrape.testing import archives

NEWS = "https://olympics.com/ioc/news/"


def card(slug: str, partner: str = "visa", position: int = 1, **fields: str) -> ArticleCard:
    values = {"title": f"About {slug}", "category": "IOC News", "published": "2021-07-22",
              "published_raw": "22 Jul 2021"} | fields  # fmt: skip
    return ArticleCard(url=NEWS + slug, partner=partner, position=position, **values)


def page(slug: str, text: str, partner: str = "visa") -> ArticlePageItem:
    return ArticlePageItem(url=NEWS + slug, partner=partner, body=text)


def walk(partner: str = "visa") -> Partner:
    return Partner(slug=partner, name=partner.title(), url=f"https://olympics.com/ioc/{partner}")


class Site:
    """An archive written as crawls write it: each crawl a partner's walk at its own time."""

    def __init__(self, path):
        self.path = path
        self.writer = ArchiveWriter.open(path, record_crawl=False)
        self.writer.store([])  # the file made, the connection open
        self.crawl = 0

    def crawl_at(self, at: str, items: list, done: WalkDone | None = None) -> None:
        self.crawl += 1
        self.writer.crawl_id = self.crawl
        with self.writer.conn:  # as the writer opens its crawl's row: before its first batch
            self.writer.conn.execute(
                "INSERT INTO crawls (id, started_at, status) VALUES (?, ?, 'ok')", [self.crawl, at]
            )
        self.writer.store([walk(), *items], seen_at=at)
        if done is not None:
            self.writer.store([done], seen_at=at.replace(":00Z", ":30Z"))

    def changes(self, **query) -> list[tuple]:
        with ArchiveReader.open(self.path) as reader:
            return [(r["kind"], r["url"].removeprefix(NEWS), r["fields"], r["at"])
                    for r in reader.iter_changes(ChangeQuery(**query))]  # fmt: skip


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path / "a.db")
    yield site
    site.writer.close()


FULL, INCREMENTAL = WalkDone("visa"), WalkDone("visa", incremental=True)
T1, T2, T3, T4 = (f"2026-0{m}-01T00:00:00Z" for m in (1, 2, 3, 4))


def test_each_complete_walk_is_recorded_with_its_kind_and_an_unfinished_one_is_not(site):
    site.crawl_at(T1, [card("a")], FULL)
    site.crawl_at(T2, [card("a")], INCREMENTAL)
    site.crawl_at(T3, [card("a")], None)  # cut short: no WalkDone stored
    walks = site.writer.conn.execute(
        "SELECT crawl_id, partner, started, completed, kind FROM walks ORDER BY id"
    ).fetchall()
    assert walks == [
        (1, "visa", T1, "2026-01-01T00:00:30Z", "full"),
        (2, "visa", T2, "2026-02-01T00:00:30Z", "incremental"),
    ]


def test_a_card_missing_from_a_full_walk_is_gone_at_that_walk(site):
    site.crawl_at(T1, [card("a", position=1), card("b", position=2)], FULL)
    site.crawl_at(T2, [card("a", position=1)], FULL)
    assert site.changes(kinds=("gone",)) == [("gone", "b", [], "2026-02-01T00:00:30Z")]


@pytest.mark.parametrize("done", [INCREMENTAL, None], ids=["incremental", "interrupted"])
def test_no_card_is_gone_on_the_word_of_an_incremental_or_unfinished_walk(site, done):
    site.crawl_at(T1, [card("a", position=1), card("b", position=2)], FULL)
    site.crawl_at(T2, [card("new", position=1)], done)
    assert site.changes(kinds=("gone",)) == []
    # The next full walk that does not show it is when it went, once.
    site.crawl_at(T3, [card("new", position=1), card("a", position=2)], FULL)
    site.crawl_at(T4, [card("new", position=1), card("a", position=2)], FULL)
    assert site.changes(kinds=("gone",)) == [("gone", "b", [], "2026-03-01T00:00:30Z")]


def test_a_card_shown_again_is_no_longer_gone(site):
    site.crawl_at(T1, [card("a"), card("b", position=2)], FULL)
    site.crawl_at(T2, [card("a")], FULL)
    site.crawl_at(T3, [card("a"), card("b", position=2)], FULL)
    assert site.changes(kinds=("gone",)) == []


def test_new_edited_and_gone_newest_first_with_the_fields_an_edit_replaced(site):
    site.crawl_at(T1, [card("a"), page("a", "First body."), card("b", position=2)], FULL)
    site.crawl_at(T2, [card("a", title="Retitled"), card("c", position=2)], FULL)
    site.crawl_at(T3, [card("a", title="Retitled"), page("a", "Second body."),
                       card("c", position=2)], FULL)  # fmt: skip
    assert site.changes(since=T2) == [
        ("edited", "a", ["body"], T3),
        ("gone", "b", [], "2026-02-01T00:00:30Z"),
        ("edited", "a", ["title"], T2),  # the same second: by kind, then URL
        ("new", "c", [], T2),
    ]
    with ArchiveReader.open(site.path) as reader:
        body, title = reader.iter_changes(ChangeQuery(kinds=("edited",)))
    assert (title["before"], title["after"]) == ({"title": "About a"}, {"title": "Retitled"})
    assert (body["before"], body["after"]) == ({"body": "First body."}, {"body": "Second body."})


def test_changes_of_one_partner_and_of_one_kind(site):
    site.crawl_at(T1, [card("a"), card("shared", partner="omega")], FULL)
    site.crawl_at(T2, [card("a"), card("v", position=2), card("o", partner="omega")], FULL)
    new = {r[1] for r in site.changes(since=T2, partners=("omega",))}
    assert new == {"o"}
    assert {r[1] for r in site.changes(since=T2, kinds=("new",))} == {"v", "o"}


def test_a_limit_among_articles_of_one_second_takes_the_last_stored_by_the_index(site):
    """A first crawl stores hundreds of articles in one second: ``--limit 3`` shows the
    three stored last (by article number, which the first-seen index holds, so no sort of
    the whole second), listed by URL; the plan reads the index, not a temporary sort."""
    slugs = [f"n{i:03d}-{'zyx'[i % 3]}" for i in range(40)]
    site.crawl_at(T1, [card(slug, position=i + 1) for i, slug in enumerate(slugs)])
    shown = site.changes(limit=3, kinds=("new",))
    assert [row[1] for row in shown] == sorted(slugs[-3:])
    sql, params = changes_sql(ChangeQuery(limit=3, kinds=("new",)))
    with sqlite3.connect(site.path) as conn:
        plan = " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "idx_articles_first_seen" in plan and "TEMP B-TREE FOR RIGHT PART" not in plan, plan


def test_history_lists_every_version_with_when_it_stood(site):
    site.crawl_at(T1, [card("a", title="One"), page("a", "Body one.")], FULL)
    site.crawl_at(T2, [card("a", title="Two")], FULL)
    site.crawl_at(T3, [card("a", title="Three")], FULL)
    with ArchiveReader.open(site.path) as reader:
        history = reader.history(NEWS + "a")
        assert reader.history(NEWS + "nothing") is None
    assert history is not None
    assert [(v.values["title"], v.since, v.until) for v in history.versions] == [
        ("One", T1, T2), ("Two", T2, T3), ("Three", T3, None)]  # fmt: skip
    assert history.versions[0].values["body"] == "Body one."


def test_an_upgraded_archive_starts_from_its_last_complete_walk(tmp_path):
    """Version 6 kept only the last walk: version 7 records it as `before`, which bounds the
    first full walk's gone links (a link last seen before it went before the upgrade)."""
    path = archives.build(tmp_path / "v6.db", "6")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE partners SET walk_started = '2026-01-01T00:00:00Z',"
                 " walk_completed = '2026-01-01T00:00:10Z' WHERE slug = 'visa'")  # fmt: skip
    conn.commit()
    conn.close()
    with ArchiveWriter.open(path, record_crawl=False) as writer:
        writer.store([])  # the first write migrates
        walks = writer.conn.execute("SELECT partner, started, kind FROM walks").fetchall()
    assert walks == [("visa", "2026-01-01T00:00:00Z", "before")]


@pytest.mark.parametrize("version", ["0-first", "3", "6"])
def test_an_older_archive_read_as_it_is_lists_its_new_articles_and_no_gone(tmp_path, version):
    path = archives.build(tmp_path / "old.db", version)
    before = path.read_bytes()
    with ArchiveReader.open(path) as reader:
        kinds = {row["kind"] for row in reader.iter_changes(ChangeQuery())}
    assert kinds <= {"new", "edited"} and "new" in kinds
    assert path.read_bytes() == before


def test_a_card_and_its_page_changed_in_one_crawl_are_one_edit(site):
    """The card's new title in one batch, the page's new body in a later one of the same
    crawl: one version (the values before the crawl), one edit of both fields."""
    site.crawl_at(T1, [card("a"), page("a", "First body.")], FULL)
    site.crawl_at(T2, [card("a", title="Retitled")])
    site.writer.store([page("a", "Second body.")], seen_at=T2)  # a later batch of crawl 2
    versions = site.writer.conn.execute("SELECT title, body FROM article_versions").fetchall()
    assert versions == [("About a", "First body.")]
    assert site.changes(kinds=("edited",)) == [("edited", "a", ["title", "body"], T2)]


def test_a_date_where_the_card_had_none_is_an_edit_of_an_article_stored_before(site):
    site.crawl_at(T1, [card("a", published=None, published_raw="TBC")], FULL)
    site.crawl_at(T2, [card("a")], FULL)
    assert site.changes(kinds=("edited",)) == [("edited", "a", ["published"], T2)]
    with ArchiveReader.open(site.path) as reader:
        (edit,) = reader.iter_changes(ChangeQuery(kinds=("edited",)))
        history = reader.history(NEWS + "a")
    assert (edit["before"], edit["after"]) == ({"published": None}, {"published": "2021-07-22"})
    assert history is not None and history.versions[0].values["published"] is None


def test_a_first_crawl_that_fills_a_date_from_a_second_card_makes_no_edit(site):
    """Within the crawl that first stored it, an article's second card filling its date is
    the archive learning it, not the site changing it."""
    site.crawl_at(T1, [card("a", published=None, published_raw="TBC"),
                       card("a", partner="omega")], FULL)  # fmt: skip
    assert site.changes(kinds=("edited",)) == []


def test_a_walk_ended_at_a_paging_cycle_or_in_a_failed_crawl_makes_nothing_gone(site):
    site.crawl_at(T1, [card("a", position=1), card("b", position=2)], FULL)
    site.crawl_at(T2, [card("a", position=1)], WalkDone("visa", whole=False))
    assert site.writer.conn.execute("SELECT kind FROM walks WHERE crawl_id = 2").fetchall() == [
        ("cut",)
    ]
    site.crawl_at(T3, [card("a", position=1)], FULL)
    with site.writer.conn:
        site.writer.conn.execute("UPDATE crawls SET status = 'failed' WHERE id = 3")
    assert site.changes(kinds=("gone",)) == []
    site.crawl_at(T4, [card("a", position=1)], FULL)  # a full walk of a crawl that ended OK
    assert site.changes(kinds=("gone",)) == [("gone", "b", [], "2026-04-01T00:00:30Z")]


@pytest.mark.parametrize("batches", [1, 2], ids=["one-batch", "two-batches"])
def test_an_article_two_partners_title_differently_is_never_edited(site, batches):
    """Visa's card and Omega's give one article two titles: each crawl reads both, in turn,
    and the article ends as it began. No version, no edit, crawl after crawl."""
    cards = [card("shared", title="Visa's title"), card("shared", partner="omega", title="Omega's")]
    site.crawl_at(T1, cards, FULL)
    for at in (T2, T3):
        if batches == 1:
            site.crawl_at(at, cards, FULL)
        else:
            site.crawl_at(at, cards[:1])
            site.writer.store(cards[1:], seen_at=at)
    assert site.writer.conn.execute("SELECT count(*) FROM article_versions").fetchone() == (0,)
    assert site.changes(kinds=("edited",)) == []


def test_an_edit_by_a_crawl_in_the_same_second_as_the_last_is_kept(tmp_path):
    """Which articles an earlier crawl stored is told by their numbers, not the clock: a
    crawl that starts in the second the last one did (a scheduler, a clock set back)
    still keeps the version its retitling replaced."""
    path = tmp_path / "a.db"
    with ArchiveWriter.open(path) as writer:
        writer.store([walk(), card("a", title="Before")], seen_at=T1)
    with ArchiveWriter.open(path) as writer:
        writer.store([walk(), card("a", title="After")], seen_at=T1)
        rows = writer.conn.execute("SELECT title, crawl_id FROM article_versions").fetchall()
    assert rows == [("Before", 2)]


@pytest.mark.parametrize("second", [T2, T1], ids=["same-second", "clock-set-back"])
def test_gone_follows_the_crawls_not_the_clock(site, second):
    """A full walk by a crawl that started in the same second as the last one, or after
    the clock was set back: the card it did not show is gone, the ones it showed are not."""
    site.crawl_at(T2, [card("a", position=1), card("b", position=2)], FULL)
    site.crawl_at(second, [card("a", position=1)], FULL)
    assert [(kind, slug) for kind, slug, *_ in site.changes(kinds=("gone",))] == [("gone", "b")]


def test_which_ends_of_a_walk_are_the_listings_own():
    """A listing ends where it gives no next page, an empty or short answer, or nothing the
    walk had not read (a server ignoring the page asked for); a walk ended by a paging
    cycle or a next page elsewhere did not reach it. (The page cap's walk is no walk.)"""
    from olyscrape.crawlstats import StopReason

    whole = {reason for reason in StopReason if reason.whole}
    assert whole == {StopReason.NO_MORE_PAGES, StopReason.EMPTY_ANSWER, StopReason.SHORT_ANSWER,
                     StopReason.NOTHING_NEW, StopReason.DONE}  # fmt: skip
