"""The face stays thin: ``olyscrape/cli/`` modules are short, touch no SQLite directly,
and their option types and reports behave as the commands print them."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import click
import pytest

from olyscrape import crawlstats
from olyscrape.cli import all_commands, cli
from olyscrape.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from olyscrape.cli.output import aligned
from olyscrape.cli.reports.figures import RunsReport, StatsReport
from olyscrape.cli.reports.reparse import ReparseReport
from olyscrape.cli.types import DateBound, FilePath, SettingOverride
from tests.helpers import REPO, SITE, cli_runner

CLI = REPO / "olyscrape" / "cli"
MODULES = sorted(CLI.rglob("*.py"))
#: What the face leaves to the archive package: it opens no SQLite connection itself.
FORBIDDEN = {"sqlite3", "sqlite_utils", "ArchiveWriter", "olyscrape.archive.writer"}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CLI)))
def test_module_is_thin(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) < 400


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CLI)))
def test_module_leaves_sqlite_to_the_archive(path):
    assert not _imported(path) & FORBIDDEN


def test_entry_points_resolve():
    script = re.search(r'^olyscrape = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.M)
    assert script is not None
    module, _, name = script[1].partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    assert isinstance(cli, click.Group)
    assert set(all_commands()) == {
        "crawl", "check", "reparse", "articles", "search", "sql", "stats", "runs", "tables", "schema",
        "verify", "backup", "recover", "browse", "mirror", "changes", "history", "export-wacz",
    }  # fmt: skip


# -- option types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "since", "until"),
    [
        ("2021", "2021-01-01", "2021-12-31"),
        ("2021-02", "2021-02-01", "2021-02-28"),
        ("2020-02", "2020-02-01", "2020-02-29"),
        (" 2021-07-23 ", "2021-07-23", "2021-07-23"),
    ],
)
def test_date_bound(given, since, until):
    assert DateBound(end=False).convert(given, None, None) == since
    assert DateBound(end=True).convert(given, None, None) == until


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("20x", "give a date as YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2021-7", "give a date as YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2020-13", "2020-13: there is no month 13"),
        ("2021-02-30", "2021-02-30 is not a date of the calendar"),
    ],
)
def test_date_bound_refuses(given, message):
    with pytest.raises(click.BadParameter) as raised:
        DateBound(end=True).convert(given, None, None)
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("given", "pair"),
    [
        ("DOWNLOAD_TIMEOUT=10", ("DOWNLOAD_TIMEOUT", 10)),
        ("DOWNLOAD_TIMEOUT=2.5", ("DOWNLOAD_TIMEOUT", 2.5)),  # Scrapy's getfloat reads it
        ("DOWNLOAD_MAXSIZE=1e6", ("DOWNLOAD_MAXSIZE", 1_000_000)),
        ("ROBOTSTXT_OBEY=false", ("ROBOTSTXT_OBEY", False)),
        ("ROBOTSTXT_OBEY=1", ("ROBOTSTXT_OBEY", True)),
        ("LOG_LEVEL=debug", ("LOG_LEVEL", "DEBUG")),
        ("OLYSCRAPE_MONITOR_MAX_DROP=0.3", ("OLYSCRAPE_MONITOR_MAX_DROP", 0.3)),
        (" CONCURRENT_REQUESTS =4", ("CONCURRENT_REQUESTS", 4)),
        ("RETRY_HTTP_CODES=500,502", ("RETRY_HTTP_CODES", "500,502")),  # Scrapy's getlist
        ("ITEM_PIPELINES={}", ("ITEM_PIPELINES", "{}")),
        ("SOMETHING_NEW=any text=ok", ("SOMETHING_NEW", "any text=ok")),
    ],
)
def test_setting_override(given, pair):
    assert SettingOverride().convert(given, None, None) == pair


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("NOEQUALS", "'NOEQUALS' is not NAME=VALUE"),
        ("=3", "'=3' is not NAME=VALUE"),
        ("DOWNLOAD_TIMEOUT=abc",
         "DOWNLOAD_TIMEOUT='abc': DOWNLOAD_TIMEOUT takes a number (of seconds), 0 or more"),
        ("ROBOTSTXT_OBEY=maybe", "ROBOTSTXT_OBEY='maybe': ROBOTSTXT_OBEY takes true or false"
         " (Scrapy reads 1, 0, True, False, true, false)"),
        ("ITEM_PIPELINES=[x", "ITEM_PIPELINES='[x': ITEM_PIPELINES takes a JSON object"),
        ("RETRY_HTTP_CODES=[x", "RETRY_HTTP_CODES='[x': RETRY_HTTP_CODES takes a JSON array"
         " (or comma-separated values)"),
    ],
)  # fmt: skip
def test_setting_override_refuses(given, message):
    with pytest.raises(click.BadParameter) as raised:
        SettingOverride().convert(given, None, None)
    assert raised.value.message == message
    assert raised.value.param_hint == "--set"


def test_file_path_refuses_empty_and_folder(tmp_path):
    with pytest.raises(click.BadParameter, match="an empty path names no file"):
        FilePath().convert("", None, None)
    with pytest.raises(click.BadParameter, match="is a directory"):
        FilePath().convert(str(tmp_path), None, None)
    assert FilePath().convert(str(tmp_path / "a.db"), None, None) == tmp_path / "a.db"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["articles", "--since", "2020-13"],
         "Error: Invalid value for '--since': 2020-13: there is no month 13"
         " (see: olyscrape articles --help)"),
        (["articles", "--until", "20x"],
         "Error: Invalid value for '--until': give a date as YYYY, YYYY-MM or YYYY-MM-DD"
         " (see: olyscrape articles --help)"),
        (["crawl", "-s", "DOWNLOAD_TIMEOUT=abc"],
         "Error: Invalid value for --set: DOWNLOAD_TIMEOUT='abc': DOWNLOAD_TIMEOUT takes a"
         " number (of seconds), 0 or more (see: olyscrape crawl --help)"),
        (["crawl", "--set", "NOEQUALS"],
         "Error: Invalid value for --set: 'NOEQUALS' is not NAME=VALUE"
         " (see: olyscrape crawl --help)"),
        (["stats", "--db", ""],
         "Error: Invalid value for '--db': an empty path names no file"
         " (see: olyscrape stats --help)"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(tmp_path, args, line):
    db = tmp_path / "never.db"
    extra = [] if "--db" in args else ["--db", str(db)]
    result = cli_runner().invoke(cli, [*args, *extra], prog_name="olyscrape")
    assert result.exit_code == EXIT_USAGE
    assert (result.stdout, result.stderr) == ("", line + "\n")
    assert not db.exists()  # refused while parsing: nothing opened, nothing created


@pytest.mark.parametrize(("typed", "meant"), [("serch", "search"), ("stat", "stats"),
                                             ("artcles", "articles")])  # fmt: skip
def test_a_mistyped_command_is_one_line_with_what_was_meant(typed, meant):
    """Commands are loaded when named, yet a name that is none still gets click's "Did you
    mean" from every command's name (click 8.2 on; 8.1 gives no suggestion at all)."""
    result = cli_runner().invoke(cli, [typed, "x"], prog_name="olyscrape")
    assert result.exit_code == EXIT_USAGE
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: No such command '{typed}'.")
    assert result.stderr.count("\n") == 1
    if hasattr(click.exceptions, "NoSuchCommand"):
        assert f"Did you mean '{meant}'?" in result.stderr or f"'{meant}', " in result.stderr


