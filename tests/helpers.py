"""What the tests share: where things are, the saved site's facts, and small helpers
(saved pages as real Scrapy responses, the CLI in a subprocess, SQLite reads, a free port,
a webhook that records what it is sent). Test modules import from here, never from one
another; fixtures live in ``conftest.py``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scrapy.http import HtmlResponse, Request, TextResponse

from olyscrape import site as pages
from olyscrape.site import urls

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SITE = FIXTURES / "site"
ORIGIN = "https://olympics.com"


#: For the tests of pages nested deeper than the HTML parser reads: some older libxml2
#: releases have no such limit (nothing is cut, so there is nothing to name).
needs_depth_limit = pytest.mark.skipif(
    not pages.html_depth_limit(),
    reason="this libxml2 reads HTML nested to any depth: no page is cut, nothing to name",
)

# --- the saved site's facts (tests/fixtures/site/MANIFEST.md) ---------------------------

# What the saved site holds, per partner (tests/fixtures/site/MANIFEST.md): unique articles.
EXPECTED_PER_PARTNER = {
    "airbnb": 0,
    "alibaba": 31,
    "allianz": 7,
    "atos": 20,
    "bridgestone": 5,
    "coca-cola": 6,
    "dow": 4,
    "intel": 4,
    "omega": 15,
    "panasonic": 10,
    "pg": 4,
    "samsung": 5,
    "toyota": 5,
    "visa": 14,
}
SHARED = "https://olympics.com/ioc/news/worldwide-olympic-partners-unite-to-support-athletes-at-pyeongchang-2018"


# The nine cards (label, date, title) of the real Alibaba partner page as a browser showed
# it in 2021, quoted in docs/site.md §10 (evidence); the saved Alibaba listing reproduces them.
SEED_ALIBABA = [
    (
        "Tokyo 2020",
        "22 Jul 2021",
        "Alibaba’s Tokyo 2020 innovations helping transform Olympic Games for digital era",
    ),
    (
        "IOC News",
        "06 May 2021",
        "Alibaba’s Selina Yuan: “The Olympic Games are one of the most powerful platforms for equality”",
    ),
    (
        "Paris 2024",
        "15 Mar 2021",
        "AliExpress rewarding consumers for Le Club Paris 2024 challenges",
    ),
    ("Paris 2024", "30 Jul 2020", "Worldwide TOP Partner Alibaba supports Le Club for Paris 2024"),
    ("Tokyo 2020", "27 Jul 2020", "IOC launches Tokyo 2020 portal on Alibaba’s Tmall"),
    (
        "Lausanne 2020",
        "18 Jan 2020",
        "Digital marketplace AliExpress showcasing Lausanne 2020 to fans around the world",
    ),
    (
        "Tokyo 2020",
        "20 Sep 2019",
        "“Much more than a sponsorship”: Alibaba’s Chris Tung hails TOP Partnership as company looks ahead to Tokyo 2020",
    ),
    (
        "Beijing 2022",
        "18 Jul 2019",
        "Beijing 2022 ticketing solutions to be provided by Alibaba Group",
    ),
    ("IOC News", "22 Jan 2019", "IOC welcomes Alibaba Executive Chairman Jack Ma to Lausanne"),
]
CHRIS_TUNG = (
    ORIGIN + "/ioc/news/-much-more-than-a-sponsorship-alibaba-s-chris-tung-hails-top-partnership-"
    "as-company-looks-ahead-to-tokyo-2020"
)


def file_response(path: Path, url: str) -> HtmlResponse | TextResponse:
    """A real Scrapy response for a saved page, as if ``url`` had answered it."""
    body = Path(path).read_bytes()
    cls = TextResponse if str(path).endswith(".json") else HtmlResponse
    return cls(url=url, request=Request(url), body=body, encoding="utf-8")


def run_olyscrape(
    *args: str, timeout: float = 240, cwd: Path | None = None, stdout: object = subprocess.PIPE
) -> subprocess.CompletedProcess:
    """Run the ``olyscrape`` command in a fresh interpreter (Twisted's reactor runs once a
    process), in ``cwd`` or else an empty folder of its own: a command's default paths
    (``data/olyscrape.db``) never reach the repository's own ``data/``. Its stdout goes to
    ``stdout`` (captured unless told otherwise: a file, ``/dev/full``, a closed pipe)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory(prefix="olyscrape-cwd-") as scratch:
        return subprocess.run(
            [sys.executable, "-m", "olyscrape", *args],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
            cwd=cwd or scratch,
            env=env,
            stdin=subprocess.DEVNULL,
        )


