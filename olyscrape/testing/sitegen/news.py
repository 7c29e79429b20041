"""The saved site's news items as objects: each literal of :data:`data.ITEMS` parsed into an
:class:`Item` (its link, its special cases, the partners that list it), the way each listing
serves its items (:class:`Layout`), and the checks that the literals add up.

Everything the pages show is derived from here by hashes of the slugs, never by chance, so
two runs of the generator write the same bytes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from olyscrape.testing.sitegen.data import (
    CHANGED_LAYOUT,
    CHRIS_TUNG,
    ITEMS,
    LAYOUT,
    MONTH_NAMES,
    MONTHS,
    ORIGIN,
    PARTNERS,
    WORD_STEM,
)


@dataclass
class Item:
    """One news item as a partner's listing shows it, and its article page when it has one."""

    date: str
    label: str
    title: str
    slug: str
    href: str | None
    external: bool = False
    has_time: bool = True
    relimg: bool = False
    mixed: bool = False
    entities: bool = False
    partners: list[str] = field(default_factory=list)
    #: The title the body's first sentence quotes, when it is no longer the title (an
    #: article retitled later keeps its body as first written: see :mod:`.changes`).
    lead_title: str | None = None
    #: The body as edited later (a paragraph reworded, one added: see :mod:`.changes`).
    edited: bool = False

    @property
    def url(self) -> str | None:
        """The link resolved against the canonical origin."""
        if self.href is None or self.href.startswith("https://"):
            return self.href
        return ORIGIN + self.href

    @property
    def has_page(self) -> bool:
        return self.href is not None and not self.external


@dataclass(frozen=True)
class Layout:
    """How a listing serves its items: ``pages``, the cards on the listing page then on each
    no-script page (``/ioc/<slug>/page/<n>``); ``more``, the (count, offset) of its btn-more
    link, if any; ``offsets``, the load-more answers written; ``fixed``, the one offset a
    server that ignores the offset answers from; ``dead_paging``, a no-script paging block
    with only the left arrow (no ``a.next``)."""

    pages: tuple[int, ...]
    more: tuple[int, int] | None = None
    offsets: tuple[int, ...] = ()
    fixed: int | None = None
    dead_paging: bool = False

    @classmethod
    def of(cls, slug: str, changed: bool = False) -> Layout:
        """The saved site's layout of partner ``slug`` (:data:`data.LAYOUT`), or its changed
        copy's (:data:`data.CHANGED_LAYOUT` where it differs)."""
        spec: dict[str, Any] = LAYOUT[slug] | (CHANGED_LAYOUT.get(slug, {}) if changed else {})
        return cls(**spec)


@dataclass(frozen=True)
class Partner:
    """A TOP partner of the site menu: its slug, name, and the Sitecore GUID of its listing's
    ajax area."""

    slug: str
    name: str
    guid: str


def partner(slug: str) -> Partner:
    """The menu's partner ``slug`` (:data:`data.PARTNERS`)."""
    return next(Partner(*row) for row in PARTNERS if row[0] == slug)


def slugify(text: str) -> str:
    """The site's news slugs: a leading quote mark leaves a leading dash."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).rstrip("-")


def label_class(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower())


def hexid(*parts: str) -> str:
    return hashlib.md5("|".join(parts).encode()).hexdigest()


def hashint(slug: str) -> int:
    return int(hashlib.sha1(slug.encode()).hexdigest()[:8], 16)


def unique_word(slug: str) -> str:
    """The made-up word only this article's body holds (for the search tests)."""
    return WORD_STEM + hashlib.sha1(slug.encode()).hexdigest()[:6]


def upper_date(date: str) -> str:
    return date.upper()


def long_date(date: str) -> str | None:
    parts = date.split()
    if len(parts) != 3 or parts[1] not in MONTHS:
        return None
    return f"{int(parts[0])} {MONTH_NAMES[MONTHS.index(parts[1])]} {parts[2]}"


def date_parts(date: str) -> tuple[str, str, str] | None:
    parts = date.split()
    if len(parts) != 3 or parts[1] not in MONTHS:
        return None
    return parts[2], f"{MONTHS.index(parts[1]) + 1:02d}", parts[0]


def parse_entry(entry: str) -> tuple[str, str, str, dict[str, str | bool]]:
    date, label, title, *flags = (part.strip() for part in entry.split(" | "))
    options: dict[str, str | bool] = {}
    for flag in flags:
        key, _, value = flag.partition("=")
        options[key] = value or True
    return date, label, title, options


def make_item(entry: str, registry: dict[str, Item]) -> Item:
    """The item of one literal, or the one already in ``registry`` under the same URL (an
    article two partners share is one item)."""
    date, label, title, opts = parse_entry(entry)
    slug = slugify(title)
    if opts.get("nolink"):
        href = None
    elif opts.get("external"):
        href = str(opts["external"])
    elif opts.get("absolute"):
        href = f"{ORIGIN}/ioc/news/{slug}"
    else:
        href = f"/ioc/news/{slug}"
    item = Item(
        date=date,
        label=label,
        title=title,
        slug=slug,
        href=href,
        external=bool(opts.get("external")),
        has_time=not opts.get("notime"),
        relimg=bool(opts.get("relimg")),
        mixed=bool(opts.get("mixed")),
        entities=bool(opts.get("entities")),
    )
    if item.url is None:
        return item
    known = registry.setdefault(item.url, item)
    if (known.date, known.label, known.title) != (date, label, title):
        raise ValueError(f"two different items share {item.url}")
    return known


def build_items() -> tuple[dict[str, list[Item]], dict[str, Item]]:
    """Items per partner slug, and the linked items by resolved URL."""
    registry: dict[str, Item] = {}
    items: dict[str, list[Item]] = {}
    for slug, name, _ in PARTNERS:
        items[slug] = [make_item(entry, registry) for entry in ITEMS[slug]]
        for item in items[slug]:
            if name not in item.partners:
                item.partners.append(name)
    return items, registry


def loadmore_answers(items: list[Item], layout: Layout) -> list[tuple[int, list[Item]]]:
    """The load-more answers a listing serves: (offset, the items answered) each."""
    if layout.more is None:
        return []
    count = layout.more[0]
    answers = []
    for offset in layout.offsets:
        start = offset if layout.fixed is None else layout.fixed
        answers.append((offset, items[start : start + count]))
    return answers


def check(items: dict[str, list[Item]], registry: dict[str, Item], changed: bool = False) -> None:
    """Fail when the literals do not add up to the layouts they are served with."""
    for slug, _, _ in PARTNERS:
        layout, listed = Layout.of(slug, changed), items[slug]
        shown = sum(layout.pages)
        answered = [item for _, chunk in loadmore_answers(listed, layout) for item in chunk]
        covered = {id(item) for item in listed[:shown] + answered}
        if covered != {id(item) for item in listed}:
            raise ValueError(f"{slug}: pages and answers do not cover its {len(listed)} items")
        known = [p for p in (date_parts(item.date) for item in listed) if p is not None]
        if known != sorted(known, reverse=True):
            raise ValueError(f"{slug}: items are not newest first")
    if ORIGIN + CHRIS_TUNG not in registry:
        raise ValueError(f"the Chris Tung card must link to {CHRIS_TUNG}")
    words = [unique_word(item.slug) for item in registry.values() if item.has_page]
    if len(set(words)) != len(words):
        raise ValueError("two articles share a distinctive word")
