"""Parser tests on saved pages: one small test per field, invariants over every card."""

from __future__ import annotations

import pytest
from parsel import Selector

from olyscrape import site as pages
from olyscrape.site.dates import clean_text
from tests.helpers import (
    CHRIS_TUNG,
    FIXTURES,
    ORIGIN,
    SEED_ALIBABA,
    SITE,
    file_response,
    needs_depth_limit,
)

TOP_PARTNERS = [
    "Airbnb",
    "Alibaba",
    "Allianz",
    "Atos",
    "Bridgestone",
    "Coca-Cola",
    "Dow",
    "Intel",
    "Omega",
    "Panasonic",
    "P&G",
    "Samsung",
    "Toyota",
    "Visa",
]


def listing(slug: str, path: str | None = None) -> pages.ListingPage:
    url = f"{ORIGIN}/ioc/{path or slug}"
    return pages.ListingPage(file_response(SITE / "ioc" / f"{path or slug}.html", url), url)


# --- discovery ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def top_links():
    response = file_response(SITE / "ioc" / "partners.html", ORIGIN + "/ioc/partners")
    return pages.top_partner_links(response, response.url)


def test_top_column_lists_the_seeds_partners_in_order(top_links):
    assert [link.name for link in top_links] == TOP_PARTNERS


def test_top_column_links_are_absolute_partner_pages(top_links):
    assert all(link.url.startswith(ORIGIN + "/ioc/") for link in top_links)
    assert top_links[1].url == ORIGIN + "/ioc/alibaba"


def test_top_column_is_found_by_its_heading_wherever_it_stands():
    html = """<ul id="nav"><li class="has-drop-down"><div class="drop"><div class="drop-holder">
      <div class="drop-col"><strong class="title"> TOP </strong><div class="links-row"><ul>
        <li><a href="/ioc/visa">Visa</a></li></ul></div></div>
      <div class="drop-col"><strong class="title">Olympic Games</strong><div class="links-row"><ul>
        <li><a href="/ioc/tokyo">Tokyo 2020</a></li></ul></div></div></div></div></li></ul>
      <footer><a href="/ioc/partners">TOP</a></footer>"""
    links = pages.top_partner_links(Selector(html), ORIGIN + "/ioc/partners")
    assert [(link.name, link.url) for link in links] == [("Visa", ORIGIN + "/ioc/visa")]


def test_no_top_column_gives_no_partners():
    html = '<div class="drop-col"><strong class="title">News</strong><ul><li><a href="/x">X</a></li></ul></div>'
    assert pages.top_partner_links(Selector(html), ORIGIN) == []


# --- the Alibaba listing (the seed page) -----------------------------------------------


@pytest.fixture(scope="module")
def alibaba():
    return listing("alibaba")


@pytest.fixture(scope="module")
def alibaba_cards(alibaba):
    return alibaba.cards


def test_alibaba_shows_the_seeds_nine_cards(alibaba_cards):
    assert len(alibaba_cards) == 9


def test_alibaba_titles(alibaba_cards):
    assert [clean_text(c.title) for c in alibaba_cards] == [t for _, _, t in SEED_ALIBABA]


def test_alibaba_categories(alibaba_cards):
    assert [clean_text(c.category) for c in alibaba_cards] == [c for c, _, _ in SEED_ALIBABA]


def test_alibaba_dates(alibaba_cards):
    assert [c.published_raw for c in alibaba_cards] == [d for _, d, _ in SEED_ALIBABA]


def test_alibaba_chris_tung_link(alibaba_cards):
    assert alibaba_cards[6].url == CHRIS_TUNG


def test_alibaba_images_are_absolute(alibaba_cards):
    assert all(c.image_url and c.image_url.startswith("https://") for c in alibaba_cards)


def test_alibaba_heading(alibaba):
    assert alibaba.heading == "Alibaba"


def test_alibaba_load_more_link(alibaba):
    assert alibaba.load_more_url.startswith(ORIGIN + "/ioc/ajaxscript/loadmoreoverviewnews/%7B")
    assert alibaba.load_more_url.endswith("/9/9/")
    assert alibaba.next_page_url is None


# --- every card of every saved listing page ----------------------------------------------

LISTINGS = sorted(p.stem for p in (SITE / "ioc").glob("*.html") if p.stem != "partners")
ALL_CARDS = [
    pytest.param(card, id=f"{slug}-{n}")
    for slug in LISTINGS
    for n, card in enumerate(listing(slug).cards)
]


@pytest.mark.parametrize("card", ALL_CARDS)
def test_every_card_has_a_title_and_an_absolute_link_or_none(card):
    assert clean_text(card.title)
    assert card.url is None or card.url.startswith("https://")
    assert card.page_url.startswith(ORIGIN + "/ioc/")


@pytest.mark.parametrize("card", ALL_CARDS)
def test_every_card_title_is_clean_after_normalizing(card):
    title = clean_text(card.title)
    assert "  " not in title and "\n" not in title and "&amp;" not in title


# --- the other partners' special cases ---------------------------------------------------


def test_a_partner_without_cards():
    page = listing("airbnb")
    assert page.cards == [] and page.load_more_url is None and page.next_page_url is None


def test_a_card_without_any_link_has_no_url_but_keeps_its_title():
    linkless = [c for c in listing("intel").cards if c.url is None]
    assert len(linkless) == 1 and clean_text(linkless[0].title)


def test_a_card_whose_date_is_no_date():
    assert "TBC" in [c.published_raw for c in listing("samsung").cards]


