"""A flaky site. Real crawls over a loopback mirror that injects faults.

Transient faults (the first request(s) of a path fail): the crawl still archives every
article, none twice, and succeeds. Permanent faults: the crawl archives all the rest,
names the failing URL in its summary and exits 1.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from olyscrape.testing.mirror import Fault, serve_in_thread
from tests.helpers import EXPECTED_PER_PARTNER, SITE, links_per_partner, query, run_olyscrape

pytestmark = pytest.mark.slow  # see pyproject's markers


def load_more(slug: str, offset: int) -> str:
    """The path of a partner's load-more answer at ``offset``, as its page links it."""
    html = (SITE / "ioc" / f"{slug}.html").read_text()
    link = re.search(r'class="btn-more"><a href="([^"]+)"', html).group(1)
    return re.sub(r"/(\d+)/\d+/$", rf"/\1/{offset}/", link)


# Fast failure for the tests: short timeout, few retries, a small size limit.
SETTINGS = ["-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=2", "-s", "DOWNLOAD_MAXSIZE=1000000"]


def crawl_with(tmp_path, faults: dict[str, Fault]):
    db = tmp_path / "a.db"
    with serve_in_thread(SITE, faults=faults) as server:
        result = run_olyscrape(
            "crawl", "--base-url", server.base_url, "--db", str(db), "--no-articles", *SETTINGS
        )
        requested = list(server.requests)
    return db, result, requested


TRANSIENT = {
    "5xx burst on a listing": {"/ioc/alibaba": Fault("status", times=2, status=503)},
    "500 on a load-more answer": {load_more("alibaba", 9): Fault("status", times=1, status=500)},
    "429 with Retry-After": {"/ioc/visa": Fault("retry-after", times=1, seconds=1)},
    "slower than the timeout": {"/ioc/atos": Fault("slow", times=1, seconds=2.5)},
    "connection reset": {"/ioc/omega/page/2": Fault("reset", times=1)},
    "truncated body": {"/ioc/panasonic": Fault("truncate", times=1)},
    "malformed JSON": {load_more("visa", 6): Fault("bad-json", times=1)},
    "HTML where JSON is expected": {load_more("atos", 10): Fault("html", times=1)},
    "a 5xx on discovery": {"/ioc/partners": Fault("status", times=1, status=502)},
}


@pytest.mark.parametrize("faults", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_a_transient_fault_still_archives_every_article_once(tmp_path, faults):
    db, result, requested = crawl_with(tmp_path, faults)
    assert result.returncode == 0, result.stdout + result.stderr
    assert links_per_partner(db) == EXPECTED_PER_PARTNER
    assert query(db, "SELECT count(*), count(DISTINCT url) FROM articles") == [(129, 129)]
    (path,) = faults
    assert requested.count(path) == faults[path].times + 1  # failed, then answered


def test_retry_after_is_honoured(tmp_path):
    db, result, _ = crawl_with(tmp_path, {"/ioc/visa": Fault("retry-after", times=1, seconds=1)})
    assert result.returncode == 0
    stats = json.loads(query(db, "SELECT stats FROM crawls")[0][0])
    assert stats["olyscrape/retry_after/waited"] == 1


# partner → articles it keeps when the fault hits; None: all of them
PERMANENT = {
    "503 forever on a listing": ({"/ioc/dow": Fault("status", status=503)}, "/ioc/dow", {"dow": 0}),
    "404 on a listing": (
        {"/ioc/samsung": Fault("status", status=404)},
        "/ioc/samsung",
        {"samsung": 0},
    ),
    "malformed JSON forever": (
        {load_more("alibaba", 18): Fault("bad-json")},
        load_more("alibaba", 18),
        {"alibaba": 18},
    ),
    "HTML where JSON is expected, forever": (
        {load_more("visa", 6): Fault("html")},
        load_more("visa", 6),
        {"visa": 6},
    ),
    "redirect loop": ({"/ioc/toyota": Fault("redirect-loop")}, "/ioc/toyota", {"toyota": 0}),
    "oversized page": (
        {"/ioc/coca-cola": Fault("oversize", size=2_000_000)},
        "/ioc/coca-cola",
        {"coca-cola": 0},
    ),
    "connection reset forever": ({"/ioc/pg": Fault("reset")}, "/ioc/pg", {"pg": 0}),
    "slower than the timeout, forever": (
        {"/ioc/bridgestone": Fault("slow", seconds=2.5)},
        "/ioc/bridgestone",
        {"bridgestone": 0},
    ),
    "truncated forever": (
        {"/ioc/omega/page/2": Fault("truncate")},
        "/ioc/omega/page/2",
        {"omega": 6},
    ),
}


@pytest.mark.parametrize(("faults", "failing", "kept"), PERMANENT.values(), ids=PERMANENT.keys())
def test_a_permanent_fault_archives_the_rest_and_names_the_url(tmp_path, faults, failing, kept):
    db, result, _ = crawl_with(tmp_path, faults)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed request(s):" in result.stdout, result.stdout + result.stderr
    failed_section = result.stdout.split("failed request(s):")[1]
    assert failing in failed_section
    assert "Traceback" not in result.stderr
    assert links_per_partner(db) == {**EXPECTED_PER_PARTNER, **kept}
    assert query(db, "SELECT status FROM crawls") == [("failed",)]


class _Canary(BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - one list for the test that owns the server

    def do_GET(self) -> None:
        _Canary.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_redirect_to_another_host_is_never_followed(tmp_path):
    canary = ThreadingHTTPServer(("127.0.0.2", 0), _Canary)
    threading.Thread(target=canary.serve_forever, daemon=True).start()
    try:
        elsewhere = f"http://127.0.0.2:{canary.server_port}/stolen"
        faults = {"/ioc/intel": Fault("redirect", location=elsewhere),
                  load_more("atos", 10): Fault("redirect", location=elsewhere)}  # fmt: skip
        db, result, _ = crawl_with(tmp_path, faults)
    finally:
        canary.shutdown()
        canary.server_close()
    assert _Canary.hits == []
    assert result.returncode == 1
    assert "/ioc/intel" in result.stdout and "not allowed" in result.stdout
    assert links_per_partner(db) == {**EXPECTED_PER_PARTNER, "intel": 0, "atos": 10}
