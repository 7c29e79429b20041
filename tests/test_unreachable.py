"""A site that never answers (its name not resolved, connections refused or timed out) is
``unreachable``: exit 5, one line naming the cause, the ``crawls`` row's status, and no
Scrapy traceback, for ``check`` and ``crawl`` alike. A network outage is not reported as a
broken contract."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from olyscrape import crawlstats
from olyscrape.cli.exits import EXIT_UNREACHABLE
from tests.helpers import free_port, one_error_line, query, run_olyscrape, webhook

#: One try per request: the failures are the same, and the tests quicker.
ONCE = ("-s", "RETRY_TIMES=0")


def _closed_port() -> str:
    return f"http://127.0.0.1:{free_port()}"


def _assert_one_unreachable_line(stderr: str, cause: str) -> str:
    line = one_error_line(stderr)  # no traceback, one Error line
    assert line.startswith("Error: the site is unreachable: ")
    assert cause in line
    assert "BROKEN" not in stderr and "Traceback" not in stderr
    return line


def test_check_of_a_refused_site_is_unreachable_not_a_broken_contract():
    result = run_olyscrape("check", "--base-url", _closed_port())
    assert result.returncode == EXIT_UNREACHABLE == 5, result.stderr
    line = _assert_one_unreachable_line(result.stderr, "Connection was refused")
    assert line.endswith("; nothing was checked")
    assert result.stdout == ""  # no table of broken points


def test_crawl_of_a_refused_site_is_unreachable_and_its_row_says_so(tmp_path):
    db = tmp_path / "a.db"
    result = run_olyscrape("crawl", "--db", str(db), "--base-url", _closed_port(),
                           "--format", "json", *ONCE)  # fmt: skip
    assert result.returncode == 5, result.stderr
    line = _assert_one_unreachable_line(result.stderr, "Connection was refused")
    assert line.endswith("; nothing was crawled")
    assert json.loads(result.stdout)["verdict"] == "unreachable"
    [(status, reasons)] = query(db, "SELECT status, reasons FROM crawls")
    assert status == "unreachable"
    assert json.loads(reasons) == [
        line.removeprefix("Error: ").removesuffix("; nothing was crawled")
    ]
    assert len(result.stderr.splitlines()) <= 5  # a few log lines, not pages of them


def test_crawl_check_first_of_a_refused_site_crawls_nothing(tmp_path):
    db = tmp_path / "a.db"
    result = run_olyscrape("crawl", "--check-first", "--db", str(db), "--base-url",
                           _closed_port(), *ONCE)  # fmt: skip
    assert result.returncode == 5, result.stderr
    _assert_one_unreachable_line(result.stderr, "Connection was refused")
    assert not db.exists()  # the probe never reached the site: no crawl, no row


@pytest.mark.slow
@pytest.mark.parametrize("command", ["check", "crawl"])
def test_a_name_that_does_not_resolve_is_unreachable_without_robots_tracebacks(command, tmp_path):
    """Not a loopback mirror: robots.txt is obeyed, and its download fails first (Scrapy
    printed its whole traceback, twice, about 78 lines)."""
    db = ("--db", str(tmp_path / "a.db")) if command == "crawl" else ()
    result = run_olyscrape(command, *db, "--base-url", "http://olyscrape-test.invalid", *ONCE
                           if command == "crawl" else ())  # fmt: skip
    assert result.returncode == 5, result.stderr
    _assert_one_unreachable_line(result.stderr, "DNS lookup failed")
    robots = [line for line in result.stderr.splitlines() if "robots.txt of" in line]
    assert len(robots) == 1 and "WARNING" in robots[0], result.stderr
    assert len(result.stderr.splitlines()) <= 6, result.stderr
    if command == "crawl":
        assert query(tmp_path / "a.db", "SELECT status FROM crawls") == [("unreachable",)]
        stats = json.loads(query(tmp_path / "a.db", "SELECT stats FROM crawls")[0][0])
        assert stats[crawlstats.ROBOTS_TXT_FAILED] == 1


@contextmanager
def _silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers: every request times out."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.slow
def test_a_site_that_never_answers_in_time_is_unreachable(tmp_path):
    db = tmp_path / "a.db"
    with _silent_server() as url:
        result = run_olyscrape("crawl", "--db", str(db), "--base-url", url,
                               "-s", "DOWNLOAD_TIMEOUT=1", *ONCE)  # fmt: skip
    assert result.returncode == 5, result.stderr
    _assert_one_unreachable_line(result.stderr, "took longer than")
    assert query(db, "SELECT status FROM crawls") == [("unreachable",)]


# --- the verdict, from the stats -----------------------------------------------------------

REFUSED = "downloader/exception_type_count/scrapy.exceptions.DownloadConnectionRefusedError"


def test_a_site_that_answered_once_is_not_unreachable():
    assert crawlstats.unreachable({REFUSED: 4})
    assert not crawlstats.unreachable({REFUSED: 4, "downloader/response_count": 1})
    # robots.txt's own answer aside: the pages never answered
    assert crawlstats.unreachable(
        {REFUSED: 4, "downloader/response_count": 1, "robotstxt/response_count": 1}
    )


def test_a_failure_other_than_the_network_is_not_unreachable():
    other = "downloader/exception_type_count/builtins.ValueError"
    assert not crawlstats.unreachable({REFUSED: 4, other: 1})
    assert not crawlstats.unreachable({})  # nothing failed: nothing to call unreachable


def test_the_verdict_of_an_unreachable_crawl_names_the_first_failure():
    stats = {
        REFUSED: 4,
        "finish_reason": "finished",
        crawlstats.ERRORS: 1,
        crawlstats.FAILURES: [{"kind": "discovery", "url": "http://x/ioc/partners",
                               "partner": None, "reason": "Connection refused."}],
        crawlstats.MONITOR_FAILURES: ["Requests / ...: discovery failed"],
    }  # fmt: skip
    judged = crawlstats.verdict(stats)
    assert judged.status == "unreachable"
    assert judged.reasons == ["the site is unreachable: http://x/ioc/partners: Connection refused"]
    interrupted = crawlstats.verdict({**stats, "finish_reason": "shutdown"})
    assert interrupted.status == "interrupted"  # Ctrl-C first: said as it was
    stored = crawlstats.verdict({**stats, crawlstats.STORAGE_ERROR: "disk full"})
    assert stored.status == "failed"


def test_the_alert_of_an_unreachable_crawl_names_the_cause(tmp_path):
    script = tmp_path / "alert.sh"
    script.write_text(f"#!/bin/sh\ncat > {tmp_path / 'alert.txt'}\n")
    script.chmod(0o755)
    with webhook() as hook:
        result = run_olyscrape("crawl", "--db", str(tmp_path / "a.db"), "--base-url",
                               _closed_port(), "--alert-command", str(script),
                               "--alert-webhook", hook.url, *ONCE)  # fmt: skip
    assert result.returncode == 5, result.stderr
    said = (tmp_path / "alert.txt").read_text()
    assert said.startswith("olyscrape crawl: the site is unreachable: http://127.0.0.1:")
    [posted] = hook.received
    assert "Connection was refused" in posted["unreachable"]
