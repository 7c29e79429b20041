"""One owner per resource: the archive keeper takes the archive's lock however a crawl runs
(the commands, ``scrapy crawl partners|check``, Scrapyd), opens the writer and answers
narrow questions; nobody else reaches its writer. The runner's outcome knows its exit
code, and one pre-flight check refuses an archive path before anything is created."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from olyscrape import cli
from olyscrape import crawl as runner
from olyscrape.addon import Olyscrape
from olyscrape.archive import ArchiveError
from olyscrape.archive.paths import UnusablePath, check_creatable, preflight
from olyscrape.crawl import CrawlOutcome, run_check, run_crawl, run_reparse
from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.lock import ArchiveLock, ArchiveLocked, held_by_another
from olyscrape.spiders.check import CheckSpider
from olyscrape.spiders.partners import PartnersSpider
from tests.helpers import REPO, SITE, run_olyscrape, sha256

ADDON = {"ADDONS": {Olyscrape: 0}}
PACKAGE = REPO / "olyscrape"


# --- nobody reaches the keeper's writer --------------------------------------------------


def test_no_module_but_the_keeper_reaches_its_writer():
    """The keeper's writer is its own: every other component asks the keeper."""
    reach = re.compile(r"(keeper|ArchiveKeeper\.of\([^)]*\))\s*\.\s*_?writer\b", re.IGNORECASE)
    keeper = PACKAGE / "extensions" / "archive.py"
    files = [*PACKAGE.rglob("*.py"), *(REPO / "benchmarks").rglob("*.py"),
             *(REPO / "tests").rglob("*.py")]  # fmt: skip
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in files
        if path not in (keeper, Path(__file__))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if reach.search(line)
    ]
    assert found == []
    assert "self.writer" not in keeper.read_text(encoding="utf-8")  # private: _writer


def test_only_the_keeper_takes_the_lock():
    """No spider, command or setting takes (or skips) the archive's lock any more."""
    takers = sorted(
        str(path.relative_to(REPO))
        for path in PACKAGE.rglob("*.py")
        if "ArchiveLock(" in path.read_text(encoding="utf-8")
    )
    assert takers == ["olyscrape/extensions/archive.py", "olyscrape/lock.py"]
    uses = [
        str(path.relative_to(REPO))
        for path in PACKAGE.rglob("*.py")
        if "OLYSCRAPE_LOCK_HELD" in path.read_text(encoding="utf-8")
    ]
    assert sorted(uses) == ["olyscrape/addon.py", "olyscrape/extensions/archive.py"]


# --- the keeper holds the lock, however the crawler is built -------------------------------


def test_the_partners_crawler_holds_the_archives_lock_until_its_keeper_closes(tmp_path):
    db = tmp_path / "a.db"
    crawler = get_crawler(PartnersSpider, settings_dict={**ADDON, "OLYSCRAPE_DB": str(db)})
    keeper = ArchiveKeeper.of(crawler)
    assert held_by_another(db)
    with pytest.raises(ArchiveLocked, match="in use by pid"):
        get_crawler(PartnersSpider, settings_dict={**ADDON, "OLYSCRAPE_DB": str(db)})
    keeper.close()
    assert not held_by_another(db)
    assert sorted(os.listdir(tmp_path)) == []  # no archive was made: nor is its lock left


def test_scrapy_crawl_check_with_a_kept_archive_takes_the_lock(tmp_path):
    """``CheckSpider`` forced the old flag on: ``scrapy crawl check`` with a kept archive
    locked nothing. Its keeper takes the lock now, as the crawl's does."""
    db = tmp_path / "kept.db"
    settings = {**ADDON, "OLYSCRAPE_CHECK_KEEP": str(db)}
    crawler = get_crawler(CheckSpider, settings_dict=settings)
    keeper = ArchiveKeeper.of(crawler)
    assert keeper.path == str(db)
    assert held_by_another(db)
    with pytest.raises(ArchiveLocked):  # a crawl, or another probe, on the same archive
        get_crawler(PartnersSpider, settings_dict={**ADDON, "OLYSCRAPE_DB": str(db)})
    keeper.close()
    assert not held_by_another(db)


def test_a_probe_that_keeps_nothing_has_no_keeper_and_no_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    crawler = get_crawler(CheckSpider, settings_dict=ADDON)
    assert crawler.get_extension(ArchiveKeeper) is None
    assert list(tmp_path.iterdir()) == []