def legacy_archive(
    path: Path, articles: Sequence[tuple[str, str]], links: Sequence[tuple[str, str]] = ()
) -> Path:
    """An archive as olyscrape wrote it before versioning (application id 0): its four
    tables, few columns, no key on the links; ``articles`` (url, title) and ``links``
    (article_url, partner) in them."""
    conn = sqlite3.connect(path)
    for table in ("partners (slug TEXT PRIMARY KEY)", "crawls (id INTEGER PRIMARY KEY)",
                  "articles (url TEXT PRIMARY KEY, title TEXT)",
                  "article_partners (article_url TEXT, partner TEXT)"):  # fmt: skip
        conn.execute(f"CREATE TABLE {table}")
    conn.executemany("INSERT INTO articles VALUES (?, ?)", articles)
    conn.executemany("INSERT INTO article_partners VALUES (?, ?)", links)
    conn.commit()
    conn.close()
    return path


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    """Rows of ``sql`` on the SQLite file ``db``, read with plain sqlite3."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def links_per_partner(db: Path) -> dict[str, int]:
    counts = dict(query(db, "SELECT partner, count(*) FROM article_partners GROUP BY partner"))
    return {slug: counts.get(slug, 0) for slug in EXPECTED_PER_PARTNER}


async def crawl_in_process(db: Path, **settings: Any) -> dict[str, Any]:
    """Crawl in this process with olyscrape's own settings and these overrides (a replay of
    the saved site unless told otherwise), on the reactor pytest-twisted keeps running;
    return the crawl's stats. For tests of what a crawl stores and counts: where the exit
    code, the printed summary or a signal is the point, run ``olyscrape`` instead."""
    from scrapy.crawler import Crawler

    from olyscrape.crawl import project_settings
    from olyscrape.spiders.partners import PartnersSpider

    overrides = {"OLYSCRAPE_DB": str(db), "OLYSCRAPE_REPLAY_DIR": str(SITE),
                 "LOG_LEVEL": "WARNING", **settings}  # fmt: skip
    crawler = Crawler(PartnersSpider, project_settings(**overrides))
    await crawler.crawl()
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def webhook() -> Iterator[Any]:
    """A webhook on 127.0.0.1 that keeps every JSON body POSTed to it: ``.url``,
    ``.received``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.received = []  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_port}/hook"  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# --- archives compared field by field -------------------------------------------------

# What a crawl archives of each article and link: compared field by field with a clean crawl.
ARTICLE_FIELDS = """SELECT url, title, published, published_raw, page_published, modified,
    category, image_url, body FROM articles ORDER BY url"""
TAGS = "SELECT article_url, tag FROM article_tags ORDER BY 1, 2"
LINKS = "SELECT article_url, partner, position FROM article_partners ORDER BY 1, 2"


def archive_fields(db: Path) -> dict[str, list[tuple]]:
    """What a crawl archives of each article and partner link, to compare archives field
    by field (captures and times aside)."""
    return {name: query(db, sql) for name, sql in
            (("articles", ARTICLE_FIELDS), ("tags", TAGS), ("links", LINKS))}  # fmt: skip


