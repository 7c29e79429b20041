"""What must never happen, whatever the input — reading outside the saved site,
SQL built from user text, writes through `olyscrape sql` (see test_queries), leaving the
allowed hosts (see test_faults)."""

from __future__ import annotations

import json
import socket

import pytest

from olyscrape.cli import cli
from olyscrape.saved import FolderSource
from olyscrape.site import files as sitefiles
from olyscrape.testing.mirror import serve_in_thread
from tests.helpers import SITE, cli_runner, query, run_olyscrape

pytestmark = pytest.mark.slow  # see pyproject's markers

TRAVERSALS = [
    "/../../../../etc/passwd",
    "/ioc/../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2f..%2fetc%2fpasswd",
    "/ioc/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd",
    "/%00/etc/passwd",
    "https://olympics.com/../../etc/passwd",
]


@pytest.fixture
def site_with_a_secret(tmp_path):
    """A saved site beside a secret file, with a symlink inside pointing at the secret."""
    site = tmp_path / "site"
    (site / "ioc").mkdir(parents=True)
    (site / "ioc" / "visa.html").write_text("<html>visa</html>")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    (site / "ioc" / "link.html").symlink_to(secret)
    return site


@pytest.mark.parametrize("path", [*TRAVERSALS, "/secret.txt", "/../secret.txt", "/ioc/link"])
def test_replay_never_reads_outside_its_folder(site_with_a_secret, path):
    assert sitefiles.resolve(site_with_a_secret, path) is None
    assert FolderSource(site_with_a_secret).lookup(path) is None


def test_replay_still_reads_inside_its_folder(site_with_a_secret):
    assert (
        FolderSource(site_with_a_secret).lookup("https://olympics.com/ioc/visa").body
        == b"<html>visa</html>"
    )


def raw_get(port: int, path: str) -> bytes:
    """Send the request line as written: no client normalizes the path on the way."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("path", [*TRAVERSALS[:6], "/../secret.txt", "/ioc/link"])
def test_the_mirror_never_serves_outside_its_folder(site_with_a_secret, path):
    with serve_in_thread(site_with_a_secret) as server:
        answer = raw_get(server.server_address[1], path)
        assert raw_get(server.server_address[1], "/ioc/visa").endswith(b"<html>visa</html>")
    assert answer.startswith(b"HTTP/1.1 404") or answer.startswith(b"HTTP/1.1 400")
    assert b"TOP SECRET" not in answer and b"root:" not in answer


INJECTIONS = ["alibaba' OR '1'='1", "x'; DROP TABLE articles; --", '" OR 1=1 --', "alibaba%", "%"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_partner_and_category_filters_are_sql_parameters(archive_db, text):
    runner = cli_runner()
    category = runner.invoke(
        cli, ["articles", "--db", str(archive_db), "--category", text, "--format", "json"]
    )
    assert category.exit_code == 0 and json.loads(category.output) == []
    partner = runner.invoke(cli, ["articles", "--db", str(archive_db), "--partner", text])
    assert partner.exit_code == 2 and "unknown partner" in partner.output  # no such slug
    assert query(archive_db, "SELECT count(*) FROM articles") == [(129,)]


@pytest.mark.parametrize("text", INJECTIONS)
def test_search_text_is_an_sql_parameter(archive_db, text):
    result = cli_runner().invoke(cli, ["search", "--db", str(archive_db), text, "--format", "json"])
    assert result.exit_code in (0, 2)  # no match, or a clear FTS syntax error
    assert "Traceback" not in result.output
    assert query(archive_db, "SELECT count(*) FROM articles") == [(129,)]


def test_a_partner_slug_is_only_ever_a_parameter(tmp_path):
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(tmp_path / "a.db"),
                           "--partners", "visa' OR '1'='1")  # fmt: skip
    assert result.returncode == 2 and "unknown partner(s): visa' OR '1'='1" in result.stderr
