"""The archive the tests of ``changes``, ``history`` and the Atom feed read: the saved site
crawled, then its changed copy (``python -m olyscrape.testing.site --changed``: a card
retitled, a body edited, a card removed, a new card, each of another partner; see
:data:`olyscrape.testing.sitegen.CHANGES`) crawled as the docs tell a user to run it
weekly, ``crawl --full --refresh-articles``."""

from __future__ import annotations

import datetime
import shutil
import time
from pathlib import Path

import pytest_twisted
from twisted.internet import defer

from olyscrape.testing.sitegen.changes import CHANGES
from tests.helpers import changed_site, crawl_in_process, query

__all__ = ["CHANGES", "crawled"]


def crawled(archive: Path, folder: Path) -> Path:
    """A copy of ``archive`` (the saved site crawled) in ``folder``, then a crawl of the
    changed copy that walks every listing to its end and fetches every page again, as
    ``crawl --full --refresh-articles`` does; started in a later second than the first
    crawl ended (the archive's times are to the second)."""
    db = folder / "archive.db"
    shutil.copyfile(archive, db)
    site = changed_site(folder / "site")
    (first,) = query(db, "SELECT max(coalesce(finished_at, started_at)) FROM crawls")[0]
    while datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") <= first:
        time.sleep(0.1)
    stats = pytest_twisted.blockon(defer.ensureDeferred(crawl_in_process(
        db, OLYSCRAPE_REPLAY_DIR=str(site), OLYSCRAPE_FULL=True,
        OLYSCRAPE_REFRESH_ARTICLES=True)))  # fmt: skip
    assert stats.get("finish_reason") == "finished", stats
    return db
