"""The saved site's generator (``olyscrape.testing.sitegen``) and its command
(``python -m olyscrape.testing.site``): regenerating gives the committed files byte for
byte, and the command writes only into a new, empty or generated folder. Its changed copy
(``--changed``, the site a week later) differs from the saved site in exactly its four
changes, read with olyscrape's own page parsers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from olyscrape.testing import site as command
from olyscrape.testing.sitegen import CHANGES, MARKER, PARTNERS, owned_files
from tests.helpers import ORIGIN, SITE, changed_site


def files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site written by the command into an empty folder."""
    root = tmp_path_factory.mktemp("regenerated")
    assert command.main([str(root)]) == 0
    return root


def test_regenerating_gives_the_committed_site_byte_for_byte(regenerated):
    committed, fresh = files(SITE), files(regenerated)
    assert sorted(set(committed) - set(fresh)) == [], "committed, no longer generated"
    assert sorted(set(fresh) - set(committed)) == [], "generated, not committed"
    changed = [name for name in committed if committed[name] != fresh[name]]
    assert changed == [], "regenerate: python -m olyscrape.testing.site"


def test_the_marker_names_every_file_the_generator_wrote(regenerated):
    assert sorted(owned_files(regenerated) or []) == sorted(set(files(regenerated)) - {MARKER})