def test_a_card_without_date():
    assert [c.published_raw for c in listing("toyota").cards].count(None) == 1


def test_a_link_to_another_host_is_kept_absolute():
    hosts = {c.url.split("/")[2] for c in listing("bridgestone").cards}
    assert hosts == {"olympics.com", "www.bridgestone.com"}


def test_p_and_g_entities_are_decoded():
    assert any("P&G" in clean_text(c.title) for c in listing("pg").cards)


def test_a_load_more_link_with_offset_zero():
    assert listing("visa").load_more_url.endswith("/6/0/")


def test_no_script_paging():
    assert listing("omega").next_page_url == ORIGIN + "/ioc/omega/page/2"
    assert listing("omega", "omega/page/2").next_page_url == ORIGIN + "/ioc/omega/page/3"
    assert listing("omega", "omega/page/3").next_page_url is None


def test_no_script_paging_without_a_next_link():
    assert listing("dow").next_page_url is None


# --- the real olympic.org markup (2019) ------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    url = "https://www.olympic.org/tokyo-2020"
    return pages.ListingPage(
        file_response(FIXTURES / "olympic-org-2019-related-posts.html", url), url
    )


def test_real_markup_cards(real):
    cards = real.cards
    assert len(cards) == 4
    assert clean_text(cards[0].title) == "Tokyo 2020 unveils Games pictograms"
    assert clean_text(cards[0].category) == "Tokyo 2020"
    assert cards[0].published_raw == "12 Mar 2019"
    assert cards[0].url == "https://www.olympic.org/news/tokyo-2020-unveils-games-pictograms"
    assert cards[3].image_url.endswith("2018-10-23-Tokyo-thumbnail.jpg")


def test_real_markup_multi_line_title(real):
    assert (
        clean_text(real.cards[1].title)
        == "Tokyo 2020 reveals Olympic torch design, Ambassadors and Relay emblem"
    )


def test_real_markup_no_script_paging(real):
    assert real.next_page_url == "https://www.olympic.org/tokyo-2020/0"
    assert real.load_more_url is None


# --- load-more answers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alibaba_answer():
    link = pages.ListingPage(
        file_response(SITE / "ioc" / "alibaba.html", ORIGIN + "/ioc/alibaba"), ORIGIN
    ).load_more_url
    guid = link.split("%7B")[1].split("%7D")[0]
    path = SITE / "ioc/ajaxscript/loadmoreoverviewnews" / f"{{{guid}}}" / "9" / "9" / "index.json"
    return pages.parse_load_more(path.read_bytes(), link)


def test_load_more_answer_has_count_items(alibaba_answer):
    assert len(alibaba_answer) == 9


def test_load_more_answer_fields(alibaba_answer):
    first = alibaba_answer[0]
    assert first.url.startswith(ORIGIN + "/ioc/news/")
    assert first.title and first.category and first.published_raw and first.image_url


def test_load_more_answer_titles_are_entity_encoded_until_normalized(alibaba_answer):
    encoded = [c.title for c in alibaba_answer if "&#82" in c.title or "&amp;" in c.title]
    assert encoded
    assert all("&#" not in clean_text(t) and "&amp;" not in clean_text(t) for t in encoded)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Server error</body></html>",
        b'{"content": [',
        b'{"items": []}',
        b"[1, 2]",
        b'{"content": [1]}',
    ],
)
def test_a_load_more_answer_of_the_wrong_shape_is_an_error(body):
    with pytest.raises(pages.PageFormatError):
        pages.parse_load_more(body, ORIGIN)


def test_load_more_tolerates_missing_optional_fields():
    cards = pages.parse_load_more(
        b'{"content": [{"url": "/ioc/news/x", "title": "X", "topic": null}]}', ORIGIN
    )
    assert (cards[0].url, cards[0].category, cards[0].published_raw, cards[0].image_url) == (
        ORIGIN + "/ioc/news/x",
        None,
        None,
        None,
    )


def test_a_load_more_answer_is_read_as_utf8_whatever_its_bytes():
    entry = '{"title": "Zürich – Athlètes BAD", "url": "/ioc/news/z"}'
    body = ('\ufeff{"content": [' + entry + "]}").encode().replace(b"BAD", b"\xff")
    (card,) = pages.parse_load_more(body, ORIGIN + "/ioc/x")
    assert card.title == "Zürich – Athlètes \ufffd"


def test_a_load_more_answer_nested_too_deep_is_named():
    with pytest.raises(pages.TooDeepError, match="answer nested too deep to parse"):
        pages.parse_load_more(b"[" * 200_000 + b"]" * 200_000, ORIGIN + "/ioc/x")


def _nested(depth: int) -> Selector:
    card = '<article class="box"><h2><a href="/ioc/news/{0}">{0}</a></h2></article>'
    html = card.format("a") + "<div>" * depth + "</div>" * depth + card.format("b")
    return Selector(text=f"<html><body><div class='ajax-area'>{html}</div></body></html>")


@needs_depth_limit
def test_a_listing_nested_past_the_parsers_limit_is_too_deep():
    limit = pages.html_depth_limit()
    assert limit >= 256
    cut = _nested(limit + 10)
    assert len(pages.ListingPage(cut, ORIGIN).cards) == 1  # what the parser did: b is lost
    assert "page too deep to parse" in (pages.too_deep(cut) or "")
    whole = _nested(limit // 2)
    assert len(pages.ListingPage(whole, ORIGIN).cards) == 2
    assert pages.too_deep(whole) is None
