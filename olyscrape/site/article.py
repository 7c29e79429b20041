"""Article pages (``docs/site.md`` §5): an article's visible markup (title, label, date,
tags, body) and, as a second source of its metadata, its structured data
(:mod:`olyscrape.site.structured`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from olyscrape.items import ArticlePageItem
from olyscrape.site import structured
from olyscrape.site.page import (
    TOPIC_LABEL,
    PageFormatError,
    Selectable,
    TooDeepError,
    squash,
    text,
    too_deep,
)
from olyscrape.site.points import Point, excerpt
from olyscrape.site.structured import Combined, StructuredData, combine

#: The article's section: the first choice, and any section of that class.
ARTICLE_SECTION = "section.post-box.text-content"
ANY_ARTICLE_SECTION = "section.text-content"
ARTICLE_TITLE = "h1"
#: The date and tags column: its terms (``dt``), each followed by its value (``dd``).
INFO_COLUMN_CLASS = "info-col"
INFO_TERMS = f"div.{INFO_COLUMN_CLASS} dt"
INFO_VALUE = "following-sibling::dd[1]"
DATE_TERM = "Date"
TAGS_TERM = "Tags"
TAG_LINK = "a"

#: The point that holds when the page gives an article at all (the probe asks for it).
BODY_POINT = "article: body"


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


#: Left out of the body: images, share links, the date/tags column, captions, figures and
#: navigation.
NOT_BODY_CLASSES = ("image", "social-col", INFO_COLUMN_CLASS, "caption")
_NOT_BODY = " or ".join([*(_has_class(c) for c in NOT_BODY_CLASSES), "self::figure", "self::nav"])
#: Paragraphs, headings and quotes (a quote only when it holds no paragraph of its own),
#: outside what is left out.
BODY_BLOCKS = (
    ".//*[self::p or self::h2 or self::h3 or self::h4 or self::h5 or self::h6"
    " or self::blockquote[not(.//p)]]"
    f"[not(ancestor-or-self::*[{_NOT_BODY}])]"
)


class ArticlePage:
    """An article page: its section with its date/tags column, and the page's structured
    data (JSON-LD, OpenGraph) as a second source of its metadata."""

    def __init__(self, page: Selectable, url: str) -> None:
        self.url = url
        self.page = page
        self.section = page.css(ARTICLE_SECTION) or page.css(ANY_ARTICLE_SECTION)

    def _info(self, label: str) -> Any:
        """The value following the info column's term that reads ``label``."""
        for dt in self.section.css(INFO_TERMS):
            if squash(text(dt)).casefold() == label.casefold():
                return dt.xpath(INFO_VALUE)
        return None

    @property
    def title(self) -> str | None:
        return text(self.section.css(ARTICLE_TITLE))

    @property
    def category(self) -> str | None:
        return text(self.section.css(TOPIC_LABEL))

    @property
    def published_raw(self) -> str | None:
        dd = self._info(DATE_TERM)
        return text(dd) if dd else None

    @property
    def tags(self) -> list[str]:
        dd = self._info(TAGS_TERM)
        if not dd:
            return []
        names = [squash(text(a)) for a in dd.css(TAG_LINK)] or squash(text(dd)).split(",")
        return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))

    @property
    def paragraphs(self) -> list[str]:
        """Body blocks in document order, each with its white space collapsed."""
        blocks = (squash(text(node)) for node in self.section.xpath(BODY_BLOCKS))
        return [b for b in blocks if b]

    @cached_property
    def structured(self) -> StructuredData:
        """What the page declares in JSON-LD and OpenGraph (empty when nothing)."""
        return structured.read(self.page)

    def metadata(self) -> Combined:
        """The page's metadata: each visible value, else the structured data's."""
        visible = {
            "title": self.title,
            "published": self.published_raw,
            "section": self.category,
            "keywords": self.tags,
        }
        return combine(visible, self.structured)

    def to_item(self) -> ArticlePageItem:
        """The page as an item; raises ``PageFormatError`` when it has no article body, and
        ``TooDeepError`` when it is nested as deep as the parser reads (its end is lost)."""
        deep = too_deep(self.page)
        if deep:
            raise TooDeepError(deep)
        if not self.section:
            raise PageFormatError(f"no {ARTICLE_SECTION} on the article page")
        paragraphs = self.paragraphs
        if not paragraphs:
            raise PageFormatError("the article page has no body text")
        meta = self.metadata()
        values = meta.values
        return ArticlePageItem(
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

    def check(self, partner: str) -> list[Point]:
        """§5: the article page's title, date, tags and body (the visible markup, else its
        structured data, as the crawl reads them)."""
        try:
            item = self.to_item()
        except PageFormatError as exc:
            return [Point(partner, BODY_POINT, False, str(exc), self.url)]
        points: list[Point] = []
        info = INFO_TERMS
        shown: Sequence[tuple[str, str, Any]] = (
            ("title", f"section {ARTICLE_TITLE}", item.title),
            ("date", f"{info} {DATE_TERM} + dd", item.published_raw),
            ("tags", f"{info} {TAGS_TERM} + dd", ", ".join(item.tags)),
        )
        fields = {"title": "title", "date": "published", "tags": "keywords"}
        for name, selector, value in shown:
            source = item.sources.get(fields[name])
            where = selector if source in (None, structured.PAGE) else f"{source} (not on the page)"
            evidence = f"{where}: {excerpt(value, 60)}" if value else f"{selector}: not found"
            points.append(Point(partner, f"article: {name}", bool(value), evidence, self.url))
        paragraphs = item.body.count("\n\n") + 1
        evidence = f"{ARTICLE_SECTION}: {paragraphs} blocks ({excerpt(item.body, 60)})"
        points.append(Point(partner, BODY_POINT, True, evidence, self.url))
        return points
