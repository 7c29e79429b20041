"""End to end: the real Scrapy crawl over the saved site (replay) and over a loopback mirror."""

from __future__ import annotations

import shutil

import pytest
import pytest_twisted

from olyscrape.crawlstats import CrawlStats
from olyscrape.testing.mirror import serve_in_thread
from tests.helpers import (
    CHRIS_TUNG,
    EXPECTED_PER_PARTNER,
    SEED_ALIBABA,
    SHARED,
    SITE,
    crawl_in_process,
    links_per_partner,
    query,
    run_olyscrape,
)

pytestmark = pytest.mark.slow  # see pyproject's markers


def total_row(summary: str) -> list[str]:
    """The figures of the summary's ``total`` row: cards seen, new articles, new links,
    updated, dropped, article pages, listing pages, errors."""
    line = next(line for line in summary.splitlines() if line.startswith("total "))
    return line.split()[1:]


@pytest.fixture
def replayed(site_crawl):
    """The session's crawl of the saved site: its archive (read only) and its process."""
    return site_crawl


def test_replay_crawl_succeeds_and_prints_a_summary(replayed):
    _, result = replayed
    assert result.returncode == 0, result.stderr
    assert "crawl OK" in result.stdout
    # 131 cards seen (one without a link), 129 new articles (the one two partners show
    # counts once), 130 new partner links, 1 dropped, 128 article pages (one per article
    # on the canonical origin), 27 listing pages, 0 errors
    assert [int(n) for n in total_row(result.stdout)] == [131, 129, 130, 0, 1, 128, 27, 0]
    assert "Traceback" not in result.stderr
    for slug in EXPECTED_PER_PARTNER:
        assert f"\n{slug} " in result.stdout


def test_replay_stores_every_card_of_the_saved_site(replayed):
    db, _ = replayed
    assert links_per_partner(db) == EXPECTED_PER_PARTNER
    assert query(db, "SELECT count(*) FROM articles") == [(129,)]
    assert query(db, "SELECT count(*) FROM partners") == [(14,)]


def test_replay_stores_the_seeds_alibaba_cards_exactly(replayed):
    db, _ = replayed
    rows = query(
        db,
        "SELECT a.category, a.published_raw, a.title FROM article_partners ap "
        "JOIN articles a ON a.url = ap.article_url WHERE ap.partner = 'alibaba' AND ap.position <= 9 "
        "ORDER BY ap.position",
    )
    assert rows == SEED_ALIBABA
    assert query(db, "SELECT published FROM articles WHERE url = ?", CHRIS_TUNG) == [
        ("2019-09-20",)
    ]


def test_an_article_of_two_partners_is_one_row_with_two_links(replayed):
    db, _ = replayed
    assert query(
        db, "SELECT partner FROM article_partners WHERE article_url = ? ORDER BY partner", SHARED
    ) == [("alibaba",), ("visa",)]


def test_links_are_canonical_and_other_hosts_kept(replayed):
    db, _ = replayed
    hosts = {url.split("/")[2] for (url,) in query(db, "SELECT url FROM articles")}
    assert hosts == {"olympics.com", "www.bridgestone.com"}


def test_no_date_and_missing_date_store_null_and_keep_raw_text(replayed):
    db, _ = replayed
    rows = query(
        db,
        "SELECT ap.partner, a.published_raw FROM articles a JOIN article_partners ap "
        "ON a.url = ap.article_url WHERE a.published IS NULL ORDER BY ap.partner",
    )
    assert rows == [("samsung", "TBC"), ("toyota", None)]


def test_json_titles_are_decoded(replayed):
    db, _ = replayed
    assert query(
        db, "SELECT count(*) FROM articles WHERE title LIKE '%&#%' OR title LIKE '%&amp;%'"
    ) == [(0,)]
    assert query(db, "SELECT count(*) FROM articles WHERE title LIKE '%“%'")[0][0] >= 2


def test_the_linkless_card_is_dropped_and_counted(replayed):
    db, _ = replayed
    (stats,) = query(db, "SELECT stats FROM crawls ORDER BY id DESC LIMIT 1")[0]
    assert '"olyscrape/dropped/missing_url": 1' in stats


def test_the_crawl_is_recorded(replayed):
    db, _ = replayed
    rows = query(db, "SELECT status, started_at <= finished_at FROM crawls")
    assert rows == [("ok", 1)]


