"""What every page object of :mod:`olyscrape.site` shares: the page it is given, the
errors it raises, the parser's depth limit, and the text helpers.

A page object is built from a page (a parsel ``Selector``, or a Scrapy response, which
has the same ``css``/``xpath``) and its URL, never from Scrapy's engine, so a test, the
crawl and the probe build it the same way.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol

from lxml import etree  # type: ignore[import-untyped]  # a dependency of parsel
from parsel import Selector

from olyscrape.site import urls

#: The class of the topic label, on listing cards (§2) and article pages (§5) alike.
TOPIC_LABEL_CLASS = "news-topic-label"
TOPIC_LABEL = "." + TOPIC_LABEL_CLASS


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


# --- Text -------------------------------------------------------------------------------


def text(sel: Any) -> str | None:
    """All text under the selected nodes, joined; None when there is none."""
    found = "".join(sel.xpath(".//text()").getall())
    return found if found.strip() else None


def squash(value: str | None) -> str:
    """``value`` with every run of white space made one space (empty for None)."""
    return " ".join((value or "").split())


def absolute(href: str | None, page_url: str) -> str | None:
    """A link resolved against its page (None for no link, or a blank one)."""
    return urls.join(page_url, href.strip()) if href and href.strip() else None
