"""The items a crawl yields: typed dataclasses with defaults (Scrapy accepts them as items)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Partner:
    """A worldwide TOP partner, as the site menu's TOP column lists it."""

    slug: str
    name: str
    url: str


@dataclass
class ArticleCard:
    """One news card on a partner's listing (HTML card or load-more JSON entry).

    The page parser fills the raw fields; the normalize pipeline cleans text, makes
    ``url`` and ``image_url`` canonical and sets ``published`` from ``published_raw``.
    """

    url: str | None
    title: str | None
    category: str | None = None
    published_raw: str | None = None
    published: str | None = None
    image_url: str | None = None
    partner: str | None = None
    position: int | None = None
    page_url: str | None = None
