"""``olyscrape browse``: Datasette metadata, then the real server, its JSON API and Chromium.

The server tests crawl the saved site into a temporary archive, start Datasette on
127.0.0.1 exactly as ``olyscrape browse`` does (:func:`olyscrape.cli.browse.command`), and
compare what it answers with the archive read by plain sqlite3. The browser tests load
the search page in headless Chromium. Nothing leaves the loopback interface.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from parsel import Selector

from olyscrape.archive import CANNED_QUERIES
from olyscrape.cli import browse
from tests.helpers import SHARED, SITE, free_port, one_error_line, query, run_olyscrape, sha256

# The tests of the real Datasette server (and of Chromium on it) are marked slow one by
# one; the metadata tests run in the fast loop. See pyproject's markers.

WORD = "zephyrquillb68613"  # in one article's body only (tests/fixtures/site/MANIFEST.md)
WORD_ARTICLE = (
    "https://olympics.com/ioc/news/-much-more-than-a-sponsorship-alibaba-s-chris-tung-hails"
    "-top-partnership-as-company-looks-ahead-to-tokyo-2020"
)
WORD_TITLE_START = "“Much more than a sponsorship”: Alibaba’s Chris Tung hails TOP Partnership"
#: Where to keep a copy of the screenshot for a person to look at: only when asked, never
#: in the repository's own data/ (no test leaves anything there).
SCREENSHOT_DIR = os.environ.get("OLYSCRAPE_SCREENSHOT_DIR")
# Tall enough to show the result row below the column descriptions, facets and filters.
SCREENSHOT_SIZE = (1280, 1800)

NO_DATASETTE = "Datasette is not installed: pip install 'olyscrape[browse]' to run this test"
NO_CHROMIUM = (
    "Debian's chromium is not installed (apt-get install chromium): cannot run the browser test"
)

# Loopback only: never through a proxy, whatever the environment says.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def archive_db(archive_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's archive of the saved site: a test here crawls into it while
    Datasette serves it."""
    db = tmp_path_factory.mktemp("browse") / "archive.db"
    shutil.copyfile(archive_db, db)
    return db


def _get(url: str, timeout: float = 10) -> bytes:
    with _LOCAL.open(url, timeout=timeout) as response:
        return response.read()


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, deadline: float = 30) -> None:
    """Return once ``url`` answers; fail if Datasette exits or takes too long."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        if process.poll() is not None:
            pytest.fail(f"Datasette exited ({process.returncode}):\n{log.read_text()}")
        try:
            _get(url, timeout=2)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"Datasette did not answer {url} within {deadline:.0f} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(archive_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real Datasette serving the archive, as ``olyscrape browse`` runs it."""
    if not browse.datasette_available():
        pytest.skip(NO_DATASETTE)
    log = tmp_path_factory.mktemp("datasette") / "datasette.log"
    port = free_port()
    with browse.metadata_file(archive_db) as metadata_path, log.open("w") as out:
        argv = browse.command(archive_db, "127.0.0.1", port, metadata_path=metadata_path)
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(f"{base}/-/versions.json", process, log)
            yield f"{base}/{archive_db.stem}"
        finally:
            _stop(process)


def get_json(url: str) -> Any:
    return json.loads(_get(url))


def _row_count(table_url: str) -> int:
    return get_json(f"{table_url}?_size=0")["filtered_table_rows_count"]


# --- metadata -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def meta() -> dict[str, Any]:
    return browse.metadata("archive")


@pytest.fixture(scope="module")
def tables(meta: dict[str, Any]) -> dict[str, Any]:
    return meta["databases"]["archive"]["tables"]


def test_metadata_is_json_with_source(meta):
    assert json.loads(json.dumps(meta)) == meta
    assert meta["title"] == "olyscrape: IOC TOP partner news"
    assert meta["description"]
    assert meta["source"] == "International Olympic Committee, olympics.com"
    assert meta["source_url"] == "https://olympics.com/ioc/partners"


def test_metadata_is_keyed_by_the_database_name():
    assert list(browse.metadata("olyscrape")["databases"]) == ["olyscrape"]
    assert list(browse.metadata("my-archive")["databases"]) == ["my-archive"]


def test_metadata_file_is_keyed_by_the_file_stem(tmp_path):
    with browse.metadata_file(tmp_path / "crawl-2024.db") as path:
        written = json.loads(path.read_text(encoding="utf-8"))
    assert list(written["databases"]) == ["crawl-2024"]
    assert not path.exists()


