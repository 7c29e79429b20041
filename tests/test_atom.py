"""``olyscrape changes --format atom``: the feed a cron job writes, read back by
``feedparser`` as a feed reader reads it, and checked against RFC 4287's rules itself
(feedparser forgives much): the required elements, an author for every entry, RFC 3339
dates, ids that are absolute IRIs, unique and the same every time the feed is written."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from olyscrape.cli import cli
from olyscrape.cli.diffs import paragraphs
from tests.changedcopy import CHANGES as C
from tests.changedcopy import crawled
from tests.helpers import cli_runner, query

ATOM = "{http://www.w3.org/2005/Atom}"
#: RFC 3339's date-time (RFC 4287 §3.3): a T, seconds, and a zone (Z or ±hh:mm).
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")


@pytest.fixture(scope="session")
def changed_db(archive_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crawled(archive_db, tmp_path_factory.mktemp("changed-atom"))


def feed(db: Path, *args: str) -> str:
    result = cli_runner().invoke(cli, ["changes", "--db", str(db), "--format", "atom", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def rfc4287_problems(text: str) -> list[str]:
    """What in ``text`` breaks RFC 4287's rules for a feed document (§4.1.1, §4.1.2,
    §3.3, §4.2.6): nothing, for a valid feed."""
    problems = []
    root = ET.fromstring(text.encode("utf-8"))
    if root.tag != ATOM + "feed":
        return [f"the root is {root.tag}, not atom:feed"]

    def check(element: ET.Element, where: str, author_above: bool) -> None:
        for name in ("id", "title", "updated"):
            found = element.findall(ATOM + name)
            if len(found) != 1:
                problems.append(f"{where}: {len(found)} atom:{name}, not exactly one")
        for updated in element.findall(ATOM + "updated"):
            if not RFC3339.match(updated.text or ""):
                problems.append(f"{where}: updated {updated.text!r} is no RFC 3339 date-time")
        for ident in element.findall(ATOM + "id"):
            parts = urlsplit(ident.text or "")
            if not parts.scheme or not (parts.netloc or parts.scheme in ("tag", "urn")):
                problems.append(f"{where}: id {ident.text!r} is no absolute IRI")
        authors = element.findall(ATOM + "author")
        if not authors and not author_above:
            problems.append(f"{where}: no atom:author")
        for author in authors:
            if not (author.findtext(ATOM + "name") or "").strip():
                problems.append(f"{where}: an author without a name")
        links = element.findall(ATOM + "link")
        for link in links:
            if not urlsplit(link.get("href", "")).scheme:
                problems.append(f"{where}: link {link.get('href')!r} is not absolute")
        alternates = [x for x in links if x.get("rel", "alternate") == "alternate"]
        if where != "feed" and not alternates and element.find(ATOM + "content") is None:
            problems.append(f"{where}: neither content nor an alternate link")

    feed_has_author = bool(root.findall(ATOM + "author"))
    check(root, "feed", author_above=False)
    ids = [entry.findtext(ATOM + "id") for entry in root.findall(ATOM + "entry")]
    for n, entry in enumerate(root.findall(ATOM + "entry")):
        check(entry, f"entry {n}", author_above=feed_has_author)
    if len(set(ids)) != len(ids):
        problems.append("entry ids repeat")
    return problems


def test_the_changes_feed_is_valid_atom_with_the_four_entries(changed_db):
    text = feed(changed_db, "--since", "last-crawl")
    assert rfc4287_problems(text) == []
    parsed = feedparser.parse(text)
    assert parsed.bozo == 0 and parsed.version == "atom10"
    entries = {entry.link: entry for entry in parsed.entries}
    names = dict(query(changed_db, "SELECT slug, name FROM partners"))
    assert {link: entry.title for link, entry in entries.items()} == {
        C.new_url: f"New: {C.new_title}",
        C.retitled_url: f"Edited (title): {C.retitled_new_title}",
        C.edited_url: f"Edited (body): {C.edited_title}",
        C.removed_url: f"Gone from {names[C.removed_partner]}'s listing: {C.removed_title}",
    }
    times = [entry.updated for entry in parsed.entries]
    assert times == sorted(times, reverse=True)  # newest first
    assert parsed.feed.updated == times[0]
    assert {link: entry.author for link, entry in entries.items()} == {
        C.new_url: names[C.new_partner], C.retitled_url: names[C.retitled_partner],
        C.edited_url: names[C.edited_partner], C.removed_url: names[C.removed_partner],
    }  # fmt: skip

    retitle = entries[C.retitled_url]
    (at,) = query(changed_db, "SELECT changed_at FROM article_versions WHERE article_url = ?",
                  C.retitled_url)[0]  # fmt: skip
    assert retitle.id == f"{C.retitled_url}#edited-{at}"
    assert retitle.updated == at.replace("Z", "+00:00")
    assert retitle.content[0].value == (
        f"- title: {C.retitled_old_title}\n+ title: {C.retitled_new_title}")  # fmt: skip
    edit = entries[C.edited_url].content[0].value.splitlines()
    (body,) = query(changed_db, "SELECT body FROM articles WHERE url = ?", C.edited_url)[0]
    assert edit[:2] == ["--- before", "+++ after"]
    assert "+" + paragraphs(body)[-1] in edit
    assert entries[C.new_url].id == C.new_url
    (body,) = query(changed_db, "SELECT body FROM articles WHERE url = ?", C.new_url)[0]
    assert entries[C.new_url].content[0].value.startswith(paragraphs(body)[0])
    assert entries[C.removed_url].id.startswith(f"{C.removed_url}#gone-{C.removed_partner}-")


def test_a_feed_written_again_is_byte_identical(changed_db, tmp_path):
    first, second = tmp_path / "one.atom", tmp_path / "two.atom"
    feed(changed_db, "-o", str(first))
    feed(changed_db, "-o", str(second))
    assert first.read_bytes() == second.read_bytes() == feed(changed_db).encode("utf-8")
    assert feedparser.parse(first.read_bytes()).bozo == 0


def test_the_same_change_has_the_same_id_in_every_feed(changed_db):
    everything = feedparser.parse(feed(changed_db))
    new = feedparser.parse(feed(changed_db, "--kind", "new"))
    coca = feedparser.parse(feed(changed_db, "--partner", "Coca-Cola"))
    ids = {entry.id: entry.title for entry in everything.entries}
    assert len(ids) == len(everything.entries)  # unique
    assert {e.id: e.title for e in new.entries}.items() <= ids.items()
    assert {e.id: e.title for e in coca.entries}.items() <= ids.items()
    assert all(title.startswith("New: ") for title in (e.title for e in new.entries))
    articles = query(changed_db, "SELECT count(*) FROM articles")[0][0]
    assert len(new.entries) == articles
    feeds = {everything.feed.id, new.feed.id, coca.feed.id}
    assert len(feeds) == 3
    assert new.feed.title == "olyscrape: new articles"
    assert coca.feed.title == "olyscrape: changes of Coca-Cola"
    assert coca.feed.link == "https://olympics.com/ioc/coca-cola"


def test_a_feed_with_no_entry_is_still_valid_atom(changed_db):
    text = feed(changed_db, "--since", "last-crawl", "--partner", "visa")
    assert rfc4287_problems(text) == []
    parsed = feedparser.parse(text)
    assert parsed.bozo == 0 and parsed.entries == []
    assert parsed.feed.updated == "1970-01-01T00:00:00+00:00"
    assert parsed.feed.id == "tag:olyscrape,2026:changes/kinds=new,edited,gone/partners=visa"


def test_the_checker_finds_what_breaks_the_rules():
    """The RFC check above is itself checked: each rule catches a feed that breaks it."""
    broken = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        "<updated>2026-12-05 03:00</updated>"
        "<entry><id>not-absolute</id><title>e</title><updated>2026-12-05T03:00:00Z</updated>"
        "</entry><entry><id>not-absolute</id><title>f</title>"
        "<updated>2026-12-05T03:00:00Z</updated><author><name/></author></entry></feed>"
    )
    assert rfc4287_problems(broken) == [
        "feed: 0 atom:id, not exactly one",
        "feed: updated '2026-12-05 03:00' is no RFC 3339 date-time",
        "feed: no atom:author",
        "entry 0: id 'not-absolute' is no absolute IRI",
        "entry 0: no atom:author",
        "entry 0: neither content nor an alternate link",
        "entry 1: id 'not-absolute' is no absolute IRI",
        "entry 1: an author without a name",
        "entry 1: neither content nor an alternate link",
        "entry ids repeat",
    ]


def test_control_characters_in_the_archive_never_break_a_feed(changed_db, tmp_path):
    """A title or body holding a character XML cannot hold (an archive written before the
    crawl removed them, or edited by hand): the CLI's feed and browse's feeds leave it
    out, and stay valid Atom."""
    import shutil
    import sqlite3

    from olyscrape.archive.feeds import FEED_QUERIES

    db = tmp_path / "controls.db"
    shutil.copy(changed_db, db)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE articles SET title = 'Bell' || char(7) || ' and ' || char(1) || char(65534) ||"
            " 'start', body = body || char(27) || '[0m' WHERE url = ?",
            [C.new_url],
        )
    text = feed(str(db))
    assert rfc4287_problems(text) == [] and not feedparser.parse(text).bozo
    assert "Bell and start" in text
    with sqlite3.connect(db) as conn:
        for _, _, sql in FEED_QUERIES.values():
            rows = conn.execute(sql, {"partner": ""}).fetchall()
            titles = [row[1] for row in rows]
            assert any("Bell and start" in t for t in titles)
            assert not any(chr(c) in str(v) for row in rows for v in row for c in (1, 7, 27, 65534))


def test_the_crawl_stores_no_control_character():
    """What the site writes is cleaned before it is stored (titles, labels, bodies)."""
    from olyscrape.items import ArticleCard, ArticlePageItem
    from olyscrape.pipelines.normalize import NormalizePipeline

    pipeline = NormalizePipeline()
    card = ArticleCard(url="https://olympics.com/ioc/news/a", partner="visa",
                       title="A\x01 title\x0b here\ufffe", category="IOC\x1f News")  # fmt: skip
    pipeline.process_item(card)
    page = ArticlePageItem(url="https://olympics.com/ioc/news/a", body="One\x07.\n\nTwo\x00.")
    pipeline.process_item(page)
    assert (card.title, card.category) == ("A title here", "IOC News")
    assert page.body == "One.\n\nTwo."
