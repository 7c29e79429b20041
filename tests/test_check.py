"""``olyscrape check``: the probe of the site contract, on the saved site and on copies of it
where exactly one point of the contract is broken, and ``crawl --check-first``."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import SITE, free_port, query, run_olyscrape

pytestmark = pytest.mark.slow  # each case runs the command in a subprocess

IOC = Path("ioc")
VISA_ANSWER = IOC / "ajaxscript/loadmoreoverviewnews/{FB992646-8BF4-4195-A0F0-92EBD946BD51}/6/0"
VISA_FIRST_ARTICLE = IOC / "news" / "team-visa-athletes-ready-to-shine-at-tokyo-2020.html"
# The probe tries visa's three newest article pages before calling the article broken.
VISA_ARTICLES = [
    IOC / "news" / (href.rsplit("/", 1)[1] + ".html")
    for href in re.findall(
        r'<h2>\s*<a href="(/ioc/news/[^"]+)"', (SITE / IOC / "visa.html").read_text()
    )
][:3]


def check(*args: str, cwd: Path | None = None) -> tuple[int, dict, str]:
    result = run_olyscrape("check", "--format", "json", *args, cwd=cwd)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.returncode, json.loads(result.stdout), result.stderr


def broken(report: dict) -> set[tuple[str | None, str]]:
    return {(p["partner"], p["name"]) for p in report["points"] if not p["holds"]}


def edit(site: Path, relative: Path | list[Path], change: Callable[[str], str]) -> None:
    for one in relative if isinstance(relative, list) else [relative]:
        path = site / one
        before = path.read_text()
        after = change(before)
        assert after != before, f"the change did not apply to {one}"
        path.write_text(after)


def in_cards(change: Callable[[str], str]) -> Callable[[str], str]:
    """Apply ``change`` to the listing's card area only (not the menu, not the frame)."""

    def apply(page: str) -> str:
        start = page.index("ajax-area")
        return page[:start] + change(page[start:])

    return apply


def sub(pattern: str, replacement: str, flags: int = re.S) -> Callable[[str], str]:
    return lambda text: re.sub(pattern, replacement, text, flags=flags)


# Each case: the one change to the saved site, and the one point it must break.
BREAKS: dict[str, tuple[Path | list[Path], Callable[[str], str], tuple[str | None, str]]] = {
    "no TOP column": (
        IOC / "partners.html",
        sub(r'(<strong class="title">)\s*TOP\s*(</strong>)', r"\1Sponsors\2"),
        (None, "discovery: TOP column"),
    ),
    "cards in other markup": (
        IOC / "visa.html",
        lambda t: t.replace("ajax-area", "news-area").replace('class="box', 'class="tile'),
        ("visa", "listing: cards"),
    ),
    "cards in other tags, in the same card area": (
        IOC / "omega.html",
        in_cards(lambda t: t.replace("<article", "<div").replace("</article>", "</div>")),
        ("omega", "listing: cards"),
    ),
    "cards without a date": (
        IOC / "visa.html",
        in_cards(sub(r"<time[^>]*>.*?</time>", "")),
        ("visa", "card: date"),
    ),
    "cards without an image": (
        IOC / "visa.html",
        in_cards(sub(r"<picture[^>]*>.*?</picture>|<img[^>]*>", "")),
        ("visa", "card: image"),
    ),
    "cards without a label": (
        IOC / "visa.html",
        in_cards(sub(r'<span class="news-topic-label[^"]*">.*?</span>', "")),
        ("visa", "card: label"),
    ),
    "a load-more link of another form": (
        IOC / "visa.html",
        sub(r'(<span class="btn-more"><a href=")[^"]*(")', r"\1/ioc/more?page=2\2"),
        ("visa", "paging: load-more link"),
    ),
    "a load-more answer of another shape": (
        VISA_ANSWER / "index.json",
        lambda t: json.dumps({"items": json.loads(t)["content"]}),
        ("visa", "paging: load-more answer"),
    ),
    "a no-script next page without cards": (
        IOC / "omega" / "page" / "2.html",
        in_cards(sub(r"<article.*</article>", "")),
        ("omega", "paging: no-script next page"),
    ),
    "an article page without a title": (
        VISA_FIRST_ARTICLE,
        sub(r"<h1>.*?</h1>", ""),
        ("visa", "article: title"),
    ),
    "an article page without a date": (
        VISA_FIRST_ARTICLE,
        sub(r"<dt>Date</dt>\s*<dd>.*?</dd>", ""),
        ("visa", "article: date"),
    ),
    "an article page without tags": (
        VISA_FIRST_ARTICLE,
        sub(r"<dt>Tags</dt>\s*<dd>.*?</dd>", ""),
        ("visa", "article: tags"),
    ),
    "article pages without their body": (
        VISA_ARTICLES,
        lambda t: t.replace("post-box text-content", "post-box"),
        ("visa", "article: body"),
    ),
}


def test_every_point_holds_on_the_saved_site(tmp_path):
    # Run where a crawl would make data/olyscrape.db and its lock: the probe makes neither.
    code, report, _ = check("--replay", str(SITE), cwd=tmp_path)
    assert code == 0
    assert report["ok"] is True and report["broken"] == []
    assert len(report["partners"]) == 14
    names = {p["name"] for p in report["points"]}
    # Every kind of point was checked somewhere on the saved site.
    assert {"discovery: TOP column", "listing: cards", "card: date", "paging: load-more link",
            "paging: load-more answer", "paging: no-script next page", "article: tags",
            "article: body"} <= names  # fmt: skip
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("relative", "change", "point"), BREAKS.values(), ids=BREAKS.keys())
def test_one_broken_point_is_named_and_nothing_else(tmp_path, relative, change, point):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    edit(site, relative, change)
    code, report, stderr = check("--replay", str(site))
    assert code == 1
    assert report["ok"] is False
    assert broken(report) == {point}
    partner, name = point
    assert f"BROKEN {partner or 'discovery'}: {name}: " in stderr
    assert list(tmp_path.iterdir()) == [site]  # no archive, no lock


