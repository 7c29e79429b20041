"""Every ``olyscrape`` command, run once for real in the fast loop (``-m "not slow"``).

The research commands run in this process on the session's archive (click's runner); the
commands that start a crawl (``crawl``, ``check``, ``reparse``) need a process of their own
(Twisted's reactor runs once a process, and pytest-twisted's already runs here), so each
runs a small one: one partner, one listing page. The thorough tests of each command are in
their own modules; this one makes sure none is left out of the fast loop.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from click.testing import Result

from olyscrape.cli import all_commands, cli
from tests.forked import start_forked
from tests.helpers import SITE, archive_fields, cli_runner, free_port, query

#: The partner the small crawls read: nine cards on its listing page (MANIFEST.md).
PARTNER = "alibaba"


def invoke(*args: str) -> Result:
    return cli_runner().invoke(cli, list(args), catch_exceptions=False)


@contextmanager
def a_busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_every_command_has_a_test_here():
    listed = {name.replace("-", "_") for name in all_commands()}  # as ``olyscrape --help``
    tests = [name.removeprefix("test_") for name in globals() if name.startswith("test_")]
    untested = {c for c in listed if not any(t == c or t.startswith(c + "_") for t in tests)}
    assert not untested, f"no test of {sorted(untested)} in tests/test_commands.py"


# --- the commands that start a crawl: a small one each, in a subprocess ----------------------


def fetch(url: str, within: float = 10) -> bytes:
    """``url``'s body, asked again until it answers (a server starting), on loopback only."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + within
    while True:
        try:
            with opener.open(url, timeout=1) as answer:
                return answer.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@pytest.fixture(scope="module")
