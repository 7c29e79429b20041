"""Paging that turns back on itself, or into another partner's list, and long URLs through
a mirror: real crawls over the loopback mirror (a fault, or a changed copy of the saved
site), each asserting the exit code, the line, no traceback and what the archive holds.

A paging request (listing page, load-more answer) is judged by the walk, not dropped by
Scrapy's duplicate filter: an answer reached again, directly or through a redirect, ends
the walk complete as a paging cycle; a next page that is another partner's listing ends
it with its own line; a request the scheduler still drops is named with its URL.
"""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path

import pytest

from olyscrape.testing.mirror import Fault, serve_in_thread
from tests.helpers import (
    EXPECTED_PER_PARTNER,
    ORIGIN,
    SITE,
    archive_fields,
    query,
    run_olyscrape,
)

pytestmark = pytest.mark.slow  # see pyproject's markers

SETTINGS = ["-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=1"]
DROPPED = "dropped on the way"


def site_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy)
    return copy


def crawl(db: Path, site: Path, faults=None, *args: str):
    with serve_in_thread(site, faults=faults) as server:
        result = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db),
                               *SETTINGS, *args)  # fmt: skip
        requested = list(server.requests)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result, requested


@cache
def clean_fields(tmp_root: Path, partners: str) -> dict[str, list[tuple]]:
    """What a clean crawl of ``partners`` archives (once a session per set of partners)."""
    db = tmp_root / f"clean-{partners.replace(',', '-')}.db"
    result, _ = crawl(db, SITE, None, "--partners", partners)
    assert result.returncode == 0, result.stdout + result.stderr
    return archive_fields(db)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    return lambda partners: clean_fields(root, partners)


def link_next_page(site: Path, href: str) -> None:
    """Give omega's last no-script page (page 3) a next link to ``href``."""
    last = site / "ioc" / "omega" / "page" / "3.html"
    html = last.read_text()
    end = "</ul>\n\t\t\t\t\t</div>\n\t\t\t\t</noscript>"
    assert html.count(end) == 1 and 'class="next"' not in html
    link = f'<li><a class="next" href="{href}" rel="next">&gt;</a></li></ul>'
    last.write_text(html.replace(end, link + "\n</div></noscript>"))


def load_more(slug: str, offset: int) -> str:
    """The path of a partner's load-more answer at ``offset``, as its page links it."""
    html = (SITE / "ioc" / f"{slug}.html").read_text()
    href = re.search(r'class="btn-more"><a href="([^"]+)"', html).group(1)
    return re.sub(r"/(\d+)/\d+/$", rf"/\1/{offset}/", href)


def last_crawl(db: Path) -> tuple[str, dict]:
    status, stats = query(db, "SELECT status, stats FROM crawls ORDER BY id DESC LIMIT 1")[0]
    return status, json.loads(stats)


def links(db: Path, partner: str) -> int:
    return query(db, "SELECT count(*) FROM article_partners WHERE partner = ?", partner)[0][0]


# --- a paging cycle through a redirect ------------------------------------------------


def test_a_next_page_redirected_back_to_page_1_ends_the_walk_complete(tmp_path, clean):
    """Page 3 links page 4, which redirects to page 1 (read already): every crawl used to
    exit 1 with "a request was dropped on the way" and walk omega in full again."""
    site = site_copy(tmp_path)
    link_next_page(site, "/ioc/omega/page/4")
    faults = {"/ioc/omega/page/4": Fault("redirect", location="/ioc/omega")}
    db = tmp_path / "a.db"

    result, requested = crawl(db, site, faults, "--partners", "omega")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "crawl OK" in result.stdout and DROPPED not in result.stdout + result.stderr
    assert f"omega: paging cycle at {ORIGIN}/ioc/omega (" in result.stderr
    assert f"redirected from {ORIGIN}/ioc/omega/page/4" in result.stderr
    assert requested.count("/ioc/omega/page/4") == 1
    assert archive_fields(db) == clean("omega")
    status, stats = last_crawl(db)
    assert status == "ok" and stats["olyscrape/paging_cycles"] == 1
    assert stats["olyscrape/partner/omega/stop_reason"].startswith("paging cycle")
    # Recorded complete: the next crawl is incremental, and OK.
    again, _ = crawl(db, site, faults, "--partners", "omega")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "incremental: 1 partner(s)" in again.stdout
    assert archive_fields(db) == clean("omega")


