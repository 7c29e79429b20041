"""``olyscrape browse``: the changes, the history and the Atom feeds in a real Datasette.

The archive is the saved site crawled, then changed as a second crawl would change it,
written with :class:`~olyscrape.archive.ArchiveWriter`: on Visa's listing one article
retitled, another's page text edited, a card new and a card gone on a full walk. Datasette
is started on 127.0.0.1 as ``olyscrape browse`` starts it; what it answers (the changes
view's facets, its sort, ``article_history``, the feeds ``datasette-atom`` renders, read
with feedparser as a feed reader reads them) is compared with what the test wrote and
with the archive's own tables read by plain sqlite3. Chromium loads the changes page.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from parsel import Selector

from olyscrape.archive import ArchiveWriter
from olyscrape.archive.feeds import EMPTY_ID, FEED_QUERIES, FEED_SIZE, FEEDS_SINCE_VERSION
from olyscrape.cli import browse
from olyscrape.items import ArticleCard, ArticlePageItem, Partner, WalkDone
from olyscrape.testing import archives
from tests.helpers import cli_runner, free_port, query, sha256
from tests.test_browse import (
    _LOCAL,
    NO_DATASETTE,
    Browsing,
    _chromium,
    _stop,
    _wait_until_up,
    chromium,  # noqa: F401  (the fixture)
    get_json,
)

feedparser = pytest.importorskip("feedparser")

NEW_URL = "https://olympics.com/ioc/news/visa-and-partners-open-a-new-chapter"
NEW_TITLE = "Visa & partners: the <new> chapter"  # markup characters, read as text
NEW_BODY = "A new chapter opens.\n\nIts second paragraph."
EDITED_BODY = "The page's text, rewritten."
RETITLE = "Retitled: "


def _later(at: str, **delta: float) -> str:
    """An archive time (UTC, to the second, with a Z) ``delta`` after ``at``."""
    moment = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return (moment + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Changed:
    """The changed archive and what the second crawl did to it."""

    db: Path
    at: str  # when the second crawl stored its cards
    walked: str  # when its full walk of Visa's listing completed
    retitled: tuple[str, str]  # url, title before
    rewritten: str  # url of the article whose text changed
    gone: str  # url of the card no longer on Visa's listing


def _change(db: Path) -> Changed:
    """Store a second crawl of Visa's listing into ``db``, as a crawl stores one: every card
    but the last again (the first retitled, a page of the second with new text), a new
    card on top, then the full walk's end."""
    ((crawl, started),) = query(db, "SELECT max(id), max(started_at) FROM crawls")
    at = _later(started, days=1)
    walked = _later(at, seconds=30)
    cards = query(db, """SELECT a.url, a.title, a.category, a.published, a.published_raw,
                         l.position FROM partner_links l JOIN articles a ON a.id = l.article_id
                         WHERE l.partner = 'visa' ORDER BY l.position""")  # fmt: skip
    assert len(cards) >= 3
    items: list[Any] = [Partner("visa", "Visa", "https://olympics.com/ioc/visa")]
    items.append(ArticleCard(url=NEW_URL, title=NEW_TITLE, category="IOC News",
                             published_raw="1 Dec 2026", published="2026-12-01",
                             partner="visa", position=1))  # fmt: skip
    for i, (url, title, category, published, raw, position) in enumerate(cards[:-1]):
        items.append(ArticleCard(url=url, title=RETITLE + title if i == 0 else title,
                                 category=category, published=published, published_raw=raw,
                                 partner="visa", position=position + 1))  # fmt: skip
    items += [ArticlePageItem(url=NEW_URL, partner="visa", body=NEW_BODY),
              ArticlePageItem(url=cards[1][0], partner="visa", body=EDITED_BODY)]  # fmt: skip
    writer = ArchiveWriter.open(db, record_crawl=False)
    try:
        writer.crawl_id = crawl + 1
        writer.store(items, seen_at=at)
        with writer.conn:
            writer.conn.execute("INSERT INTO crawls (id, started_at, status) VALUES (?, ?, 'ok')",
                                [crawl + 1, at])  # fmt: skip
        writer.store([WalkDone("visa")], seen_at=walked)
    finally:
        writer.close()
    return Changed(db, at, walked, (cards[0][0], cards[0][1]), cards[1][0], cards[-1][0])


