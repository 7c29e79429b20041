"""Page parsers: what the site's pages say, read by meaning rather than position.

Nothing here touches the network or Scrapy's engine: every function takes a parsel
``Selector`` (a Scrapy response works too, it has the same ``css``/``xpath``) or the
text of a JSON answer, and returns plain values or items. What they rely on in the
site's pages is the site contract, ``docs/site.md``: §1 partner discovery, §2 listing
cards, §3 load-more answers, §4 no-script paging, §5 article pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, Protocol
from urllib.parse import urljoin

from lxml import etree  # type: ignore[import-untyped]  # a dependency of parsel
from parsel import Selector

from olyscrape import urls
from olyscrape.items import ArticleBody, ArticleCard
from olyscrape.structured import Combined, StructuredData, combine
from olyscrape.structured import read as read_structured


class Selectable(Protocol):
    def css(self, query: str) -> Any: ...

    def xpath(self, query: str) -> Any: ...


class PageFormatError(ValueError):
    """A page or answer that does not have the shape ``docs/site.md`` describes."""


class TooDeepError(PageFormatError):
    """A page or answer nested deeper than its parser reads: asking again would bring the
    same answer, so it is reported at once, under its own name."""


# --- Nesting depth ----------------------------------------------------------------------


def tree_depth(root: Any) -> int:
    """How many elements deep an lxml tree goes (the root counts as 1)."""
    deepest = depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


@cache
def html_depth_limit() -> int:
    """The depth at which the HTML parser Scrapy uses (libxml2, through parsel) stops
    reading and silently drops the rest of the page: 2,048 with lxml's ``huge_tree``,
    256 without. Measured once, on a page deeper than either, so that whatever libxml2
    is installed, a page that reached its limit is known to be cut; 0 when the probe was
    read whole (some older libxml2 releases have no such limit, and nothing is cut)."""
    levels = 5000
    probe = "<html><body>" + "<div>" * levels + "</div>" * levels + "</body></html>"
    depth = tree_depth(Selector(text=probe, type="html").root)
    return 0 if depth >= levels + 2 else depth


def too_deep(page: Selectable) -> str | None:
    """Why a parsed HTML page cannot be trusted whole, or None: a page nested as deep as
    the parser reads has lost everything after its deepest point (cards, paging links)."""
    root = getattr(getattr(page, "selector", page), "root", None)
    if root is None or not hasattr(root, "getroottree"):
        return None
    limit = html_depth_limit()
    if limit and _reaches_depth(limit)(root):
        return f"page too deep to parse (nested {limit} levels or more; the rest is lost)"
    return None


@cache
def _reaches_depth(depth: int) -> Any:
    """A test of whether an element stands ``depth`` levels deep. First choice, a compiled
    XPath of one step per level, which lxml stops at the page's own depth (a tenth of a
    millisecond on an article page, where walking the tree in Python takes more than
    parsing it); older libxml2 releases refuse an expression that long, and then each
    element's ancestors are counted instead (a third of a millisecond)."""
    steps = etree.XPath("boolean(/" + "/".join(["*"] * depth) + ")")
    counted = etree.XPath(f"boolean(//*[count(ancestor::*) >= {depth - 1}])")

    def reaches(root: Any) -> bool:
        try:
            return bool(steps(root))
        except etree.XPathError:
            return bool(counted(root))

    return reaches


def _text(sel: Any) -> str | None:
    """All text under the selected nodes, joined; None when there is none."""
    text = "".join(sel.xpath(".//text()").getall())
    return text if text.strip() else None


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


# --- Partner discovery (docs/site.md §1) ------------------------------------------


@dataclass(frozen=True)
class MenuLink:
    name: str
    url: str


def top_partner_links(page: Selectable, page_url: str, heading: str = "TOP") -> list[MenuLink]:
    """The links of the site-menu column headed ``TOP`` (found by heading, not position)."""
    for column in page.css("div.drop-col"):
        title = _squash(_text(column.css("strong.title")))
        if title.casefold() != heading.casefold():
            continue
        links = []
        for anchor in column.css("li a[href]"):
            name = _squash(_text(anchor))
            if name:
                links.append(MenuLink(name=name, url=urljoin(page_url, anchor.attrib["href"])))
        return links
    return []


# --- Listing pages (docs/site.md §2 listing cards, §4 no-script paging) ---------------


def _joined(texts: list[str]) -> str | None:
    text = "".join(texts)
    return text if text.strip() else None


