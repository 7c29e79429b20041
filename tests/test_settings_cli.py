"""``-s`` as Scrapy reads it, Scrapy's log options (``-L``, ``--logfile``, ``--nolog``) and
feed exports (``-o``/``-O``) on ``crawl``, ``check`` and ``reparse``, by real command runs:
a bad value is one line and exit 2 before anything is created; a good one crawls the
saved site."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from olyscrape.cli import cli
from olyscrape.lock import ArchiveLock
from olyscrape.settingvalues import setting_value
from tests.helpers import (
    REPO,
    SITE,
    cli_runner,
    one_error_line,
    query,
    run_olyscrape,
    sha256,
)  # fmt: skip

# --- values read as Scrapy reads them ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("DOWNLOAD_TIMEOUT", "2.5", 2.5),
        ("DNS_TIMEOUT", "0.5", 0.5),
        ("RETRY_AFTER_MAX", "1.5", 1.5),
        ("DOWNLOAD_DELAY", "0", 0),
        ("DOWNLOAD_MAXSIZE", "1e6", 1_000_000),
        ("DOWNLOAD_MAXSIZE", "2.0", 2),
        ("ROBOTSTXT_OBEY", "False", False),
        ("ROBOTSTXT_OBEY", "true", True),
        ("ROBOTSTXT_OBEY", "0", False),
        ("STATS_DUMP", "1", True),
        ("LOG_LEVEL", "warning", "WARNING"),
        ("OLYSCRAPE_MONITOR_MAX_DROP", "1", 1),
        ("OLYSCRAPE_MONITOR_MIN_PUBLISHED", "0.25", 0.25),
        ("OLYSCRAPE_BATCH_SIZE", "1", 1),
        ("OLYSCRAPE_ARCHIVE_CHECK", "Quick", "quick"),
        ("OLYSCRAPE_MAX_PAGE_COUNT", "0", 0),
        ("SOME_SETTING_OF_A_PLUGIN", "any text", "any text"),  # unknown: text, as Scrapy
    ],
)
def test_a_value_is_read_as_scrapy_reads_its_setting(name, text, value):
    got = setting_value(name, text)
    assert got == value and type(got) is type(value)


#: (the -s given, words the one error line must hold)
BAD_SETTINGS = [
    ("ROBOTSTXT_OBEY=yes", "ROBOTSTXT_OBEY takes true or false (Scrapy reads 1, 0, True,"
                           " False, true, false)"),
    ("STATS_DUMP=on", "STATS_DUMP takes true or false"),
    ("LOG_ENABLED=TRUE", "LOG_ENABLED takes true or false"),
    ("DOWNLOAD_TIMEOUT=soon", "DOWNLOAD_TIMEOUT takes a number (of seconds), 0 or more"),
    ("DNS_TIMEOUT=-1", "DNS_TIMEOUT takes a number (of seconds), 0 or more"),
    ("DOWNLOAD_TIMEOUT=inf", "DOWNLOAD_TIMEOUT takes a number"),
    ("DOWNLOAD_MAXSIZE=2.5", "DOWNLOAD_MAXSIZE takes a whole number of bytes"),
    ("OLYSCRAPE_MONITOR_MAX_DROP=30", "OLYSCRAPE_MONITOR_MAX_DROP takes a share from 0 to 1"),
    ("OLYSCRAPE_MONITOR_MIN_PUBLISHED=-0.1", "takes a share from 0 to 1"),
    ("OLYSCRAPE_BATCH_SIZE=0", "OLYSCRAPE_BATCH_SIZE takes a whole number, 1 or more"),
    ("OLYSCRAPE_MAX_PAGES=-5", "OLYSCRAPE_MAX_PAGES takes a whole number, 1 or more"),
    ("OLYSCRAPE_PAGE_MAX_FAILURES=1.5", "takes a whole number, 1 or more"),
    ("OLYSCRAPE_ARCHIVE_CHECK=fast", "OLYSCRAPE_ARCHIVE_CHECK takes one of full, quick"),
    ("CONCURRENT_REQUESTS=0", "CONCURRENT_REQUESTS takes a whole number, 1 or more"),
    ("LOG_LEVEL=LOUD", "LOG_LEVEL takes one of CRITICAL, ERROR, WARNING, INFO, DEBUG"),
    ("OLYSCRAPE_CHECK_KEEP=x.db", "OLYSCRAPE_CHECK_KEEP is given with check --keep, not -s"),
    # classes Scrapy imports only once the crawl starts (it printed a traceback there)
    ("TWISTED_REACTOR=nope", "TWISTED_REACTOR takes an import path that exists ('nope'"),
    ('DOWNLOADER_MIDDLEWARES={"x.y": 1}', "takes an import path that exists ('x.y': No module"),
    ('ITEM_PIPELINES={"olyscrape.pipelines.store.Nope": 300}',
     "ITEM_PIPELINES takes an import path that exists ('olyscrape.pipelines.store.Nope'"),
    ("SCHEDULER=scrapy.core.nope.Scheduler", "SCHEDULER takes an import path that exists"),
]  # fmt: skip


@pytest.mark.parametrize("command", ["crawl", "check", "reparse"])
@pytest.mark.parametrize(("given", "words"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line_before_anything_is_created(tmp_path, command, given, words):
    db = tmp_path / "a.db"
    args = [command, "-s", given, *([] if command == "check" else ["--db", str(db)])]
    result = cli_runner().invoke(cli, [*args, "--replay", str(SITE)] if command != "reparse"
                                 else args, prog_name="olyscrape")  # fmt: skip
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert line.startswith("Error: Invalid value for --set: ") and words in line
    assert list(tmp_path.iterdir()) == []  # no archive, no lock


def test_a_bad_setting_from_the_real_command_is_one_line(tmp_path):
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(tmp_path / "a.db"),
                           "-s", "ROBOTSTXT_OBEY=yes", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    assert "ROBOTSTXT_OBEY takes true or false" in one_error_line(result.stderr)
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


# --- log options and feeds refused up front --------------------------------------------------

BAD_OPTIONS = [
    (["-L", "LOUD"], "Invalid value for '-L' / '--loglevel'"),
    (["--logfile", "{file}/x.log"], "Invalid value for --logfile: cannot create"),
    (["--logfile", "{tmp}"], "is a directory"),
    (["-s", "LOG_FILE={file}/x.log"], "Invalid value for --set: cannot create"),
    # The permission bits say yes to root on /proc: only trying tells (a traceback, exit 1).
    (["--logfile", "/proc/olyscrape-test.log"], "Invalid value for --logfile: cannot create"),
    (["-s", "LOG_FILE=/proc/olyscrape-test.log"], "Invalid value for --set: cannot create"),
    (["--nolog", "--logfile", "{tmp}/x.log"], "--nolog and --logfile exclude each other"),
    (["--nolog", "-v"], "--nolog and --verbose exclude each other"),
]
BAD_FEEDS = [
    (["-O", "{tmp}/items.bogus"], "Unrecognized output format 'bogus'"),
    (["-o", "{tmp}/x.jsonl", "-O", "{tmp}/y.jsonl"], "only one of -o/--output and -O"),
    (["-O", "-:jsonl"], "the crawl's summary is stdout: give a file for the items"),
    (["-O", "{file}/items.jsonl"], "cannot create"),
    # Not refused, the crawl ran, printed 6 tracebacks and exited 0 with no file.
    (["-O", "/proc/olyscrape-test.jsonl"], "-O/--overwrite-output: cannot create /proc/"),
    (["-o", "file:///proc/olyscrape-test.jsonl"], "-o/--output: cannot create /proc/"),
]


@pytest.mark.parametrize("command", ["crawl", "check", "reparse"])
@pytest.mark.parametrize(("options", "words"), BAD_OPTIONS)
def test_a_bad_log_option_is_one_line_before_anything_is_created(tmp_path, command, options,
                                                                 words):  # fmt: skip
    _refused(tmp_path, command, options, words)


@pytest.mark.parametrize(("options", "words"), BAD_FEEDS)
def test_a_bad_feed_is_one_line_before_anything_is_created(tmp_path, options, words):
    _refused(tmp_path, "crawl", options, words)


def _refused(tmp_path: Path, command: str, options: list[str], words: str) -> None:
    (tmp_path / "file").write_text("not a folder")
    before = sorted(os.listdir(tmp_path))
    given = [o.format(tmp=tmp_path, file=tmp_path / "file") for o in options]
    args = [command, *given]
    if command != "check":
        args += ["--db", str(tmp_path / "a.db")]
    if command != "reparse":
        args += ["--replay", str(SITE)]
    result = cli_runner().invoke(cli, args, prog_name="olyscrape")
    assert result.exit_code == 2, result.output
    assert words in one_error_line(result.stderr)
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("command", ["crawl", "check", "reparse"])
def test_an_uncreatable_logfile_leaves_an_archive_as_it_was(archive_copy, command):
    """On an existing archive, by the real command: one line and exit 2, no lock file (a
    re-parse left ``.lock`` beside it), the archive's bytes unchanged."""
    folder = archive_copy.parent
    before, digest = sorted(os.listdir(folder)), sha256(archive_copy)
    args = [command, "--logfile", "/proc/olyscrape-test.log"]
    args += ["--keep" if command == "check" else "--db", str(archive_copy)]
    if command != "reparse":
        args += ["--replay", str(SITE)]
    result = run_olyscrape(*args, cwd=folder)
    assert result.returncode == 2, result.stderr
    assert "Invalid value for --logfile: cannot create /proc/" in one_error_line(result.stderr)
    assert sorted(os.listdir(folder)) == before and sha256(archive_copy) == digest


