"""Hostile answers, each named for what it is. Real crawls over the loopback mirror (a
fault, or a changed copy of the saved site): the exit code, the line, no traceback, and
what the archive holds afterwards.

- JSON is read as UTF-8 from its bytes (RFC 8259), never through a guessed code page;
- only the site's origin (scheme, host *and* port) is ever asked: another service on the
  mirror's host, on another port, gets no request, whatever links or redirects to it;
- a page or answer nested too deep to parse, a paging cycle, an over-long article URL,
  an oversize answer: each gets a line that says so.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from olyscrape.site.page import html_depth_limit
from olyscrape.testing.mirror import Fault, serve_in_thread
from tests.helpers import EXPECTED_PER_PARTNER, SITE, needs_depth_limit, query, run_olyscrape

pytestmark = pytest.mark.slow  # see pyproject's markers

SETTINGS = ["-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=1", "-s", "DOWNLOAD_MAXSIZE=1000000"]
ORIGIN = "https://olympics.com"


def site_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy)
    return copy


def load_more_link(slug: str) -> str:
    """The href of a partner's load-more link, as its page spells it."""
    html = (SITE / "ioc" / f"{slug}.html").read_text()
    return re.search(r'class="btn-more"><a href="([^"]+)"', html).group(1)


def load_more(slug: str, offset: int) -> str:
    """The path of a partner's load-more answer at ``offset``, as its page links it."""
    return re.sub(r"/(\d+)/\d+/$", rf"/\1/{offset}/", load_more_link(slug))


def answer_file(site: Path, path: str) -> Path:
    return site / unquote(path).strip("/") / "index.json"


def crawl(tmp_path, site=SITE, faults=None, *args: str):
    db = tmp_path / "a.db"
    with serve_in_thread(site, faults=faults) as server:
        result = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db),
                               *SETTINGS, *args)  # fmt: skip
        requested = list(server.requests)
    assert "Traceback" not in result.stderr, result.stderr
    return db, result, requested


def links(db: Path, partner: str) -> int:
    return query(db, "SELECT count(*) FROM article_partners WHERE partner = ?", partner)[0][0]


def failed_section(stdout: str) -> str:
    assert "failed request(s):" in stdout, stdout
    return stdout.split("failed request(s):")[1]


def crawl_status(db: Path) -> list[tuple]:
    return query(db, "SELECT status FROM crawls")


def crawl_stats(db: Path) -> dict:
    return json.loads(query(db, "SELECT stats FROM crawls ORDER BY id DESC LIMIT 1")[0][0])


# --- JSON is UTF-8 ------------------------------------------------------------------


def test_a_json_answer_with_a_bad_byte_keeps_its_accents(tmp_path):
    """Served as ``application/json`` with no charset (as the mirror serves every saved
    answer), one invalid byte among accented titles: each title is stored as written, the
    bad byte alone becomes U+FFFD."""
    site = site_copy(tmp_path)
    path = load_more("visa", 6)
    answer = answer_file(site, path)
    data = json.loads(answer.read_text())
    first, second = data["content"][0], data["content"][1]
    first["title"], second["title"] = "Zürich – Athlètes", "Café BAD olympique"
    raw = json.dumps(data, ensure_ascii=False).encode()
    answer.write_bytes(raw.replace(b"BAD", b"\xff"))  # not UTF-8 (nor any UTF)

    db, result, _ = crawl(tmp_path, site, None, "--no-articles", "--partners", "visa")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "crawl OK" in result.stdout
    titles = dict(query(db, "SELECT url, title FROM articles"))
    assert titles[ORIGIN + first["url"]] == "Zürich – Athlètes"
    assert titles[ORIGIN + second["url"]] == "Café \ufffd olympique"
    assert not any("Ã" in (t or "") for t in titles.values())
    assert links(db, "visa") == EXPECTED_PER_PARTNER["visa"]


# --- only the site's origin ------------------------------------------------------------