def test_one_missing_article_page_is_not_a_broken_contract(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    (site / VISA_FIRST_ARTICLE).unlink()  # an article failure, which a crawl tolerates
    code, report, _ = check("--replay", str(site), "--partners", "visa")
    assert code == 0, report["broken"]
    (body,) = [p for p in report["points"] if p["name"] == "article: body"]
    assert body["url"] != f"https://olympics.com/{VISA_FIRST_ARTICLE.with_suffix('').as_posix()}"
    assert body["evidence"].endswith("(and 1 newer article page(s) before it)")


def test_check_over_a_mirror_obeys_its_partners_choice():
    from olyscrape.testing.mirror import serve_in_thread

    with serve_in_thread(SITE) as server:
        code, report, _ = check("--base-url", server.base_url, "--partners", "alibaba,Omega")
        requested = list(server.requests)
    assert code == 0
    assert report["partners"] == ["alibaba", "omega"]
    assert {p["partner"] for p in report["points"]} == {None, "alibaba", "omega"}
    # One page of each kind per partner: discovery, 2 listings, 1 answer, 1 next page, 2
    # articles (and robots.txt, which a loopback mirror's crawl does not read).
    assert len(requested) == 7, requested


def test_an_unreachable_site_is_unreachable_not_a_broken_discovery():
    """No network is not a changed site (tests/test_unreachable.py has the rest)."""
    result = run_olyscrape("check", "--format", "json", "--base-url",
                           f"http://127.0.0.1:{free_port()}")  # fmt: skip
    assert result.returncode == 5
    assert result.stdout == ""  # no report of points: none was judged
    assert "BROKEN" not in result.stderr and "could not fetch it" not in result.stderr
    assert "Error: the site is unreachable: " in result.stderr


def test_an_empty_replay_breaks_discovery_once(tmp_path):
    code, report, stderr = check("--replay", str(tmp_path))
    assert code == 1
    assert [(p["partner"], p["name"]) for p in report["points"]] == [
        (None, "discovery: TOP column")
    ]
    assert stderr.count("BROKEN discovery: discovery: TOP column: could not fetch it") == 1


def test_unknown_partner_is_a_usage_error():
    result = run_olyscrape("check", "--replay", str(SITE), "--partners", "acme")
    assert result.returncode == 2
    assert "unknown partner(s): acme" in result.stderr and "Traceback" not in result.stderr


def test_keep_stores_the_probed_pages_for_reparse(tmp_path):
    db = tmp_path / "probe.db"
    code, _, _ = check("--replay", str(SITE), "--partners", "visa", "--keep", str(db))
    assert code == 0
    captured = {url for (url,) in query(db, "SELECT canonical_url FROM captures")}
    assert "https://olympics.com/ioc/partners" in captured
    assert "https://olympics.com/ioc/visa" in captured
    assert query(db, "SELECT count(*) FROM articles") == [(0,)]  # pages kept, nothing parsed
    assert query(db, "SELECT count(*) FROM crawls") == [(0,)]  # a probe is not a crawl
    result = run_olyscrape("reparse", "--db", str(db))
    assert result.returncode == 0, result.stderr[-2000:]
    # Visa's listing page (6 cards) and its first load-more answer, whose offset 0 repeats
    # those 6 (tests/fixtures/site/MANIFEST.md); the next answer was not probed.
    assert query(db, "SELECT count(*) FROM article_partners WHERE partner = 'visa'") == [(6,)]
    assert query(db, "SELECT count(*) FROM articles WHERE body IS NOT NULL") == [(1,)]


def test_crawl_check_first_crawls_when_every_point_holds(tmp_path):
    db = tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), "--check-first")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "crawl OK" in result.stdout and "check OK" not in result.stdout
    # The probe's verdict comes first, in one line, before the crawl's first line.
    verdict = result.stderr.index("check OK: 150 points hold (14 partners)")
    assert verdict < result.stderr.index("discovered 14 partners, crawling 14")
    assert "holds" not in result.stderr  # no table when every point holds
    assert query(db, "SELECT count(*) FROM articles") == [(129,)]


def test_crawl_check_first_does_not_crawl_a_changed_site(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    relative, change, _ = BREAKS["cards without a date"]
    edit(site, relative, change)
    db = tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(site), "--db", str(db), "--check-first")
    assert result.returncode == 1
    assert "BROKEN visa: card: date: " in result.stderr
    assert "Error: the site check failed (above); nothing was crawled" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # stdout is for a crawl's summary, and none ran
    assert not db.exists()


def test_crawl_check_first_names_an_unknown_partner_in_one_line(tmp_path):
    db = tmp_path / "a.db"
    result = run_olyscrape(
        "crawl", "--replay", str(SITE), "--db", str(db), "--check-first", "--partners", "acme"
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "acme" in line or "ERROR" in line]
    assert errors == [errors[0]] and errors[0].startswith("Error: unknown partner(s): acme.")
    assert not db.exists()
