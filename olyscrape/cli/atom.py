"""``changes --format atom``: the changes as an Atom 1.0 feed (RFC 4287), written by
``feedgen`` rather than by hand, for a file that cron rewrites and a feed reader polls.

A feed reader tells a new entry from one it has shown by its id, and a feed's freshness
by its ``updated``: so nothing here depends on when the feed is written. The same archive
gives the same bytes; a crawl that changed nothing gives the same bytes again.

- An entry's id is an absolute IRI made of the change itself: a new article's is its URL;
  an edit's ``<url>#edited-<time of the change>``; a link gone from a listing's
  ``<url>#gone-<partner slugs>-<time of the walk that found it gone>``. The same change
  has the same id in every feed that holds it (all changes, new articles only, one
  partner's).
- The feed's id names the selection, not the moment:
  ``tag:olyscrape,2026:changes/kinds=new,edited,gone/partners=all`` (a tag URI, RFC 4151).
- ``updated``: the feed's is its newest entry's time (``1970-01-01T00:00:00Z`` when it
  has none: nothing in it was ever updated); an entry's, the change's time.
- An entry's author: the partners whose listing the change is on, by name, else
  ``olyscrape``; its content: for an edit, what changed as text (each field ``- old`` /
  ``+ new``, the body a unified diff), for a new article the first paragraphs of its body.

``feedgen`` imports lxml: this module is imported only when a feed is asked for.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from olyscrape.cli.diffs import diff_lines, paragraphs

#: The feed's id: a tag URI (RFC 4151) naming the selection of kinds and partners.
FEED_ID = "tag:olyscrape,2026:changes/kinds={kinds}/partners={partners}"
#: The time of a feed with no entry.
EPOCH = "1970-01-01T00:00:00Z"
#: Where an article's partners are listed on the site, for the feed's link.
SITE = "https://olympics.com/ioc/"
#: How many paragraphs of a new article's body its entry shows.
FIRST_PARAGRAPHS = 3
TITLES = {"new": "New articles", "edited": "edited articles", "gone": "links gone"}


#: What XML 1.0 cannot hold: control characters but tab, newline and return, the two
#: non-characters U+FFFE and U+FFFF, and lone surrogates (a title the site wrote with one
#: would make feedgen refuse the whole feed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text: str) -> str:
    """``text`` without the characters an XML document cannot hold."""
    return _NOT_XML.sub("", text)


def _moment(at: str) -> datetime.datetime:
    """An archive time (``2026-12-04T07:00:00Z``) as an aware datetime."""
    return datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc
    )


def entry_id(row: Mapping[str, Any]) -> str:
    """The id of the entry of one change (see the module's rule)."""
    if row["kind"] == "new":
        return str(row["url"])
    if row["kind"] == "edited":
        return f"{row['url']}#edited-{row['at']}"
    return f"{row['url']}#gone-{','.join(row['partners'])}-{row['at']}"


def feed_id(kinds: Sequence[str], partners: Sequence[str]) -> str:
    """The id of the feed of ``kinds`` and ``partners`` (slugs; none: all)."""
    return FEED_ID.format(kinds=",".join(kinds), partners=",".join(sorted(partners)) or "all")


def feed_title(kinds: Sequence[str], partners: Sequence[str], names: Mapping[str, str]) -> str:
    """``olyscrape: new articles of Visa``, ``olyscrape: changes``."""
    what = "new articles" if tuple(kinds) == ("new",) else "changes"
    if tuple(kinds) not in (("new",), ("new", "edited", "gone")):
        what = "changes (" + ", ".join(kinds) + ")"
    shown = ", ".join(names.get(slug) or slug for slug in sorted(partners))
    return f"olyscrape: {what}" + (f" of {shown}" if shown else "")


def _names(row: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    return [names.get(slug) or slug for slug in row["partners"]]


def entry_title(row: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """``New: …``, ``Edited (title, body): …``, ``Gone from Visa's listing: …``."""
    title = row["title"] or row["url"]
    if row["kind"] == "new":
        return f"New: {title}"
    if row["kind"] == "edited":
        return f"Edited ({', '.join(row['fields'])}): {title}"
    listings = " and ".join(f"{name}'s" for name in _names(row, names)) or "a partner's"
    return f"Gone from {listings} listing: {title}"


def entry_content(row: Mapping[str, Any], names: Mapping[str, str], body: str | None) -> str:
    """The entry's text: an edit's diff, a new article's first paragraphs, or where a gone
    link was listed."""
    if row["kind"] == "edited":
        return "\n".join(diff_lines(row["before"], row["after"]))
    if row["kind"] == "new":
        return "\n\n".join(paragraphs(body)[:FIRST_PARAGRAPHS]) or str(row["title"] or "")
    listings = ", ".join(_names(row, names))
    return f"No longer shown on the listing of {listings} since a full walk of it at {row['at']}."


def changes_feed(
    rows: Iterable[Mapping[str, Any]],
    kinds: Sequence[str],
    partners: Sequence[str],
    names: Mapping[str, str],
    bodies: Mapping[str, str | None],
) -> str:
    """The Atom document of ``rows`` (:func:`olyscrape.archive.changes.shaped` rows,
    newest first) as a text: ``kinds`` and ``partners`` are the selection the feed's id
    and title name, ``names`` each partner's name by slug, ``bodies`` each new article's
    body by URL."""
    from feedgen.feed import FeedGenerator

    rows = list(rows)
    feed = FeedGenerator()
    feed.id(feed_id(kinds, partners))
    feed.title(xml_text(feed_title(kinds, partners, names)))
    feed.updated(_moment(max((row["at"] for row in rows), default=EPOCH)))
    feed.author(name="olyscrape")
    only = sorted(partners)[0] if len(partners) == 1 else "partners"
    feed.link(href=SITE + only, rel="alternate")
    feed.generator("olyscrape")
    for row in rows:
        entry = feed.add_entry(order="append")
        entry.id(xml_text(entry_id(row)))
        entry.title(xml_text(entry_title(row, names)))
        entry.updated(_moment(row["at"]))
        entry.link(href=xml_text(row["url"]), rel="alternate")
        for name in _names(row, names) or ["olyscrape"]:
            entry.author(name=xml_text(name))
        entry.content(xml_text(entry_content(row, names, bodies.get(row["url"]))), type="text")
    return str(feed.atom_str(pretty=True).decode("utf-8")) + "\n"