def test_another_port_of_the_mirrors_host_is_never_asked(tmp_path):
    """A second loopback service (a "secret" one, counting what it is asked) on another
    port of the mirror's host: a partner menu link, a load-more link and a redirect lead
    there. It gets no request; each is a failed request naming the refused URL."""
    secret_root = tmp_path / "secret"
    (secret_root / "ioc").mkdir(parents=True)
    (secret_root / "ioc" / "dow.html").write_text("<html>TOP SECRET internal service</html>")
    (secret_root / "ioc" / "stolen.html").write_text("<html>TOP SECRET internal service</html>")
    site = site_copy(tmp_path)
    with serve_in_thread(secret_root) as secret:
        elsewhere = secret.base_url  # http://127.0.0.1:<another port>
        menu = site / "ioc" / "partners.html"
        menu.write_text(menu.read_text().replace('href="/ioc/dow"', f'href="{elsewhere}/ioc/dow"'))
        listing = site / "ioc" / "visa.html"
        link = load_more_link("visa")
        listing.write_text(listing.read_text().replace(link, elsewhere + link))
        faults = {"/ioc/intel": Fault("redirect", location=f"{elsewhere}/ioc/stolen")}
        db, result, _ = crawl(tmp_path, site, faults, "--no-articles",
                              "--partners", "dow,visa,intel,omega")  # fmt: skip
        asked = list(secret.requests)

    assert asked == []
    assert result.returncode == 1, result.stdout + result.stderr
    failed = failed_section(result.stdout)
    for url in (f"{elsewhere}/ioc/dow", elsewhere + link, f"{elsewhere}/ioc/stolen"):
        line = next(x for x in failed.splitlines() if url in x)
        assert f"origin {elsewhere} is not allowed" in line
    assert re.search(r"\(redirected from \S+/ioc/intel\)", failed)
    assert query(db, "SELECT count(*) FROM captures WHERE url LIKE ?", f"{elsewhere}%") == [(0,)]
    assert query(db, "SELECT count(*) FROM capture_bodies WHERE body LIKE '%SECRET%'") == [(0,)]
    assert (links(db, "dow"), links(db, "intel")) == (0, 0)
    assert links(db, "visa") == 6  # its first page; the load-more answer was refused
    assert links(db, "omega") == EXPECTED_PER_PARTNER["omega"]
    assert crawl_status(db) == [("failed",)]


# --- too deep to parse -----------------------------------------------------------------


@needs_depth_limit
def test_a_listing_nested_past_the_parsers_limit_is_a_failed_page(tmp_path):
    """libxml2 stops at its depth limit and drops the rest of the page: its later cards
    and its paging link. The page fails, by name, instead of ending the walk "done"."""
    page = "/ioc/omega/page/2"
    faults = {page: Fault("deep", depth=html_depth_limit() + 500)}
    db, result, _ = crawl(tmp_path, SITE, faults, "--no-articles", "--partners", "omega")
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(x for x in failed_section(result.stdout).splitlines() if page in x)
    assert "listing [omega]" in line and "page too deep to parse" in line
    first_page = query(db, "SELECT count(*) FROM captures WHERE url LIKE '%/ioc/omega'")
    assert first_page == [(1,)]
    assert links(db, "omega") == 6  # the first page's cards, not page 2's first one alone
    assert crawl_status(db) == [("failed",)]