# --- good values crawl the saved site ----------------------------------------------------------


def _crawl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return run_olyscrape("crawl", "--replay", str(SITE), "--db", str(tmp_path / "a.db"), *args,
                         cwd=tmp_path)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("setting", "in_log"),
    [
        ("LOG_LEVEL=DEBUG", " DEBUG scrapy.core.engine: Crawled (200)"),  # Scrapy's lines
        ("DOWNLOAD_TIMEOUT=2.5", None),
        ("ROBOTSTXT_OBEY=False", None),
        ("DOWNLOAD_MAXSIZE=1e6", None),
        ("STATS_DUMP=True", "Dumping Scrapy stats"),
        ("LOG_INSTALL_ROOT_HANDLER=True", "[scrapy.core.engine] INFO: Spider opened"),  # Scrapy's
        ("OLYSCRAPE_MONITOR_MAX_DROP=0.3", None),
        ("LOG_FORMAT=%(levelname)s|%(name)s|%(message)s", "INFO|olyscrape.spiders.partners|"),
        ("LOG_FILE_APPEND=False", None),
    ],
)
def test_a_good_setting_crawls_the_saved_site(tmp_path, setting, in_log):
    result = _crawl(tmp_path, "-s", setting)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "crawl OK" in result.stdout
    assert query(tmp_path / "a.db", "select count(*) from articles")[0][0] > 100
    if in_log:
        assert in_log in result.stderr