def test_a_load_more_answer_redirected_to_one_read_already_ends_the_walk(tmp_path, clean):
    """Atos's answer at offset 20 (empty on the saved site: no card lost) redirects to
    the one at 10, read already in this walk."""
    last, read = load_more("atos", 20), load_more("atos", 10)
    faults = {last: Fault("redirect", location=read)}
    db = tmp_path / "a.db"

    result, requested = crawl(db, SITE, faults, "--partners", "atos")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "crawl OK" in result.stdout and DROPPED not in result.stdout + result.stderr
    assert f"atos: paging cycle at {ORIGIN}{read} (" in result.stderr
    assert requested.count(last) == 1
    assert archive_fields(db) == clean("atos")
    status, stats = last_crawl(db)
    assert status == "ok" and stats["olyscrape/paging_cycles"] == 1


# --- a next page that is another partner's listing ----------------------------------------


@pytest.mark.parametrize("how", ["link", "redirect"])
def test_a_next_page_leading_to_another_partners_listing_ends_the_walk(tmp_path, clean, how):
    """Omega's next page is Alibaba's listing, linked or through a redirect: omega's walk
    ends complete, named; no Alibaba card is counted as omega's; Alibaba is walked once."""
    site = site_copy(tmp_path)
    if how == "link":
        link_next_page(site, "/ioc/alibaba")
        faults = None
    else:
        link_next_page(site, "/ioc/omega/page/4")
        faults = {"/ioc/omega/page/4": Fault("redirect", location="/ioc/alibaba")}
    db = tmp_path / "a.db"

    result, requested = crawl(db, site, faults, "--partners", "omega,alibaba")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "crawl OK" in result.stdout and DROPPED not in result.stdout + result.stderr
    line = next(x for x in result.stderr.splitlines() if "another partner's listing" in x)
    assert f"omega: next page {ORIGIN}/ioc/alibaba is alibaba's listing" in line
    if how == "redirect":
        assert f"(redirected from {ORIGIN}/ioc/omega/page/4)" in line
    assert requested.count("/ioc/alibaba") == (2 if how == "redirect" else 1)
    assert links(db, "omega") == EXPECTED_PER_PARTNER["omega"]
    assert links(db, "alibaba") == EXPECTED_PER_PARTNER["alibaba"]
    assert archive_fields(db) == clean("omega,alibaba")
    status, stats = last_crawl(db)
    assert status == "ok" and stats["olyscrape/other_partner_links"] == 1
    assert stats["olyscrape/partner/omega/stop_reason"].startswith("next page is another")


def test_a_partners_own_listing_redirected_to_anothers_fails_its_walk(tmp_path):
    """Visa's listing itself redirects to Dow's: none of Visa's pages could be read, so
    its walk fails, named; Dow's cards are never counted as Visa's."""
    faults = {"/ioc/visa": Fault("redirect", location="/ioc/dow")}
    db = tmp_path / "a.db"

    result, _ = crawl(db, SITE, faults, "--no-articles", "--partners", "visa,dow")

    assert result.returncode == 1, result.stdout + result.stderr
    assert DROPPED not in result.stdout + result.stderr
    failed = result.stdout.split("failed request(s):")[1]
    line = next(x for x in failed.splitlines() if "listing [visa]" in x)
    assert f"{ORIGIN}/ioc/visa: redirected to dow's listing {ORIGIN}/ioc/dow" in line
    assert (links(db, "visa"), links(db, "dow")) == (0, EXPECTED_PER_PARTNER["dow"])
    assert last_crawl(db)[0] == "failed"


# --- a redirect to a URL refused already --------------------------------------------------