def test_the_archive_package_gives_its_modules_as_attributes():
    """``olyscrape.archive`` and ``olyscrape.cli`` load their modules when first named, as
    attributes too."""
    import olyscrape.archive as archive

    assert archive.schema.SCHEMA_VERSION >= 8
    assert archive.ArchiveWriter is archive.writer.ArchiveWriter
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        archive.nosuch  # noqa: B018
    import olyscrape.cli as face  # its commands' modules, loaded by name, are attributes too

    assert face.research.search is face.load_command("search")
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        face.nosuch  # noqa: B018


# -- reports --------------------------------------------------------------------------


def test_aligned_table():
    lines = aligned(
        ["name", "n", "note"],
        [["a", "1", "first"], ["bbbbbb", "22", ""]],
        right=[1],
        widths=[0, 3],
        totals=[["total", "23", "-"]],
    )
    assert lines == [  # the rules as long as the longest line, no space left at an end
        "name      n  note",
        "------------------",
        "a         1  first",
        "bbbbbb   22",
        "------------------",
        "total    23  -",
    ]


def _reparse_stats(**extra):
    counts = {"changed_rows": 3, "new_articles": 1, "new": 1, "updated": 1, "bodies": 0}
    return {
        "finish_reason": "finished",
        **{crawlstats.key(k): v for k, v in counts.items()},
        **extra,
    }


def test_reparse_report():
    report = ReparseReport.from_stats(_reparse_stats(), "a.db")
    assert report.render() == (
        "reparse: 3 rows changed (1 new articles, 1 new partner links, 1 updated cards,"
        " 0 bodies; 0 previous versions kept)"
    )
    assert report.notes() == []
    assert report.exit_code == EXIT_OK
    assert '"changed_rows": 3' in report.to_json()


