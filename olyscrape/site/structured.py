"""An article page's own structured data: schema.org JSON-LD and OpenGraph meta tags.

News sites keep these for search engines and link previews, so they tend to survive a
redesign of the visible markup. olyscrape reads them as a second source for an article's
metadata (``docs/site.md`` §5): the title, the published and modified dates, the image,
the section and the keywords. :func:`read` returns what the page declares, and which of
the two syntaxes said it; :func:`combine` merges that with what the visible markup shows.

The JSON is read directly (``json`` over the ``<script type="application/ld+json">``
elements, parsel for the ``<meta>`` tags) rather than through extruct: the two syntaxes
olyscrape needs are a few lines each, and extruct would bring rdflib and four other
parsers (microdata, RDFa, microformats) that the site does not use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from olyscrape.site.dates import clean_text, parse_date

JSON_LD = "json-ld"
OPENGRAPH = "opengraph"
#: The visible markup of the article page.
PAGE = "page"

#: schema.org types read as an article.
ARTICLE_TYPES = frozenset(
    {"Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting",
     "Report"}
)  # fmt: skip
#: The page's JSON-LD blocks, and its meta tags by property.
JSON_LD_SCRIPTS = 'script[type="application/ld+json"]'
META_PROPERTY = 'meta[property="{}"]'
#: The OpenGraph and ``article:`` properties read, by field (the keywords are every
#: ``article:tag``).
OPENGRAPH_PROPERTIES = {
    "title": "og:title",
    "published": "article:published_time",
    "modified": "article:modified_time",
    "image": "og:image",
    "section": "article:section",
}
OPENGRAPH_TAG = "article:tag"
#: The fields read, in the order a summary shows them.
FIELDS = ("title", "published", "modified", "image", "section", "keywords")


class Selectable(Protocol):
    def css(self, query: str) -> Any: ...


@dataclass
class StructuredData:
    """What a page declares about itself; ``sources`` names the syntax of each field."""

    title: str | None = None
    published: str | None = None  # as written (ISO 8601 in practice)
    modified: str | None = None
    image: str | None = None
    section: str | None = None
    keywords: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.sources)


def _objects(value: Any) -> list[dict[str, Any]]:
    """Every JSON object in a JSON-LD document: top level, lists and ``@graph``."""
    if isinstance(value, list):
        return [obj for item in value for obj in _objects(item)]
    if not isinstance(value, dict):
        return []
    return [value, *_objects(value.get("@graph", []))]


def _is_article(obj: dict[str, Any]) -> bool:
    kinds = obj.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1] in ARTICLE_TYPES for k in kinds)


def _string(value: Any) -> str | None:
    """A text value: a string, the first of a list, or an object's ``url``/``name``."""
    if isinstance(value, list):
        return next((s for s in map(_string, value) if s), None)
    if isinstance(value, dict):
        return _string(value.get("url") or value.get("name") or value.get("@id"))
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return clean_text(str(value))
    return None


def _keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    words = (clean_text(_string(v)) for v in value)
    return list(dict.fromkeys(w for w in words if w))


def _json_ld(page: Selectable) -> dict[str, Any]:
    """The first article object of the page's JSON-LD, as olyscrape's fields."""
    for script in page.css(f"{JSON_LD_SCRIPTS}::text").getall():
        try:
            document = json.loads(script)
        except ValueError:
            continue  # a broken block says nothing; the next one may
        for obj in _objects(document):
            if _is_article(obj):
                found = {
                    "title": _string(obj.get("headline") or obj.get("name")),
                    "published": _string(obj.get("datePublished")),
                    "modified": _string(obj.get("dateModified")),
                    "image": _string(obj.get("image") or obj.get("thumbnailUrl")),
                    "section": _string(obj.get("articleSection")),
                    "keywords": _keywords(obj.get("keywords")),
                }
                return {k: v for k, v in found.items() if v}
    return {}


def _meta(page: Selectable, prop: str) -> list[str]:
    values = page.css(f"{META_PROPERTY.format(prop)}::attr(content)").getall()
    return [v for v in (clean_text(v) for v in values) if v]


def _opengraph(page: Selectable) -> dict[str, Any]:
    """OpenGraph (``og:``) and ``article:`` meta tags, as olyscrape's fields."""
    found: dict[str, Any] = {}
    for name, prop in OPENGRAPH_PROPERTIES.items():
        values = _meta(page, prop)
        if values:
            found[name] = values[0]
    tags = list(dict.fromkeys(_meta(page, OPENGRAPH_TAG)))
    if tags:
        found["keywords"] = tags
    return found


def read(page: Selectable) -> StructuredData:
    """The page's structured data: JSON-LD first, OpenGraph for what JSON-LD lacks."""
    data = StructuredData()
    for source, found in ((JSON_LD, _json_ld(page)), (OPENGRAPH, _opengraph(page))):
        for name, value in found.items():
            if name not in data.sources:
                setattr(data, name, value)
                data.sources[name] = source
    return data


@dataclass
class Combined:
    """An article page's metadata from both sources: the values kept, the source of each
    (``page`` or a structured syntax) and the fields where the two disagreed."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)


def _same(name: str, visible: Any, declared: Any) -> bool:
    """Whether two values say the same thing: dates by the day they name, keywords as a
    set, text without regard to case and spacing."""
    if name in ("published", "modified"):
        return parse_date(visible) == parse_date(declared)
    if name == "keywords":
        return {k.casefold() for k in visible} == {k.casefold() for k in declared}
    return " ".join(str(visible).split()).casefold() == " ".join(str(declared).split()).casefold()


def combine(visible: dict[str, Any], declared: StructuredData) -> Combined:
    """Keep each visible value; where the visible markup lacks a field, take the declared
    one; where both have it and they differ, keep the visible one and name the field."""
    combined = Combined()
    for name in FIELDS:
        shown = visible.get(name)
        given = getattr(declared, name)
        if shown:
            combined.values[name] = shown
            combined.sources[name] = PAGE
            if given and not _same(name, shown, given):
                combined.disagreements.append(name)
        elif given:
            combined.values[name] = given
            combined.sources[name] = declared.sources[name]
    return combined
