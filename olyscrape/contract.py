"""The points of the site contract (``docs/site.md``), checked on one page at a time.

``olyscrape check`` fetches a few pages (discovery, then per partner a listing page, a
load-more answer or no-script page, an article page) and runs these functions over them.
Each returns :class:`Point` objects: a point of the contract, whether it holds on that
page, and the evidence (the selector, the count found, a short excerpt). They read pages
with the crawl's own parsers (:mod:`olyscrape.pages`), so a point that holds here is a
rule the crawl can rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from olyscrape import pages, structured
from olyscrape.items import ArticleCard
from olyscrape.paging import LoadMoreLink

EXCERPT = 80


@dataclass(frozen=True)
class Point:
    """One point of the contract on one page: ``partner`` is None for discovery."""

    partner: str | None
    name: str
    holds: bool
    evidence: str
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The order a report lists a partner's points in: the order of the contract.
ORDER = (
    "discovery: TOP column", "listing: cards", "card: link", "card: title", "card: label",
    "card: date", "card: image", "paging: load-more link", "paging: load-more answer",
    "paging: no-script next page", "paging: none", "article: title", "article: date",
    "article: tags", "article: body",
)  # fmt: skip


def excerpt(text: str | bytes | None, size: int = EXCERPT) -> str:
    """The start of a text on one line, for evidence."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    flat = " ".join((text or "").split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def discovery(page: pages.Selectable, url: str) -> tuple[Point, list[pages.MenuLink]]:
    """§1: the menu column headed TOP, and the partners it lists."""
    links = pages.top_partner_links(page, url)
    if not links:
        evidence = "no div.drop-col whose strong.title reads TOP, or no link in it"
        return Point(None, "discovery: TOP column", False, evidence, url), []
    names = ", ".join(link.name for link in links)
    evidence = f"div.drop-col headed TOP: {len(links)} partners ({excerpt(names, 120)})"
    return Point(None, "discovery: TOP column", True, evidence, url), links


#: §2: fields a card may lack (stored as NULL). Missing from every card of a listing, they
#: break the contract only when the listing shows at least OPTIONAL_QUORUM cards: one or
#: two cards without a label say nothing about the markup.
OPTIONAL_FIELDS = frozenset({"label", "date", "image"})
OPTIONAL_QUORUM = 3

#: §2: each card field, the selector that gives it, and how a card shows it.
CARD_FIELDS: dict[str, tuple[str, Callable[[ArticleCard], Any]]] = {
    "link": ("h2 a[href]", lambda c: c.url),
    "title": ("h2 a / h2", lambda c: c.title),
    "label": (".news-topic-label", lambda c: c.category),
    "date": ("time", lambda c: c.published_raw),
    "image": ("img / source[srcset]", lambda c: c.image_url),
}


def listing(
    page: pages.Selectable, url: str, partner: str
) -> tuple[list[Point], list[ArticleCard]]:
    """§2: the listing's cards, and each card field present on at least one of them."""
    too_deep = pages.too_deep(page)
    if too_deep:  # its cards past the parser's depth limit are lost: no count is true
        return [Point(partner, "listing: cards", False, too_deep, url)], []
    cards = pages.ListingPage(page, url).cards
    if not cards:
        area = page.css("div.ajax-area")
        links = len(area.css("h2 a[href], a[href*='/news/']")) if area else 0
        if area and not links:
            evidence = "0 cards; its card area (div.ajax-area) is there and empty: no news"
            return [Point(partner, "listing: cards", True, evidence, url)], []
        if area:
            evidence = (f"0 cards (div.ajax-area article), yet the card area holds {links}"
                        " news links: the card markup changed?")  # fmt: skip
        else:
            evidence = "0 cards: no div.ajax-area article and no article.box (markup changed?)"
        return [Point(partner, "listing: cards", False, evidence, url)], []
    first = excerpt(cards[0].title or cards[0].url, 60)
    found_by = (
        "div.ajax-area article"
        if page.css("div.ajax-area article")
        else "article.box (the fallback: no div.ajax-area article)"
    )
    points = [
        Point(partner, "listing: cards", True, f"{found_by}: {len(cards)} cards"
              f" (first: {first})", url)
    ]  # fmt: skip
    for name, (selector, read) in CARD_FIELDS.items():
        have = sum(1 for card in cards if read(card))
        evidence = f"{selector}: on {have} of {len(cards)} cards"
        holds = have > 0
        if not holds and name in OPTIONAL_FIELDS and len(cards) < OPTIONAL_QUORUM:
            holds, evidence = True, f"{evidence} (a card may lack it; too few cards to tell)"
        points.append(Point(partner, f"card: {name}", holds, evidence, url))
    return points, cards


