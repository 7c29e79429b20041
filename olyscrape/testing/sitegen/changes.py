"""The saved site a week later (its "changed copy"): the same site with exactly four
changes, for the tests of what changed between two crawls (``olyscrape changes``,
``olyscrape history``).

1. **retitled**: a card's title and its article page's title change; the URL does not
   (nor the article's body, which still quotes the title it was first published under);
2. **edited**: an article page's body changes (a paragraph reworded, one added); its card
   does not;
3. **removed**: a card leaves its partner's listing (a load-more answer, not the listing
   page, and not the partner's only card); the later cards move up one place, and its
   article page is still served, unchanged;
4. **new**: a new article at the top of a partner's listing, with its own page; the
   other cards move down one place, one card onto each next no-script page (a listing
   paged in HTML: a card that crossed from a listing page into a load-more answer would
   change its image URL's form, the JSON's thumb, and count as an updated card).

Each is in a different partner, and each is an article on the canonical origin that a
crawl of the saved site archives with its page. :data:`CHANGES` names them as data for the
tests; :func:`changed_items` applies them to the saved site's items.
"""

from __future__ import annotations

from dataclasses import dataclass

from olyscrape.testing.sitegen.data import ORIGIN
from olyscrape.testing.sitegen.news import (
    Item,
    build_items,
    make_item,
    parse_entry,
    partner,
    slugify,
)

#: The retitled article: partner, title as first published, title a week later.
RETITLE = (
    "coca-cola",
    "The Coca-Cola Company and IOC celebrate 92 years of partnership",
    "The Coca-Cola Company and IOC celebrate 92 years of Olympic partnership",
)
#: The article whose page's body is edited: partner, title.
EDIT = ("intel", "Intel and Beijing 2022 to bring 5G to Games venues")
#: The card taken off its partner's listing (it was in the first load-more answer).
REMOVE = (
    "alibaba",
    "Alibaba Group’s Daniel Zhang visits Olympic House construction site",
)
#: The new article, at the top of its partner's listing (a literal as in ``data.ITEMS``).
NEW = (
    "omega",
    "12 Aug 2021 | Tokyo 2020 | Omega looks back on a record-breaking Tokyo 2020 in new film",
)


#: The special cases the changed copy's listings no longer show as the saved site's do
#: (``MANIFEST.md``'s notes, replaced for these partners).
NOTES = {
    "alibaba": (
        "the seed's 9 cards; one card of the first load-more answer removed (the later ones "
        "move up): JSON answer of 3 < count ends it; entity-encoded JSON titles; one absolute "
        "JSON url; one card title written with numeric character references; shares one "
        "article with Visa"
    ),
    "omega": (
        "a new card at the top (the others move down a place, one onto each next page); "
        "no btn-more; no-script paging over 3 pages, the last without a.next"
    ),
}


@dataclass(frozen=True)
class Changes:
    """The four changes of the changed copy, as the tests need them: canonical article
    URLs, partner slugs and titles."""

    retitled_partner: str
    retitled_url: str
    retitled_old_title: str
    retitled_new_title: str
    edited_partner: str
    edited_url: str
    edited_title: str
    removed_partner: str
    removed_url: str
    removed_title: str
    new_partner: str
    new_url: str
    new_title: str

    @property
    def urls(self) -> tuple[str, str, str, str]:
        """The four articles: retitled, edited, removed, new."""
        return (self.retitled_url, self.edited_url, self.removed_url, self.new_url)


def _url(title: str) -> str:
    return f"{ORIGIN}/ioc/news/{slugify(title)}"


#: The changed copy's four changes.
CHANGES = Changes(
    retitled_partner=RETITLE[0],
    retitled_url=_url(RETITLE[1]),
    retitled_old_title=RETITLE[1],
    retitled_new_title=RETITLE[2],
    edited_partner=EDIT[0],
    edited_url=_url(EDIT[1]),
    edited_title=EDIT[1],
    removed_partner=REMOVE[0],
    removed_url=_url(REMOVE[1]),
    removed_title=REMOVE[1],
    new_partner=NEW[0],
    new_url=_url(parse_entry(NEW[1])[2]),
    new_title=parse_entry(NEW[1])[2],
)


def _find(listed: list[Item], title: str) -> Item:
    found = [item for item in listed if item.title == title]
    if len(found) != 1 or not found[0].has_page or len(found[0].partners) != 1:
        raise ValueError(f"the changed copy needs one article of one partner titled {title!r}")
    return found[0]


def changed_items() -> tuple[dict[str, list[Item]], dict[str, Item], list[Item]]:
    """The changed copy's items per partner slug and its linked items by URL (as
    :func:`~olyscrape.testing.sitegen.news.build_items` gives the saved site's), and the
    articles whose page it serves: the linked ones, and the removed card's."""
    items, registry = build_items()
    retitled = _find(items[RETITLE[0]], RETITLE[1])
    retitled.lead_title, retitled.title = retitled.title, RETITLE[2]
    _find(items[EDIT[0]], EDIT[1]).edited = True
    removed = _find(items[REMOVE[0]], REMOVE[1])
    if items[REMOVE[0]].index(removed) < 1 or len(items[REMOVE[0]]) < 2:
        raise ValueError("the removed card must not be its partner's first or only card")
    items[REMOVE[0]].remove(removed)
    pages = [item for item in registry.values() if item.has_page]  # the removed one's too
    del registry[str(removed.url)]
    new = make_item(NEW[1], registry)
    new.partners.append(partner(NEW[0]).name)
    items[NEW[0]].insert(0, new)
    return items, registry, [*pages, new]
