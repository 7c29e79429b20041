"""``olyscrape changes`` and ``olyscrape history`` on a real archive: the saved site crawled,
then its changed copy (a card retitled, a body edited, a card removed, a card added, each
of another partner) crawled with ``--full --refresh-articles``, as the docs tell a user
to run it weekly (tests/changedcopy.py)."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from olyscrape.archive import changes as archive_changes
from olyscrape.cli import cli
from olyscrape.cli.diffs import paragraphs
from tests.changedcopy import CHANGES as C
from tests.changedcopy import crawled
from tests.helpers import REPO, cli_runner, one_error_line, query, sha256

#: The four changes of the changed copy: kind, article URL, fields.
FOUR = {
    ("new", C.new_url, ()),
    ("edited", C.retitled_url, ("title",)),
    ("edited", C.edited_url, ("body",)),
    ("gone", C.removed_url, ()),
}
#: Each change's partner, by article URL.
PARTNER = {
    C.new_url: C.new_partner,
    C.retitled_url: C.retitled_partner,
    C.edited_url: C.edited_partner,
    C.removed_url: C.removed_partner,
}
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"


@pytest.fixture(scope="session")
def changed_db(archive_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crawled(archive_db, tmp_path_factory.mktemp("changed"))


def run(*args: str) -> tuple[int, str, str]:
    result = cli_runner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def changes_json(db: Path, *args: str) -> list[dict]:
    code, out, err = run("changes", "--db", str(db), "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


def four(rows: list[dict]) -> set[tuple]:
    return {(r["kind"], r["url"], tuple(r["fields"])) for r in rows}


def second_crawl(db: Path) -> str:
    return query(db, "SELECT max(started_at) FROM crawls")[0][0]


def bodies(db: Path, url: str) -> tuple[str, str]:
    """The body an article had before its edit, and the body it has now."""
    before = query(db, "SELECT body FROM article_versions WHERE article_url = ?", url)
    return before[0][0], query(db, "SELECT body FROM articles WHERE url = ?", url)[0][0]


# --- changes ------------------------------------------------------------------------


def test_since_last_crawl_lists_exactly_the_four_changes(changed_db):
    rows = changes_json(changed_db, "--since", "last-crawl")
    assert four(rows) == FOUR
    assert all(r["partners"] == [PARTNER[r["url"]]] for r in rows)
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
    title = next(r for r in rows if r["fields"] == ["title"])
    assert (title["before"], title["after"]) == (
        {"title": C.retitled_old_title}, {"title": C.retitled_new_title})  # fmt: skip
    body = next(r for r in rows if r["fields"] == ["body"])
    before, after = bodies(changed_db, C.edited_url)
    assert (body["before"], body["after"]) == ({"body": before}, {"body": after})
    assert before != after


def test_without_since_every_article_of_the_first_crawl_is_new_too(changed_db):
    rows = changes_json(changed_db)
    articles = query(changed_db, "SELECT count(*) FROM articles")[0][0]
    assert sum(r["kind"] == "new" for r in rows) == articles
    assert four([r for r in rows if r["at"] >= second_crawl(changed_db)]) == FOUR
    assert rows[: len(FOUR)] == changes_json(changed_db, "--since", "last-crawl")


@pytest.mark.parametrize("zone", ["Z", "+00:00", "+02:00", ""])
def test_since_a_date_time_in_any_zone_is_the_same_moment(changed_db, zone):
    start = datetime.datetime.strptime(second_crawl(changed_db), "%Y-%m-%dT%H:%M:%SZ")
    shift = datetime.timedelta(hours=2) if zone == "+02:00" else datetime.timedelta()
    given = (start + shift).strftime("%Y-%m-%dT%H:%M:%S") + zone
    assert four(changes_json(changed_db, "--since", given)) == FOUR


def test_since_a_date_a_duration_and_the_future(changed_db):
    today = query(changed_db, "SELECT min(started_at) FROM crawls")[0][0][:10]
    everything = changes_json(changed_db)
    assert changes_json(changed_db, "--since", today) == everything
    assert changes_json(changed_db, "--since", "7d") == everything
    assert changes_json(changed_db, "--since", "2w") == everything
    last = datetime.date.fromisoformat(second_crawl(changed_db)[:10])
    tomorrow = (last + datetime.timedelta(days=1)).isoformat()
    assert changes_json(changed_db, "--since", tomorrow) == []


def test_partner_by_slug_name_or_list_and_kind(changed_db):
    def of(*partners: str) -> set[tuple]:
        found = changes_json(changed_db, "--since", "last-crawl", *partners)
        return four(found)

    assert of("--partner", "coca-cola") == {("edited", C.retitled_url, ("title",))}
    assert of("--partner", "Coca-Cola") == of("--partner", "COCA-COLA", "--partner", "visa")
    assert of("--partner", "omega") == {("new", C.new_url, ())}
    assert of("--partner", f"{C.removed_partner},{C.edited_partner}") == {
        ("gone", C.removed_url, ()), ("edited", C.edited_url, ("body",))}  # fmt: skip
    assert of("--partner", "visa") == set()
    edited = changes_json(changed_db, "--since", "last-crawl", "--kind", "edited")
    assert {r["url"] for r in edited} == {C.retitled_url, C.edited_url}
    other = changes_json(changed_db, "--since", "last-crawl", "--kind", "gone", "--kind", "new")
    assert four(other) == {c for c in FOUR if c[0] != "edited"}
    assert len(changes_json(changed_db, "--limit", "2")) == 2


def test_the_table_says_what_each_edit_changed(changed_db):
    code, out, err = run("changes", "--db", str(changed_db), "--since", "last-crawl")
    assert code == 0, err
    head, _, *lines = out.splitlines()
    assert head.split() == ["when", "kind", "partners", "title", "changed", "url"]
    assert len(lines) == 4
    assert f'title: "{C.retitled_old_title}" → "{C.retitled_new_title}"' in out
    assert "body: +2/−1 lines" in out  # one paragraph reworded, one added
    assert sorted(line.split()[2] for line in lines) == ["edited", "edited", "gone", "new"]
    when = [line[:16] for line in lines]  # to the minute, so that it is never cut
    assert when == sorted(when, reverse=True)
    assert all(w.replace(" ", "T") >= second_crawl(changed_db)[:16] for w in when)


def test_csv_and_an_output_file_hold_the_same_rows(changed_db, tmp_path):
    target = tmp_path / "changes.csv"
    code, out, _ = run("changes", "--db", str(changed_db), "--since", "last-crawl", "--csv")
    assert code == 0
    assert out.splitlines()[0] == "at,kind,partners,title,fields,changed,url,crawl_id"
    code, written, _ = run("changes", "--db", str(changed_db), "--since", "last-crawl",
                           "--format", "csv", "-o", str(target))  # fmt: skip
    assert code == 0 and written == ""
    assert target.read_text(encoding="utf-8") == out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last week"], "'last week' is no date"),
        (["--since", "2026-13-01"], "'2026-13-01' is no date"),
        (["--kind", "edited,deleted"], "unknown 'deleted'; choose from new, edited, gone"),
        (["--limit", "-1"], "-1 is not in the range 1<=x<=1000000"),
        (["--partner", "nobody"], "unknown partner 'nobody'; the archive knows: airbnb,"),
        (["--partner", ","], "names no partner"),
        (["--format", "rss"], "'rss' is not one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(changed_db, args, message):
    before = sha256(changed_db)
    code, out, err = run("changes", "--db", str(changed_db), *args)
    assert code == 2, err
    assert message in one_error_line(err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err and out == ""
    assert sha256(changed_db) == before


def test_output_into_a_missing_folder_is_one_line_and_leaves_nothing(changed_db, tmp_path):
    target = tmp_path / "missing" / "feed.atom"
    code, _, err = run("changes", "--db", str(changed_db), "--format", "atom", "-o", str(target))
    assert code == 2
    assert "cannot create a file in" in one_error_line(err) and "Traceback" not in err
    assert not target.parent.exists()


@pytest.mark.parametrize("fmt", ["json", "atom"])
def test_ctrl_c_is_one_line_exit_130_and_no_output_file(changed_db, tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(archive_changes, "changes_sql", lambda query: (ENDLESS, {}))
    target = tmp_path / "out"
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code, _, err = run("changes", "--db", str(changed_db), "--format", fmt, "-o", str(target))
    finally:
        timer.cancel()
    assert code == 130
    assert err.strip() == "Interrupted: the query was stopped; the archive is unchanged"
    assert list(tmp_path.iterdir()) == []


def _command(*args: str, stdout: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "olyscrape", *args], stdout=stdout, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, cwd=REPO, env={**os.environ, "PYTHONWARNINGS": "ignore"},
        text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["table", "atom"])
def test_a_closed_pipe_is_quiet_141_and_a_full_disk_one_line(changed_db, fmt):
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as closed:
        result = _command("changes", "--db", str(changed_db), "--format", fmt, stdout=closed)
    assert (result.returncode, result.stderr) == (141, "")
    with open("/dev/full", "w") as full:
        result = _command("changes", "--db", str(changed_db), "--format", fmt, stdout=full)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: cannot write to standard output (No space left on device): the output is incomplete"
    ]


# --- history ------------------------------------------------------------------------


def history(db: Path, *args: str) -> tuple[int, str, str]:
    return run("history", "--db", str(db), *args)


def test_history_shows_the_retitling_as_a_diff(changed_db):
    code, out, err = history(changed_db, C.retitled_url)
    assert code == 0, err
    assert f"  - title: {C.retitled_old_title}\n  + title: {C.retitled_new_title}\n" in out
    assert "2 versions, oldest first" in out
    (crawl,) = query(changed_db, "SELECT max(id) FROM crawls")[0]
    (first_seen, changed_at) = query(
        changed_db, "SELECT a.first_seen, v.changed_at FROM articles a JOIN article_versions v"
        " ON v.article_url = a.url WHERE a.url = ?", C.retitled_url)[0]  # fmt: skip
    assert f"version 1: {first_seen} until {changed_at} (replaced by crawl {crawl})\n" in out
    assert f"version 2: since {changed_at} (current)\n" in out


def test_history_shows_a_body_edit_as_a_unified_diff(changed_db):
    code, out, err = history(changed_db, C.edited_url, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    first, current = report["versions"]
    assert first["diff"] == [] and first["until"] == current["since"]
    assert current["diff"][:2] == ["--- version 1", "+++ version 2"]
    before, after = bodies(changed_db, C.edited_url)
    assert (first["values"]["body"], current["values"]["body"]) == (before, after)
    added = [p for p in paragraphs(after) if p not in paragraphs(before)]
    removed = [p for p in paragraphs(before) if p not in paragraphs(after)]
    assert (len(added), len(removed)) == (2, 1)  # one paragraph reworded, one added
    assert {"+" + p for p in added} | {"-" + p for p in removed} <= set(current["diff"])
    captures = query(changed_db, "SELECT id FROM captures WHERE canonical_url = ? ORDER BY id",
                     C.edited_url)  # fmt: skip
    assert [c["id"] for v in report["versions"] for c in v["captures"]] == [c[0] for c in captures]
    assert len(first["captures"]) == len(current["captures"]) == 1


@pytest.mark.parametrize(
    "spelling",
    [
        "http://www.olympics.com{}/",
        "https://olympics.com{}?utm_source=feed",
        "http://127.0.0.1:8000{}",
        "{}",
        "olympics.com{}",
    ],
)
def test_history_takes_the_url_as_a_user_writes_it(changed_db, spelling):
    code, out, err = history(
        changed_db, spelling.format(urlsplit(C.retitled_url).path), "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["url"] == C.retitled_url


def test_history_by_article_number(changed_db):
    (number,) = query(changed_db, "SELECT id FROM articles WHERE url = ?", C.retitled_url)[0]
    code, out, _ = history(changed_db, str(number))
    assert code == 0 and out.startswith(C.retitled_url + "\n")


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            "https://olympics.com/ioc/news/nothing-here",
            "https://olympics.com/ioc/news/nothing-here",
        ),
        (
            "http://www.olympics.com/ioc/news/nothing-here/",
            "https://olympics.com/ioc/news/nothing-here",
        ),
        ("999999", "number 999999"),
    ],
)
def test_an_article_the_archive_does_not_hold_is_one_line_exit_1(changed_db, given, said):
    code, out, err = history(changed_db, given)
    assert code == 1 and out == ""
    assert err.splitlines() == [f"Error: the archive holds no article {said}"]


def test_history_into_a_file_is_what_it_prints(changed_db, tmp_path):
    target = tmp_path / "history.json"
    code, printed, _ = history(changed_db, C.edited_url, "--format", "json")
    assert code == 0
    code, out, _ = history(changed_db, C.edited_url, "--format", "json", "-o", str(target))
    assert (code, out) == (0, "")
    assert target.read_text(encoding="utf-8") == printed


def test_history_of_an_empty_argument_is_a_usage_error(changed_db):
    code, _, err = history(changed_db, " ")
    assert code == 2 and "an empty article filters nothing" in one_error_line(err)


def test_ctrl_c_during_history_is_one_line_exit_130(changed_db, monkeypatch):
    monkeypatch.setitem(archive_changes.HISTORY, "versions", ENDLESS)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code, out, err = history(changed_db, C.retitled_url)
    finally:
        timer.cancel()
    assert (code, out) == (130, "")
    assert err.strip() == "Interrupted: the query was stopped; the archive is unchanged"


# --- the pieces: what an edit changed, and --since -----------------------------------


def test_the_line_of_an_edit_names_each_field_it_replaced():
    from olyscrape.cli.diffs import summary

    before = {"title": "Old", "published": "2021-07-01", "category": None,
              "body": "One.\n\nTwo.\n\nThree."}  # fmt: skip
    after = {"title": "New", "published": "2021-07-02", "category": "Tokyo 2020",
             "body": "One.\n\nTwo, rewritten.\n\nThree.\n\nFour."}  # fmt: skip
    assert summary(["title", "published", "category", "body"], before, after) == (
        'title: "Old" → "New"; published: 2021-07-01 → 2021-07-02;'
        " category: (none) → Tokyo 2020; body: +2/−1 lines"
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-12-01", "2026-12-01T00:00:00Z"),
        ("2026-12-01T09:30", "2026-12-01T09:30:00Z"),
        ("2026-12-01T10:30:15+01:00", "2026-12-01T09:30:15Z"),
        ("2026-12-01T09:30:15z", "2026-12-01T09:30:15Z"),
        ("24h", "2026-12-04T12:00:00Z"),
        ("7d", "2026-11-28T12:00:00Z"),
        ("2W", "2026-11-21T12:00:00Z"),
        ("last-crawl", "last-crawl"),
    ],
)
def test_since_becomes_an_archive_time(given, expected):
    from olyscrape.cli.changes import Since

    now = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.timezone.utc)
    assert Since(now=lambda: now).convert(given, None, None) == expected
