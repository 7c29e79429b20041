"""A changed copy of the saved site, for the tests of ``changes`` and ``history``: one
partner's listing (Coca-Cola: no load-more, so a card is in its listing page only) with a
card retitled, a card removed and a new card, and one article page whose body was edited.

Small on purpose: the site generator's ``python -m olyscrape.testing.site --changed``
makes such a copy too; once it lands, :func:`changed_site` can call it instead.
"""

from __future__ import annotations

import datetime
import re
import shutil
import time
from pathlib import Path

import pytest_twisted
from twisted.internet import defer

from tests.helpers import SITE, crawl_in_process, query

PARTNER = "coca-cola"
NEWS = "https://olympics.com/ioc/news/"
#: The card whose title changes (on the listing and on the article's own page).
RETITLED = "coca-cola-to-provide-refreshment-for-tokyo-2020-athletes-and-staff"
OLD_TITLE = "Coca-Cola to provide refreshment for Tokyo 2020 athletes and staff"
NEW_TITLE = "Coca-Cola refreshes every Tokyo 2020 athlete and staff member"
#: The article whose body gets a paragraph more.
EDITED = "the-coca-cola-company-and-ioc-celebrate-92-years-of-partnership"
ADDED_PARAGRAPH = (
    "Update: the partnership was extended to 2032 after this story was first published."
)
#: The card taken off the listing (its article stays in the archive).
REMOVED = "coca-cola-olympic-torch-relay-brings-the-flame-to-communities-across-korea"
#: The new card, and its page (a copy of another page of the site, retitled).
ADDED = "coca-cola-opens-an-olympic-refill-station-in-lausanne"
ADDED_TITLE = "Coca-Cola opens an Olympic refill station in Lausanne"


def changed_site(target: Path) -> Path:
    """A copy of the saved site at ``target`` with the four changes of this module."""
    shutil.copytree(SITE, target)
    listing = target / "ioc" / f"{PARTNER}.html"
    html = listing.read_text(encoding="utf-8")
    cards = re.findall(r"\s*<article id=.*?</article>", html, flags=re.S)
    removed = next(card for card in cards if REMOVED in card)
    retitled = next(card for card in cards if RETITLED in card)
    new_card = retitled.replace(RETITLED, ADDED).replace(OLD_TITLE, ADDED_TITLE)
    html = html.replace(removed, "").replace(retitled, new_card + retitled.replace(
        OLD_TITLE, NEW_TITLE))  # fmt: skip
    listing.write_text(html, encoding="utf-8")

    news = target / "ioc" / "news"
    page = news / f"{RETITLED}.html"
    text = page.read_text(encoding="utf-8")
    (news / f"{ADDED}.html").write_text(text.replace(OLD_TITLE, ADDED_TITLE), encoding="utf-8")
    for tag in ("title", "h1"):  # the page's title, not its first paragraph, which quotes it
        text = text.replace(f"<{tag}>{OLD_TITLE}", f"<{tag}>{NEW_TITLE}")
    page.write_text(text, encoding="utf-8")
    edited = news / f"{EDITED}.html"
    text = edited.read_text(encoding="utf-8")
    end = text.index("\t</section>\n</main>")  # the article's text ends there
    edited.write_text(f"{text[:end]}\t\t<p>{ADDED_PARAGRAPH}</p>\n{text[end:]}", encoding="utf-8")
    return target


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
