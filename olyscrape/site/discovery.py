"""Partner discovery (``docs/site.md`` §1): the partners of the site menu's TOP column.

Every IOC page carries the menu; olyscrape reads nothing else on the discovery page. The
column is found by its heading, never by its position.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urljoin

from olyscrape.items import Partner
from olyscrape.site import urls
from olyscrape.site.page import Selectable, squash, text
from olyscrape.site.points import Point, excerpt

#: The page a crawl starts from: any IOC page would do, as every one carries the menu.
DISCOVERY_URL = urls.canonical(urls.PARTNERS_PATH)

#: A column of the site menu, its heading, and a partner's link in it.
MENU_COLUMN = "div.drop-col"
COLUMN_HEADING = "strong.title"
PARTNER_LINK = "li a[href]"
#: The heading of the partners' column (compared without regard to case or spacing).
TOP = "TOP"

POINT = "discovery: TOP column"


@dataclass(frozen=True)
class MenuLink:
    name: str
    url: str


def top_partner_links(page: Selectable, page_url: str, heading: str = TOP) -> list[MenuLink]:
    """The links of the site-menu column headed ``TOP`` (found by heading, not position)."""
    for column in page.css(MENU_COLUMN):
        title = squash(text(column.css(COLUMN_HEADING)))
        if title.casefold() != heading.casefold():
            continue
        links = []
        for anchor in column.css(PARTNER_LINK):
            name = squash(text(anchor))
            if name:
                links.append(MenuLink(name=name, url=urljoin(page_url, anchor.attrib["href"])))
        return links
    return []


class DiscoveryPage:
    """The discovery page: the partners its menu lists, and whether it keeps §1."""

    def __init__(self, page: Selectable, url: str) -> None:
        self.page = page
        self.url = url

    @cached_property
    def links(self) -> list[MenuLink]:
        return top_partner_links(self.page, self.url)

    @property
    def partners(self) -> list[Partner]:
        """The partners, in menu order, each keyed by its slug (§6)."""
        return [
            Partner(slug=urls.partner_slug(link.url), name=link.name, url=link.url)
            for link in self.links
        ]

    def check(self) -> Point:
        """§1: the menu column headed TOP, and the partners it lists."""
        if not self.links:
            evidence = f"no {MENU_COLUMN} whose {COLUMN_HEADING} reads {TOP}, or no link in it"
            return Point(None, POINT, False, evidence, self.url)
        names = ", ".join(link.name for link in self.links)
        evidence = f"{MENU_COLUMN} headed {TOP}: {len(self.links)} partners ({excerpt(names, 120)})"
        return Point(None, POINT, True, evidence, self.url)


def select_partners(found: list[Partner], wanted: list[str]) -> tuple[list[Partner], list[str]]:
    """The partners named in ``wanted`` (by slug or name, any case) and the unknown names."""
    if not wanted:
        return found, []
    by_key = {p.slug.casefold(): p for p in found} | {p.name.casefold(): p for p in found}
    chosen = {
        by_key[w.casefold()].slug: by_key[w.casefold()] for w in wanted if w.casefold() in by_key
    }
    unknown = [w for w in wanted if w.casefold() not in by_key]
    return list(chosen.values()), unknown