@pytest.fixture(scope="module")
def changed(archive_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Changed:
    """The saved site's archive, changed; named as ``olyscrape browse`` names its default
    archive's database (``olyscrape``), so its URLs are the ones the docs give."""
    db = tmp_path_factory.mktemp("changed") / "olyscrape.db"
    shutil.copyfile(archive_db, db)
    return _change(db)


@contextmanager
def _datasette(db: Path, folder: Path) -> Iterator[str]:
    """A real Datasette serving ``db`` as ``olyscrape browse`` runs it: its base URL."""
    if not browse.datasette_available():
        pytest.skip(NO_DATASETTE)
    log, port = folder / "datasette.log", free_port()
    with browse.metadata_file(db) as metadata_path, log.open("w") as out:
        argv = browse.command(db, "127.0.0.1", port, metadata_path=metadata_path)
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(f"{base}/-/versions.json", process, log)
            yield base
        finally:
            _stop(process)


@pytest.fixture(scope="module")
def server(changed: Changed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _datasette(changed.db, tmp_path_factory.mktemp("datasette")) as base:
        yield f"{base}/olyscrape"


def _fetch(url: str) -> tuple[int, str, bytes]:
    with _LOCAL.open(url, timeout=30) as response:
        return response.status, response.headers["Content-Type"], response.read()


def _feed(url: str) -> Any:
    """The feed at ``url`` as a feed reader reads it: answered, typed, well-formed."""
    status, content_type, body = _fetch(url)
    assert status == 200
    assert content_type == "application/xml; charset=utf-8"  # what datasette-atom sends
    feed = feedparser.parse(body)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    ids = [entry.id for entry in feed.entries]
    assert len(ids) == len(set(ids)), "an id twice in one feed"
    return feed


# --- what each change is: from the tables, not the views ------------------------------


def _visa_articles(db: Path) -> list[str]:
    """Visa's articles newest to the archive first (same second: by URL)."""
    return [
        url
        for (url,) in query(
            db,
            """SELECT a.url FROM articles a JOIN partner_links l
        ON l.article_id = a.id WHERE l.partner = 'visa' ORDER BY a.first_seen DESC, a.url""",
        )
    ]


def _expected_visa_ids(changed: Changed) -> list[str]:
    """The changes feed of Visa, by the id rule: gone last (its walk completed last) is
    first; then, at the second crawl, by kind (as `olyscrape changes` lists them): the two
    edits by URL, then the new card; then the rest of Visa's articles as new at the first
    crawl."""
    edits = sorted([changed.retitled[0], changed.rewritten])
    first_crawl = [url for url in _visa_articles(changed.db) if url != NEW_URL]
    return [
        f"{changed.gone}#gone-visa-{changed.walked}",
        *(f"{url}#edited-{changed.at}" for url in edits),
        NEW_URL,
        *first_crawl,
    ]


# --- metadata, and the feeds' SQL on the file (fast) ------------------------------------


def test_the_feeds_are_canned_queries_with_an_optional_partner():
    queries = browse.metadata("olyscrape")["databases"]["olyscrape"]["queries"]
    for name in ("new_articles_feed", "changes_feed"):
        assert name in queries
        assert ":partner" in queries[name]["sql"]
        assert ".atom" in queries[name]["description"]


def test_an_archive_before_version_7_gets_a_message_in_place_of_each_feed():
    old = browse.metadata("olyscrape", version=6)["databases"]["olyscrape"]
    assert "schema version 6" in old["description"]
    for name in FEED_QUERIES:
        assert "urn:olyscrape:feed:needs-version-7" in old["queries"][name]["sql"]
    unversioned = browse.metadata("olyscrape", version=0)["databases"]["olyscrape"]
    assert "made before schema versions" in unversioned["description"]
    assert "made before schema versions" in unversioned["queries"]["changes_feed"]["sql"]
    current = browse.metadata("olyscrape")["databases"]["olyscrape"]
    assert "description" not in current
    assert FEEDS_SINCE_VERSION == 7


def test_the_metadata_file_follows_the_archive_version(tmp_path):
    db = archives.build(tmp_path / "v6.db", "6")
    with browse.metadata_file(db) as path:
        text = path.read_text(encoding="utf-8")
    assert "needs-version-7" in text


def _run(db: Path, name: str, partner: str = "") -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(FEED_QUERIES[name][2], {"partner": partner}).fetchall()
    finally:
        conn.close()


def test_new_articles_feed_rows_are_the_newest_articles_of_a_partner(changed):
    rows = _run(changed.db, "new_articles_feed", "visa")
    assert [r["atom_id"] for r in rows] == _visa_articles(changed.db)
    assert rows[0]["atom_id"] == rows[0]["atom_link"] == NEW_URL
    assert rows[0]["atom_updated"] == changed.at
    assert rows[0]["atom_author_name"] == "Visa"


def test_a_feed_gives_the_newest_hundred(changed):
    (total,) = query(changed.db, "SELECT count(*) FROM articles WHERE first_seen IS NOT NULL")[0]
    assert total > FEED_SIZE == 100
    rows = _run(changed.db, "new_articles_feed")
    # The hundred stored last (by number, among those of the newest second), by URL.
    newest = query(changed.db, "SELECT url FROM (SELECT url, first_seen FROM articles"
                               " WHERE first_seen IS NOT NULL ORDER BY first_seen DESC, id DESC"
                               " LIMIT 100) ORDER BY first_seen DESC, url")  # fmt: skip
    assert [r["atom_id"] for r in rows] == [url for (url,) in newest]


def test_changes_feed_rows_of_a_partner(changed):
    rows = _run(changed.db, "changes_feed", "visa")
    assert [r["atom_id"] for r in rows] == _expected_visa_ids(changed)
    kinds = Counter(r["kind"] for r in rows)
    assert kinds == {"new": len(_visa_articles(changed.db)), "edited": 2, "gone": 1}


def test_browse_says_when_the_feeds_cannot_be_rendered(changed, monkeypatch):
    """Datasette without datasette-atom serves all but the feeds: browse says so in one
    line and goes on (here to the port check, which a listener holds: exit 4)."""
    if not browse.datasette_available():
        pytest.skip(NO_DATASETTE)
    from olyscrape.cli import cli

    monkeypatch.setattr(browse, "atom_available", lambda: False)
    before = sha256(changed.db)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli_runner().invoke(
            cli, ["browse", "--db", str(changed.db), "--port", str(port)], prog_name="olyscrape"
        )
    assert result.exit_code == 4
    assert result.stderr.splitlines() == [
        browse.NO_ATOM, f"Error: 127.0.0.1:{port} is in use; choose another with --port"]  # fmt: skip
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sha256(changed.db) == before


def test_the_browse_extra_brings_datasette_atom():
    assert browse.atom_available()


# --- the real Datasette: the changes view ---------------------------------------------


def _facet(data: dict[str, Any], column: str) -> dict[str, int]:
    facet = data["facet_results"][column]
    assert not facet["truncated"], column
    return {r["value"]: r["count"] for r in facet["results"]}


def _expected_facets(changed: Changed) -> tuple[dict[str, int], dict[str, int]]:
    """The changes view's rows by kind and by partner, from the tables: a new row per link
    (one for an article with none), an edited row per link of each edited article, and
    Visa's one gone card."""
    db = changed.db
    links = Counter(p for (p,) in query(db, "SELECT partner FROM partner_links"))
    (unlinked,) = query(db, "SELECT count(*) FROM articles a WHERE NOT EXISTS"
                            " (SELECT 1 FROM partner_links l WHERE l.article_id = a.id)")[0]  # fmt: skip
    edited = [changed.retitled[0], changed.rewritten]
    edited_links = Counter(p for (p,) in query(db, "SELECT l.partner FROM partner_links l JOIN"
        " articles a ON a.id = l.article_id WHERE a.url IN (?, ?)", *edited))  # fmt: skip
    kinds = {"new": sum(links.values()) + unlinked, "edited": sum(edited_links.values()),
             "gone": 1}  # fmt: skip
    return kinds, dict(links + edited_links + Counter(visa=1))


@pytest.mark.slow
def test_changes_view_facets_by_kind_and_partner(server, changed):
    data = get_json(f"{server}/changes.json?_size=0")
    kinds, partners = _expected_facets(changed)
    assert kinds["edited"] == 2 and partners["visa"] == len(_visa_articles(changed.db)) + 3
    assert _facet(data, "kind") == kinds
    assert _facet(data, "partner") == partners
    assert data["filtered_table_rows_count"] == sum(kinds.values())


@pytest.mark.slow
def test_changes_of_one_partner_by_kind(server, changed):
    data = get_json(f"{server}/changes.json?partner=visa&_size=0")
    new = len(_visa_articles(changed.db))
    assert _facet(data, "kind") == {"new": new, "edited": 2, "gone": 1}


@pytest.mark.slow
def test_changes_sorted_newest_first(server, changed):
    data = get_json(f"{server}/changes.json?_shape=objects&_size=4")
    assert data["human_description_en"] == "sorted by at descending"
    rows = data["rows"]
    assert (rows[0]["kind"], rows[0]["url"], rows[0]["at"]) == (
        "gone",
        changed.gone,
        changed.walked,
    )
    assert {(r["kind"], r["url"], r["at"]) for r in rows[1:]} == {
        ("new", NEW_URL, changed.at),
        ("edited", changed.retitled[0], changed.at),
        ("edited", changed.rewritten, changed.at),
    }
    fields = {r["url"]: r["fields"] for r in rows[1:]}
    assert fields[changed.retitled[0]] == "title" and fields[changed.rewritten] == "body"


@pytest.mark.slow
def test_article_history_holds_the_title_before(server, changed):
    url, before = changed.retitled
    data = get_json(f"{server}/article_history.json?_shape=array&url={url}")
    assert [(r["title"], r["replaced_at"]) for r in data] == [(before, changed.at)]
    assert data[0]["current_title"] == RETITLE + before


# --- the real Datasette: the feeds ----------------------------------------------------


@pytest.mark.slow
def test_new_articles_feed_of_visa(server, changed):
    feed = _feed(f"{server}/new_articles_feed.atom?partner=visa")
    assert feed.feed.title == "New articles"
    assert [e.id for e in feed.entries] == _visa_articles(changed.db)
    newest = feed.entries[0]
    assert (newest.title, newest.link) == (NEW_TITLE, NEW_URL)  # escaped, read back as text
    assert newest.author == "Visa"
    assert newest.updated == changed.at.replace("Z", "+00:00")
    content = newest.content[0]
    assert content.type == "text/html"
    assert "<p>Text: A new chapter opens.</p>" in content.value
    assert "Its second paragraph" not in content.value  # the first paragraph only


@pytest.mark.slow
def test_new_articles_feed_of_all_partners(server, changed):
    feed = _feed(f"{server}/new_articles_feed.atom")
    assert len(feed.entries) == FEED_SIZE
    # The hundred stored last (by number, among those of the newest second), by URL.
    newest = query(changed.db, "SELECT url FROM (SELECT url, first_seen FROM articles"
                               " WHERE first_seen IS NOT NULL ORDER BY first_seen DESC, id DESC"
                               " LIMIT 100) ORDER BY first_seen DESC, url")  # fmt: skip
    assert [e.id for e in feed.entries] == [url for (url,) in newest]
    assert feed.entries[0].id == NEW_URL
    assert len({e.author for e in feed.entries}) > 1  # every partner's, not Visa's alone


@pytest.mark.slow
def test_changes_feed_of_visa(server, changed):
    feed = _feed(f"{server}/changes_feed.atom?partner=visa")
    assert feed.feed.title == "Changes: new, edited, gone"
    assert [e.id for e in feed.entries] == _expected_visa_ids(changed)
    gone, *edits, new = feed.entries[:4]
    assert gone.title.startswith("Gone from Visa's listing: ")
    assert gone.updated == changed.walked.replace("Z", "+00:00")
    assert new.title == f"New: {NEW_TITLE}"
    by_url = {e.link: e for e in edits}
    url, before = changed.retitled
    retitled = by_url[url]
    assert retitled.title == f"Edited (title): {RETITLE}{before}"
    assert f"<p>Title: {before} → {RETITLE}{before}</p>" in retitled.content[0].value.replace(
        "&amp;", "&")  # fmt: skip
    assert by_url[changed.rewritten].title.startswith("Edited (body): ")
    assert "The text of the page changed." in by_url[changed.rewritten].content[0].value


@pytest.mark.slow
def test_changes_feed_of_all_partners(server, changed):
    feed = _feed(f"{server}/changes_feed.atom")
    assert len(feed.entries) == FEED_SIZE
    assert [e.id for e in feed.entries[:4]] == _expected_visa_ids(changed)[:4]
    authors = {e.author for e in feed.entries}
    assert "Visa" in authors and len(authors) > 1


@pytest.mark.slow
def test_a_feed_with_nothing_in_it_says_so(server):
    feed = _feed(f"{server}/changes_feed.atom?partner=no-such-partner")
    (entry,) = feed.entries
    assert entry.id == EMPTY_ID
    assert "no-such-partner" in entry.content[0].value


@pytest.mark.slow
def test_the_feed_pages_show_the_entries_as_a_table(server):
    status, content_type, body = _fetch(f"{server}/changes_feed?partner=visa")
    assert status == 200 and content_type.startswith("text/html")
    page = Selector(text=body.decode())
    assert page.css("td.col-kind ::text").getall()[:2] == ["gone", "edited"]
    assert page.css('a[href$="changes_feed.atom?partner=visa"]')  # the plugin's link
    assert page.css(".show-hide-sql a::text").get() == "show"  # the SQL behind a link
    assert not page.css("pre#sql-query")


@pytest.mark.slow  # starts olyscrape browse
def test_the_command_serves_the_feed_at_the_documented_url(changed):
    if not browse.datasette_available():
        pytest.skip(NO_DATASETTE)
    running = Browsing(changed.db)
    try:
        assert running.url.startswith("http://127.0.0.1:")
        feed = _feed(f"{running.url}olyscrape/new_articles_feed.atom?partner=visa")
        assert [e.id for e in feed.entries] == _visa_articles(changed.db)
    finally:
        running.close()


# --- archives of earlier versions, served as they are ------------------------------------

#: An archive of version 6 (the last before the changes), and one made before versioning.
OLD = {"6": "of schema version 6", "0-first": "made before schema versions"}


@pytest.fixture(scope="module", params=sorted(OLD))
def old_server(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("old")
    db = archives.build(folder / "old.db", request.param)
    with _datasette(db, folder) as base:
        yield f"{base}/old", OLD[request.param]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FEED_QUERIES))
def test_an_old_archive_feed_says_what_to_do(old_server, name):
    base, says = old_server
    feed = _feed(f"{base}/{name}.atom?partner=visa")
    (entry,) = feed.entries
    assert entry.id == "urn:olyscrape:feed:needs-version-7"
    assert f"This archive is {says}" in entry.title and "next olyscrape crawl" in entry.title
    status, _, _ = _fetch(f"{base}/{name}?partner=visa")  # the page, not an error
    assert status == 200
    (row,) = get_json(f"{base}/{name}.json?_shape=array")
    assert row["atom_title"] == entry.title


@pytest.mark.slow
def test_an_old_archive_still_browses(old_server):
    base, says = old_server
    status, _, body = _fetch(base)
    assert status == 200
    assert f"An archive {says}, served as it is".encode() in body  # says what it lacks
    assert get_json(f"{base}/articles.json?_size=0")["filtered_table_rows_count"]


# --- the changes page in headless Chromium ---------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_browser_changes_page_shows_the_facets(chromium, server, changed, tmp_path):  # noqa: F811
    dom = Selector(text=_chromium(chromium, tmp_path / "profile", "--dump-dom",
                                  f"{server}/changes").stdout)  # fmt: skip
    heading = " ".join(" ".join(dom.css("h3 ::text").getall()).split())
    kinds, partners = _expected_facets(changed)
    assert heading.startswith(f"{sum(kinds.values())} rows sorted by at descending")

    def shown(column: str) -> dict[str, int]:
        items = dom.css(f"div.facet-info[data-column={column}] li")
        return {li.css("a::text").get(): int("".join(li.xpath("text()").getall()))
                for li in items}  # fmt: skip

    assert shown("kind") == kinds
    assert shown("partner") == partners
    first = dom.css("table.rows-and-columns tbody tr")[0]
    assert first.css("td.col-kind ::text").get().strip() == "gone"
    assert first.css("td.col-partner ::text").get().strip() == "visa"