def test_facets(tables):
    assert tables["partner_articles"]["facets"] == ["partner", "category", "year"]
    assert tables["articles"]["facets"] == ["category"]


def test_full_text_search_config(tables):
    view = tables["partner_articles"]
    assert (view["fts_table"], view["fts_pk"]) == ("articles_fts", "article_rowid")
    assert "fts_table" not in tables["articles"]  # Datasette detects articles_fts itself


def test_newest_first(tables):
    assert tables["partner_articles"]["sort_desc"] == "published"
    assert tables["articles"]["sort_desc"] == "published"


def test_capture_bodies_hidden(tables):
    assert tables["capture_bodies"]["hidden"] is True


def test_canned_queries_present(meta):
    queries = meta["databases"]["archive"]["queries"]
    assert set(queries) == {"articles_by_partner_per_year", "newest_per_partner", "shared_articles",
                            "new_articles_feed", "changes_feed"}  # fmt: skip
    for canned in queries.values():
        assert canned["sql"].lstrip().upper().startswith(("SELECT", "WITH"))  # read-only
        assert canned["title"] and canned["description"]


def _documented_objects(db: Path) -> dict[str, list[str]]:
    """Every table and view of the archive with its columns, less SQLite's own tables and
    the shadow tables of the FTS5 index (which Datasette hides and nobody reads)."""
    conn = sqlite3.connect(db)
    try:
        master = conn.execute("SELECT name, type, sql FROM sqlite_master").fetchall()
        virtual = [name for name, _, sql in master if "VIRTUAL TABLE" in (sql or "").upper()]
        names = [
            name
            for name, kind, _ in master
            if kind in ("table", "view")
            and not name.startswith("sqlite_")
            and not any(name.startswith(f"{v}_") for v in virtual)
        ]
        info = {name: conn.execute(f'PRAGMA table_info("{name}")').fetchall() for name in names}
        return {name: [column[1] for column in columns] for name, columns in info.items()}
    finally:
        conn.close()


def test_every_table_and_column_is_described(archive_db, tables):
    objects = _documented_objects(archive_db)
    assert {"partner_articles", "articles", "capture_bodies", "articles_fts"} <= set(objects)
    undocumented = {
        name: [c for c in columns if not tables.get(name, {}).get("columns", {}).get(c)]
        for name, columns in objects.items()
    }
    assert {name: cols for name, cols in undocumented.items() if cols} == {}
    assert all(tables[name]["description"] for name in objects)
    assert set(tables) == set(objects), "metadata describes a table the archive lacks"


def test_metadata_columns_follow_the_archive_order(archive_db, tables):
    for name, columns in _documented_objects(archive_db).items():
        assert list(tables[name]["columns"]) == columns, name


@pytest.mark.parametrize("name", sorted(CANNED_QUERIES))
def test_canned_query_runs_on_sqlite(archive_db, name):
    sql = CANNED_QUERIES[name][2]
    with sqlite3.connect(archive_db) as conn:  # a parameter left out: Datasette gives ''
        names = re.findall(r":(\w+)", sql)
        rows = conn.execute(sql, dict.fromkeys(names, "")).fetchall()
    assert rows, f"{name} returned no rows"


# --- command and serve --------------------------------------------------------------


def test_command(tmp_path):
    db, metadata_path = tmp_path / "a.db", tmp_path / "m.json"
    argv = browse.command(db, "127.0.0.1", 8123, metadata_path=metadata_path)
    assert argv[1:] == [
        "-m", "datasette", "serve", str(db), "--metadata", str(metadata_path),
        "--host", "127.0.0.1", "--port", "8123",
    ]  # fmt: skip
    opened = browse.command(db, metadata_path=metadata_path, open_browser=True)
    assert opened[-5:] == ["--host", "127.0.0.1", "--port", "8001", "--open"]


def test_serve_without_datasette(monkeypatch, tmp_path):
    monkeypatch.setattr(browse, "datasette_available", lambda: False)
    with pytest.raises(browse.BrowseUnavailable, match=r"pip install 'olyscrape\[browse\]'"):
        browse.serve(tmp_path / "archive.db")


# --- the real Datasette: JSON API ---------------------------------------------------