def test_the_old_lock_held_setting_does_not_bypass_the_lock(tmp_path, caplog):
    db = tmp_path / "a.db"
    held = {**ADDON, "OLYSCRAPE_DB": str(db), "OLYSCRAPE_LOCK_HELD": True}
    with ArchiveLock(db), pytest.raises(ArchiveLocked):  # another crawl holds it
        get_crawler(PartnersSpider, settings_dict=held)
    crawler = get_crawler(PartnersSpider, settings_dict={
        **ADDON, "OLYSCRAPE_DB": str(db), "OLYSCRAPE_LOCK_HELD": "1"})  # fmt: skip
    assert held_by_another(db)
    assert "OLYSCRAPE_LOCK_HELD is deprecated and does nothing" in caplog.text
    ArchiveKeeper.of(crawler).close()


def test_a_refused_archive_gives_its_lock_back_at_once(tmp_path):
    db = tmp_path / "theirs.db"
    db.write_bytes(b"my notes\n" * 200)
    crawler = get_crawler(PartnersSpider, settings_dict={**ADDON, "OLYSCRAPE_DB": str(db)})
    keeper = ArchiveKeeper.of(crawler)
    assert not keeper.opened and not keeper.usable
    assert "not an olyscrape archive" in crawler.stats.get_value("olyscrape/storage_error")
    assert sorted(os.listdir(tmp_path)) == ["theirs.db"]  # refused before the lock
    assert keeper.replay_source() is None and keeper.queued_bytes == 0


def test_a_reserved_lock_is_taken_over_by_the_keeper_and_given_back_when_it_closes(tmp_path):
    db = tmp_path / "a.db"
    alias = tmp_path / "alias.db"
    alias.symlink_to(db)
    with ArchiveKeeper.reserved(str(alias)):  # the runner, before the probe and the crawl
        assert held_by_another(db)
        crawler = get_crawler(PartnersSpider, settings_dict={**ADDON, "OLYSCRAPE_DB": str(db)})
        keeper = ArchiveKeeper.of(crawler)  # took the reserved lock (no ArchiveLocked)
        assert held_by_another(db)
        keeper.close()
        assert not held_by_another(db)
    with ArchiveKeeper.reserved(str(db)):
        pass  # never taken over: given back when the block ends
    assert not held_by_another(db)


# --- the runner: a busy archive is refused before anything runs ----------------------------


def test_a_busy_archive_stops_each_run_before_it_starts(tmp_path):
    db = tmp_path / "a.db"
    probed: list[dict] = []
    with ArchiveLock(db):
        crawl = run_crawl({"db": db, "replay": SITE}, on_check=probed.append)
        check = run_check({"replay": SITE}, {"OLYSCRAPE_CHECK_KEEP": str(db)})
        reparse = run_reparse(str(db))
        assert sorted(os.listdir(tmp_path)) == ["a.db.lock"]  # the holder's: nothing else
    assert probed == []  # the probe never ran: no request at all
    for outcome, what in ((crawl, "crawl"), (check, "check"), (reparse, "crawl")):
        assert outcome.locked and outcome.exit_code == 3 and outcome.stats is None
        assert outcome.refused is not None
        assert re.fullmatch(rf"the archive is in use by pid \d+ \(lock {re.escape(str(db))}"
                            rf"\.lock\); not starting a {what} on it\.", outcome.refused)  # fmt: skip


def test_a_refused_archive_stops_the_run_before_its_lock(tmp_path):
    db = tmp_path / "theirs.db"
    db.write_bytes(b"my notes\n" * 200)
    outcome = run_crawl({"db": db, "replay": SITE})
    assert outcome.exit_code == 1 and not outcome.locked
    assert outcome.refused == (
        f"archive {db}: not an olyscrape archive (not a SQLite file); left unchanged"
    )
    assert sorted(os.listdir(tmp_path)) == ["theirs.db"]


