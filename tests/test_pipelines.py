from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.items import ArticleCard, Partner
from olyscrape.pipelines.normalize import NormalizePipeline
from olyscrape.pipelines.store import StorePipeline
from olyscrape.pipelines.validate import ValidatePipeline
from olyscrape.spiders.partners import PartnersSpider
from tests.helpers import query

MIRROR = "http://127.0.0.1:8123"


def build(pipeline_cls, **settings):
    crawler = get_crawler(PartnersSpider, settings_dict=settings)
    return pipeline_cls.from_crawler(crawler), crawler


def raw_card(**fields) -> ArticleCard:
    values = {
        "url": "/ioc/news/alibaba-s-tokyo-2020-innovations",
        "title": "\n   Alibaba’s Tokyo 2020 innovations\n\t\thelping transform  ",
        "category": "Tokyo\n\t\t\t2020",
        "published_raw": " 22 Jul 2021 ",
        "image_url": "/images/a.jpg",
        "partner": "alibaba",
        "page_url": "https://olympics.com/ioc/alibaba",
    } | fields
    return ArticleCard(**values)


@pytest.fixture
def normalize():
    pipeline, _ = build(NormalizePipeline, OLYSCRAPE_BASE_URL=MIRROR)
    return pipeline


def test_normalize_collapses_white_space_and_keeps_quotes(normalize):
    card = normalize.process_item(raw_card())
    assert card.title == "Alibaba’s Tokyo 2020 innovations helping transform"
    assert card.category == "Tokyo 2020"


def test_normalize_makes_links_canonical(normalize):
    card = normalize.process_item(raw_card(url=f"{MIRROR}/ioc/news/x", image_url="/images/a.jpg"))
    assert card.url == "https://olympics.com/ioc/news/x"
    assert card.image_url == "https://olympics.com/images/a.jpg"


def test_normalize_decodes_entities_of_json_titles(normalize):
    card = normalize.process_item(raw_card(title="&#8220;Much more&#8221; &amp; beyond"))
    assert card.title == "“Much more” & beyond"


@pytest.mark.parametrize(
    ("raw", "published"), [(" 22 Jul 2021 ", "2021-07-22"), ("TBC", None), (None, None)]
)
def test_normalize_parses_dates_and_keeps_the_raw_text(normalize, raw, published):
    card = normalize.process_item(raw_card(published_raw=raw))
    assert card.published == published
    assert card.published_raw == (raw.strip() if raw else None)


def test_normalize_cleans_partner_names(normalize):
    partner = normalize.process_item(Partner("pg", " P&amp;G ", f"{MIRROR}/ioc/pg"))
    assert (partner.name, partner.url) == ("P&G", "https://olympics.com/ioc/pg")


@pytest.mark.parametrize(("field", "reason"), [("url", "missing_url"), ("title", "missing_title")])
def test_validate_drops_and_counts_cards_missing_url_or_title(field, reason):
    pipeline, crawler = build(ValidatePipeline)
    with pytest.raises(DropItem, match=reason):
        pipeline.process_item(raw_card(**{field: None}))
    assert crawler.stats.get_value(f"olyscrape/dropped/{reason}") == 1
    assert crawler.stats.get_value("olyscrape/partner/alibaba/dropped") == 1


def test_validate_passes_complete_cards_and_partners():
    pipeline, _ = build(ValidatePipeline)
    card = raw_card()
    assert pipeline.process_item(card) is card
    partner = Partner("visa", "Visa", "https://olympics.com/ioc/visa")
    assert pipeline.process_item(partner) is partner


def test_store_writes_in_batches_and_commits_the_rest_on_close(tmp_path):
    db = tmp_path / "a.db"
    crawler = get_crawler(
        PartnersSpider, settings_dict={"OLYSCRAPE_DB": str(db), "OLYSCRAPE_BATCH_SIZE": 2}
    )
    keeper = ArchiveKeeper(crawler)
    store = StorePipeline(keeper, 2, crawler.stats, touch_seen=True)
    normalize, _ = build(NormalizePipeline)
    store.process_item(Partner("alibaba", "Alibaba", "https://olympics.com/ioc/alibaba"))
    for n in range(3):
        store.process_item(normalize.process_item(raw_card(url=f"/ioc/news/{n}", position=n + 1)))
    assert query(db, "SELECT count(*) FROM articles") == [(2,)]  # the third card is pending
    store.close_spider()
    assert query(db, "SELECT count(*) FROM articles") == [(3,)]
    assert query(db, "SELECT count(*) FROM partners") == [(1,)]
    assert crawler.stats.get_value("olyscrape/partner/alibaba/new") == 3
    assert crawler.stats.get_value("olyscrape/stored_cards") == 3
    keeper.close()
