"""The contract's points judged on single pages (no crawl): what holds, what breaks."""

from __future__ import annotations

from parsel import Selector

from olyscrape import site as pages
from olyscrape.site import probe as contract
from tests.helpers import needs_depth_limit

URL = "https://olympics.com/ioc/visa"


def listing(cards: int, label: bool) -> Selector:
    card = (
        '<article class="box"><h2><a href="/ioc/news/story-{n}">Story {n}</a></h2>'
        + ('<span class="news-topic-label">IOC News</span>' if label else "")
        + '<time>01 Jan 2021</time><img src="/i.jpg"></article>'
    )
    body = "".join(card.format(n=n) for n in range(cards))
    return Selector(f'<div class="ajax-area">{body}</div>')


def names(points):
    return {p.name: p.holds for p in points}


def test_a_listing_where_every_point_holds():
    points, cards = contract.listing(listing(4, label=True), URL, "visa")
    assert len(cards) == 4 and all(names(points).values())
    assert names(points).keys() >= {"listing: cards", "card: link", "card: label", "card: image"}


def test_an_optional_field_missing_from_a_few_cards_holds():
    points, _ = contract.listing(listing(2, label=False), URL, "visa")
    (label,) = [p for p in points if p.name == "card: label"]
    assert label.holds and "too few cards to tell" in label.evidence


def test_an_optional_field_missing_from_every_card_of_a_listing_breaks():
    points, _ = contract.listing(listing(3, label=False), URL, "visa")
    assert [p.name for p in points if not p.holds] == ["card: label"]


def test_an_empty_card_area_holds_and_no_card_area_breaks():
    (empty,), _ = contract.listing(Selector('<div class="ajax-area"></div>'), URL, "airbnb")
    assert empty.holds and "no news" in empty.evidence
    (gone,), _ = contract.listing(Selector('<div class="news"></div>'), URL, "airbnb")
    assert not gone.holds and "markup changed" in gone.evidence


def test_cards_found_by_the_fallback_are_named_as_such():
    html = '<div class="news"><article class="box"><h2><a href="/ioc/news/a">A</a></h2></article></div>'
    (cards, *_), found = contract.listing(Selector(html), URL, "visa")
    assert cards.holds and len(found) == 1
    assert cards.evidence.startswith("article.box (the fallback: no div.ajax-area article)")


def test_news_links_in_a_card_area_without_cards_break_it():
    html = (
        '<div class="ajax-area"><div class="tile"><h2><a href="/ioc/news/a">A</a></h2></div></div>'
    )
    (cards,), found = contract.listing(Selector(html), URL, "omega")
    assert not cards.holds and found == []
    assert "holds 1 news links" in cards.evidence


def test_load_more_links_and_answers():
    ok, link = contract.load_more_link(
        "https://olympics.com/ioc/ajaxscript/loadmoreoverviewnews/%7BAB%7D/9/9/", "visa", URL
    )
    assert ok.holds and link is not None and (link.count, link.offset) == (9, 9)
    bad, none = contract.load_more_link("https://olympics.com/ioc/more?page=2", "visa", URL)
    assert not bad.holds and none is None
    assert contract.load_more_answer(b'{"content": []}', URL, "visa").holds
    answer = contract.load_more_answer(b"<html>busy</html>", URL, "visa")
    assert not answer.holds and "<html>busy</html>" in answer.evidence


def _probe_settings(**arguments):
    from scrapy.crawler import Crawler

    from olyscrape.crawl import project_settings
    from olyscrape.spiders.check import CheckSpider

    crawler = Crawler(CheckSpider, project_settings())
    CheckSpider.from_crawler(crawler, **arguments)
    return crawler.settings


def test_the_probe_is_as_polite_as_a_crawl_and_stores_nothing():
    settings = _probe_settings()  # the live site
    assert settings.getbool("ROBOTSTXT_OBEY") is True
    assert settings.getfloat("DOWNLOAD_DELAY") == 1.0
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is True
    assert settings.get("OLYSCRAPE_DB") == "" and settings.getbool("OLYSCRAPE_CAPTURE") is False
    assert settings.getbool("SPIDERMON_ENABLED") is False


def test_the_probe_of_a_loopback_mirror_drops_the_delays_as_a_crawl_does():
    settings = _probe_settings(base_url="http://127.0.0.1:8000")
    assert settings.getbool("ROBOTSTXT_OBEY") is False
    assert settings.getfloat("DOWNLOAD_DELAY") == 0


@needs_depth_limit
def test_a_listing_too_deep_to_parse_breaks_the_cards_point():
    depth = pages.html_depth_limit() + 10
    card = '<article class="box"><h2><a href="/ioc/news/{0}">{0}</a></h2></article>'
    deep = card.format("a") + "<div>" * depth + "</div>" * depth + card.format("b")
    (point,), cards = contract.listing(Selector(f'<div class="ajax-area">{deep}</div>'), URL, "v")
    assert not point.holds and "page too deep to parse" in point.evidence and cards == []