def test_reparse_report_failed():
    stats = _reparse_stats(**{crawlstats.REPARSE_SKIPPED: ["visa"], crawlstats.key("errors"): 1})
    report = ReparseReport.from_stats(stats, "a.db")
    assert report.notes() == [
        "skipped, no capture of their listing: visa",
        "reparse FAILED: some listing pages could not be re-read",
    ]
    assert report.exit_code == EXIT_FAILED


def test_runs_report_rows_by_format():
    crawl = {"id": 1, "seconds": 12.3456, "new": 4, "reasons": ["a", "b"]}
    report = RunsReport([crawl])
    table = report.rows("table")[0]
    assert (table["id"], table["seconds"], table["reasons"]) == (1, 12.3, "a; b")
    assert table["new links"] == 4 and "new" not in table  # labelled for what it counts
    assert report.rows("csv")[0]["seconds"] == 12.35  # to the hundredth
    assert (report.rows("json")[0]["new"], report.rows("json")[0]["new_links"]) == (4, 4)
    assert report.rows("json")[0]["reasons"] == ["a", "b"]
    assert crawl["reasons"] == ["a", "b"]  # the reader's rows are left as they were


def test_stats_report_json_and_text():
    report = StatsReport(
        partners=[{"partner": "visa", "articles": 2}],
        years=[{"year": "2021", "articles": 2}],
        crawls=[],
        crawl_count=5,
        undated=3,
    )
    assert set(json.loads(report.to_json())) == {"partners", "years", "crawls"}
    text = report.render()
    assert text.startswith("Articles per partner\n")
    assert "\n\nArticles per year published\n" in text
    assert text.endswith("\n\nLast 5 crawls\n(no rows)")


def test_the_archive_is_named_by_db_not_by_s(tmp_path):
    """``-s OLYSCRAPE_DB=other.db --db a.db`` used to report a.db while the crawl wrote
    other.db (and, before the keeper took the lock, locked a.db only): the option is the
    one way to name the archive."""
    other, db = tmp_path / "other.db", tmp_path / "a.db"
    args = ["crawl", "-s", f"OLYSCRAPE_DB={other}", "--replay", str(SITE), "--db", str(db)]
    result = cli_runner().invoke(cli, args, prog_name="olyscrape")
    assert result.exit_code == EXIT_USAGE
    assert (result.stdout, result.stderr) == (
        "",
        "Error: Invalid value for --set: OLYSCRAPE_DB is given with --db, not -s"
        " (see: olyscrape crawl --help)\n",
    )
    assert "Traceback" not in result.stderr
    assert sorted(tmp_path.iterdir()) == []  # nothing created: no archive, no lock


def test_a_query_command_starts_without_the_crawl_side():
    """The query commands' memory is sqlite-utils' (docs/performance.md#queries) because
    ``olyscrape.cli`` does not import the page parsers, Scrapy or lxml: only a crawl does."""
    import subprocess
    import sys

    heavy = ["parsel", "lxml", "scrapy", "olyscrape.site", "dateutil.parser"]
    code = f"import sys, olyscrape.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


#: What a query command must not load when it does not use it (``docs/performance.md``):
#: each costs tens of milliseconds of every run's start-up.
HEAVY_FOR_QUERIES = ("numpy", "sqlite_utils", "scrapy", "twisted", "lxml", "parsel",
                     "datasette", "feedgen", "olyscrape.archive.writer", "olyscrape.crawl")  # fmt: skip

_LOADED_BY = """
import runpy, sys
sys.argv = ["olyscrape", *sys.argv[1:]]
try:
    runpy.run_module("olyscrape", run_name="__main__")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy_tops!r}
               or m in {heavy!r})
print("LOADED", code, heavy, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["runs"],
        ["articles", "--partner", "visa", "--since", "2020", "--limit", "3"],
        ["search", "Olympic", "--limit", "3"],
        ["sql", "SELECT count(*) FROM articles"],
        ["stats"],
        ["tables"],
        ["changes", "--limit", "3"],
    ],
    ids=lambda args: args[0],
)
def test_a_query_command_runs_without_heavy_libraries(archive_db, args):
    """Each query command, run for real on the saved site's archive, answers without
    loading numpy, sqlite-utils, Scrapy, Twisted, lxml or the crawl's write path: its
    start-up is the interpreter's, click's and its own query's (benchmarks/bench_startup.py
    measures it)."""
    import subprocess
    import sys

    tops = sorted({name.split(".")[0] for name in HEAVY_FOR_QUERIES if "." not in name})
    code = _LOADED_BY.format(heavy_tops=tops, heavy=list(HEAVY_FOR_QUERIES))
    result = subprocess.run(
        [sys.executable, "-c", code, args[0], "--db", str(archive_db), *args[1:]],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    loaded = result.stderr.strip().splitlines()[-1]
    assert loaded == "LOADED 0 []", loaded
    assert result.stdout.strip(), "the command printed its answer"