@pytest_twisted.ensureDeferred
async def test_a_second_full_crawl_updates_last_seen_only(archive_copy):
    db = archive_copy  # after one crawl of the saved site
    before = dict(query(db, "SELECT url, first_seen FROM articles"))
    stats = CrawlStats(await crawl_in_process(db, OLYSCRAPE_FULL=True))
    assert stats.verdict.ok
    assert dict(query(db, "SELECT url, first_seen FROM articles")) == before
    counts = [stats.count(name) for name in ("cards", "new_articles", "new", "updated")]
    assert counts == [131, 0, 0, 0]
    assert query(db, "SELECT count(*) FROM crawls WHERE status = 'ok'") == [(2,)]


def test_base_url_crawl_over_a_loopback_mirror(tmp_path, replayed):
    db = tmp_path / "mirror.db"
    with serve_in_thread(SITE) as server:
        result = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db))
        requested = list(server.requests)
    assert result.returncode == 0, result.stderr
    assert links_per_partner(db) == EXPECTED_PER_PARTNER
    replay_db, _ = replayed
    links = "SELECT article_url, partner, position FROM article_partners ORDER BY 1, 2"
    assert query(db, links) == query(replay_db, links)
    assert query(db, "SELECT count(*) FROM articles WHERE url LIKE '%127.0.0.1%'") == [(0,)]
    load_more = [p for p in requested if "loadmoreoverviewnews" in p]
    # alibaba 3, atos 2, panasonic 3 (stopped by the no-new-URL guard), visa 3
    assert len(load_more) == 11
    assert len(requested) == len(set(requested))  # nothing fetched twice


def test_partners_option_limits_the_crawl(tmp_path):
    db = tmp_path / "a.db"
    result = run_olyscrape(
        "crawl", "--replay", str(SITE), "--db", str(db), "--partners", "alibaba,P&G"
    )
    assert result.returncode == 0, result.stderr
    assert dict(query(db, "SELECT partner, count(*) FROM article_partners GROUP BY partner")) == {
        "alibaba": 31,
        "pg": 4,
    }


def test_an_unknown_partner_is_a_clear_error(tmp_path):
    result = run_olyscrape(
        "crawl", "--replay", str(SITE), "--db", str(tmp_path / "a.db"), "--partners", "alibaba,acme"
    )
    assert result.returncode == 2
    assert "unknown partner(s): acme" in result.stderr
    assert "alibaba, allianz" in result.stderr
    assert "Traceback" not in result.stderr
    # One line: no closing check judges a crawl that never started.
    assert "check failed" not in result.stderr
    assert [line for line in result.stderr.splitlines() if "ERROR" in line] == []


def test_a_missing_saved_page_fails_the_crawl_and_keeps_the_rest(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    (site / "ioc" / "visa.html").unlink()
    db = tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(site), "--db", str(db))
    assert result.returncode == 1
    assert "https://olympics.com/ioc/visa" in result.stdout
    assert "no saved answer in the replay" in result.stdout
    assert links_per_partner(db) == {**EXPECTED_PER_PARTNER, "visa": 0}
    assert query(db, "SELECT status FROM crawls") == [("failed",)]


def test_a_broken_load_more_answer_is_reported(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    answer = next(site.glob("ioc/ajaxscript/loadmoreoverviewnews/*/10/10/index.json"))  # atos
    answer.write_text("<html>Service unavailable</html>")
    result = run_olyscrape("crawl", "--replay", str(site), "--db", str(tmp_path / "a.db"))
    assert result.returncode == 1
    assert "load-more [atos]" in result.stdout and "not JSON" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "127.0.0.1:8000"], "not an http(s) URL"),
        (["--replay", "no/such/dir"], "does not exist"),
        (["--replay", str(SITE), "--base-url", "http://127.0.0.1:1"], "exclude each other"),
        (["--max-pages", "0"], "0 is not in the range"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path, args, message):
    result = run_olyscrape("crawl", "--db", str(tmp_path / "a.db"), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_db_that_is_not_sqlite_is_refused_and_left_alone(tmp_path):
    db = tmp_path / "notes.db"
    db.write_bytes(b"my notes\n" * 200)
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db))
    assert result.returncode == 1
    assert "not an olyscrape archive (not a SQLite file); left unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == b"my notes\n" * 200


def test_plain_scrapy_runs_the_spider_with_arguments(tmp_path):
    import subprocess
    import sys

    from tests.helpers import REPO

    scrapy = [sys.executable, "-m", "scrapy"]
    listed = subprocess.run([*scrapy, "list"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert listed.stdout.split() == ["check", "partners"]  # the crawl and the probe
    db = tmp_path / "a.db"
    crawled = subprocess.run(
        [
            *scrapy,
            "crawl",
            "partners",
            "-a",
            f"replay={SITE}",
            "-a",
            f"db={db}",
            "-a",
            "partners=visa",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    assert query(db, "SELECT count(*) FROM article_partners WHERE partner = 'visa'") == [(14,)]
