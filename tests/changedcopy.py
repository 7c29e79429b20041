"""A changed copy of the saved site, for the tests of ``changes`` and ``history``: one
partner's listing (Coca-Cola: no load-more, so a card is in its listing page only) with a
card retitled, a card removed and a new card, and one article page whose body was edited.

Small on purpose: the site generator's ``python -m olyscrape.testing.site --changed``
makes such a copy too; once it lands, :func:`changed_site` can call it instead.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.helpers import SITE

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
