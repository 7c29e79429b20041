"""The items a crawl yields: typed dataclasses with defaults (Scrapy accepts them as items)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    capture_id: int | None = None


@dataclass
class PageCards:
    """The cards one listing page or load-more answer brought a partner, in page order.

    A page's cards travel through the pipelines together (Scrapy's per-item machinery
    costs more than reading a card), but cards stay the unit that is counted: seen,
    dropped (and why), stored.
    """

    partner: str
    page_url: str
    cards: list[ArticleCard] = field(default_factory=list)


@dataclass
class ArticlePageItem:
    """What an article's own page says (``docs/site.md`` §5): its title, label, dates,
    tags, image and body text; the item :meth:`olyscrape.site.article.ArticlePage.to_item`
    makes, beside the :class:`ArticleCard` a listing's card makes.

    ``body`` is the paragraphs and headings in order, a blank line between them.
    """

    url: str
    body: str
    tags: list[str] = field(default_factory=list)
    title: str | None = None
    category: str | None = None
    published_raw: str | None = None
    published: str | None = None
    capture_id: int | None = None
    partner: str | None = None  # the partner whose card led to this page
    #: From the page's structured data only (JSON-LD, OpenGraph): no visible markup has them.
    modified_raw: str | None = None
    modified: str | None = None
    image_url: str | None = None
    #: Where each field came from (``title``, ``published``, ``section``, ``keywords``...):
    #: ``page`` (the visible markup), ``json-ld`` or ``opengraph``; and the fields where the
    #: visible markup and the structured data disagreed (the visible value is kept).
    sources: dict[str, str] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)


#: The former name of :class:`ArticlePageItem` ("body" said too little: the item holds the
#: page's title, dates, tags and image too). Deprecated; kept so that code importing it
#: goes on working.
ArticleBody = ArticlePageItem


@dataclass
class ArticlePageFailed:
    """An article page this crawl asked for and could not store (an HTTP error after the
    retries, a network error, a page with no body): recorded on the article, so that the
    archive says what it lacks and the next crawls ask again, a bounded number of times."""

    url: str
    reason: str
    partner: str | None = None  # the partner whose card led to this page


@dataclass
class WalkDone:
    """A partner's listing was walked to its end (or, incrementally, to cards archived
    before). Stored after the partner's cards and after the pages of those cards (each
    stored, or recorded as failed), so an archive that says a walk completed holds every
    card of it and every page it could get; an interrupted walk makes the next crawl walk
    it in full.

    ``incremental``: the walk stopped at cards archived before, so the partner's older
    links were not seen; the archive moves their positions down by as far as the known
    cards it saw moved (new cards were added above them), keeping ``position`` the card's
    place on the listing as a full walk would number it.

    ``whole``: the walk reached the listing's own end (no next page, an empty or short
    load-more answer, pages giving no card it had not read). A walk that ended complete
    for another reason (a paging cycle, a next page on another host or another partner's
    listing) read every page it could, but a server fault may have hidden the rest: only
    a whole walk can tell a card gone from the listing."""

    partner: str
    incremental: bool = False
    whole: bool = True