@pytest.mark.slow
def test_archive_is_served_as_a_mutable_file(server, archive_db):
    databases = get_json(server.rsplit("/", 1)[0] + "/-/databases.json")
    (entry,) = [d for d in databases if d["name"] == archive_db.stem]
    assert entry["is_mutable"] is True  # read while a crawl writes, never cached as immutable


@pytest.mark.slow
def test_view_facets(server, archive_db):
    data = get_json(f"{server}/partner_articles.json?_size=0")
    facets = data["facet_results"]
    assert set(facets) == {"partner", "category", "year"}
    for column in ("partner", "category", "year"):
        sql = (
            f"SELECT {column}, count(*) FROM partner_articles WHERE {column} IS NOT NULL GROUP BY 1"
        )
        expected = dict(query(archive_db, sql))
        assert not facets[column]["truncated"], column
        got = {r["value"]: r["count"] for r in facets[column]["results"]}
        assert got == expected, column
    partners = {r["value"]: r["count"] for r in facets["partner"]["results"]}
    assert partners["alibaba"] == 31


@pytest.mark.slow
def test_articles_category_facet(server, archive_db):
    data = get_json(f"{server}/articles.json?_size=0")
    got = {r["value"]: r["count"] for r in data["facet_results"]["category"]["results"]}
    sql = "SELECT category, count(*) FROM articles WHERE category IS NOT NULL GROUP BY 1"
    expected = dict(query(archive_db, sql))
    assert got == expected


@pytest.mark.slow
def test_view_sorted_newest_first(server, archive_db):
    rows = get_json(f"{server}/partner_articles.json?_shape=array&_col=published&_size=5")
    newest = query(archive_db, "SELECT max(published) FROM articles")[0][0]
    assert rows[0]["published"] == newest


@pytest.mark.slow
def test_canned_queries_answer(server):
    for name in CANNED_QUERIES:
        rows = get_json(f"{server}/{name}.json?_shape=array")
        assert rows, f"{name} answered no rows"


@pytest.mark.slow
def test_articles_by_partner_per_year(server, archive_db):
    rows = get_json(f"{server}/articles_by_partner_per_year.json?_shape=array")
    assert set(rows[0]) == {"partner", "year", "count"}
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["partner"]] = totals.get(row["partner"], 0) + row["count"]
    sql = "SELECT partner, count(*) FROM article_partners GROUP BY 1"
    assert totals == dict(query(archive_db, sql))
    assert totals["alibaba"] == 31


@pytest.mark.slow
def test_newest_per_partner(server, archive_db):
    rows = get_json(f"{server}/newest_per_partner.json?_shape=array")
    assert {"partner", "title", "url", "published"} <= set(rows[0])
    expected = dict(
        query(
            archive_db,
            "SELECT ap.partner, max(a.published) FROM article_partners ap"
            " JOIN articles a ON a.url = ap.article_url GROUP BY ap.partner",
        )
    )
    assert {r["partner"]: r["published"] for r in rows} == expected
    assert len(rows) == len(expected)  # one row a partner


@pytest.mark.slow
def test_shared_articles(server, archive_db):
    rows = get_json(f"{server}/shared_articles.json?_shape=array")
    expected = {
        url: partners.split(",")
        for url, partners in query(
            archive_db,
            "SELECT article_url, group_concat(partner) FROM (SELECT * FROM article_partners"
            " ORDER BY partner) GROUP BY article_url HAVING count(*) > 1",
        )
    }
    got = {r["url"]: [p.strip() for p in r["partners"].split(",")] for r in rows}
    assert got == expected
    assert got[SHARED] == ["alibaba", "visa"]


@pytest.mark.slow
def test_search_articles(server):
    data = get_json(f"{server}/articles.json?_search={WORD}&_shape=objects&_col=title&_col=url")
    assert data["filtered_table_rows_count"] == 1
    (row,) = data["rows"]
    assert row["url"] == WORD_ARTICLE
    assert row["url"].endswith(
        "/ioc/news/-much-more-than-a-sponsorship-alibaba-s-chris-tung-hails-top-partnership-as-company-looks-ahead-to-tokyo-2020"
    )


@pytest.mark.slow
def test_search_view(server):
    data = get_json(f"{server}/partner_articles.json?_search={WORD}&_shape=objects")
    assert data["filtered_table_rows_count"] == 1
    (row,) = data["rows"]
    assert (row["url"], row["partner"]) == (WORD_ARTICLE, "alibaba")