def test_a_redirect_to_a_refused_url_is_refused_again_by_name(tmp_path):
    """Dow's menu link leads to another port (refused); Visa's listing redirects there
    too. Both are refused by name, never "dropped on the way"."""
    site = site_copy(tmp_path)
    with serve_in_thread(tmp_path) as other:  # another service on the mirror's host
        elsewhere = f"{other.base_url}/ioc/dow"
        menu = site / "ioc" / "partners.html"
        menu.write_text(menu.read_text().replace('href="/ioc/dow"', f'href="{elsewhere}"'))
        faults = {"/ioc/visa": Fault("redirect", location=elsewhere)}
        db = tmp_path / "a.db"
        result, _ = crawl(db, site, faults, "--no-articles", "--partners", "dow,visa,intel")
        asked = list(other.requests)

    assert asked == []
    assert result.returncode == 1, result.stdout + result.stderr
    assert DROPPED not in result.stdout + result.stderr
    failed = result.stdout.split("failed request(s):")[1].split("\n\n")[0]
    lines = [x for x in failed.splitlines() if x.strip()]
    assert len(lines) == 2, failed
    dow = next(x for x in lines if "listing [dow]" in x)
    visa = next(x for x in lines if "listing [visa]" in x)
    assert f"origin {other.base_url} is not allowed" in dow
    assert f"origin {other.base_url} is not allowed" in visa
    assert re.search(r"\(redirected from \S+/ioc/visa\)$", visa), visa
    assert (links(db, "dow"), links(db, "visa")) == (0, 0)
    assert links(db, "intel") == EXPECTED_PER_PARTNER["intel"]
    assert last_crawl(db)[0] == "failed"


# --- a request the scheduler drops is named ------------------------------------------------


def test_a_request_dropped_as_a_duplicate_is_named(tmp_path):
    """The partners menu redirects to itself: Scrapy's duplicate filter drops the
    redirected request. The failure names the dropped URL and why."""
    faults = {"/ioc/partners": Fault("redirect", location="/ioc/partners")}
    db = tmp_path / "a.db"

    result, requested = crawl(db, SITE, faults, "--no-articles")

    assert result.returncode == 1, result.stdout + result.stderr
    failed = result.stdout.split("failed request(s):")[1]
    line = next(x for x in failed.splitlines() if "discovery" in x)
    assert f"{ORIGIN}/ioc/partners" in line
    assert "dropped as a duplicate of a request already made" in line
    assert requested == ["/ioc/partners"]
    assert query(db, "SELECT count(*) FROM articles") == [(0,)]
    assert last_crawl(db)[0] == "failed"


# --- URL length judged on the canonical URL ---------------------------------------------------


@pytest.mark.parametrize("length", [2083, 2084])
def test_an_article_url_is_measured_as_the_site_would_see_it(tmp_path, length):
    """URLLENGTH_LIMIT is 2,083: a canonical article URL of exactly that length is fetched
    from the mirror as from the site (its page stored); one character more is refused,
    and the line gives the canonical URL's length, never the mirror's."""
    site = site_copy(tmp_path)
    listing = site / "ioc" / "omega.html"
    html = listing.read_text()
    href = re.search(r'href="(/ioc/news/[^"]+)"', html).group(1)
    # Segments short enough to be file names: the mirror serves the saved page there.
    rest = length - len(ORIGIN) - len("/ioc/news/")
    segments = [("abcdefghij" * 20)[: min(200, rest - i)] for i in range(0, rest, 201)]
    long_href = "/ioc/news/" + "/".join(segments)
    long_url = ORIGIN + long_href
    assert len(long_url) == length
    page = site / (long_href.lstrip("/") + ".html")
    page.parent.mkdir(parents=True)
    shutil.copyfile(site / (href.lstrip("/") + ".html"), page)
    listing.write_text(html.replace(f'href="{href}"', f'href="{long_href}"'))
    db = tmp_path / "a.db"

    result, requested = crawl(db, site, None, "--partners", "omega")

    assert result.returncode == 0, result.stdout + result.stderr
    body = query(db, "SELECT body FROM articles WHERE url = ?", long_url)[0][0]
    if length == 2083:
        assert long_href in requested
        assert body and "too long" not in result.stdout
        assert "archive: every article it holds has its page" in result.stdout
    else:
        assert long_href not in requested and body is None
        not_archived = result.stdout.split("article page(s) not archived")[1]
        line = next(x for x in not_archived.splitlines() if "too long" in x)
        assert f"article URL too long ({length} characters), over URLLENGTH_LIMIT (2083)" in line
    assert links(db, "omega") == EXPECTED_PER_PARTNER["omega"]
