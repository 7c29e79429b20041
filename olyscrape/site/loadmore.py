"""Load-more answers (``docs/site.md`` §3): the listing's "+" link, the request it makes,
and the JSON answer's cards.

The site's "+" link reads ``/ioc/ajaxscript/loadmoreoverviewnews/%7B<GUID>%7D/<count>/<offset>/``
and answers items ``offset … offset+count-1`` of the partner's whole list. The offset in
the page's link may be 0 (the answer then repeats the cards already shown) or the number
of cards shown, so cards are deduplicated by URL and the offset advances by what each
answer brought (:mod:`olyscrape.site.walk` keeps that count).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from olyscrape.items import ArticleCard
from olyscrape.site.page import PageFormatError, Selectable, TooDeepError, absolute
from olyscrape.site.points import Point, excerpt

#: The "+" button of a listing page, and its link.
LOAD_MORE_BUTTON = ".btn-more"
LOAD_MORE_LINK = f"{LOAD_MORE_BUTTON} a[href]"

_LOAD_MORE_PATH = re.compile(
    r"^(?P<prefix>.*/loadmoreoverviewnews/[^/]+)/(?P<count>\d+)/(?P<offset>\d+)/?$"
)

#: The request headers the page's script sent.
JSON_HEADERS = {"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}

LINK_POINT = "paging: load-more link"
ANSWER_POINT = "paging: load-more answer"


def load_more_href(page: Selectable, page_url: str) -> str | None:
    """The listing page's load-more link, resolved against the page; None without one."""
    return absolute(page.css(f"{LOAD_MORE_LINK}::attr(href)").get(), page_url)


@dataclass(frozen=True)
class LoadMoreLink:
    """A load-more endpoint: everything but the offset is fixed for a partner."""

    prefix: str
    count: int
    offset: int

    @classmethod
    def parse(cls, url: str) -> LoadMoreLink | None:
        """Read a load-more URL; None when it is not of the form docs/site.md §3 gives."""
        parts = urlsplit(url)
        match = _LOAD_MORE_PATH.match(parts.path)
        if not match or int(match["count"]) <= 0:
            return None
        prefix = urlunsplit((parts.scheme, parts.netloc, match["prefix"], "", ""))
        return cls(prefix=prefix, count=int(match["count"]), offset=int(match["offset"]))

    def url(self, offset: int | None = None) -> str:
        """The endpoint's URL at ``offset`` (default: the link's own offset)."""
        return f"{self.prefix}/{self.count}/{self.offset if offset is None else offset}/"

    @classmethod
    def check(cls, href: str, partner: str, url: str) -> tuple[Point, LoadMoreLink | None]:
        """§3: the load-more link parses into its area, count and offset."""
        link = cls.parse(href)
        if link is None:
            evidence = f"{LOAD_MORE_LINK} not of the form …/{{GUID}}/<count>/<offset>/: {href}"
            return Point(partner, LINK_POINT, False, evidence, url), None
        evidence = f"{LOAD_MORE_LINK}: count {link.count}, offset {link.offset}"
        return Point(partner, LINK_POINT, True, evidence, url), link


# --- The answer -------------------------------------------------------------------------


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


class LoadMoreAnswer:
    """A load-more JSON answer (``{"content": [...]}``); pass the answer's bytes (see
    :func:`json_text`), never a response's text."""

    def __init__(self, body: str | bytes, url: str) -> None:
        self.body = body
        self.url = url

    @cached_property
    def cards(self) -> list[ArticleCard]:
        """The answer's cards, with raw (not yet normalized) fields.

        Raises ``PageFormatError`` when the body is not JSON of that shape (an HTML error
        page, a truncated answer), so that the crawl reports it instead of guessing, and
        ``TooDeepError`` when it nests deeper than Python's parser recurses.
        """
        try:
            data = json.loads(json_text(self.body))
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
                    url=absolute(_entry_str(entry, "url"), self.url),
                    title=_entry_str(entry, "title"),
                    category=_entry_topic(entry),
                    published_raw=_entry_str(entry, "date"),
                    image_url=absolute(_entry_thumb(entry), self.url),
                    page_url=self.url,
                )
            )
        return cards

    def check(self, partner: str) -> Point:
        """§3: the answer is JSON with a ``content`` list of news items."""
        try:
            cards = self.cards
        except PageFormatError as exc:
            return Point(partner, ANSWER_POINT, False, f"{exc}: {excerpt(self.body)}", self.url)
        titled = sum(1 for card in cards if card.url and card.title)
        evidence = f'JSON {{"content": [...]}}: {len(cards)} items, {titled} with url and title'
        holds = not cards or titled > 0
        return Point(partner, ANSWER_POINT, holds, evidence, self.url)


def parse_load_more(body: str | bytes, page_url: str) -> list[ArticleCard]:
    """The cards of a load-more answer (see :attr:`LoadMoreAnswer.cards`)."""
    return LoadMoreAnswer(body, page_url).cards