@pytest.mark.slow
def test_search_view_matches_the_index(server, archive_db):
    """The view's search goes through article_rowid: same rows as articles_fts joined by hand."""
    expected = set(
        query(
            archive_db,
            "SELECT a.url, ap.partner FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
            " JOIN article_partners ap ON ap.article_url = a.url WHERE articles_fts MATCH 'tokyo'",
        )
    )
    data = get_json(f"{server}/partner_articles.json?_search=tokyo&_shape=objects&_size=max")
    assert len(expected) > 10
    assert {(r["url"], r["partner"]) for r in data["rows"]} == expected


# --- the real Datasette in headless Chromium ----------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip(NO_CHROMIUM)
    return path


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    argv = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-proxy-server", f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def search_page(server: str) -> str:
    return f"{server}/partner_articles?" + urllib.parse.urlencode({"_search": WORD})


@pytest.mark.slow
@pytest.mark.browser
def test_browser_search_page_shows_the_article(chromium, search_page, archive_db, tmp_path):
    dom = Selector(text=_chromium(chromium, tmp_path / "profile", "--dump-dom", search_page).stdout)
    heading = " ".join(" ".join(dom.css("h3 ::text").getall()).split())
    assert f'1 row where search matches "{WORD}"' in heading
    rows = dom.css("table.rows-and-columns tbody tr")
    assert len(rows) == 1
    title = query(archive_db, "SELECT title FROM articles WHERE url = ?", WORD_ARTICLE)[0][0]
    assert title.startswith(WORD_TITLE_START)
    assert rows[0].css("td.col-title ::text").get().strip() == title
    assert rows[0].css("td.col-partner ::text").get().strip() == "alibaba"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
@pytest.mark.browser
def test_browser_screenshot(chromium, search_page, tmp_path):
    shot = tmp_path / "browse-search.png"
    width, height = SCREENSHOT_SIZE
    _chromium(
        chromium, tmp_path / "profile", "--hide-scrollbars", f"--screenshot={shot}",
        f"--window-size={width},{height}", search_page,
    )  # fmt: skip
    data = shot.read_bytes()
    assert _png_size(data) == SCREENSHOT_SIZE
    assert 20_000 < len(data) < 20_000_000  # a rendered page, not a blank one
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(SCREENSHOT_DIR) / shot.name)


# --- last: a crawl writes while Datasette reads -------------------------------------


@pytest.mark.slow
def test_crawl_writes_while_served(server, archive_db):
    before = _row_count(f"{server}/partner_articles.json")
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(archive_db), timeout=120)
    assert result.returncode == 0, result.stderr
    assert _row_count(f"{server}/crawls.json") == 2
    assert _row_count(f"{server}/partner_articles.json") == before


# --- the command: its URL, options passed to Datasette, stopping ----------------------

STOPPED = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129}


