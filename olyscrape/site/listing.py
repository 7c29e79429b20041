"""Listing cards (``docs/site.md`` §2): a partner's listing page, its news cards, and the
ways it leads to more cards.

This is the one file that says what olyscrape reads from a listing card: the selectors
below are read by :func:`read_card` (the crawl) and named in the evidence of
:meth:`ListingPage.check` (the probe), and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import Any

from olyscrape.items import ArticleCard
from olyscrape.site.loadmore import load_more_href
from olyscrape.site.noscript import next_page_href, next_page_point
from olyscrape.site.page import (
    TOPIC_LABEL,
    TOPIC_LABEL_CLASS,
    Selectable,
    absolute,
    squash,
    text,
    too_deep,
)
from olyscrape.site.points import Point, excerpt

#: Where the cards are: every ``article`` of the card area, else every ``article.box``.
CARD_AREA = "div.ajax-area"
CARDS = f"{CARD_AREA} article"
FALLBACK_CARDS = "article.box"
HEADING = "h1"

# What a card gives (§2), one name per piece of markup; :func:`read_card` walks the card
# for them, and the probe's evidence names them.
#: The card's heading: its links give the card's link and title.
CARD_HEADING = "h2"
#: The card's image block: its link is the second choice of the card's link.
IMAGE_BLOCK = ("span", "image")
#: The card's date: its ``datetime`` attribute, else its text.
CARD_DATE = "time"
DATE_ATTRIBUTE = "datetime"
#: The card's image: the first of these attributes of its ``img``, else the first
#: candidate of a ``srcset`` (of the ``img``, else of the first ``source``).
CARD_IMAGE = "img"
IMAGE_ATTRIBUTES = ("src", "data-src")
IMAGE_SOURCE = "source"
SRCSET = "srcset"
LINK = "a"
HREF = "href"

#: Links in a card area that say it holds news even when no card was found in it.
NEWS_LINKS = f"{CARD_HEADING} {LINK}[{HREF}], {LINK}[{HREF}*='/news/']"

CARDS_POINT = "listing: cards"


@dataclass(frozen=True)
class CardField:
    """A field of a card as the probe reports it: the markup it comes from and how a
    card holds it."""

    markup: str
    read: Any  # ArticleCard -> value


#: §2: each card field (by its point's name), the markup that gives it, and how a parsed
#: card shows it.
CARD_FIELDS: dict[str, CardField] = {
    "link": CardField(f"{CARD_HEADING} {LINK}[{HREF}]", attrgetter("url")),
    "title": CardField(f"{CARD_HEADING} {LINK} / {CARD_HEADING}", attrgetter("title")),
    "label": CardField(TOPIC_LABEL, attrgetter("category")),
    "date": CardField(CARD_DATE, attrgetter("published_raw")),
    "image": CardField(f"{CARD_IMAGE} / {IMAGE_SOURCE}[{SRCSET}]", attrgetter("image_url")),
}
#: §2: the fields a card must have to be an article (the validate pipeline drops a card
#: without one, as ``missing_<field>``); the others a card may lack.
REQUIRED_FIELDS = ("url", "title")
#: §2: fields a card may lack (stored as NULL). Missing from every card of a listing, they
#: break the contract only when the listing shows at least OPTIONAL_QUORUM cards: one or
#: two cards without a label say nothing about the markup.
OPTIONAL_FIELDS = frozenset({"label", "date", "image"})
OPTIONAL_QUORUM = 3


def _joined(texts: list[str]) -> str | None:
    joined = "".join(texts)
    return joined if joined.strip() else None


def _srcset_first(srcset: str | None) -> str | None:
    if not srcset:
        return None
    first = srcset.split(",")[0].strip().split(" ")[0]
    return first or None


def _within(node: Any, tag: str, card: Any, css_class: str | None = None) -> bool:
    """True when ``node`` sits inside a ``tag`` element (of ``css_class``) of the card."""
    for ancestor in node.iterancestors():
        if ancestor is card:
            return False
        if ancestor.tag == tag and (
            css_class is None or css_class in (ancestor.get("class") or "").split()
        ):
            return True
    return False


def _text_of(nodes: list[Any]) -> str | None:
    return _joined([t for node in nodes for t in node.itertext()])


def read_card(card: Any) -> dict[str, str | None]:
    """The raw fields of a card's element (an lxml element), read in one walk over it,
    in document order: the link in the heading, else in the image block, else any link;
    the title the text of the heading's links, else of the heading; the topic label; the
    first date; the first image, else the first image source (see the constants above).
    """
    h2s: list[Any] = []
    title_links: list[Any] = []
    labels: list[Any] = []
    link = image_link = any_link = None
    time = img = srcset = None
    for node in card.iter():
        tag = node.tag
        if not isinstance(tag, str):
            continue  # a comment
        if tag == LINK:
            in_h2 = bool(h2s) and _within(node, CARD_HEADING, card)
            if in_h2:
                title_links.append(node)
            href = node.get(HREF)
            if href is not None:
                if link is None and in_h2:
                    link = href
                if image_link is None and _within(node, IMAGE_BLOCK[0], card, IMAGE_BLOCK[1]):
                    image_link = href
                if any_link is None:
                    any_link = href
        elif tag == CARD_HEADING:
            h2s.append(node)
        elif tag == CARD_DATE:
            time = time if time is not None else node
        elif tag == CARD_IMAGE:
            img = img if img is not None else node
        elif tag == IMAGE_SOURCE and srcset is None:
            srcset = node.get(SRCSET)
        css_class = node.get("class")
        if css_class and TOPIC_LABEL_CLASS in css_class.split():
            labels.append(node)
    date = None
    if time is not None:
        date = time.get(DATE_ATTRIBUTE) or _text_of([time])
    image = None
    if img is not None:
        image = next((img.get(a) for a in IMAGE_ATTRIBUTES if img.get(a)), None)
        image = image or _srcset_first(img.get(SRCSET))
    elif srcset:
        image = _srcset_first(srcset)
    return {
        "url": link or image_link or any_link,
        "title": _text_of(title_links) or _text_of(h2s),
        "category": _text_of(labels),
        "published_raw": date,
        "image_url": image,
    }


def parse_card(card: Any, page_url: str) -> ArticleCard:
    """One ``article`` card of a listing page (a selector or an lxml element), with raw
    (not yet normalized) fields."""
    fields = read_card(getattr(card, "root", card))
    return ArticleCard(
        url=absolute(fields["url"], page_url),
        title=fields["title"],
        category=fields["category"],
        published_raw=fields["published_raw"],
        image_url=absolute(fields["image_url"], page_url),
        page_url=page_url,
    )


class ListingPage:
    """A partner's listing page (or a no-script page after it): its heading, its cards
    and its ways to more cards."""

    def __init__(self, page: Selectable, url: str) -> None:
        self.page = page
        self.url = url

    @property
    def heading(self) -> str | None:
        return squash(text(self.page.css(HEADING))) or None

    @cached_property
    def too_deep(self) -> str | None:
        """Why the page was read in part (nested past the parser's depth limit), or None."""
        return too_deep(self.page)

    def _card_nodes(self) -> Any:
        cards = self.page.css(CARDS)
        return cards if cards else self.page.css(FALLBACK_CARDS)

    @cached_property
    def cards(self) -> list[ArticleCard]:
        return [parse_card(node, self.url) for node in self._card_nodes()]

    @cached_property
    def load_more_url(self) -> str | None:
        """The "+" link (§3), resolved against the page."""
        return load_more_href(self.page, self.url)

    @cached_property
    def next_page_url(self) -> str | None:
        """The no-script next page (§4), resolved against the page."""
        return next_page_href(self.page, self.url)

    def check(self, partner: str) -> tuple[list[Point], list[ArticleCard]]:
        """§2: the listing's cards, and each card field present on at least one of them;
        with the cards the probe may go on from (none from a page read in part)."""
        if self.too_deep:  # its cards past the parser's depth limit are lost: no count is true
            return [Point(partner, CARDS_POINT, False, self.too_deep, self.url)], []
        cards = self.cards
        if not cards:
            return [self._no_cards(partner)], []
        first = excerpt(cards[0].title or cards[0].url, 60)
        found_by = CARDS if self.page.css(CARDS) else f"{FALLBACK_CARDS} (the fallback: no {CARDS})"
        points = [
            Point(partner, CARDS_POINT, True, f"{found_by}: {len(cards)} cards"
                  f" (first: {first})", self.url)
        ]  # fmt: skip
        for name, field in CARD_FIELDS.items():
            have = sum(1 for card in cards if field.read(card))
            evidence = f"{field.markup}: on {have} of {len(cards)} cards"
            holds = have > 0
            if not holds and name in OPTIONAL_FIELDS and len(cards) < OPTIONAL_QUORUM:
                holds, evidence = True, f"{evidence} (a card may lack it; too few cards to tell)"
            points.append(Point(partner, f"card: {name}", holds, evidence, self.url))
        return points, cards

    def _no_cards(self, partner: str) -> Point:
        """A listing without cards: no news (an empty card area), or changed markup."""
        area = self.page.css(CARD_AREA)
        links = len(area.css(NEWS_LINKS)) if area else 0
        if area and not links:
            evidence = f"0 cards; its card area ({CARD_AREA}) is there and empty: no news"
            return Point(partner, CARDS_POINT, True, evidence, self.url)
        if area:
            evidence = (f"0 cards ({CARDS}), yet the card area holds {links}"
                        " news links: the card markup changed?")  # fmt: skip
        else:
            evidence = f"0 cards: no {CARDS} and no {FALLBACK_CARDS} (markup changed?)"
        return Point(partner, CARDS_POINT, False, evidence, self.url)

    def check_as_next_page(self, partner: str) -> Point:
        """§4: this page, reached by a no-script next link, shows cards too."""
        return next_page_point(len(self.cards), partner, self.url)