def test_the_outcome_knows_its_exit_code():
    finished = {"finish_reason": "finished"}
    unknown = {"finish_reason": "unknown_partner"}
    points = {"olyscrape/check/points": [
        {"name": "discovery: TOP column", "partner": None, "holds": True, "evidence": ""}]}  # fmt: skip
    assert CrawlOutcome("crawl", finished).exit_code == 0
    assert CrawlOutcome("crawl", {**finished, "olyscrape/errors": 1}).exit_code == 1
    assert CrawlOutcome("crawl", unknown).exit_code == 2
    assert CrawlOutcome("crawl", None, check=unknown).exit_code == 2
    assert CrawlOutcome("crawl", None, check=finished).exit_code == 1  # the probe failed
    refused = {**finished, "olyscrape/storage_refused": True, "olyscrape/storage_error": "x"}
    assert CrawlOutcome("crawl", refused).exit_code == 1
    assert CrawlOutcome("check", {**finished, **points}).exit_code == 0
    assert CrawlOutcome("check", finished).exit_code == 1  # checked nothing
    assert CrawlOutcome("check", unknown).exit_code == 2
    assert CrawlOutcome("reparse", finished).exit_code == 0
    assert CrawlOutcome("reparse", {"finish_reason": "shutdown"}).exit_code == 1
    assert CrawlOutcome("crawl", refused="busy", refusal_code=3).exit_code == 3


def test_the_runner_and_the_command_agree_on_exit_codes():
    assert (runner.EXIT_FAILED, runner.EXIT_USAGE, runner.EXIT_LOCKED) == (
        cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_LOCKED)  # fmt: skip


# --- one pre-flight of an archive's path ---------------------------------------------------


def test_the_preflight_tells_a_usage_error_from_a_fault(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UnusablePath, match=r"is a folder$"):
        preflight(tmp_path)
    with pytest.raises(UnusablePath, match=r"notes.txt is not a folder$"):
        preflight(tmp_path / "notes.txt" / "a.db")
    db = tmp_path / "a.db"
    db.write_bytes(b"")
    os.link(db, tmp_path / "b.db")
    with pytest.raises(ArchiveError, match=r"2 names \(hard links\)") as refused:
        preflight(db)
    assert not isinstance(refused.value, UnusablePath)
    preflight(tmp_path / "new" / "c.db")  # a folder to create: fine
    check_creatable(tmp_path / "out.warc")
    assert sorted(os.listdir(tmp_path)) == ["a.db", "b.db", "notes.txt"]  # nothing created


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only folders")
def test_a_read_only_folder_is_a_usage_error_for_a_file_to_write(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(UnusablePath, match="is read-only"):
            check_creatable(folder / "out.warc")
        with pytest.raises(ArchiveError, match="read-only"):
            preflight(folder / "a.db")  # an archive there: a fault (exit 1), not usage
    finally:
        folder.chmod(0o700)


# --- the same, from the outside ---------------------------------------------------------------


@pytest.mark.slow
def test_an_old_lock_held_override_still_gets_the_busy_archive_refused(tmp_path):
    db = tmp_path / "a.db"
    assert run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db),
                         "--partners", "visa").returncode == 0  # fmt: skip
    before = sha256(db)
    with ArchiveLock(db):
        result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db),
                               "-s", "OLYSCRAPE_LOCK_HELD=1")  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip().endswith("; not starting a crawl on it.")
    assert "in use by pid" in result.stderr and "Traceback" not in result.stderr
    assert sha256(db) == before


@pytest.mark.slow
def test_check_keep_on_a_busy_archive_exits_3_before_any_request(tmp_path):
    db = tmp_path / "kept.db"
    with ArchiveLock(db):
        result = run_olyscrape("check", "--replay", str(SITE), "--keep", str(db))
        assert sorted(os.listdir(tmp_path)) == ["kept.db.lock"]  # the holder's: nothing else
    assert result.returncode == 3, result.stderr
    assert "in use by pid" in result.stderr and "not starting a check on it." in result.stderr
    assert "discovery" not in result.stderr + result.stdout


@pytest.mark.slow
def test_plain_scrapy_crawl_check_keeping_pages_refuses_a_busy_archive(tmp_path):
    db = tmp_path / "kept.db"
    with ArchiveLock(db):
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "check", "-a", f"replay={SITE}",
             "-s", f"OLYSCRAPE_CHECK_KEEP={db}"],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert sorted(os.listdir(tmp_path)) == ["kept.db.lock"]  # the holder's: nothing else
    assert result.returncode == 3, result.stderr[-2000:]  # one line (tests/test_settings_cli.py)
    assert "Traceback" not in result.stderr and "in use by pid" in result.stderr