class Browsing:
    """``olyscrape browse`` running in a process of its own, its URL once it printed it."""

    def __init__(self, db: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "olyscrape", "browse", "--db", str(db), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
        assert self.process.stdout is not None
        self.line = self.process.stdout.readline().strip()
        match = re.fullmatch(r"Serving (.+) at (http://127\.0\.0\.1:(\d+)/) \(Ctrl-C to stop\)",
                             self.line)  # fmt: skip
        if match is None:
            self.process.kill()
            _, err = self.process.communicate()
            pytest.fail(f"no URL line: {self.line!r}\n{err}")
        self.served, self.url, self.port = match[1], match[2], int(match[3])

    def stop(self, how: str) -> tuple[int, str, float]:
        """Send the signal; the exit code, stderr and the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(getattr(signal, how))
        _, err = self.process.communicate(timeout=30)
        return self.process.returncode, err, time.monotonic() - started

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


@pytest.fixture
def browsing(archive_db: Path) -> Iterator[Any]:
    if not browse.datasette_available():
        pytest.skip(NO_DATASETTE)
    started: list[Browsing] = []

    def start(*args: str) -> Browsing:
        started.append(Browsing(archive_db, *args))
        return started[-1]

    yield start
    for running in started:
        running.close()


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow  # starts Datasette
def test_browse_prints_its_url_and_serves_there(browsing, archive_db):
    running = browsing()
    assert running.served == str(archive_db)
    versions = get_json(f"{running.url}-/versions.json")
    assert "datasette" in versions
    assert _row_count(f"{running.url}{archive_db.stem}/articles.json") == query(
        archive_db, "SELECT count(*) FROM articles")[0][0]  # fmt: skip


@pytest.mark.slow  # starts Datasette, once per signal
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_a_signal_stops_datasette_promptly_with_one_line(browsing, how):
    """``kill -INT`` reaches browse alone (Ctrl-C at a terminal reaches both): browse
    passes it on, so Datasette stops at once, not after 10 s and a kill (exit 247)."""
    running = browsing()
    code, err, seconds = running.stop(how)
    assert code == STOPPED[how]
    assert seconds < 5  # two seconds of grace at most, then a kill
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("Stopped")] == [
        f"Stopped ({how}): Datasette no longer serves the archive."
    ]
    assert not _port_taken(running.port)  # Datasette is gone, not serving on


@pytest.mark.slow  # starts Datasette
def test_settings_and_passed_options_reach_datasette(browsing, tmp_path):
    running = browsing("--setting", "sql_time_limit_ms", "50", "--cors",
                       "--", "--setting", "max_returned_rows", "7")  # fmt: skip
    settings = get_json(f"{running.url}-/settings.json")
    assert settings["sql_time_limit_ms"] == 50
    assert settings["max_returned_rows"] == 7
    with _LOCAL.open(f"{running.url}-/versions.json", timeout=10) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.slow  # starts Datasette
def test_the_default_settings_without_options(browsing):
    running = browsing()
    settings = get_json(f"{running.url}-/settings.json")
    assert settings["sql_time_limit_ms"] == 1000  # Datasette's own default, untouched
    with _LOCAL.open(f"{running.url}-/versions.json", timeout=10) as response:
        assert "Access-Control-Allow-Origin" not in response.headers


BAD_USES = {
    "impossible address": (["--host", "256.1.1.1"], "'--host'"),
    "unresolvable name": (["--host", "no-such-host.invalid"], "'--host'"),
    "address of another machine": (["--host", "192.0.2.1"], "not an address of this machine"),
    "unknown setting": (["--setting", "no_such_setting", "1"], "unknown Datasette setting"),
    "setting of the wrong type": (["--setting", "sql_time_limit_ms", "soon"], "whole number"),
    "a reserved option after --": (["--", "--port", "9"], "use browse's own --port"),
    "another database after --": (["--", "-i", "other.db"], "browse sets it itself"),
    "a port attached to -p": (["--", "-p8123"], "use browse's own --port"),
    "metadata attached to -m": (["--", "-mfoo.json"], "browse sets it itself"),
    "a port given with =": (["--", "--port=8123"], "use browse's own --port"),
    "flags run together": (["--", "-io"], "browse sets it itself"),
    "a bare argument": (["other.db"], "go after --"),
    "port out of range": (["--port", "65536"], "'--port'"),
}


@pytest.mark.parametrize(("args", "says"), BAD_USES.values(), ids=BAD_USES.keys())
def test_bad_use_of_browse_is_one_line_exit_2(archive_db, args, says):
    if not browse.datasette_available():
        pytest.skip(NO_DATASETTE)
    before = sha256(archive_db)
    result = run_olyscrape("browse", "--db", str(archive_db), *args, timeout=30)
    assert result.returncode == 2
    assert says in one_error_line(result.stderr)
    assert result.stdout == "" and sha256(archive_db) == before


def test_port_has_help_text():
    result = run_olyscrape("browse", "--help")
    assert re.search(r"--port INTEGER RANGE\s+Port to listen on", result.stdout)


@pytest.mark.slow  # starts Datasette
def test_kill_9_on_browse_does_not_leave_datasette_serving(browsing):
    running = browsing()
    running.process.kill()  # nothing can be passed on: the kernel tells Datasette
    running.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _port_taken(running.port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _port_taken(running.port)


@pytest.mark.slow  # a server in a process of its own
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_mirror_stops_on_a_signal_with_one_line(how):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "olyscrape", "mirror", str(SITE), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert "serving" in process.stderr.readline()
        started = time.monotonic()
        process.send_signal(getattr(signal, how))
        _, err = process.communicate(timeout=10)
        assert time.monotonic() - started < 3
        assert process.returncode == STOPPED[how]
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == f"Stopped ({how}): no longer serving {SITE}."
        assert not _port_taken(port)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