def load_more_articles() -> list[str]:
    """The article URLs the saved site shows only in load-more answers (not on a listing
    page): the cards the issue found left without a page."""
    found: list[str] = []
    for path in sorted(SITE.glob("ioc/ajaxscript/**/index.json")):
        page_url = f"{ORIGIN}/{path.parent.relative_to(SITE)}"
        for card in pages.parse_load_more(path.read_text(), page_url):
            url = urls.canonical_url(card.url, card.page_url or page_url)
            if url and urls.is_canonical(url) and url not in found:
                found.append(url)
    listed = "".join(p.read_text() for p in (SITE / "ioc").glob("*.html"))
    return [u for u in found if u.removeprefix(ORIGIN) not in listed]


# --- files: digests, error lines, mounts, archives of older versions ---------------------


def mount(*args: str) -> None:
    """``mount ARGS`` (root only): the tmpfs and bind mounts of the storage-fault tests."""
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error_line(stderr: str) -> str:
    """The single ``Error: ...`` line, after asserting no traceback and only one such line."""
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


V3 = FIXTURES / "archives" / "v3.sql"


def make_v3(path: Path) -> Path:
    """The version 3 archive, as a file at ``path``."""
    conn = sqlite3.connect(path)
    conn.executescript(V3.read_text())
    conn.close()
    return path


