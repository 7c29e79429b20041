from __future__ import annotations

import pytest
import scrapy
from scrapy import signals
from scrapy.utils.test import get_crawler

from olyscrape.crawlstats import StopReason
from olyscrape.site.loadmore import LoadMoreLink
from olyscrape.site.walk import PartnerPaging
from olyscrape.spiders.partners import PartnersSpider

URL = "https://olympics.com/ioc/ajaxscript/loadmoreoverviewnews/%7BAB12%7D/9/9/"


def test_load_more_link_reads_count_and_offset():
    link = LoadMoreLink.parse(URL)
    assert (link.count, link.offset) == (9, 9)
    assert link.url() == URL
    assert link.url(27) == URL.replace("/9/9/", "/9/27/")


@pytest.mark.parametrize(
    "url",
    [
        "https://olympics.com/ioc/alibaba",
        "https://olympics.com/ioc/ajaxscript/loadmoreoverviewnews/%7BAB%7D/0/9/",
        "https://olympics.com/ioc/ajaxscript/loadmoreoverviewnews/%7BAB%7D/nine/9/",
    ],
)
def test_load_more_link_refuses_other_urls(url):
    assert LoadMoreLink.parse(url) is None


def test_admit_numbers_new_urls_and_refuses_repeats():
    paging = PartnerPaging(max_pages=10)
    assert paging.admit("a") == 1
    assert paging.admit("b") == 2
    assert paging.admit("a") is None


def _answer(paging, link, offset, received, new):
    paging.count_page()
    return paging.after_answer(link, offset, received, new)


def test_offset_advances_by_what_each_answer_brought():
    link = LoadMoreLink.parse(URL)
    paging = PartnerPaging(max_pages=10)
    assert _answer(paging, link, 9, 9, 9) == 18


@pytest.mark.parametrize(("received", "reason"), [(0, "empty answer"), (4, "short answer")])
def test_stops_on_an_empty_or_short_answer(received, reason):
    link = LoadMoreLink.parse(URL)
    paging = PartnerPaging(max_pages=10)
    assert _answer(paging, link, 9, received, received) is None
    assert paging.stop_reason == reason


def test_an_answer_repeating_shown_cards_does_not_stop_paging_alone():
    # A page link with offset 0 first answers the cards already on the page.
    link = LoadMoreLink.parse(URL.replace("/9/9/", "/9/0/"))
    paging = PartnerPaging(max_pages=10)
    assert _answer(paging, link, 0, 9, 0) == 9
    assert _answer(paging, link, 9, 9, 9) == 18


def test_stops_after_two_answers_in_a_row_with_nothing_new():
    link = LoadMoreLink.parse(URL)
    paging = PartnerPaging(max_pages=10)
    assert _answer(paging, link, 9, 9, 9) == 18
    assert _answer(paging, link, 18, 9, 0) == 27
    assert _answer(paging, link, 27, 9, 0) is None
    assert "no new card" in paging.stop_reason


def test_stops_at_the_page_cap():
    link = LoadMoreLink.parse(URL)
    paging = PartnerPaging(max_pages=3)
    paging.count_page()  # the listing page
    assert _answer(paging, link, 9, 9, 9) == 18
    assert _answer(paging, link, 18, 9, 9) is None
    assert paging.stop_reason == "page cap"


def test_no_script_pages_stop_after_two_pages_with_nothing_new():
    paging = PartnerPaging(max_pages=10)
    paging.count_page()
    assert paging.after_page(new=6) is True
    paging.count_page()
    assert paging.after_page(new=0) is True
    paging.count_page()
    assert paging.after_page(new=0) is False
    assert "no new card" in paging.stop_reason


def test_the_walks_seen_set_keeps_every_url_once_through_its_growth():
    from olyscrape.site.walk import HashSet

    seen = HashSet()
    urls = [f"https://olympics.com/ioc/news/article-{n}" for n in range(5_000)]
    assert all(seen.add(url) for url in urls)  # grows from 64 slots to 16,384
    assert not any(seen.add(url) for url in urls[::3])
    assert len(seen) == len(urls)
    assert seen.add("https://olympics.com/ioc/news/one-more")


def test_a_url_read_already_in_the_walk_is_a_cycle():
    paging = PartnerPaging(max_pages=10)
    paging.mark_read("https://olympics.com/ioc/omega", "https://olympics.com/ioc/omega/page/2")
    assert not paging.is_cycle("https://olympics.com/ioc/omega/page/3")
    assert paging.stop_reason is None
    # Spelled as Scrapy's duplicate filter would find it the same request.
    assert paging.is_cycle("https://olympics.com/ioc/omega#top")
    assert paging.stop_reason is StopReason.PAGING_CYCLE and paging.stop_reason.complete


# --- a dropped request, named in the closing line ----------------------------------------


def test_a_walk_whose_request_was_dropped_names_it(tmp_path):
    """Scrapy's ``request_dropped`` signal: the walk left without an answer says which
    request the scheduler dropped, and why."""
    settings = {"OLYSCRAPE_LOCK_HELD": True, "OLYSCRAPE_DB": str(tmp_path / "a.db")}
    crawler = get_crawler(PartnersSpider, settings)
    crawler.spider = spider = PartnersSpider.from_crawler(crawler)
    crawler.stats.open_spider()
    spider.discovered = True
    spider.open_walks = {
        "omega": "https://olympics.com/ioc/omega",
        "visa": "https://olympics.com/ioc/visa",
    }
    dropped = scrapy.Request("https://olympics.com/ioc/omega/page/2", cb_kwargs={"partner": "omega"},
                             meta={"olyscrape_kind": "listing"})  # fmt: skip
    crawler.signals.send_catch_log(signals.request_dropped, request=dropped, spider=spider)
    spider.closed("finished")
    reasons = {f["partner"]: f["reason"] for f in crawler.stats.get_value("olyscrape/failures")}
    assert reasons["omega"] == (
        "the walk stopped without an answer: listing https://olympics.com/ioc/omega/page/2"
        " dropped as a duplicate of a request already made"
    )
    assert (
        reasons["visa"] == "the walk stopped without an answer (a request was dropped on the way)"
    )