def load_more_link(href: str, partner: str, url: str) -> tuple[Point, LoadMoreLink | None]:
    """§3: the load-more link parses into its area, count and offset."""
    link = LoadMoreLink.parse(href)
    if link is None:
        evidence = f".btn-more a[href] not of the form …/{{GUID}}/<count>/<offset>/: {href}"
        return Point(partner, "paging: load-more link", False, evidence, url), None
    evidence = f".btn-more a[href]: count {link.count}, offset {link.offset}"
    return Point(partner, "paging: load-more link", True, evidence, url), link


def load_more_answer(body: bytes, url: str, partner: str) -> Point:
    """§3: the answer is JSON with a ``content`` list of news items."""
    try:
        cards = pages.parse_load_more(body, url)
    except pages.PageFormatError as exc:
        return Point(partner, "paging: load-more answer", False,
                     f"{exc}: {excerpt(body)}", url)  # fmt: skip
    titled = sum(1 for card in cards if card.url and card.title)
    evidence = f'JSON {{"content": [...]}}: {len(cards)} items, {titled} with url and title'
    holds = not cards or titled > 0
    return Point(partner, "paging: load-more answer", holds, evidence, url)


def next_page(page: pages.Selectable, url: str, partner: str) -> Point:
    """§4: the no-script page a listing links to shows cards too."""
    cards = pages.ListingPage(page, url).cards
    evidence = f"a.next[rel~=next] led to a page of {len(cards)} cards"
    return Point(partner, "paging: no-script next page", bool(cards), evidence, url)


def no_paging(partner: str, url: str) -> Point:
    evidence = "no .btn-more link and no a.next[rel~=next]: the listing is one page"
    return Point(partner, "paging: none", True, evidence, url)


def article(page: pages.Selectable, url: str, partner: str) -> list[Point]:
    """§5: the article page's title, date, tags and body (the visible markup, else its
    structured data, as the crawl reads them)."""
    reader = pages.ArticlePage(page, url)
    try:
        item = reader.to_item()
    except pages.PageFormatError as exc:
        return [Point(partner, "article: body", False, str(exc), url)]
    points: list[Point] = []
    shown: Sequence[tuple[str, str, Any]] = (
        ("title", "section h1", item.title),
        ("date", "div.info-col dt Date + dd", item.published_raw),
        ("tags", "div.info-col dt Tags + dd", ", ".join(item.tags)),
    )
    fields = {"title": "title", "date": "published", "tags": "keywords"}
    for name, selector, value in shown:
        source = item.sources.get(fields[name])
        where = selector if source in (None, structured.PAGE) else f"{source} (not on the page)"
        evidence = f"{where}: {excerpt(value, 60)}" if value else f"{selector}: not found"
        points.append(Point(partner, f"article: {name}", bool(value), evidence, url))
    paragraphs = item.body.count("\n\n") + 1
    evidence = f"section.post-box.text-content: {paragraphs} blocks ({excerpt(item.body, 60)})"
    points.append(Point(partner, "article: body", True, evidence, url))
    return points


def failed_fetch(name: str, partner: str | None, url: str, reason: str) -> Point:
    """A page the probe could not fetch: the point it was to check is broken."""
    return Point(partner, name, False, f"could not fetch it: {reason}", url)
