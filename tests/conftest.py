"""Shared test helpers: saved pages as real Scrapy responses, crawls in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scrapy.http import HtmlResponse, Request, TextResponse

FIXTURES = Path(__file__).parent / "fixtures"
SITE = FIXTURES / "site"
REPO = Path(__file__).resolve().parent.parent


def file_response(path: Path, url: str) -> HtmlResponse | TextResponse:
    """A real Scrapy response for a saved page, as if ``url`` had answered it."""
    body = Path(path).read_bytes()
    cls = TextResponse if str(path).endswith(".json") else HtmlResponse
    return cls(url=url, request=Request(url), body=body, encoding="utf-8")


def run_olyscrape(
    *args: str, timeout: float = 240, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the ``olyscrape`` command in a fresh interpreter (Twisted's reactor runs once a process)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "olyscrape", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or REPO,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def site() -> Path:
    return SITE


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    """Rows of ``sql`` on the SQLite file ``db``, read with plain sqlite3."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="session")
def archive_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of the saved site, crawled once per session; tests read it, never write
    it (a test that writes takes a copy)."""
    db = tmp_path_factory.mktemp("archive") / "archive.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db))
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture
def olyscrape() -> Any:
    """The CLI in this process (click's runner): ``olyscrape(*args, stdin=None)``."""
    runner = CliRunner()
    from olyscrape.cli import cli

    def invoke(*args: str, stdin: str | None = None) -> Any:
        return runner.invoke(cli, list(args), input=stdin, catch_exceptions=False)

    return invoke


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
