"""Tables fit the terminal they are printed on, and the research commands' conventions:
empty filters refused, ``OLYSCRAPE_DB``, ``tables`` and ``schema``, counts labelled.

The terminal is a real pseudo-terminal (``pty``) of the width asked for, the commands real
processes on the session's archive of the saved site; expected values come from the
archive (plain sqlite3) or from the terminal's width, never from the output under test.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from olyscrape.archive.reader import ArchiveReader
from olyscrape.cli import cli
from olyscrape.cli.output import render
from olyscrape.cli.reports.crawl import CrawlSummary
from olyscrape.cli.reports.figures import StatsReport
from olyscrape.cli.tables import aligned, visible_width
from tests.helpers import SITE, cli_runner, one_error_line, query, run_olyscrape, sha256

ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
WIDTHS = [80, 120, 160, 200]


def on_terminal(
    *args: str, columns: int, env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[int, list[str]]:
    """Run ``olyscrape ARGS`` with a pseudo-terminal of ``columns`` columns as its stdout,
    stdin and stderr (``COLUMNS`` unset unless ``env`` gives it): its exit code and the
    lines it printed, escape codes left in."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    environment.update(env or {}, PYTHONWARNINGS="ignore")
    process = subprocess.Popen(
        [sys.executable, "-m", "olyscrape", *args],
        stdin=slave, stdout=slave, stderr=slave, env=environment, cwd=Path(__file__).parent,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    code = process.wait(timeout=timeout)
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    # As the terminal shows it: a line a carriage return rewrote (the crawl's live progress
    # line, erased with ESC[K before each rewrite) is what was written after the last one.
    lines = [line.rsplit("\r", 1)[-1].removeprefix("\x1b[K") for line in text.split("\n")]
    return code, lines[:-1] if lines and not lines[-1] else lines


def shown(line: str) -> str:
    return ESCAPE.sub("", line)


TABLE_COMMANDS = {
    "articles": ["articles"],
    "search": ["search", "olympic", "--limit", "50"],
    "runs": ["runs"],
    "stats": ["stats"],
    "sql": ["sql", "SELECT * FROM articles LIMIT 20"],
    "tables": ["tables", "--hidden"],
}


@pytest.fixture(scope="module")
def failed_runs(archive_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's archive with two more crawls that failed for long reasons
    (as a crawl's monitors write them), for ``runs`` and ``stats`` to show."""
    db = tmp_path_factory.mktemp("runs") / "archive.db"
    shutil.copyfile(archive_db, db)
    reasons = json.dumps(["alibaba: listing https://olympics.com/ioc/alibaba failed: " + "x" * 150,
                          "visa: 3 article pages not archived (HTTP 503 after 2 retries)"])  # fmt: skip
    with sqlite3.connect(db) as conn:
        for _ in range(2):
            conn.execute("INSERT INTO crawls (started_at, finished_at, status, stats, reasons)"
                         " SELECT started_at, finished_at, 'failed', stats, ? FROM crawls"
                         " WHERE id = 1", [reasons])  # fmt: skip
    conn.close()
    return db


@pytest.mark.parametrize("command", TABLE_COMMANDS)
@pytest.mark.parametrize(
    "columns", [80, *(pytest.param(w, marks=pytest.mark.slow) for w in WIDTHS[1:])]
)
def test_every_row_fits_the_terminal(failed_runs, command, columns):
    code, lines = on_terminal(*TABLE_COMMANDS[command], "--db", str(failed_runs), columns=columns)
    assert code == 0, lines
    assert len(lines) >= 5
    too_wide = [line for line in lines if visible_width(line) > columns]
    assert not too_wide, f"{len(too_wide)} lines over {columns}: {too_wide[:2]}"


@pytest.mark.parametrize("columns", [80, 120])
def test_columns_env_gives_the_width_on_a_terminal(archive_db, columns):
    """A terminal of 200 columns told ``COLUMNS=80``: 80 it is (as shutil reads it)."""
    code, lines = on_terminal(
        "articles", "--db", str(archive_db), columns=200, env={"COLUMNS": str(columns)}
    )
    assert code == 0
    assert max(visible_width(line) for line in lines) == columns  # filled, not overshot


def test_piped_nothing_is_cut_whatever_columns_says(archive_db):
    result = subprocess.run(
        [sys.executable, "-m", "olyscrape", "articles", "--db", str(archive_db)],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0
    assert "…" not in result.stdout
    for url, title in query(archive_db, "SELECT url, title FROM articles"):
        assert url in result.stdout and title in result.stdout


def test_at_80_columns_titles_keep_room_and_dates_and_partners_stay_whole(archive_db):
    code, lines = on_terminal("articles", "--db", str(archive_db), columns=80)
    assert code == 0
    rows = query(
        archive_db,
        "SELECT a.published, a.title, group_concat(p.partner, ', ') FROM articles a"
        " JOIN article_partners p ON p.article_url = a.url GROUP BY a.url"
        " ORDER BY a.published DESC NULLS LAST, a.url LIMIT 5",
    )
    for line, (published, title, partners) in zip(lines[2:], rows, strict=False):
        assert line.startswith(published + " ")
        assert f" {partners} " in line  # whole
        shown_title = line[len(published) :].strip().split("…")[0]
        assert title.startswith(shown_title.strip()) and len(shown_title.strip()) >= 24


def test_search_snippets_keep_room_and_their_bold_is_closed(archive_db):
    code, lines = on_terminal("search", "olympic", "--db", str(archive_db), columns=80)
    assert code == 0
    body = lines[2:]
    assert body and any("\x1b[1m" in line for line in body)  # bold on a terminal
    for line in body:
        assert line.count("\x1b[1m") <= line.count("\x1b[0m")  # none left open
    snippet_at = shown(lines[0]).index("snippet")
    url_at = shown(lines[0]).index("url")
    assert url_at - snippet_at >= 16  # a snippet of 15 characters or more, not 12


@pytest.mark.slow  # a crawl and a probe of the saved site, each in a process of its own
@pytest.mark.parametrize("columns", [80, 120])
def test_the_crawl_summary_and_the_check_table_fit(tmp_path, columns):
    db = tmp_path / "a.db"
    code, lines = on_terminal("crawl", "--replay", str(SITE), "--db", str(db), columns=columns)
    assert code == 0, lines
    table = [line for line in lines if not re.match(r"\d\d:\d\d:\d\d ", line)]  # no log line
    table = table[: table.index("")]  # the table, not the messages after it
    assert table[-1].startswith("total")
    assert all(visible_width(line) <= columns for line in table), table
    code, lines = on_terminal("check", "--replay", str(SITE), columns=columns)
    assert code == 0, lines
    table = [line for line in lines if not re.match(r"\d\d:\d\d:\d\d ", line)]
    assert all(visible_width(line) <= columns for line in table), table
    rule = next(line for line in table if set(line) == {"-"})
    assert len(rule) == max(visible_width(line) for line in table[: table.index("")])


@pytest.mark.parametrize("columns", WIDTHS)
def test_the_summary_of_a_real_crawl_fits(archive_db, columns):
    (stats,) = query(archive_db, "SELECT stats FROM crawls")[0]
    text = CrawlSummary.from_stats(json.loads(stats), db=str(archive_db)).render(width=columns)
    table = text.split("\n\n")[0].splitlines()
    assert all(visible_width(line) <= columns for line in table)
    piped = CrawlSummary.from_stats(json.loads(stats)).render().split("\n\n")[0].splitlines()
    assert piped[0].split()[:3] == ["partner", "cards", "seen"]  # one line of headers
    figures = [line.split() for line in table if not line.startswith("-")][-15:]
    assert figures == [line.split() for line in piped if not line.startswith("-")][-15:]
    assert "…" not in text.split("\n\n")[0]  # every figure and slug whole


def test_stats_tables_fit_and_say_new_links(archive_db):
    with ArchiveReader.open(archive_db) as archive:
        report = StatsReport.read(archive, 5, None)
    for columns in [20, 40, *WIDTHS]:  # titles too, however narrow
        lines = report.render(width=columns).splitlines()
        assert all(visible_width(line) <= columns for line in lines)
    crawls = report.render().split("Last 5 crawls\n")[1].splitlines()
    assert re.split(r"\s{2,}", crawls[0]) == [
        "id", "started", "finished", "status", "new links", "updated", "errors",
    ]  # fmt: skip


def test_stats_json_gives_years_as_numbers_and_new_links_beside_new(olyscrape, archive_db):
    result = olyscrape("stats", "--db", str(archive_db), "--format", "json")
    data = json.loads(result.output)
    expected = query(
        archive_db,
        "SELECT CAST(substr(published, 1, 4) AS INTEGER), count(*) FROM articles"
        " GROUP BY 1 ORDER BY published IS NULL, 1",
    )
    assert [(y["year"], y["articles"]) for y in data["years"]] == expected
    (crawl,) = data["crawls"]
    assert (
        crawl["new_links"]
        == crawl["new"]
        == query(archive_db, "SELECT count(*) FROM article_partners")[0][0]
    )
    for partner in data["partners"]:
        assert partner["new_links_by_last_crawl"] == partner["added_by_last_crawl"]


def test_runs_json_rounds_seconds_and_names_new_links(olyscrape, archive_db):
    (run,) = json.loads(olyscrape("runs", "--db", str(archive_db), "--format", "json").output)
    stored = json.loads(query(archive_db, "SELECT stats FROM crawls")[0][0])
    assert run["seconds"] == round(stored["elapsed_time_seconds"], 2)
    assert run["new_links"] == run["new"]


def test_wide_characters_count_twice():
    rows = [{"title": "東京2020 オリンピック 聖火リレー " * 6, "url": "https://olympics.com/x"}]
    lines = render(rows, "table", width=40).splitlines()
    assert "東京" in lines[-1]
    # East Asian wide characters take two columns each (Unicode's East_Asian_Width W).
    assert all(len(line) + sum(1 for ch in line if "\u3000" <= ch <= "\u9fff") <= 40
               for line in lines)  # fmt: skip


def test_a_table_too_narrow_for_its_columns_still_fits():
    rows = [{"id": n, "published": "2021-07-22", "title": "t" * 50, "url": "https://x/" + "y" * 50}
            for n in range(3)]  # fmt: skip
    for width in (20, 30, 40):
        assert all(
            visible_width(line) <= width for line in render(rows, "table", width=width).splitlines()
        )


def test_headers_of_several_words_go_on_two_lines_before_anything_is_cut():
    lines = aligned(["partner", "new links", "listing pages"], [["alibaba", "31", "4"]],
                    right=[1, 2], width=30)  # fmt: skip
    assert lines[:2] == ["           new  listing", "partner  links    pages"]
    assert "…" not in "".join(lines)


def test_control_characters_cannot_reach_the_terminal(archive_db, olyscrape):
    result = olyscrape(
        "sql", "--db", str(archive_db), "SELECT 'a' || char(9, 7, 27) || ']0;x' AS t"
    )
    line = result.output.splitlines()[-1]
    assert "\x07" not in line and "\x1b" not in line and "\t" not in line


def test_the_crawl_json_gives_seconds_to_the_hundredth(archive_db):
    stored = json.loads(query(archive_db, "SELECT stats FROM crawls")[0][0])
    data = json.loads(CrawlSummary.from_stats(stored).to_json())
    assert data["elapsed"] == round(stored["elapsed_time_seconds"], 2)


# --- empty filters and texts that begin with '-' ----------------------------------------------


def usage_error(result) -> str:
    """The one ``Error:`` line of a usage error (exit 2), with nothing on stdout."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and "Traceback" not in result.stderr
    return line


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["articles", "--partner", ""], "--partner"),
        (["articles", "--partner", "  "], "--partner"),
        (["articles", "--category", ""], "--category"),
        (["articles", "--search", "  "], "--search"),
        (["articles", "--search", '""'], "--search"),
        (["search", ""], "QUERY"),
        (["search", "   "], "QUERY"),
        (["search", "-"], "QUERY"),
    ],
)
def test_an_empty_filter_is_a_usage_error(archive_copy, args, named):
    before = sha256(archive_copy)
    line = usage_error(cli_runner().invoke(cli, [*args, "--db", str(archive_copy)]))
    assert named in line
    assert sha256(archive_copy) == before
    assert sorted(p.name for p in archive_copy.parent.iterdir()) == ["archive.db"]


def test_a_search_that_begins_with_a_dash_says_how_and_works_after_dashes(archive_db):
    args = ["search", "-hydrogen", "--db", str(archive_db)]
    line = usage_error(cli_runner().invoke(cli, args, prog_name="olyscrape"))
    assert "-hydrogen" in line and "olyscrape search -- -hydrogen" in line
    result = cli_runner().invoke(
        cli, ["search", "--db", str(archive_db), "--format", "json", "--", "-hydrogen"]
    )
    assert result.exit_code == 0, result.output
    expected = query(
        archive_db,
        "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'hydrogen'",
    )[0][0]
    assert len(json.loads(result.stdout)) == expected > 0


@pytest.mark.slow  # a process of its own for each (Twisted's reactor runs once a process)
@pytest.mark.parametrize("command", ["crawl", "check"])
@pytest.mark.parametrize("given", ["", ",", " , ,"])
def test_partners_naming_no_partner_is_a_usage_error(tmp_path, command, given):
    db = ["--db", str(tmp_path / "a.db")] if command == "crawl" else []
    result = run_olyscrape(command, "--replay", str(SITE), "--partners", given, *db, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_error_line(result.stderr)
    assert "--partners" in line and "names no partner" in line
    assert list(tmp_path.iterdir()) == []  # nothing crawled, nothing created


def test_partners_keep_their_names_without_empty_ones():
    from olyscrape.cli.types import PartnerList

    assert PartnerList().convert(" alibaba, ,visa,", None, None) == "alibaba,visa"


# --- OLYSCRAPE_DB ------------------------------------------------------------------------------


def test_olyscrape_db_names_the_archive_and_db_wins(archive_db, tmp_path):
    env = {"OLYSCRAPE_DB": str(archive_db)}
    result = run_with_env(["runs", "--format", "json"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [run["id"] for run in json.loads(result.stdout)] == [
        i for (i,) in query(archive_db, "SELECT id FROM crawls ORDER BY id DESC")
    ]
    other = tmp_path / "other.db"
    result = run_with_env(["runs", "--db", str(other)], env, cwd=tmp_path)
    assert result.returncode == 1 and str(other) in one_error_line(result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_default_archive_says_where_it_looked(tmp_path):
    result = run_with_env(["articles"], {}, cwd=tmp_path)
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert str(tmp_path / "data" / "olyscrape.db") in line and "OLYSCRAPE_DB" in line
    assert list(tmp_path.iterdir()) == []


def run_with_env(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "OLYSCRAPE_DB"}
    return subprocess.run(
        [sys.executable, "-m", "olyscrape", *args],
        capture_output=True, text=True, cwd=cwd, env={**environment, **env}, timeout=60,
    )  # fmt: skip


# --- tables and schema -------------------------------------------------------------------------


def test_tables_lists_tables_and_views_with_their_counts(archive_db):
    result = cli_runner().invoke(cli, ["tables", "--db", str(archive_db), "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = {row["name"]: (row["type"], row["rows"]) for row in json.loads(result.stdout)}
    master = query(
        archive_db,
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')"
        " AND name NOT LIKE 'articles!_fts!_%' ESCAPE '!' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'",
    )
    assert set(listed) == {name for name, _ in master}
    for name, kind in master:
        (count,) = query(archive_db, f'SELECT count(*) FROM "{name}"')[0]
        assert listed[name] == ("virtual table" if name == "articles_fts" else kind, count)
    hidden = cli_runner().invoke(cli, ["tables", "--db", str(archive_db), "--hidden"])
    assert "articles_fts_data" in hidden.stdout


def test_schema_prints_the_create_statements(archive_db):
    result = cli_runner().invoke(cli, ["schema", "--db", str(archive_db)])
    assert result.exit_code == 0
    stored = [
        sql
        for (sql,) in query(
            archive_db, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        )
    ]
    assert result.stdout == "\n\n".join(sql + ";" for sql in stored) + "\n"
    one = cli_runner().invoke(cli, ["schema", "--db", str(archive_db), "ARTICLES"]).stdout
    assert "CREATE TABLE" in one and "CREATE INDEX idx_articles_published" in one.replace('"', "")
    assert 'CREATE TABLE "crawls"' not in one


def test_schema_of_an_unknown_table_names_the_known_ones(archive_db):
    line = usage_error(cli_runner().invoke(cli, ["schema", "--db", str(archive_db), "nope"]))
    assert "'nope'" in line and "articles" in line and "crawls" in line


# --- help ----------------------------------------------------------------------------------------


def test_bare_olyscrape_prints_its_help_on_stdout_and_exits_0(tmp_path):
    result = run_with_env([], {}, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: ") and "Commands:" in result.stdout


def test_crawl_help_gives_the_defaults_the_crawl_takes():
    from olyscrape.addon import DEFAULTS

    result = cli_runner().invoke(cli, ["crawl", "--help"], terminal_width=200)
    for option, setting in (
        ("--max-pages", "OLYSCRAPE_MAX_PAGES"),
        ("--batch-size", "OLYSCRAPE_BATCH_SIZE"),
    ):
        line = next(line for line in result.stdout.splitlines() if option in line)
        assert f"default: ({DEFAULTS[setting]})" in line


def test_a_bad_olyscrape_db_says_it_came_from_the_variable(tmp_path):
    result = run_with_env(["runs"], {"OLYSCRAPE_DB": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 2
    assert "from the OLYSCRAPE_DB environment variable" in one_error_line(result.stderr)
    given = run_with_env(["runs", "--db", ""], {"OLYSCRAPE_DB": str(tmp_path)}, cwd=tmp_path)
    assert "OLYSCRAPE_DB" not in one_error_line(given.stderr)  # --db named it, not the variable
    assert list(tmp_path.iterdir()) == []
