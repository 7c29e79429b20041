"""What a long crawl shows while it runs: one line updated in place on a terminal, a
bounded number of plain lines elsewhere (never one per page), warnings of one kind shown a
few times and then counted, and counts labelled as the summary labels them."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted

from olyscrape.extensions.progress import RepeatedLines
from tests.helpers import REPO, SITE, crawl_in_process, query, run_olyscrape


def _generated_site(root: Path, partners: int, answers: int) -> Path:
    """A site of ``partners`` partners, each a listing and ``answers`` load-more answers
    of 10 cards (the benchmarks' generator): pages by the hundred."""
    from benchmarks.common import SiteSpec, generate_site

    generate_site(root, SiteSpec(partners=partners, answers=answers, per_page=10, last=5))
    return root


@pytest.mark.slow
def test_a_crawl_not_on_a_terminal_prints_lines_by_partner_not_by_page(tmp_path):
    site = _generated_site(tmp_path / "site", partners=4, answers=150)  # 604 pages
    db = tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(site), "--db", str(db), "--no-articles",
                           "--partners", "alibaba,allianz,atos", "--max-pages", "400")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    # discovery, one line per partner done, a periodic line every 30 s at most: bounded
    # by the partners, whatever the pages (453 here).
    assert len(lines) <= 3 + 10, result.stderr
    assert sum("done," in line for line in lines) == 3
    assert not any(": listing " in line or "load-more offset" in line for line in lines)
    assert "\r" not in result.stderr
    assert "3 TOP" not in result.stderr  # (no stray output)
    assert "total" in result.stdout and "4,515" not in result.stderr  # the summary on stdout


def test_periodic_lines_come_at_the_interval_asked(tmp_path):
    db = tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db),
                           "-s", "OLYSCRAPE_PROGRESS_INTERVAL=0.05")  # fmt: skip
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if "progress: " in line]
    assert progress, result.stderr
    assert all("pages " in line and "cards " in line and "/s)" in line for line in progress)
    assert "partners 14/14" in progress[-1] or len(progress) >= 1


