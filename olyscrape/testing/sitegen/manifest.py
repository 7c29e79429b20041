"""``MANIFEST.md``: what the saved site holds, written from the same data as its pages, so
that the tests' expectations can be read (and checked) against one table.
"""

from __future__ import annotations

from olyscrape.testing.sitegen.changes import CHANGES, Changes
from olyscrape.testing.sitegen.changes import NOTES as CHANGED_NOTES
from olyscrape.testing.sitegen.data import MANIFEST_FACTS, NOTES, ORIGIN, PARTNERS
from olyscrape.testing.sitegen.markup import loadmore_path, page_paths
from olyscrape.testing.sitegen.news import (
    Item,
    Layout,
    loadmore_answers,
    unique_word,
    upper_date,
)


def partner_row(slug: str, name: str, guid: str, listed: list[Item], changed: bool = False) -> str:
    layout = Layout.of(slug, changed)
    notes = NOTES | CHANGED_NOTES if changed else NOTES
    pages = layout.pages
    button = "`{}/{}`".format(*layout.more) if layout.more is not None else "—"
    answers = loadmore_answers(listed, layout)
    more = ", ".join(f"{offset} → {len(chunk)}" for offset, chunk in answers) or "—"
    noscript = ", ".join(
        f"`{path}` ({size})"
        for path, size in zip(page_paths(slug, len(pages))[1:], pages[1:], strict=True)
    )
    linked = [item for item in listed if item.href is not None]
    pages_here = sum(item.has_page for item in linked)
    total = str(len(linked)) if pages_here == len(linked) else f"{len(linked)} ({pages_here} here)"
    return (
        f"| {slug} | {name} | `{guid}` | {pages[0]} | {button} | {more} | {noscript or '—'} "
        f"| {total} | {notes[slug]} |"
    )


def manifest_partners(
    items: dict[str, list[Item]], registry: dict[str, Item], changed: bool = False
) -> list[str]:
    linked = list(registry.values())
    with_page = [item for item in linked if item.has_page]
    shared = [item for item in linked if len(item.partners) > 1]
    unlinked = [(slug, item) for slug, listed in items.items() for item in listed if not item.href]
    out = [
        "## Partners",
        "",
        '"Total unique articles" counts the partner\'s distinct linked items (cards, no-script',
        'pages and load-more JSON); "here" is how many of them have an article page here.',
        "",
        "| slug | name | GUID | cards on listing page | btn-more (count/offset) "
        "| load-more answers (offset → items) | no-script pages (cards) "
        "| total unique articles | special cases |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    out += [partner_row(slug, name, guid, items[slug], changed) for slug, name, guid in PARTNERS]
    return [
        *out,
        "",
        f"Unique article URLs across all partners: {len(linked)} "
        f"({len(with_page)} on the canonical origin, each with a page here; "
        f"{len(linked) - len(with_page)} on another host).",
        "Shared between partners (counted once): "
        + "; ".join(f"`{item.href}` ({', '.join(item.partners)})" for item in shared)
        + ".",
        "Cards without a link (not articles): "
        + "; ".join(f"{slug}: {item.title}" for slug, item in unlinked)
        + ".",
        "",
    ]


def manifest_files(items: dict[str, list[Item]], changed: bool = False) -> list[str]:
    out = [
        "## Other files",
        "",
        "`robots.txt`, `ioc/partners.html`, `ioc/<slug>.html` for the 14 partners,",
        "`ioc/omega/page/2.html`, `ioc/omega/page/3.html`, this file.",
        "",
        "## Load-more files",
        "",
        "| file | items |",
        "|---|---|",
    ]
    for slug, _, guid in PARTNERS:
        layout = Layout.of(slug, changed)
        count = layout.more[0] if layout.more is not None else 0
        for offset, chunk in loadmore_answers(items[slug], layout):
            out.append(f"| `{loadmore_path(guid, count, offset)}` | {len(chunk)} |")
    return [*out, ""]


def manifest_articles(with_page: list[Item]) -> list[str]:
    out = [
        f"## Article pages ({len(with_page)})",
        "",
        "Each page's second body `<p>` holds its distinctive word; no other page holds it.",
        "",
        "| file | partners | date | label | title | distinctive word |",
        "|---|---|---|---|---|---|",
    ]
    for item in with_page:
        out.append(
            f"| `ioc/news/{item.slug}.html` | {', '.join(item.partners)} | "
            f"{upper_date(item.date)} | {item.label} | {item.title} | {unique_word(item.slug)} |"
        )
    return out


def manifest(items: dict[str, list[Item]], registry: dict[str, Item]) -> str:
    head = [
        "# Saved site: manifest",
        "",
        "Written by `python -m olyscrape.testing.site` (do not edit by hand; rerun it).",
        "URL paths map to files as in `olyscrape/site/files.py`; links resolve against",
        f"`{ORIGIN}`.",
        "",
    ]
    lines = head + manifest_partners(items, registry) + manifest_files(items)
    lines += [MANIFEST_FACTS, *manifest_articles(_pages(registry))]
    return "\n".join(lines) + "\n"


def _pages(registry: dict[str, Item]) -> list[Item]:
    return [item for item in registry.values() if item.has_page]


def manifest_changes(changes: Changes) -> list[str]:
    """The changed copy's four changes, as the tests of ``changes`` and ``history`` expect."""
    c = changes
    return [
        "## Changes from the saved site",
        "",
        "Exactly four; everything else is byte for byte the saved site's, but for the",
        "listing pages and load-more answers the removed and the new card shift (the later",
        "cards move up, or down, one place) and the new article's page.",
        "",
        "| change | partner | article | before | after |",
        "|---|---|---|---|---|",
        f"| retitled (card and article page; URL and body unchanged) | {c.retitled_partner} "
        f"| `{c.retitled_url}` | {c.retitled_old_title} | {c.retitled_new_title} |",
        f"| body edited (a paragraph reworded, one added; card unchanged) | {c.edited_partner} "
        f"| `{c.edited_url}` | {c.edited_title} | (same title) |",
        f"| card removed (from the first load-more answer; article page still served) "
        f"| {c.removed_partner} | `{c.removed_url}` | {c.removed_title} | — |",
        f"| new card (top of the listing, with its article page) | {c.new_partner} "
        f"| `{c.new_url}` | — | {c.new_title} |",
        "",
    ]


def changed_manifest(
    items: dict[str, list[Item]], registry: dict[str, Item], pages: list[Item]
) -> str:
    """``MANIFEST.md`` of the changed copy: its four changes first, then the same tables as
    the saved site's (the removed card's article page among the pages)."""
    head = [
        "# Saved site a week later (the changed copy): manifest",
        "",
        "Written by `python -m olyscrape.testing.site --changed` (do not edit by hand; rerun",
        "it). URL paths map to files as in `olyscrape/site/files.py`; links resolve against",
        f"`{ORIGIN}`.",
        "",
    ]
    lines = head + manifest_changes(CHANGES) + manifest_partners(items, registry, changed=True)
    lines += [*manifest_files(items, changed=True), MANIFEST_FACTS, *manifest_articles(pages)]
    return "\n".join(lines) + "\n"