def small_crawls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The commands that need a process of their own, a few at a time (the machine has two
    cores; this process mostly waits): ``crawl`` of one partner and one page, ``check`` of
    that partner and ``mirror`` serving the saved site for a second (asked for one file
    meanwhile); then ``reparse`` of a copy of that archive beside ``recover`` of it into a
    new file."""
    folder = tmp_path_factory.mktemp("small")
    db, copy, new = folder / "archive.db", folder / "copy.db", folder / "recovered.db"
    (folder / "check").mkdir()
    port = free_port()
    mirror = start_forked("mirror", str(SITE), "--port", str(port), "--lifetime", "1")
    crawl = start_forked("crawl", "--replay", str(SITE), "--db", str(db),
                         "--partners", PARTNER, "--max-pages", "1", "--no-articles")  # fmt: skip
    check = start_forked("check", "--replay", str(SITE), "--partners", PARTNER,
                         "--format", "json", cwd=folder / "check")  # fmt: skip
    done = {"robots.txt": fetch(f"http://127.0.0.1:{port}/robots.txt")}
    done.update(crawl=crawl.result(), check=check.result(), mirror=mirror.result(), db=db)
    shutil.copyfile(db, copy)
    reparse = start_forked("reparse", "--db", str(copy))
    recover = start_forked("recover", "--db", str(db), str(new))
    done.update(reparse=reparse.result(), recover=recover.result(), copy=copy, new=new)
    done["check folder"] = folder / "check"
    return done


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_crawl_of_one_partner_and_one_page(small_crawls):
    result = ok(small_crawls["crawl"])
    assert "crawl OK" in result.stdout and "page cap:" in result.stdout
    links = query(small_crawls["db"], "SELECT partner, count(*) FROM article_partners GROUP BY 1")
    assert links == [(PARTNER, 9)]


def test_check_of_one_partner(small_crawls):
    report = json.loads(ok(small_crawls["check"]).stdout)
    assert report
    assert list(small_crawls["check folder"].iterdir()) == []  # stores nothing


def test_reparse_gives_back_the_same_cards(small_crawls):
    ok(small_crawls["reparse"])
    assert archive_fields(small_crawls["copy"]) == archive_fields(small_crawls["db"])


def test_recover_rebuilds_the_small_crawl(small_crawls):
    """(It re-parses what it copied, as ``reparse`` does: a process of its own.)"""
    ok(small_crawls["recover"])
    assert archive_fields(small_crawls["new"]) == archive_fields(small_crawls["db"])


# --- the other commands, in this process -----------------------------------------------------


def test_articles(archive_db):
    rows = json.loads(invoke("articles", "--db", str(archive_db), "--format", "json").output)
    assert len(rows) == query(archive_db, "SELECT count(*) FROM articles")[0][0]


def test_search(archive_db):
    out = invoke("search", "--db", str(archive_db), "ticketing", "--format", "json").output
    assert json.loads(out)


def test_sql(archive_db):
    out = invoke("sql", "--db", str(archive_db), "SELECT count(*) AS n FROM partners", "--format",
                 "json").output  # fmt: skip
    assert json.loads(out) == [{"n": 14}]


def test_stats(archive_db):
    result = invoke("stats", "--db", str(archive_db), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.output)


def test_runs(archive_db):
    rows = json.loads(invoke("runs", "--db", str(archive_db), "--format", "json").output)
    assert [row["status"] for row in rows] == ["ok"]


def test_tables(archive_db):
    rows = json.loads(invoke("tables", "--db", str(archive_db), "--format", "json").output)
    counts = {row["name"]: row["rows"] for row in rows}
    assert counts["articles"] == query(archive_db, "SELECT count(*) FROM articles")[0][0]


def test_schema(archive_db):
    out = invoke("schema", "--db", str(archive_db), "crawls").output
    (stored,) = query(archive_db, "SELECT sql FROM sqlite_master WHERE name = 'crawls'")[0]
    assert out == stored + ";\n"


def test_changes(archive_db):
    rows = json.loads(invoke("changes", "--db", str(archive_db), "--format", "json").output)
    assert {row["kind"] for row in rows} == {"new"}  # one crawl: every article is new
    assert len(rows) == query(archive_db, "SELECT count(*) FROM articles")[0][0]


def test_history(archive_db):
    (url,) = query(archive_db, "SELECT url FROM articles ORDER BY id LIMIT 1")[0]
    report = json.loads(invoke("history", "--db", str(archive_db), url, "--format", "json").output)
    assert report["url"] == url and len(report["versions"]) == 1


def test_verify(archive_db):
    result = invoke("verify", "--db", str(archive_db))
    assert result.exit_code == 0, result.output


def test_backup(archive_db, tmp_path):
    copy = tmp_path / "copy.db"
    assert invoke("backup", "--db", str(archive_db), str(copy)).exit_code == 0
    assert archive_fields(copy) == archive_fields(archive_db)


def test_export_wacz(archive_db, tmp_path):
    """(The file checked by Webrecorder's validator and pywb: ``tests/test_wacz.py``.)"""
    pytest.importorskip("wacz", reason="the wacz extra (Python 3.11+)")
    target = tmp_path / "site.wacz"
    result = invoke("export-wacz", "--db", str(archive_db), str(target))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as zf:
        assert "datapackage.json" in zf.namelist()


def test_browse_refuses_a_busy_port(archive_db):
    """(Serving is slow: ``tests/test_browse.py``; this stops before Datasette starts.)"""
    with a_busy_port() as port:
        result = invoke("browse", "--db", str(archive_db), "--port", str(port))
    assert result.exit_code == 4


def test_mirror_serves_the_saved_site(small_crawls):
    ok(small_crawls["mirror"])
    assert small_crawls["robots.txt"] == (SITE / "robots.txt").read_bytes()


# --- the session archive is the command's own -----------------------------------------------


@pytest.mark.slow  # a full crawl in a subprocess
def test_the_session_archive_equals_the_commands_own(archive_db, site_crawl):
    db, _ = site_crawl
    assert archive_fields(db) == archive_fields(archive_db)
