"""Query commands that stream, stop when asked and fail loudly (issue 20, points 1, 2, 8).

Rows reach a pipe before the statement ends; Ctrl-C (SIGINT) stops a running statement
through SQLite's interrupt and exits 130 with one line; ``--time-limit`` stops one with
exit 1; a failed write of stdout (``/dev/full``, a full tmpfs) is one line and exit 1, a
closed pipe exit 141 and silence; ``-o FILE`` is replaced whole or not at all; JSON is
strict; ``tsv``; ``sql -f`` read by its byte-order mark; a statement starting with ``-``.

The subprocess tests (a fresh interpreter each, as a user runs the command) are marked
slow; the fast loop runs the same components in process: click's runner, a real
``/dev/full``, real files.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from olyscrape.cli.sinks import FileSink, OutputError, Sink, open_sink
from olyscrape.cli.writers import strict_json, write_rows
from tests.helpers import cli_runner, one_error_line, sha256, start_olyscrape

ENDLESS = "with recursive c(x) as (select 1 union all select x+1 from c) "
INTERRUPTED = "Interrupted: the query was stopped; the archive is unchanged"


def _strict(text: str) -> object:
    """``json.loads`` that refuses ``Infinity`` and ``NaN``, as strict readers do."""

    def refuse(name: str) -> object:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def sql(db: Path, *args: str, stdin: str | bytes | None = None) -> object:
    from olyscrape.cli import cli

    return cli_runner().invoke(cli, ["sql", "--db", str(db), *args], input=stdin)


def _run(*args: str, stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess:
    process = start_olyscrape(*args, stdout=stdout)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err.decode())


# --- the writers: strict JSON, tsv ----------------------------------------------------------


def test_non_finite_floats_are_null_in_strict_json():
    values = {"inf": float("inf"), "ninf": float("-inf"), "nan": float("nan"), "x": [1.5]}
    assert _strict(strict_json(values)) == {"inf": None, "ninf": None, "nan": None, "x": [1.5]}


def test_sql_json_of_1e999_parses_with_a_strict_reader(archive_db):
    statement = "select 1e999 as big, -1e999 as small, 2.5 as plain, null as none"
    expected = {"big": None, "small": None, "plain": 2.5, "none": None}
    as_json = sql(archive_db, statement, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert "Infinity" not in as_json.stdout
    assert _strict(as_json.stdout) == [expected]
    as_lines = sql(archive_db, statement, "--nl")
    assert [_strict(line) for line in as_lines.stdout.splitlines()] == [expected]
    as_csv = sql(archive_db, statement, "--csv")
    assert as_csv.stdout.splitlines()[1] == "inf,-inf,2.5,"


def test_streamed_json_array_is_the_text_json_dumps_writes():
    rows = [(1, "a\nb", None), (2, "é", 1.0)]
    columns = ["n", "t", "v"]
    text = "".join(write_rows(rows, "json", columns))
    expected = [dict(zip(columns, row, strict=True)) for row in rows]
    assert text == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    assert "".join(write_rows([], "json", columns)) == "[]\n"


def test_tsv_format_and_its_shortcut(archive_db):
    statement = "select 'tab\there' as a, 'plain' as b, 3 as n"
    result = sql(archive_db, statement, "--format", "tsv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout), dialect="excel-tab"))
    assert rows == [["a", "b", "n"], ["tab\there", "plain", "3"]]
    assert sql(archive_db, statement, "--tsv").stdout == result.stdout
    assert sql(archive_db, statement, "--tsv", "--no-headers").stdout.count("\n") == 1


def test_two_different_format_flags_are_a_usage_error(archive_db):
    result = sql(archive_db, "select 1", "--csv", "--json")
    assert result.exit_code == 2
    assert "--csv and --json name different formats" in one_error_line(result.stderr)
    assert result.stdout == ""


def test_a_long_table_is_printed_a_window_at_a_time(archive_db):
    result = sql(archive_db, ENDLESS + "select x from c limit 2500")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.strip() for line in lines if line.strip().startswith("x")] == ["x"] * 3
    assert [int(line) for line in lines if line.strip().isdigit()] == list(range(1, 2501))


# --- the statement: -f encodings, a leading '-' -----------------------------------------------


@pytest.mark.parametrize(
    "encoded",
    [
        "select 'Zürich' as city".encode(),
        codecs.BOM_UTF8 + "select 'Zürich' as city".encode(),
        "select 'Zürich' as city".encode("utf-16"),  # with its byte-order mark
        codecs.BOM_UTF16_BE + "select 'Zürich' as city".encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_sql_file_is_read_by_its_byte_order_mark(archive_db, tmp_path, encoded):
    path = tmp_path / "q.sql"
    path.write_bytes(encoded)
    result = sql(archive_db, "-f", str(path), "--csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["city", "Zürich"]
    from_stdin = sql(archive_db, "-", "--csv", stdin=encoded)
    assert from_stdin.stdout == result.stdout


def test_sql_file_with_a_stray_byte_is_one_line_exit_2(archive_db, tmp_path):
    path = tmp_path / "bad.sql"
    path.write_bytes(b"select 'caf\xff' as x")
    before = sha256(archive_db)
    result = sql(archive_db, "-f", str(path))
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert f"{path}: not UTF-8 text (byte 0xff at offset 11)" in line
    assert result.stdout == "" and sha256(archive_db) == before


def test_a_statement_starting_with_a_comment(archive_db):
    refused = sql(archive_db, "-- comment\nselect 1 as one")
    assert refused.exit_code == 2
    line = one_error_line(refused.stderr)
    assert "goes after '--'" in line and "olyscrape sql -- " in line
    after = sql(archive_db, "--csv", "--", "-- comment\nselect 1 as one")
    assert after.exit_code == 0, after.output
    assert after.stdout.splitlines() == ["one", "1"]


# --- sinks on real files and devices ---------------------------------------------------------


def test_a_write_to_dev_full_fails_in_one_exception():
    with open("/dev/full", "w", encoding="utf-8") as stream:
        sink = Sink(stream)
        with pytest.raises(OutputError) as caught:
            sink.write("x" * 100_000)
            sink.close()
    assert caught.value.exit_code == 1
    assert "No space left on device" in caught.value.message


def test_output_file_is_replaced_only_when_complete(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    target.chmod(0o640)
    with pytest.raises(RuntimeError), open_sink(target) as sink:
        sink.write("a,b\n" * 50_000)
        assert target.read_text() == "previous\n"  # meanwhile: the old file
        raise RuntimeError("the query failed half-way")
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left
    with open_sink(target) as sink:
        assert isinstance(sink, FileSink) and sink.temp.parent == tmp_path
        sink.write("a,b\n" * 50_000)
    assert target.read_text() == "a,b\n" * 50_000
    assert target.stat().st_mode & 0o777 == 0o640  # its permissions kept
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_sql_output_option_writes_the_file_stdout_would_show(archive_db, tmp_path):
    target = tmp_path / "rows.jsonl"
    statement = ENDLESS + "select x, 'row ' || x as label from c limit 3000"
    result = sql(archive_db, statement, "--nl", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert target.read_text() == sql(archive_db, statement, "--nl").stdout
    assert [_strict(line)["x"] for line in target.read_text().splitlines()] == list(range(1, 3001))


def test_output_option_naming_the_archive_is_refused(archive_db):
    before = sha256(archive_db)
    result = sql(archive_db, "select 1", "-o", str(archive_db))
    assert result.exit_code == 2
    assert "is the archive itself" in one_error_line(result.stderr)
    assert sha256(archive_db) == before


def test_a_refused_statement_leaves_the_output_file_alone(archive_db, tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("kept\n")
    result = sql(archive_db, "select * from no_such_table", "-o", str(target))
    assert result.exit_code == 1
    assert "no such table" in one_error_line(result.stderr)
    assert target.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_time_limit_stops_an_endless_statement(archive_db, tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("kept\n")
    started = time.monotonic()
    result = sql(archive_db, ENDLESS + "select count(*) from c", "--time-limit", "200",
                 "-o", str(target))  # fmt: skip
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "ran longer than its time limit of 200 ms and was stopped" in line
    assert target.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_articles_output_option_and_interrupt_free_run(archive_db, tmp_path):
    target = tmp_path / "articles.csv"
    result = sql(archive_db, "select count(*) from articles", "--csv", "--no-headers")
    count = int(result.stdout)
    from olyscrape.cli import cli

    listed = cli_runner().invoke(
        cli, ["articles", "--db", str(archive_db), "--csv", "-o", str(target)]
    )
    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == count
    assert list(rows[0]) == ["published", "title", "category", "partners", "url"]


# --- the command as a user runs it (subprocess) -------------------------------------------------


@pytest.mark.slow
def test_first_row_reaches_the_pipe_while_the_statement_runs_in_flat_memory(archive_db):
    process = start_olyscrape("sql", "--db", str(archive_db), ENDLESS + "select x from c", "--csv")
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"x\n"
        assert process.stdout.readline() == b"1\n"  # an endless statement: streamed
        for _ in range(300_000):
            process.stdout.readline()
        assert process.poll() is None
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak_kib = int(next(line for line in status.splitlines() if line.startswith("VmHWM"))
                       .split()[1])  # fmt: skip
        assert peak_kib < 200 * 1024, f"peak RSS {peak_kib} KiB after 300,000 rows"
    finally:
        process.kill()
        process.communicate()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("statement", "signum"),
    [
        (ENDLESS + "select count(*) from c", signal.SIGINT),
        (ENDLESS + "select x from c", signal.SIGINT),
        (ENDLESS + "select x from c", signal.SIGTERM),
    ],
    ids=["inside-sqlite", "writing-rows", "sigterm"],
)
def test_sigint_stops_an_endless_statement_exit_130(archive_db, tmp_path, statement, signum):
    before = sha256(archive_db)
    target = tmp_path / "out.csv"
    target.write_text("kept\n")
    process = start_olyscrape("sql", "--db", str(archive_db), statement, "-o", str(target))
    time.sleep(4)  # started, importing done, the statement running
    assert process.poll() is None
    sent = time.monotonic()
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert time.monotonic() - sent < 3
    assert process.returncode == 128 + signum  # 130 for SIGINT, 143 for SIGTERM
    assert err.decode().splitlines() == [INTERRUPTED]
    assert target.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no .part left
    assert sha256(archive_db) == before


@pytest.mark.slow
def test_sigint_while_blocked_on_a_full_pipe_exits_130(archive_db):
    process = start_olyscrape("sql", "--db", str(archive_db), ENDLESS + "select x from c")
    time.sleep(4)  # nobody reads: the pipe is full and the write blocks
    process.send_signal(signal.SIGINT)
    assert process.stderr is not None
    err = process.stderr.read()
    assert process.wait(timeout=30) == 130
    assert err.decode().splitlines() == [INTERRUPTED]


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["sql", ENDLESS + "select x, 'row' from c limit 20000", "--format", "json"],
        ["articles", "--format", "csv"],
        ["stats", "--format", "json"],
        ["runs"],
    ],
    ids=["sql", "articles", "stats", "runs"],
)
def test_dev_full_is_one_line_exit_1(archive_db, command):
    with open("/dev/full", "wb") as full:
        result = _run(command[0], "--db", str(archive_db), *command[1:], stdout=full)
    assert result.returncode == 1, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith("Error: cannot write to standard output (No space left on device)")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.slow
def test_a_full_disk_behind_stdout_or_output(archive_db, disk):
    folder = disk("64k")
    statement = ENDLESS + "select x, 'a fairly long row of text' from c limit 20000"
    with open(folder / "cut.json", "wb") as out:
        result = _run("sql", "--db", str(archive_db), statement, "--json", stdout=out)
    assert result.returncode == 1
    assert "No space left on device" in one_error_line(result.stderr)
    (folder / "cut.json").unlink()
    (folder / "kept.json").write_text("previous\n")
    result = _run("sql", "--db", str(archive_db), statement, "--json",
                  "-o", str(folder / "kept.json"))  # fmt: skip
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: cannot write {folder / 'kept.json'} (No space left")
    assert (folder / "kept.json").read_text() == "previous\n"
    assert sorted(p.name for p in folder.iterdir()) == ["kept.json"]


@pytest.mark.slow
def test_a_closed_pipe_is_quiet_exit_141(archive_db):
    process = start_olyscrape("sql", "--db", str(archive_db), ENDLESS + "select x from c", "--csv")
    assert process.stdout is not None
    assert process.stdout.readline() == b"x\n"
    process.stdout.close()  # as `| head -1` does
    assert process.wait(timeout=60) == 141
    assert process.stderr is not None and process.stderr.read() == b""


@pytest.mark.parametrize(
    "command",
    [["search", "Olympic", "--json"], ["stats", "--format", "json"], ["runs", "--nl"]],
    ids=["search", "stats", "runs"],
)
def test_output_option_of_the_other_query_commands(archive_db, tmp_path, command):
    from olyscrape.cli import cli

    runner = cli_runner()
    shown = runner.invoke(cli, [command[0], "--db", str(archive_db), *command[1:]])
    target = tmp_path / "out.json"
    written = runner.invoke(cli, [command[0], "--db", str(archive_db), *command[1:],
                                  "-o", str(target)])  # fmt: skip
    assert shown.exit_code == written.exit_code == 0, shown.output + written.output
    assert written.stdout == ""
    assert target.read_text() == shown.stdout
    text = target.read_text()
    parsed = [_strict(line) for line in text.splitlines()] if "--nl" in command else _strict(text)
    assert parsed


@pytest.fixture
def sigint_default():
    """Python's own SIGINT handler for the test (a background job may run pytest with
    SIGINT ignored, which the commands rightly leave ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_in_process_stops_the_statement_exit_130(archive_db, sigint_default):
    import threading

    from olyscrape.cli import cli

    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    result = cli_runner().invoke(
        cli,
        [
            "sql",
            "--db",
            str(archive_db),
            ENDLESS + "select count(*) from c",
            "--time-limit",
            "30000",
        ],  # --time-limit: a safety net, never reached
    )
    timer.join()
    assert time.monotonic() - started < 10
    assert result.exit_code == 130, result.output
    assert result.stderr.splitlines() == [INTERRUPTED]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


@pytest.mark.parametrize("call", ["search", "articles", "stats", "sql"])
def test_an_interrupted_reader_stops_every_kind_of_query(archive_db, call):
    """Ctrl-C caught by another of SQLite's Python callbacks (FTS5 calls the authorizer
    mid-query) ends the statement with that callback's error: still an interrupt."""
    from olyscrape.archive import ArchiveReader, ArticleQuery
    from olyscrape.archive.running import QueryInterrupted, interrupt_all

    calls = {
        "search": lambda r: r.search("Olympic"),
        "articles": lambda r: r.articles(ArticleQuery(search="Olympic")),
        "stats": lambda r: r.partner_stats(),
        "sql": lambda r: r.run_sql("select count(*) from articles a, articles b"),
    }
    with ArchiveReader.open(archive_db) as reader:
        interrupt_all()
        with pytest.raises(QueryInterrupted):
            calls[call](reader)
