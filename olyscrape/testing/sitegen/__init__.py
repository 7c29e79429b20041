"""The generator of the saved olympics.com/ioc site that the tests crawl
(``tests/fixtures/site``) and of the benchmarks' larger sites.

Its parts: :mod:`.data` (the literals: partners, layouts, invented news items, menus,
body sentences), :mod:`.news` (the items as objects), :mod:`.chrome` (the frame every page
wears), :mod:`.markup` (listing, load-more and article pages as text), :mod:`.manifest`
(``MANIFEST.md``) and :mod:`.builder` (writing them); :mod:`.changes` makes the site a
week later (its changed copy: :data:`CHANGES` names its four changes). What other code
uses is exported here; the command is ``python -m olyscrape.testing.site [--changed]``.
"""

from __future__ import annotations

from olyscrape.testing.sitegen.builder import (
    MARKER,
    NotASiteError,
    SiteWriter,
    generate,
    owned_files,
    write_site,
)
from olyscrape.testing.sitegen.changes import CHANGES, Changes, changed_items
from olyscrape.testing.sitegen.data import MONTHS, PARTNERS
from olyscrape.testing.sitegen.markup import listing_pages
from olyscrape.testing.sitegen.news import (
    Item,
    Layout,
    Partner,
    build_items,
    partner,
    slugify,
)

__all__ = [
    "CHANGES",
    "MARKER",
    "MONTHS",
    "PARTNERS",
    "Changes",
    "Item",
    "Layout",
    "NotASiteError",
    "Partner",
    "SiteWriter",
    "build_items",
    "changed_items",
    "generate",
    "listing_pages",
    "owned_files",
    "partner",
    "slugify",
    "write_site",
]