@pytest.mark.slow
def test_loglevel_warning_keeps_progress_off_stderr(tmp_path):
    result = _crawl(tmp_path, "-L", "WARNING")
    assert result.returncode == 0
    assert "crawl OK" in result.stdout
    lines = result.stderr.splitlines()
    assert lines and all(" INFO " not in line and " DEBUG " not in line for line in lines)


@pytest.mark.slow
def test_logfile_takes_the_log_and_the_summary_stays_on_stdout(tmp_path):
    log = tmp_path / "logs" / "crawl.log"
    result = _crawl(tmp_path, "--logfile", str(log))
    assert result.returncode == 0
    assert result.stderr == ""
    assert "crawl OK" in result.stdout
    assert " INFO olyscrape" in log.read_text()
    size = log.stat().st_size
    _crawl(tmp_path, "--logfile", str(log))  # appended, as Scrapy's LOG_FILE is
    assert log.stat().st_size > size


@pytest.mark.slow
def test_nolog_logs_nothing(tmp_path):
    result = _crawl(tmp_path, "--nolog")
    assert result.returncode == 0
    assert result.stderr == ""
    assert "crawl OK" in result.stdout


@pytest.mark.slow
def test_check_and_reparse_take_the_log_options(tmp_path):
    checked = run_olyscrape("check", "--replay", str(SITE), "--nolog")
    assert checked.returncode == 0 and checked.stderr == ""
    assert _crawl(tmp_path, "--nolog").returncode == 0
    db = tmp_path / "a.db"
    reparsed = run_olyscrape("reparse", "--db", str(db), "-L", "DEBUG", "-s", "LOG_LEVEL=ERROR")
    assert reparsed.returncode == 0
    assert " DEBUG scrapy" in reparsed.stderr  # -L wins over -s LOG_LEVEL, as in Scrapy
    assert "0 rows changed" in reparsed.stdout


# --- feed exports: one item per article ------------------------------------------------------