def test_help_answers_and_creates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        command.main(["--help"])
    assert exit.value.code == 0
    assert "usage: python -m olyscrape.testing.site" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_a_folder_of_someone_elses_files_is_refused_untouched(tmp_path, capsys):
    thesis = tmp_path / "work" / "notes" / "thesis.txt"
    thesis.parent.mkdir(parents=True)
    thesis.write_text("four years of work\n")
    assert command.main([str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Error: ") and "not empty" in err
    assert files(tmp_path / "work") == {"notes/thesis.txt": b"four years of work\n"}


def test_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "site").write_text("x")
    assert command.main([str(tmp_path / "site")]) == 2
    assert capsys.readouterr().err.startswith("Error: ")
    assert (tmp_path / "site").read_text() == "x"


def test_regenerating_replaces_only_what_the_generator_owns(regenerated, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(regenerated, root)
    (root / "notes.txt").write_text("mine\n")  # not the generator's: kept
    (root / "ioc" / "news" / "draft.html").write_text("mine too\n")
    stale = root / "ioc" / "gone" / "page.html"  # the generator's, no longer written
    stale.parent.mkdir()
    stale.write_text("old\n")
    (root / MARKER).write_text((root / MARKER).read_text() + "ioc/gone/page.html\n../outside\n")
    (tmp_path / "outside").write_text("never named by a marker of ours\n")
    (root / "robots.txt").write_text("edited\n")  # the generator's: rewritten
    assert command.main([str(root)]) == 0
    assert not stale.exists() and not stale.parent.exists()
    assert (tmp_path / "outside").exists()
    expected = {**files(SITE), "notes.txt": b"mine\n", "ioc/news/draft.html": b"mine too\n"}
    assert files(root) == expected


# --- the changed copy: the saved site a week later ----------------------------------------


def walk(root: Path, slug: str) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Partner ``slug``'s cards in a saved site, read with olyscrape's own page parsers and
    walked as docs/site.md §2-§4 says (listing page, then load-more answers at
    ``offset + len(content)`` or no-script pages): each card's (URL, title) once, in
    order; the URLs on its listing and no-script pages; the URLs the load-more answers
    held, each time they held one."""
    from parsel import Selector

    from olyscrape.site import ListingPage, LoadMoreLink, parse_load_more
    from olyscrape.site.dates import clean_text
    from olyscrape.site.files import resolve
    from olyscrape.site.urls import canonical_url

    cards: dict[str, str] = {}
    paged: list[str] = []
    answered: list[str] = []

    def meet(found: list, page_url: str) -> int:
        new = 0
        for card in found:
            url = canonical_url(card.url, page_url)
            if url and url not in cards:
                cards[url], new = clean_text(card.title) or "", new + 1
        return new

    url: str | None = f"{ORIGIN}/ioc/{slug}"
    listing = None
    while url:  # the listing page and its no-script pages
        path = resolve(root, url)
        assert path is not None, url
        page = ListingPage(Selector(text=path.read_text(encoding="utf-8")), url)
        paged += [canonical_url(card.url, url) or "" for card in page.cards]
        meet(page.cards, url)
        listing = listing or page
        url = page.next_page_url
    link = LoadMoreLink.parse(listing.load_more_url) if listing and listing.load_more_url else None
    offset, barren = (link.offset, 0) if link else (0, 0)
    while link and barren < 2:  # the server that ignores the offset: two barren answers
        answer_url = link.url(offset)
        path = resolve(root, answer_url)
        assert path is not None, answer_url
        found = parse_load_more(path.read_bytes(), answer_url)
        answered += [canonical_url(card.url, answer_url) or "" for card in found]
        barren = 0 if meet(found, answer_url) else barren + 1
        if len(found) < link.count:
            break
        offset += len(found)
    return list(cards.items()), paged, answered


def articles(root: Path) -> dict[str, tuple[str | None, str]]:
    """Every article page of a saved site, read with olyscrape's parser: URL → (title, body)."""
    from parsel import Selector

    from olyscrape.site import ArticlePage

    out = {}
    for path in sorted((root / "ioc" / "news").glob("*.html")):
        url = f"{ORIGIN}/ioc/news/{path.stem}"
        item = ArticlePage(Selector(text=path.read_text(encoding="utf-8")), url).to_item()
        out[url] = (item.title, item.body)
    return out


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The changed copy, written by the command."""
    root = tmp_path_factory.mktemp("changed") / "site"
    assert command.main(["--changed", str(root)]) == 0
    return root


PARTNER_SLUGS = [slug for slug, _, _ in PARTNERS]


def test_the_four_changes_are_articles_of_four_partners_with_pages_here():
    c = CHANGES
    partners = {c.retitled_partner, c.edited_partner, c.removed_partner, c.new_partner}
    assert len(partners) == 4 and len(set(c.urls)) == 4
    saved = articles(SITE)
    for url in (c.retitled_url, c.edited_url, c.removed_url):
        assert url in saved  # an article of the saved site with its page here
    assert c.new_url not in saved
    assert saved[c.retitled_url][0] == c.retitled_old_title != c.retitled_new_title


@pytest.mark.parametrize("slug", PARTNER_SLUGS)
def test_each_listing_changes_only_by_its_change(changed, slug):
    before, after = walk(SITE, slug)[0], walk(changed, slug)[0]
    expected = list(before)
    c = CHANGES
    if slug == c.retitled_partner:
        expected = [(u, c.retitled_new_title if u == c.retitled_url else t) for u, t in before]
        assert expected != before
    if slug == c.removed_partner:
        expected = [(u, t) for u, t in before if u != c.removed_url]
        assert len(expected) == len(before) - 1 and len(expected) > 1
    if slug == c.new_partner:
        expected = [(c.new_url, c.new_title), *before]
    assert after == expected


def test_the_removed_card_was_past_its_listings_first_page():
    from parsel import Selector

    from olyscrape.site import ListingPage
    from olyscrape.site.urls import canonical_url

    url = f"{ORIGIN}/ioc/{CHANGES.removed_partner}"
    path = SITE / "ioc" / f"{CHANGES.removed_partner}.html"
    first = ListingPage(Selector(text=path.read_text(encoding="utf-8")), url).cards
    assert first and CHANGES.removed_url not in {canonical_url(card.url, url) for card in first}
    assert CHANGES.removed_url in dict(walk(SITE, CHANGES.removed_partner)[0])


def test_load_more_answers_after_the_removed_card_give_each_card_once(changed):
    cards, paged, answered = walk(changed, CHANGES.removed_partner)
    assert answered, "a load-more listing"
    assert len(set(answered)) == len(answered)  # no answer repeats another's card
    assert [u for u in answered if u in paged] == []  # nor the listing page's
    assert paged + answered == [u for u, _ in cards]


def test_no_script_pages_after_the_new_card_give_each_card_once(changed):
    from olyscrape.testing.sitegen import Layout

    cards, paged, answered = walk(changed, CHANGES.new_partner)
    layout = Layout.of(CHANGES.new_partner)
    assert answered == [] and len(layout.pages) > 1, "a listing paged without script"
    assert paged == [u for u, _ in cards]  # every card once, the new one first
    assert paged[0] == CHANGES.new_url and len(paged) == sum(layout.pages) + 1


def test_article_pages_change_only_by_the_retitling_and_the_edit(changed):
    before, after = articles(SITE), articles(changed)
    c = CHANGES
    assert set(after) == set(before) | {c.new_url}  # the removed card's page still served
    differing = sorted(url for url in before if before[url] != after[url])
    assert differing == sorted([c.retitled_url, c.edited_url])
    assert before[c.retitled_url] == (c.retitled_old_title, before[c.retitled_url][1])
    assert after[c.retitled_url] == (c.retitled_new_title, before[c.retitled_url][1])  # body kept
    assert after[c.edited_url][0] == before[c.edited_url][0]
    old, new = before[c.edited_url][1].split("\n\n"), after[c.edited_url][1].split("\n\n")
    assert len(new) == len(old) + 1  # a paragraph added
    assert new[-1] not in old
    assert len([block for block, now in zip(old, new, strict=False) if block != now]) == 1
    assert after[c.new_url][0] == c.new_title


def test_the_changed_manifest_names_the_four_changes(changed):
    text = (changed / "MANIFEST.md").read_text(encoding="utf-8")
    section = text.split("## Changes from the saved site")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    c = CHANGES
    assert len(rows) == 4
    for row, partner, url in zip(
        rows,
        (c.retitled_partner, c.edited_partner, c.removed_partner, c.new_partner),
        c.urls,
        strict=True,
    ):
        assert f"| {partner} | `{url}` |" in row
    assert c.retitled_old_title in rows[0] and c.retitled_new_title in rows[0]
    assert c.removed_title in rows[2] and c.new_title in rows[3]


def test_the_changed_copy_and_the_saved_site_replace_each_other(changed, tmp_path):
    root = tmp_path / "site"
    assert command.main([str(root)]) == 0
    assert command.main(["--changed", str(root)]) == 0
    assert files(root) == files(changed)
    assert command.main([str(root)]) == 0
    assert files(root) == files(SITE)


def test_changed_needs_a_folder_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        command.main(["--changed"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "--changed needs a FOLDER" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_helper_writes_the_changed_copy(changed, tmp_path):
    assert files(changed_site(tmp_path / "copy")) == files(changed)
