"""A card is gone only on the word of a walk that can be trusted: real crawls of the saved
site, then of faulty copies of it over the loopback mirror, each asserting the exit code,
no traceback and what `olyscrape changes` lists afterwards.

A full walk that completed is not enough: it must end at the listing's own end (not at a
paging cycle a redirect made) in a crawl whose closing checks passed (not one whose
listing parsed no card, or a maintenance page in its place).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from olyscrape.testing.mirror import Fault, serve_in_thread
from tests.helpers import SITE, query, run_olyscrape

pytestmark = pytest.mark.slow  # see pyproject's markers

SETTINGS = ["-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=1"]


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> Path:
    """The saved site crawled once (copied by each test)."""
    db = tmp_path_factory.mktemp("first") / "a.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db))
    assert result.returncode == 0, result.stderr
    return db


def crawl_again(first: Path, tmp_path: Path, site: Path, faults=None) -> tuple[Path, object]:
    """A copy of ``first`` crawled again in full from ``site`` through the mirror, in a
    later second than the first crawl (the archive's times are to the second)."""
    db = tmp_path / "a.db"
    shutil.copy(first, db)
    (started,) = query(db, "SELECT max(started_at) FROM crawls")[0]
    while run_olyscrape("sql", "--db", str(db), "SELECT strftime('%Y-%m-%dT%H:%M:%SZ')",
                        "--csv", "--no-headers").stdout.strip() <= started:  # fmt: skip
        pass
    with serve_in_thread(site, faults=faults) as server:
        result = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db), "--full",
                               *SETTINGS)  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return db, result


def gone(db: Path) -> list[tuple[str, str]]:
    result = run_olyscrape("changes", "--db", str(db), "--kind", "gone", "--json")
    assert result.returncode == 0, result.stderr
    return [(row["partners"][0], row["url"]) for row in json.loads(result.stdout)]


def load_more(slug: str, offset: int) -> str:
    """The path of a partner's load-more answer at ``offset``, as its page links it."""
    html = (SITE / "ioc" / f"{slug}.html").read_text()
    href = re.search(r'class="btn-more"><a href="([^"]+)"', html).group(1)
    return re.sub(r"/(\d+)/\d+/$", rf"/\1/{offset}/", href)


def test_a_full_walk_cut_at_a_paging_cycle_makes_nothing_gone(first, tmp_path):
    """Alibaba's second load-more answer redirected to its first: the walk ends complete
    at the cycle (named, crawl OK), but the cards past it were never shown to it."""
    faults = {load_more("alibaba", 18): Fault("redirect", location=load_more("alibaba", 9))}
    db, result = crawl_again(first, tmp_path, SITE, faults)
    assert result.returncode == 0 and "paging cycle" in result.stderr
    assert query(db, "SELECT kind FROM walks WHERE partner = 'alibaba' ORDER BY id DESC")[0] == (
        "cut",
    )
    assert gone(db) == []


def test_a_listing_that_parses_no_card_fails_the_crawl_and_makes_nothing_gone(first, tmp_path):
    """Visa's listing answers a maintenance page: a walk to its end, of nothing. The
    crawl's closing checks fail it (exit 1), and its walks are not taken at their word."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    (site / "ioc" / "visa.html").write_text(
        "<html><body><main><h1>Visa</h1><p>Down for maintenance.</p></main></body></html>"
    )
    db, result = crawl_again(first, tmp_path, site)
    assert result.returncode == 1, result.stdout + result.stderr
    assert query(db, "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == [("failed",)]
    assert gone(db) == []


def test_a_trusted_full_walk_still_finds_the_card_removed(first, tmp_path):
    """The same crawl over the generator's changed copy, with no fault: Alibaba's removed
    card is gone, and nothing else is."""
    from olyscrape.testing.sitegen import CHANGES
    from tests.helpers import changed_site

    site = changed_site(tmp_path / "changed")
    db, result = crawl_again(first, tmp_path, site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert gone(db) == [(CHANGES.removed_partner, CHANGES.removed_url)]


def test_half_a_character_in_a_title_is_left_out_and_nothing_is_lost(first, tmp_path):
    """A load-more answer whose title holds a lone surrogate (`\\ud83c`: half an emoji, as
    a server cutting titles sends it). SQLite cannot store one: the batch holding it used
    to fail, the crawl still said OK, and its cards were reported gone. The crawl leaves
    the half character out, stores every card, and nothing is gone."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    (answer,) = (site / "ioc" / "ajaxscript").rglob("*/10/10/index.json")
    text = answer.read_text()
    start = text.index('"title": "') + len('"title": "')
    answer.write_text(text[:start] + "\\ud83c" + text[start:])
    db, result = crawl_again(first, tmp_path, site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert gone(db) == []
    titles = [t for (t,) in query(db, "SELECT title FROM articles")]
    assert not any("\ud83c" in t for t in titles if t)
    assert query(db, "SELECT count(*) FROM articles") == query(
        first, "SELECT count(*) FROM articles"
    )