def _srcset_first(srcset: str | None) -> str | None:
    if not srcset:
        return None
    first = srcset.split(",")[0].strip().split(" ")[0]
    return first or None


def _absolute(href: str | None, page_url: str) -> str | None:
    return urls.join(page_url, href.strip()) if href and href.strip() else None


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
    return _joined([text for node in nodes for text in node.itertext()])


def read_card(card: Any) -> dict[str, str | None]:
    """The raw fields of a card's element (an lxml element), read in one walk over it.

    The same rules as these selectors, in document order: link ``h2 a[href]``, else
    ``span.image a[href]``, else any ``a[href]``; title the text of ``h2 a`` (else of
    ``h2``); label ``.news-topic-label``; date the first ``time`` (its ``datetime``, else
    its text); image the first ``img`` (``src``, ``data-src``, else the first ``srcset``
    candidate), else the first ``source[srcset]``.
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
        if tag == "a":
            in_h2 = bool(h2s) and _within(node, "h2", card)
            if in_h2:
                title_links.append(node)
            href = node.get("href")
            if href is not None:
                if link is None and in_h2:
                    link = href
                if image_link is None and _within(node, "span", card, "image"):
                    image_link = href
                if any_link is None:
                    any_link = href
        elif tag == "h2":
            h2s.append(node)
        elif tag == "time":
            time = time if time is not None else node
        elif tag == "img":
            img = img if img is not None else node
        elif tag == "source" and srcset is None:
            srcset = node.get("srcset")
        css_class = node.get("class")
        if css_class and "news-topic-label" in css_class.split():
            labels.append(node)
    date = None
    if time is not None:
        date = time.get("datetime") or _text_of([time])
    image = None
    if img is not None:
        image = img.get("src") or img.get("data-src") or _srcset_first(img.get("srcset"))
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
        url=_absolute(fields["url"], page_url),
        title=fields["title"],
        category=fields["category"],
        published_raw=fields["published_raw"],
        image_url=_absolute(fields["image_url"], page_url),
        page_url=page_url,
    )


class ListingPage:
    """A partner's listing page: its heading, its cards and its ways to more cards."""

    def __init__(self, page: Selectable, url: str) -> None:
        self.page = page
        self.url = url

    @property
    def heading(self) -> str | None:
        return _squash(_text(self.page.css("h1"))) or None

    def _card_nodes(self) -> Any:
        cards = self.page.css("div.ajax-area article")
        return cards if cards else self.page.css("article.box")

    @property
    def cards(self) -> list[ArticleCard]:
        return [parse_card(node, self.url) for node in self._card_nodes()]

    @property
    def load_more_url(self) -> str | None:
        return _absolute(self.page.css(".btn-more a::attr(href)").get(), self.url)

    @property
    def next_page_url(self) -> str | None:
        href = (
            self.page.css("noscript a.next[rel~=next]::attr(href)").get()
            or self.page.css(".paging a.next[rel~=next]::attr(href)").get()
        )
        return _absolute(href, self.url)


# --- Load-more answers (docs/site.md §3) ------------------------------------------


def _entry_topic(entry: dict[str, Any]) -> str | None:
    topic = entry.get("topic")
    if isinstance(topic, dict):
        topic = topic.get("name")
    return topic if isinstance(topic, str) else None


def _entry_thumb(entry: dict[str, Any]) -> str | None:
    thumb = entry.get("thumb")
    if isinstance(thumb, dict):
        thumb = thumb.get("desktop") or next(
            (v for v in thumb.values() if isinstance(v, str) and v), None
        )
    return thumb if isinstance(thumb, str) else None