def make_large_v3(path: Path, articles: int = 40_000) -> Path:
    """The version 3 archive with ``articles`` more articles (each linked to one partner,
    with a short body, all indexed for search), built in SQL in about a second: large
    enough (about 37 MB for 40,000) that a migration takes a while and needs room."""
    make_v3(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute(
        """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO articles (url, title, category, published, first_seen, last_seen, body)
        SELECT 'https://olympics.com/ioc/news/story-' || i, 'Story ' || i || ' of athletes',
            'News', printf('20%02d-%02d-%02d', i % 20, 1 + i % 12, 1 + i % 28),
            '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z',
            replace(printf('%.40c', '*'), '*', 'word ' || (i % 97) || ' ')
        FROM n""",
        [articles],
    )
    conn.execute(
        """INSERT INTO article_partners (article_url, partner, position, first_seen, last_seen)
        SELECT url, CASE WHEN rowid % 2 THEN 'visa' ELSE 'alibaba' END, rowid, first_seen,
            last_seen FROM articles WHERE url LIKE '%/story-%'"""
    )
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")  # as olyscrape left it
    conn.close()
    return path


def snapshot(db: Path) -> dict[str, object]:
    """Everything a migration may change, read with plain sqlite3: the version and id, the
    schema (every table, index, view and trigger as ``sqlite_master`` holds it) and a
    digest of every table's rows (the full-text index's own tables included)."""
    conn = sqlite3.connect(db)
    try:
        master = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        rows = {}
        for kind, name, _, sql in master:
            if kind == "table" and not (sql or "").startswith("CREATE VIRTUAL"):
                found = sorted(conn.execute(f"SELECT * FROM [{name}]").fetchall(), key=repr)
                rows[name] = (len(found), hashlib.sha256(repr(found).encode()).hexdigest())
        return {
            "user_version": conn.execute("PRAGMA user_version").fetchone()[0],
            "application_id": conn.execute("PRAGMA application_id").fetchone()[0],
            "schema": master,
            "rows": rows,
        }
    finally:
        conn.close()


#: What each table of the version 3 file holds, read the same way before and after.
CONTENT = {
    "articles": "SELECT rowid, url, title, category, published, body, first_seen, last_seen"
    " FROM articles ORDER BY rowid",
    "links": "SELECT article_url, partner, position, first_seen, last_seen"
    " FROM article_partners ORDER BY 1, 2",
    "tags": "SELECT article_url, tag FROM article_tags ORDER BY 1, 2",
    "versions": "SELECT article_url, title, body FROM article_versions ORDER BY id",
    "crawls": "SELECT id, status, stats FROM crawls ORDER BY id",
    "search": "SELECT a.url FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
    " WHERE articles_fts MATCH 'cloud' ORDER BY 1",
    "partner_articles": "SELECT partner, url, position FROM partner_articles ORDER BY 1, 2",
}


def content(db: Path) -> dict[str, list[tuple]]:
    return {name: query(db, sql) for name, sql in CONTENT.items()}


# --- the saved site as it stood before its newest cards ------------------------------------


def site_without_newest(target: Path, partner: str, count: int) -> Path:
    """A copy of the saved site at ``target`` as it stood before ``partner``'s ``count``
    newest cards were published: its listing regenerated by the site's own generator
    (olyscrape.testing.sitegen) from the older cards, in pages of the same size. Only for a
    partner paged without load-more (omega); every other file is the saved site's."""
    from dataclasses import replace

    from olyscrape.testing import sitegen

    shutil.copytree(SITE, target)
    layout = sitegen.Layout.of(partner)
    assert layout.more is None, "load-more partners are not regenerated"
    older = sitegen.build_items()[0][partner][count:]
    size = layout.pages[0]
    pages = tuple(len(older[start : start + size]) for start in range(0, len(older), size))
    for old_page in (target / "ioc" / partner / "page").glob("*.html"):
        old_page.unlink()
    sitegen.SiteWriter(target).listing(partner, older, replace(layout, pages=pages))
    return target


# --- crawls stopped at a chosen moment (kill trials) ------------------------------------


def count(db: Path, sql: str, *params: object) -> int:
    """The first value ``sql`` reads from ``db``, or 0 while the archive has no such table
    yet (or is busy at that very moment): what a kill trial polls for its moment."""
    try:
        return query(db, sql, *params)[0][0]
    except sqlite3.OperationalError:
        return 0


def crawl_process(base_url: str, db: Path, *args: str, cwd: Path | None = None) -> subprocess.Popen:
    """``olyscrape crawl --base-url URL --db DB ARGS`` in a process of its own, running."""
    return subprocess.Popen(
        [sys.executable, "-m", "olyscrape", "crawl", "--base-url", base_url, "--db", str(db),
         *args],
        cwd=cwd or REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip


def stop_when(
    process: subprocess.Popen, condition: Any, how: str = "SIGKILL", timeout: float = 60
) -> tuple[str, str]:
    """Wait until ``condition()`` holds (the crawl still running), then stop the crawl
    ``how``: ``SIGKILL``, ``SIGTERM``, or ``double SIGTERM`` (the second signal while the
    first waits for the requests in flight forces the stop). Its stdout and stderr back;
    the process never outlives the call."""
    import signal
    import time

    try:
        deadline = time.monotonic() + timeout
        while not condition():
            assert process.poll() is None, "the crawl ended before the moment to stop it"
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGTERM)
        if how == "double SIGTERM":
            time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
        return process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def start_olyscrape(*args: str, stdout: object = subprocess.PIPE) -> subprocess.Popen:
    """``olyscrape ARGS`` in a fresh interpreter whose SIGINT is Python's default, as in a
    terminal (a background job of the shell running the tests may have it ignored)."""
    return subprocess.Popen(
        [sys.executable, "-m", "olyscrape", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def cli_runner() -> CliRunner:
    """click's test runner with stderr kept apart from stdout, as click 8.2 and later do by
    default; click 8.1 (the floor) mixes them unless told not to."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()


# --- the saved site a week later (its changed copy) ----------------------------------------


def changed_site(target: Path) -> Path:
    """The saved site a week later written at ``target`` (a new or empty folder) by the
    site's own generator (``python -m olyscrape.testing.site --changed``): one article
    retitled, one body edited, one card removed, one new card, as
    ``olyscrape.testing.sitegen.CHANGES`` names them."""
    from olyscrape.testing import sitegen

    sitegen.generate(target, changed=True)
    return target
