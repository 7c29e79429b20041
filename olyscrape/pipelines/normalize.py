"""Normalize cards: clean text, canonical links, ISO dates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from olyscrape.addon import setting
from olyscrape.items import ArticleCard, ArticlePageItem, PageCards, Partner
from olyscrape.site import urls
from olyscrape.site.dates import clean_text, parse_date, without_controls

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class NormalizePipeline:
    """Decode entities, drop control characters and collapse white space (typographic
    quotes kept) in every text, the body included; resolve every link against the
    canonical origin whatever origin the page came from, and parse the raw date into
    ``published`` (``YYYY-MM-DD``, or None when it is no date)."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        base_url = setting(crawler.settings, "OLYSCRAPE_BASE_URL")
        return cls(urls.normalize_base_url(base_url) if base_url else None)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageCards):
            for card in item.cards:
                self.normalize_card(card)
            return item
        if isinstance(item, ArticleCard):
            return self.normalize_card(item)
        if isinstance(item, ArticlePageItem):
            return self.normalize_body(item)
        if isinstance(item, Partner):
            item.name = clean_text(item.name) or item.slug
            item.url = (
                urls.canonical_url(item.url, urls.CANONICAL_ORIGIN, self.base_url) or item.url
            )
        return item

    def normalize_card(self, card: ArticleCard) -> ArticleCard:
        page_url = card.page_url or urls.CANONICAL_ORIGIN
        card.url = urls.canonical_url(card.url, page_url, self.base_url)
        card.image_url = urls.canonical_url(card.image_url, page_url, self.base_url)
        card.title = clean_text(card.title)
        card.category = clean_text(card.category)
        card.published_raw = clean_text(card.published_raw)
        card.published = parse_date(card.published_raw)
        return card

    def normalize_body(self, article: ArticlePageItem) -> ArticlePageItem:
        article.url = (
            urls.canonical_url(article.url, urls.CANONICAL_ORIGIN, self.base_url) or article.url
        )
        article.body = without_controls(article.body)
        article.title = clean_text(article.title)
        article.category = clean_text(article.category)
        article.published_raw = clean_text(article.published_raw)
        article.published = parse_date(article.published_raw)
        article.modified = parse_date(article.modified_raw)
        article.image_url = urls.canonical_url(article.image_url, article.url, self.base_url)
        article.tags = [t for t in (clean_text(tag) for tag in article.tags) if t]
        return article
