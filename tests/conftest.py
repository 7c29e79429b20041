"""Shared test helpers: saved pages as real Scrapy responses, crawls in a subprocess."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
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
