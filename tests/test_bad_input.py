"""A bad-input corpus. Each case states its outcome; none may raise.

Listing pages and load-more answers go through the real parser and the normalize and
validate pipelines, as in a crawl: a case ends as stored cards (with the fields it
states), dropped cards (with their reason), or a reported format error.
"""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from olyscrape import site as pages
from olyscrape.pipelines.normalize import NormalizePipeline
from olyscrape.pipelines.validate import ValidatePipeline
from olyscrape.spiders.partners import PartnersSpider

PAGE_URL = "https://olympics.com/ioc/visa"


def card(inner: str) -> str:
    return f'<article class="box">{inner}</article>'


def listing(*cards: str, head: str = "") -> str:
    return f'<html><head>{head}</head><body><h1>Visa</h1><div class="ajax-area"><div class="ajax-content">{"".join(cards)}</div></div></body></html>'


FULL = (
    '<span class="image"><a href="/ioc/news/a"><img src="/i/a.jpg"></a>'
    '<span class="news-topic-label">Tokyo 2020</span></span>'
    '<h2><a href="/ioc/news/a">A title</a></h2><time datetime="09 JUL 2019">09 JUL 2019</time>'
)


def run_cards(body: bytes) -> list[tuple[str, object]]:
    """('stored', card) or ('dropped', reason) for each card of a listing page."""
    crawler = get_crawler(PartnersSpider)
    normalize, validate = (
        NormalizePipeline.from_crawler(crawler),
        ValidatePipeline.from_crawler(crawler),
    )
    response = HtmlResponse(PAGE_URL, body=body)
    outcomes = []
    for parsed in pages.ListingPage(response, response.url).cards:
        parsed.partner = "visa"
        try:
            outcomes.append(("stored", validate.process_item(normalize.process_item(parsed))))
        except DropItem as exc:
            outcomes.append(("dropped", str(exc).split(":")[0]))
    return outcomes


# --- cards missing each field in turn --------------------------------------------------------


def test_a_complete_card_is_stored_with_every_field():
    [(outcome, stored)] = run_cards(listing(card(FULL)).encode())
    assert outcome == "stored"
    assert (stored.url, stored.title, stored.category, stored.published, stored.image_url) == (
        "https://olympics.com/ioc/news/a",
        "A title",
        "Tokyo 2020",
        "2019-07-09",
        "https://olympics.com/i/a.jpg",
    )


MISSING = {
    # field removed: (markup without it, expected outcome)
    "url": (FULL.replace('<a href="/ioc/news/a">', "<a>"), ("dropped", "missing_url")),
    "title": (FULL.replace("A title", ""), ("dropped", "missing_title")),
    "category": (
        FULL.replace('<span class="news-topic-label">Tokyo 2020</span>', ""),
        ("stored", "category"),
    ),
    "date": (
        FULL.replace('<time datetime="09 JUL 2019">09 JUL 2019</time>', ""),
        ("stored", "published"),
    ),
    "image": (FULL.replace('<img src="/i/a.jpg">', ""), ("stored", "image_url")),
}


@pytest.mark.parametrize(("markup", "expected"), MISSING.values(), ids=MISSING.keys())
def test_a_card_missing_a_field(markup, expected):
    [(outcome, result)] = run_cards(listing(card(markup)).encode())
    assert outcome == expected[0]
    if outcome == "dropped":
        assert result == expected[1]
    else:
        assert getattr(result, expected[1]) is None and result.url and result.title


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [("09 JUL 2019", "2019-07-09"), ("2019-07-09", "2019-07-09"), ("9 July 2019", "2019-07-09"),
     ("TBC", None), ("", None), ("July 2019", None), ("31 Feb 2019", None)],
)  # fmt: skip
def test_dates_as_the_site_may_write_them(written, stored):
    markup = FULL.replace('datetime="09 JUL 2019">09 JUL 2019', f'datetime="{written}">{written}')
    [(_, result)] = run_cards(listing(card(markup)).encode())
    assert result.published == stored
    assert result.published_raw == (written or None)


# --- malformed HTML and odd bytes ---------------------------------------------------------------


def test_malformed_html_keeps_what_can_be_read():
    body = b'<html><body><div class="ajax-area"><article class="box"><h2><a href="/ioc/news/a">A title</h2><time>12 Mar 2019'
    [(outcome, result)] = run_cards(body)
    assert (
        outcome == "stored"
        and result.url == "https://olympics.com/ioc/news/a"
        and result.title == "A title"
    )


def test_a_page_that_is_not_html_gives_no_card():
    assert run_cards(b"\x89PNG\r\n\x1a\n\x00\x00binary") == []
    assert run_cards(b"") == []


def test_nul_bytes_are_dropped():
    [(_, result)] = run_cards(listing(card(FULL.replace("A title", "A\x00 title"))).encode())
    assert result.title == "A title"


def test_a_windows_1252_page_is_decoded_by_its_declared_charset():
    body = listing(
        card(FULL.replace("A title", "Visa\x92s plan")), head='<meta charset="windows-1252">'
    )
    [(_, result)] = run_cards(body.encode("latin-1"))
    assert result.title == "Visa’s plan"


def test_invalid_utf8_is_replaced_not_fatal():
    body = (
        listing(card(FULL.replace("A title", "Visa PLACEHOLDER plan")))
        .encode()
        .replace(b"PLACEHOLDER", b"\xff\xfe")
    )
    [(outcome, result)] = run_cards(body)
    assert outcome == "stored" and result.title.startswith("Visa") and result.title.endswith("plan")


def test_a_latin_1_json_answer_is_decoded():
    response = TextResponse(PAGE_URL, body='{"content": [{"title": "Caf\xe9 &amp; more", "url": "/ioc/news/c"}]}'.encode("latin-1"),
                            headers={"Content-Type": "application/json"})  # fmt: skip
    [parsed] = pages.parse_load_more(response.text, PAGE_URL)
    assert parsed.title == "Café &amp; more"  # entities decoded later, by normalize


@pytest.mark.parametrize(
    "body",
    [
        "",
        "null",
        "[]",
        '{"content": {}}',
        '{"content": ["x"]}',
        "<html>oops</html>",
        '{"content": [{"url": 5}]',
        "\ufeff{",
    ],
)
def test_a_load_more_answer_that_is_not_the_contracts_json_is_a_format_error(body):
    with pytest.raises(pages.PageFormatError):
        pages.parse_load_more(body, PAGE_URL)


def test_load_more_entries_with_wrong_types_become_cards_without_those_fields():
    [parsed] = pages.parse_load_more(
        '{"content": [{"url": 5, "title": ["x"], "date": 2019, "topic": "IOC"}]}', PAGE_URL
    )
    assert (parsed.url, parsed.title, parsed.published_raw, parsed.category) == (
        None,
        None,
        None,
        "IOC",
    )


# --- a very large listing ---------------------------------------------------------------------


def test_a_very_large_listing_is_parsed_whole():
    # How fast is measured by benchmarks/ (the card parser), not here.
    cards = (card(FULL.replace("/ioc/news/a", f"/ioc/news/a{n}")) for n in range(5000))
    outcomes = run_cards(listing(*cards).encode())
    assert len(outcomes) == 5000 and all(outcome == "stored" for outcome, _ in outcomes)
    assert len({result.url for _, result in outcomes}) == 5000