def _archived_urls(db: Path) -> list[str]:
    return sorted(url for (url,) in query(db, "select url from articles"))


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_overwrite_output_gives_one_line_per_article_of_the_archive(tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text("old line\n")
    result = _crawl(tmp_path, "-O", str(items))
    assert result.returncode == 0, result.stderr[-3000:]
    exported = _lines(items)
    urls = _archived_urls(tmp_path / "a.db")
    assert sorted(item["url"] for item in exported) == urls  # each once, no other item
    assert all(item["title"] and item["partner"] for item in exported)
    assert "cards" not in exported[0] and "slug" not in exported[0]


@pytest.mark.slow
def test_output_appends_and_takes_the_format_of_its_suffix(tmp_path):
    table = tmp_path / "items.txt"
    first = _crawl(tmp_path, "-o", f"{table}:csv", "--full")
    second = _crawl(tmp_path, "-o", f"{table}:csv", "--full")
    assert first.returncode == second.returncode == 0
    with table.open(newline="", encoding="utf-8") as fh:
        rows = [row for row in csv.DictReader(fh) if row["url"] != "url"]  # header appended
    urls = _archived_urls(tmp_path / "a.db")
    assert sorted(row["url"] for row in rows) == sorted(urls * 2)


@pytest.mark.slow
@pytest.mark.parametrize("refusal", ["newer", "busy"])
def test_a_refused_archive_leaves_the_feed_file_as_it_was(tmp_path, refusal):
    """The keeper refuses a newer archive as a plain ``scrapy crawl`` starts (``olyscrape
    crawl`` before it), the runner a busy one before: either way ``-O`` must not empty
    the file it names."""
    items = tmp_path / "items.jsonl"
    items.write_text('{"url": "kept"}\n')
    db = tmp_path / "a.db"
    if refusal == "newer":
        assert _crawl(tmp_path, "--partners", "visa").returncode == 0
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA user_version = 99")
        conn.close()
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "partners", "-a", f"replay={SITE}",
             "-a", f"db={db}", "-O", str(items)],
            cwd=REPO, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert "written by a newer olyscrape" in result.stderr
    else:
        with ArchiveLock(db):
            result = _crawl(tmp_path, "-O", str(items))
        assert result.returncode == 3
        one_error_line(result.stderr)  # no traceback
    assert items.read_text() == '{"url": "kept"}\n'


@pytest.mark.slow
def test_the_probe_of_check_first_writes_nothing_to_the_feed(tmp_path):
    items = tmp_path / "items.jsonl"
    result = _crawl(tmp_path, "--check-first", "-o", str(items))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Disabled" not in result.stderr
    assert sorted(item["url"] for item in _lines(items)) == _archived_urls(tmp_path / "a.db")


@pytest.mark.slow
def test_scrapy_crawl_exports_the_same_articles(tmp_path):
    items = tmp_path / "x.jsonl"
    db = tmp_path / "a.db"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "partners", "-a", f"replay={SITE}",
         "-a", f"db={db}", "-O", str(items), "-L", "WARNING", "-s", "DOWNLOAD_MAXSIZE=1e6"],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(item["url"] for item in _lines(items)) == _archived_urls(db)


# --- plain Scrapy on a busy archive ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("spider", "argument", "what"), [
    ("partners", "-a", "crawl"),
    ("check", "-s", "check"),
])  # fmt: skip
def test_scrapy_crawl_on_a_busy_archive_is_one_line_and_exit_3(tmp_path, spider, argument, what):
    db = tmp_path / "a.db"
    archive = f"db={db}" if spider == "partners" else f"OLYSCRAPE_CHECK_KEEP={db}"
    with ArchiveLock(db):
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"replay={SITE}",
             argument, archive],
            cwd=REPO, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert sorted(os.listdir(tmp_path)) == ["a.db.lock"]  # the holder's: nothing else
    assert result.returncode == 3, result.stderr[-3000:]
    line = one_error_line(result.stderr)
    assert line.startswith("Error: the archive is in use by pid ")
    assert line.endswith(f"; not starting a {what} on it.")


@pytest.mark.slow
def test_scrapy_crawl_checks_its_settings_as_olyscrape_does(tmp_path):
    """``scrapy crawl partners -s ROBOTSTXT_OBEY=yes`` crashed in Twisted; now Scrapy's own
    usage error (exit 2) names what the setting takes, and nothing is created."""
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "partners", "-a", f"replay={SITE}",
         "-a", f"db={tmp_path / 'a.db'}", "-s", "ROBOTSTXT_OBEY=yes"],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "error: -s ROBOTSTXT_OBEY='yes': ROBOTSTXT_OBEY takes true or false" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_import_paths_that_exist_pass_as_given():
    from olyscrape.settingvalues import setting_value

    reactor = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
    assert setting_value("TWISTED_REACTOR", reactor) == reactor
    disabled = '{"olyscrape.downloadermiddlewares.limits.LimitsMiddleware": null}'
    assert setting_value("DOWNLOADER_MIDDLEWARES", disabled) == disabled
    assert setting_value("BOT_NAME", "not.a.Path") == "not.a.Path"  # not a class setting