def _entry_str(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def json_text(body: str | bytes) -> str:
    """The text of a JSON answer: its bytes read as UTF-8, as RFC 8259 (§8.1) says JSON
    exchanged between systems is, whatever the Content-Type says or leaves out. A byte
    that is not UTF-8 becomes U+FFFD and spoils only its own character, where guessing an
    8-bit code page for the whole answer (what Scrapy does for ``application/json``
    without a charset once one byte is bad) would garble every accented title in it. A
    leading byte order mark is ignored, as the RFC allows."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text.removeprefix("\ufeff")


def parse_load_more(body: str | bytes, page_url: str) -> list[ArticleCard]:
    """The cards of a load-more JSON answer (``{"content": [...]}``); pass the answer's
    bytes (see :func:`json_text`).

    Raises ``PageFormatError`` when the body is not JSON of that shape (an HTML error
    page, a truncated answer), so that the crawl reports it instead of guessing, and
    ``TooDeepError`` when it nests deeper than Python's parser recurses.
    """
    try:
        data = json.loads(json_text(body))
    except ValueError as exc:
        raise PageFormatError(f"load-more answer is not JSON: {exc}") from None
    except RecursionError:
        raise TooDeepError("answer nested too deep to parse") from None
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, list):
        raise PageFormatError("load-more answer has no 'content' list")
    cards = []
    for entry in content:
        if not isinstance(entry, dict):
            raise PageFormatError(f"load-more entry is not an object: {entry!r:.80}")
        cards.append(
            ArticleCard(
                url=_absolute(_entry_str(entry, "url"), page_url),
                title=_entry_str(entry, "title"),
                category=_entry_topic(entry),
                published_raw=_entry_str(entry, "date"),
                image_url=_absolute(_entry_thumb(entry), page_url),
                page_url=page_url,
            )
        )
    return cards


# --- Article pages (docs/site.md §5) --------------------------------------------------


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_NOT_BODY = " or ".join(
    [
        *(_has_class(c) for c in ("image", "social-col", "info-col", "caption")),
        "self::figure",
        "self::nav",
    ]
)
#: Paragraphs, headings and quotes (a quote only when it holds no paragraph of its own),
#: outside images, captions, share links and the date/tags column.
_BODY_BLOCKS = (
    ".//*[self::p or self::h2 or self::h3 or self::h4 or self::h5 or self::h6"
    " or self::blockquote[not(.//p)]]"
    f"[not(ancestor-or-self::*[{_NOT_BODY}])]"
)


class ArticlePage:
    """An article page: ``section.post-box.text-content`` with its date/tags column, and
    the page's structured data (JSON-LD, OpenGraph) as a second source of its metadata."""

    def __init__(self, page: Selectable, url: str) -> None:
        self.url = url
        self.page = page
        self.section = page.css("section.post-box.text-content") or page.css("section.text-content")

    def _info(self, label: str) -> Any:
        """The ``dd`` following the info column's ``dt`` that reads ``label``."""
        for dt in self.section.css("div.info-col dt"):
            if _squash(_text(dt)).casefold() == label.casefold():
                return dt.xpath("following-sibling::dd[1]")
        return None

    @property
    def title(self) -> str | None:
        return _text(self.section.css("h1"))

    @property
    def category(self) -> str | None:
        return _text(self.section.css(".news-topic-label"))

    @property
    def published_raw(self) -> str | None:
        dd = self._info("Date")
        return _text(dd) if dd else None

    @property
    def tags(self) -> list[str]:
        dd = self._info("Tags")
        if not dd:
            return []
        names = [_squash(_text(a)) for a in dd.css("a")] or _squash(_text(dd)).split(",")
        return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))

    @property
    def paragraphs(self) -> list[str]:
        """Body blocks in document order, each with its white space collapsed."""
        blocks = (_squash(_text(node)) for node in self.section.xpath(_BODY_BLOCKS))
        return [b for b in blocks if b]

    @cached_property
    def structured(self) -> StructuredData:
        """What the page declares in JSON-LD and OpenGraph (empty when nothing)."""
        return read_structured(self.page)

    def metadata(self) -> Combined:
        """The page's metadata: each visible value, else the structured data's."""
        visible = {
            "title": self.title,
            "published": self.published_raw,
            "section": self.category,
            "keywords": self.tags,
        }
        return combine(visible, self.structured)

    def to_item(self) -> ArticleBody:
        """The page as an item; raises ``PageFormatError`` when it has no article body, and
        ``TooDeepError`` when it is nested as deep as the parser reads (its end is lost)."""
        deep = too_deep(self.page)
        if deep:
            raise TooDeepError(deep)
        if not self.section:
            raise PageFormatError("no section.post-box.text-content on the article page")
        paragraphs = self.paragraphs
        if not paragraphs:
            raise PageFormatError("the article page has no body text")
        meta = self.metadata()
        values = meta.values
        return ArticleBody(
            url=self.url,
            body="\n\n".join(paragraphs),
            tags=list(values.get("keywords") or []),
            title=values.get("title"),
            category=values.get("section"),
            published_raw=values.get("published"),
            modified_raw=values.get("modified"),
            image_url=values.get("image"),
            sources=meta.sources,
            disagreements=meta.disagreements,
        )
