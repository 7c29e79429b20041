"""3. Card parser: cards/s of ``olyscrape.site.listing.ListingPage(...).cards`` followed by
``NormalizePipeline().normalize_card`` on one big listing page, against a minimal parsel
loop reading the same five fields (url, title, category, date, image) of the same cards.
The parser alone, without normalization, is reported too.

Each page (``Options.parser_cards`` cards, 1,000 by default, in the markup of
``olyscrape.testing.sitegen``) is parsed into a ``parsel.Selector`` outside the timings
(lxml's parse is the same for both and is reported on its own). Each timing is one pass
over every card of a page no other timing has seen (its own links and titles; dates
repeat, as on the site), so no cache carries over from one timing to the next;
``repeats`` timings of each, in turn, median kept. The benchmark checks that the minimal
loop and olyscrape read the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parsel import Selector

from benchmarks import common
from benchmarks.common import Options, Result, Row
from olyscrape.pipelines.normalize import NormalizePipeline
from olyscrape.site.listing import ListingPage

NAME = "parser"
TITLE = "card parser against a minimal parsel loop"
TARGET = 0.8
PAGE_URL = "https://olympics.com/ioc/alibaba"


def minimal_cards(page: Selector) -> list[tuple[Any, ...]]:
    """The five fields of every card, raw, with the fewest parsel calls that read them."""
    return [
        (
            card.css("h2 a::attr(href)").get(),
            card.xpath("string(.//h2/a)").get(),
            card.xpath("string(.//span[contains(@class, 'news-topic-label')])").get(),
            card.css("time::attr(datetime)").get(),
            card.css("img::attr(src)").get(),
        )
        for card in page.css("div.ajax-area article")
    ]


def olyscrape_cards(page: Selector) -> list[Any]:
    return ListingPage(page, PAGE_URL).cards


def olyscrape_normalized(page: Selector) -> list[Any]:
    normalize = NormalizePipeline().normalize_card
    return [normalize(card) for card in ListingPage(page, PAGE_URL).cards]


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def same_fields(page: Selector) -> bool:
    """True when olyscrape's raw cards hold what the minimal loop reads."""
    ours = [
        (c.url, _squash(c.title), _squash(c.category), c.published_raw, c.image_url)
        for c in olyscrape_cards(page)
    ]
    theirs = [
        ("https://olympics.com" + u, _squash(t), _squash(c), d, i)
        for u, t, c, d, i in minimal_cards(page)
    ]
    return ours == theirs


def run(options: Options) -> Result:
    result = Result()
    count = options.parser_cards
    words = common.Words(size=5_000, seed=11)
    pages = []
    for _ in range(3 * options.repeats + 1):
        html = common.listing_page(1, common.partner_items(1, count, words), (10, 10))
        seconds, page = common.timed(lambda h=html: Selector(text=h))
        pages.append((seconds, page))
    parse_seconds = common.median([seconds for seconds, _ in pages])
    fresh = iter(page for _, page in pages)
    page = next(fresh)
    found = len(minimal_cards(page))
    if found != count or len(olyscrape_cards(page)) != count:
        raise RuntimeError(f"expected {count} cards on the page, found {found}")
    agree = same_fields(page)
    if not agree:
        raise RuntimeError("olyscrape and the minimal loop read different fields")

    def rate(parse: Callable[[Selector], list[Any]]) -> Callable[[], float]:
        def one() -> float:
            page = next(fresh)
            return count / common.timed(lambda: parse(page))[0]

        return one

    runs = common.alternate(
        {
            "minimal": rate(minimal_cards),
            "parser": rate(olyscrape_cards),
            "normalized": rate(olyscrape_normalized),
        },
        options.repeats,
    )
    baseline = common.median(runs["minimal"])
    result.details = {
        "cards": count,
        "page_bytes": len(html.encode()),
        "pages": len(pages),
        "lxml_parse_seconds": parse_seconds,
        "same_fields": agree,
        "cards_per_s": runs,
    }
    for key, label in (("normalized", "parse + normalize"), ("parser", "parse only")):
        figure = common.median(runs[key])
        value = common.ratio(figure, baseline)
        result.add(
            Row(
                NAME,
                f"{label}, {count} cards",
                figure,
                "cards/s",
                baseline=baseline,
                baseline_unit="cards/s",
                ratio=value,
                target=f"ratio >= {TARGET}" if key == "normalized" else "",
                passed=(value is not None and value >= TARGET) if key == "normalized" else None,
                note="baseline: minimal parsel loop, same 5 fields, same page",
            )
        )
    return result