@needs_depth_limit
def test_a_listing_nested_within_the_limit_is_read_whole(tmp_path):
    faults = {"/ioc/omega/page/2": Fault("deep", depth=html_depth_limit() // 2)}
    db, result, _ = crawl(tmp_path, SITE, faults, "--no-articles", "--partners", "omega")
    assert result.returncode == 0, result.stdout + result.stderr
    assert links(db, "omega") == EXPECTED_PER_PARTNER["omega"]


def test_a_load_more_answer_nested_200000_levels_is_named_not_a_traceback(tmp_path):
    path = load_more("visa", 6)
    db, result, requested = crawl(tmp_path, SITE, {path: Fault("deep", depth=200_000)},
                                  "--no-articles", "--partners", "visa")  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(x for x in failed_section(result.stdout).splitlines() if path in x)
    assert "load-more [visa]" in line and "answer nested too deep to parse" in line
    assert "RecursionError" not in result.stderr and "dropped on the way" not in result.stdout
    assert requested.count(path) == 1  # the same answer again would not help: not retried
    assert links(db, "visa") == 6
    assert crawl_status(db) == [("failed",)]


# --- a paging cycle ------------------------------------------------------------------


def test_a_last_page_linking_back_to_the_first_ends_the_walk_complete(tmp_path):
    site = site_copy(tmp_path)
    last = site / "ioc" / "omega" / "page" / "3.html"
    html = last.read_text()
    back = '<li><a class="next" href="/ioc/omega" rel="next">&gt;</a></li></ul>'
    assert html.count("</ul>\n\t\t\t\t\t</div>\n\t\t\t\t</noscript>") == 1
    last.write_text(html.replace("</ul>\n\t\t\t\t\t</div>\n\t\t\t\t</noscript>",
                                 back + "\n</div></noscript>"))  # fmt: skip

    db, result, requested = crawl(tmp_path, site, None, "--no-articles", "--partners", "omega")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "crawl OK" in result.stdout and "dropped on the way" not in result.stdout
    assert f"omega: paging cycle at {ORIGIN}/ioc/omega " in result.stderr
    assert requested.count("/ioc/omega") == 1
    assert links(db, "omega") == EXPECTED_PER_PARTNER["omega"]
    assert crawl_status(db) == [("ok",)]
    stats = crawl_stats(db)
    assert stats["olyscrape/paging_cycles"] == 1
    assert stats["olyscrape/partner/omega/stop_reason"].startswith("paging cycle")
    # The walk counted complete: the next crawl is incremental and stays OK.
    _, again, _ = crawl(tmp_path, site, None, "--no-articles", "--partners", "omega")
    assert again.returncode == 0 and "incremental: 1 partner(s)" in again.stdout


# --- an over-long URL -------------------------------------------------------------------


def test_an_article_url_over_the_length_limit_is_named(tmp_path):
    site = site_copy(tmp_path)
    listing = site / "ioc" / "omega.html"
    html = listing.read_text()
    href = re.search(r'href="(/ioc/news/[^"]+)"', html).group(1)
    long_href = "/ioc/news/" + "a" * 100_000
    listing.write_text(html.replace(f'href="{href}"', f'href="{long_href}"'))
    long_url = ORIGIN + long_href

    db, result, requested = crawl(tmp_path, site, None, "--partners", "omega")

    assert result.returncode == 0, result.stdout + result.stderr  # an article failure
    not_archived = result.stdout.split("article page(s) not archived")[1]
    line = next(x for x in not_archived.splitlines() if "too long" in x)
    assert f"article URL too long ({len(long_url)} characters)" in line
    assert line.startswith(f"  {long_url[:100]}") and len(line) < 1000  # shortened
    assert not any(len(path) > 10_000 for path in requested)
    assert query(db, "SELECT body FROM articles WHERE url = ?", long_url) == [(None,)]
    assert links(db, "omega") == EXPECTED_PER_PARTNER["omega"]
    failures = crawl_stats(db)["olyscrape/article_failures"]
    assert [f["url"] for f in failures if "too long" in f["reason"]] == [long_url]


# --- an oversize answer -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["chunked", "oversize"])
def test_an_oversize_answer_is_named(tmp_path, kind):
    """Sent in chunks (no Content-Length: Scrapy's error says nothing) or announced."""
    faults = {"/ioc/coca-cola": Fault(kind, size=2_000_000)}
    db, result, _ = crawl(tmp_path, SITE, faults, "--no-articles", "--partners", "coca-cola,dow")
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(x for x in failed_section(result.stdout).splitlines() if "/ioc/coca-cola" in x)
    assert "answer larger than DOWNLOAD_MAXSIZE (1000000 bytes)" in line
    assert "DownloadCancelledError" not in result.stdout + result.stderr
    assert (links(db, "coca-cola"), links(db, "dow")) == (0, EXPECTED_PER_PARTNER["dow"])
    assert crawl_status(db) == [("failed",)]
