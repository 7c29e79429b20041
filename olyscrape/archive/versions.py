"""When a crawl's change to an article keeps its previous values in ``article_versions``.

A version holds what an article was before a crawl changed it: one per article and crawl
(a card's new title and its page's new body, read in different batches, are one edit),
none for a change the same crawl undid (two partners' cards titling one article
differently, each read in turn), and none for what only fills a gap (a first body is the
page read at last), but a card's date where it said "TBC" is a change on the site.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Fields whose change keeps the previous values in article_versions.
VERSIONED = ("title", "category", "published", "body")
#: The card's versioned fields: a value where there was none (a date for "TBC") is a change
#: on the site, for an article an earlier crawl stored (a body where there was none is only
#: its page read at last).
CARD_VERSIONED = ("title", "category", "published")

#: An article's values before a crawl changed them.
INSERT_VERSION = """
INSERT INTO article_versions (article_url, changed_at, crawl_id, title, category, published, body)
VALUES (:url, :changed_at, :crawl_id, :title, :category, :published, :body)
"""

#: The articles this crawl already kept a version of (in an earlier batch): one version per
#: crawl, the values before the crawl changed them (a card's title and its page's body are
#: one edit of the article, whichever batch each came in).
VERSIONED_IN_CRAWL = """SELECT DISTINCT article_url FROM article_versions
    WHERE crawl_id = ? AND article_url IN ({marks})"""
#: This crawl's versions of these articles that hold what the article holds again.
UNDONE_VERSIONS = """DELETE FROM article_versions WHERE crawl_id = ? AND article_url IN ({marks})
    AND EXISTS (SELECT 1 FROM articles a WHERE a.url = article_versions.article_url
        AND a.title IS article_versions.title AND a.category IS article_versions.category
        AND a.published IS article_versions.published AND a.body IS article_versions.body)"""


def replaced(new: dict[str, Any], old: dict[str, Any], fields: Iterable[str]) -> bool:
    """True when a field replaces an archived value (not merely fills an empty one)."""
    return any(old.get(f) is not None and new.get(f) not in (None, old.get(f)) for f in fields)


def differs(version: dict[str, Any], now: dict[str, Any]) -> bool:
    """True when an article's values ``now`` differ from those ``version`` kept."""
    return any(version.get(f) != now.get(f) for f in VERSIONED)


def filled(new: dict[str, Any], old: dict[str, Any], fields: Iterable[str]) -> bool:
    """True when a field gets a value where the archive had none."""
    return any(new.get(f) is not None and old.get(f) is None for f in fields)