def _on_a_terminal(*args: str, cwd: Path) -> tuple[int, bytes]:
    """Run ``olyscrape ARGS`` with stderr on a pseudo-terminal; its exit code and what the
    terminal received."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "olyscrape", *args], cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=slave, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    os.close(slave)
    received = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed (Linux raises EIO)
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    return process.wait(timeout=240), received


@pytest.mark.slow
def test_a_crawl_on_a_terminal_updates_one_line_in_place(tmp_path):
    site = _generated_site(tmp_path / "site", partners=3, answers=120)
    code, received = _on_a_terminal("crawl", "--replay", str(site), "--db", "a.db",
                                     "--no-articles", "--partners", "alibaba,allianz",
                                     "--max-pages", "400", cwd=tmp_path)  # fmt: skip
    assert code == 0, received[-2000:]
    text = received.decode("utf-8", "replace")
    # "\r<line>ESC[K": the same line rewritten from its start, never a new line
    updates = re.findall(r"\r(\d+:\d\d:\d\d · [^\r\n]*)\x1b\[K", text)
    assert len(updates) >= 2, text[-2000:]
    assert all("pages " in update and "/s)" in update for update in updates)
    assert "Traceback" not in text
    assert len(text.splitlines()) < 20  # the log lines: discovery and one per partner


def test_a_kind_of_warning_is_shown_a_few_times_then_counted():
    log = logging.getLogger("olyscrape.test.repeats")
    log.setLevel(logging.INFO)
    log.propagate = False
    handler = logging.Handler()
    written: list[str] = []
    handler.emit = lambda record: written.append(record.getMessage())  # type: ignore[method-assign]
    repeats = RepeatedLines(shown=3)
    handler.addFilter(repeats)
    log.addHandler(handler)
    try:
        for n in range(1000):
            log.warning("Dropped card: missing title: card %d", n)
        log.warning("another kind")
        log.info("progress is never counted %d", 1)
        log.info("progress is never counted %d", 2)
    finally:
        log.removeHandler(handler)
    assert written == [
        "Dropped card: missing title: card 0",
        "Dropped card: missing title: card 1",
        "Dropped card: missing title: card 2",
        "another kind",
        "progress is never counted 1",
        "progress is never counted 2",
    ]
    assert repeats.not_shown() == [(997, "Dropped card: missing title: card 0")]


@pytest.mark.slow
def test_repeated_warnings_of_a_crawl_end_in_one_count(tmp_path):
    """Every card of a partner without a title: each is dropped with a warning; five are
    shown, the end says how many more."""
    site = _generated_site(tmp_path / "site", partners=2, answers=30)
    for answer in (site / "ioc" / "ajaxscript").rglob("index.json"):
        answer.write_text(answer.read_text().replace('"title":', '"untitled":'))
    result = run_olyscrape("crawl", "--replay", str(site), "--db", str(tmp_path / "a.db"),
                           "--no-articles", "--partners", "alibaba")  # fmt: skip
    dropped = [line for line in result.stderr.splitlines() if "Dropped card" in line]
    more = [line for line in dropped if "more like it" in line]
    assert len(dropped) == 5 + len(more), result.stderr[-3000:]
    assert len(more) == 1
    [(stats,)] = query(tmp_path / "a.db", "SELECT stats FROM crawls")
    dropped_cards = json.loads(stats)["olyscrape/dropped"]  # counted by the pipeline
    assert dropped_cards > 200
    assert f"... and {dropped_cards - 5} more like it: Dropped card: missing_title" in more[0]
    assert json.loads(stats)["olyscrape/log/not_shown"] == dropped_cards - 5


# --- counts that agree -------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_an_incremental_crawls_page_lines_count_new_links_as_the_summary(
    archive_copy, caplog
):
    caplog.set_level(logging.DEBUG, logger="olyscrape.spiders.partners")
    stats = await crawl_in_process(archive_copy, LOG_LEVEL="DEBUG")
    pages = [r.getMessage() for r in caplog.records if ": listing " in r.getMessage()]
    assert pages, "no page line"
    assert all(line.endswith(" 0 new links") for line in pages), pages
    assert int(stats.get("olyscrape/new", 0)) == 0  # the summary's new links


# --- every interrupted command says so ----------------------------------------------------


def test_a_reparse_stopped_by_ctrl_c_says_interrupted_not_failed():
    from olyscrape.cli.reports.reparse import ReparseReport

    for reason in ("shutdown", None):
        report = ReparseReport.from_stats({"finish_reason": reason}, "a.db")
        notes = report.notes()
        assert any(line.startswith("reparse INTERRUPTED") for line in notes), notes
        assert not any("could not be re-read" in line for line in notes)
        assert report.exit_code == 1  # as an interrupted crawl's
    failed = ReparseReport.from_stats({"finish_reason": "finished", "olyscrape/errors": 1}, "")
    assert failed.notes() == ["reparse FAILED: some listing pages could not be re-read"]


@pytest.mark.slow
def test_ctrl_c_during_a_real_reparse_says_interrupted(tmp_path):
    import signal
    import time

    site = _generated_site(tmp_path / "site", partners=4, answers=150)
    db = tmp_path / "a.db"
    crawled = run_olyscrape("crawl", "--replay", str(site), "--db", str(db), "--no-articles",
                            "--partners", "alibaba,allianz,atos", "--max-pages", "400")  # fmt: skip
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    reparse = subprocess.Popen(
        [sys.executable, "-m", "olyscrape", "reparse", "--db", str(db)], cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(4)  # the interpreter's start, then some pages re-read
    reparse.send_signal(signal.SIGINT)
    out, err = reparse.communicate(timeout=120)
    if "reparse:" in out and "INTERRUPTED" not in err:
        pytest.skip("the reparse ended before the signal came")
    assert reparse.returncode == 1, err
    assert "reparse INTERRUPTED" in err and "could not be re-read" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("reparse", "said"),
    [(True, "; 2 rows changed and committed before it"), (False, "; 60 cards committed before it")],
)
def test_a_failed_write_counts_what_this_run_committed(archive_copy, reparse, said, monkeypatch):
    """A re-parse after a full disk commits batches of unchanged cards: "60 cards
    committed before it" was said by every rerun while nothing changed."""
    from scrapy.utils.test import get_crawler

    from olyscrape import crawlstats
    from olyscrape.addon import Olyscrape
    from olyscrape.archive import ArchiveError
    from olyscrape.extensions import archive as archive_extension
    from olyscrape.extensions.archive import ArchiveKeeper
    from olyscrape.spiders.partners import PartnersSpider

    settings = {"ADDONS": {Olyscrape: 0}, "OLYSCRAPE_DB": str(archive_copy),
                "OLYSCRAPE_REPARSE": reparse}  # fmt: skip
    crawler = get_crawler(PartnersSpider, settings_dict=settings)
    keeper = ArchiveKeeper.of(crawler)
    lines: list[str] = []  # what stops the crawl (no engine runs here to be stopped)
    monkeypatch.setattr(archive_extension, "stop_crawl", lambda _, line: lines.append(line))
    try:
        crawler.stats.set_value(crawlstats.STORED_CARDS, 60)
        crawler.stats.set_value(crawlstats.key("changed_rows"), 2)
        keeper.fail(ArchiveError(f"archive {archive_copy}: disk full (database or disk is full)"))
    finally:
        keeper.close()
    assert lines == [f"archive {archive_copy}: disk full (database or disk is full){said}"]
