"""The research commands on awkward input, on a real archive of the saved site.

Expected values come from the archive itself (read with plain sqlite3) or from the saved
site's own pages, never from the output under test.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import shutil
import socket
import sqlite3
import zlib

import pytest

from olyscrape.cli import LIMIT_MAX, cli
from olyscrape.cli.output import NULL, cut, render, visible_width
from tests.helpers import SITE, cli_runner, query, run_olyscrape


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def one_line_error(result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("Error: ")
    return line


# --- sql, the way sqlite-utils query behaves ------------------------------------------------


def test_sql_keeps_every_column_of_the_same_name(olyscrape, archive_db):
    rows = as_json(
        olyscrape("sql", "--db", str(archive_db), "SELECT 1 AS a, 2 AS a", "--format", "json")
    )
    assert rows == [{"a": 1, "a_2": 2}]
    table = olyscrape("sql", "--db", str(archive_db), "SELECT 1 AS a, 2 AS a").output
    assert re.search(r"^\s*a\s+a_2\s*$", table, re.M) and re.search(r"^\s*1\s+2\s*$", table, re.M)


def test_a_join_over_shared_column_names_loses_nothing(olyscrape, archive_db):
    sql = ("SELECT a.title, p.partner, a.first_seen, p.first_seen FROM articles a"
           " JOIN article_partners p ON p.article_url = a.url ORDER BY a.url, p.partner")  # fmt: skip
    rows = as_json(olyscrape("sql", "--db", str(archive_db), sql, "--format", "json"))
    assert [tuple(r.values()) for r in rows] == query(archive_db, sql)
    assert list(rows[0]) == ["title", "partner", "first_seen", "first_seen_2"]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_blobs_export_as_base64_with_a_marker(olyscrape, archive_db, fmt):
    sql = "SELECT sha256, body FROM capture_bodies ORDER BY sha256 LIMIT 2"
    out = olyscrape("sql", "--db", str(archive_db), sql, "--format", fmt)
    assert out.exit_code == 0, out.output
    rows = (
        json.loads(out.output)
        if fmt == "json"
        else [json.loads(line) for line in out.output.splitlines()]
    )
    stored = query(archive_db, sql)
    for row, (_sha, body) in zip(rows, stored, strict=True):
        assert row["body"]["$base64"] is True
        assert base64.b64decode(row["body"]["encoded"]) == body
        assert zlib.decompress(body)  # the archive's own compressed body, byte for byte


def test_blobs_in_csv_and_tables(olyscrape, archive_db):
    sql = "SELECT body FROM capture_bodies ORDER BY sha256 LIMIT 1"
    (body,) = query(archive_db, sql)[0]
    text = olyscrape("sql", "--db", str(archive_db), sql, "--format", "csv").output
    assert "b'" not in text
    assert base64.b64decode(list(csv.reader(io.StringIO(text)))[1][0]) == body
    table = olyscrape("sql", "--db", str(archive_db), sql).output
    assert f"<Binary: {len(body):,} bytes>" in table


def test_sql_takes_named_parameters(olyscrape, archive_db):
    sql = "SELECT count(*) AS n FROM article_partners WHERE partner = :partner"
    rows = as_json(
        olyscrape("sql", "--db", str(archive_db), sql, "-p", "partner", "visa", "--format", "json")
    )
    assert rows == [{"n": query(archive_db, sql.replace(":partner", "?"), "visa")[0][0]}]


def test_sql_from_a_file_and_from_stdin(olyscrape, archive_db, tmp_path):
    sql = "SELECT count(*) AS n FROM articles"
    expected = [{"n": query(archive_db, sql)[0][0]}]
    path = tmp_path / "q.sql"
    path.write_text(sql + "\n")
    assert (
        as_json(olyscrape("sql", "--db", str(archive_db), "--file", str(path), "--format", "json"))
        == expected
    )
    assert (
        as_json(olyscrape("sql", "--db", str(archive_db), "-", "--format", "json", stdin=sql))
        == expected
    )


def test_csv_without_headers(olyscrape, archive_db):
    out = olyscrape(
        "sql",
        "--db",
        str(archive_db),
        "SELECT slug FROM partners ORDER BY slug",
        "--format",
        "csv",
        "--no-headers",
    )
    assert out.output.split() == [
        slug for (slug,) in query(archive_db, "SELECT slug FROM partners ORDER BY slug")
    ]


# --- input checked before any query --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["articles", "--limit", "99999999999999999999"],
        ["articles", "--limit", "0"],
        ["search", "olympic", "--limit", "99999999999999999999"],
        ["search", "olympic", "--limit", "0"],
        ["runs", "--limit", "99999999999999999999"],
        ["stats", "--crawls", "99999999999999999999"],
        ["articles", "--since", "2022", "--until", "2020"],
        ["articles", "--since", "2021-13"],
        ["articles", "--since", "2021-02-31"],
        ["articles", "--format", "xml"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(olyscrape, archive_db, args):
    one_line_error(olyscrape(*args, "--db", str(archive_db)), 2)


def test_limits_share_their_bounds(olyscrape, archive_db):
    for args in (["articles"], ["search", "olympic"], ["runs"]):
        out = olyscrape(
            *args, "--db", str(archive_db), "--limit", str(LIMIT_MAX), "--format", "json"
        )
        assert out.exit_code == 0, (args, out.output)


def test_a_partner_by_slug_or_name_in_any_case(olyscrape, archive_db):
    by_slug = as_json(
        olyscrape("articles", "--db", str(archive_db), "--partner", "pg", "--format", "json")
    )
    expected = query(archive_db, "SELECT count(*) FROM article_partners WHERE partner = 'pg'")[0][0]
    assert len(by_slug) == expected > 0
    for given in ("P&G", "p&g", "PG"):
        assert (
            as_json(
                olyscrape(
                    "articles", "--db", str(archive_db), "--partner", given, "--format", "json"
                )
            )
            == by_slug
        )


def test_an_unknown_partner_names_the_known_ones(olyscrape, archive_db):
    line = one_line_error(olyscrape("articles", "--db", str(archive_db), "--partner", "nope"), 2)
    assert "unknown partner 'nope'" in line
    assert all(slug in line for (slug,) in query(archive_db, "SELECT slug FROM partners"))


def test_a_month_bound_ends_on_its_last_day(olyscrape, archive_db):
    rows = as_json(
        olyscrape(
            "articles",
            "--db",
            str(archive_db),
            "--since",
            "2021-02",
            "--until",
            "2021-02",
            "--format",
            "json",
        )
    )
    expected = query(
        archive_db,
        "SELECT count(*) FROM articles WHERE published BETWEEN '2021-02-01' AND '2021-02-28'",
    )
    assert len(rows) == expected[0][0]


# --- search takes what people type ------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Coca-Cola", "P&G", "Alibaba's"])
def test_search_takes_punctuation_as_a_phrase(olyscrape, archive_db, typed):
    rows = as_json(
        olyscrape("search", typed, "--db", str(archive_db), "--format", "json", "--limit", "100")
    )
    words = re.findall(r"\w+", typed.lower())
    assert rows
    for row in rows:  # every hit holds the words of what was typed, next to each other
        text = " ".join(re.findall(r"\w+", (row["title"] + " " + row["snippet"]).lower()))
        body = query(
            archive_db,
            "SELECT title || ' ' || coalesce(body, '') FROM articles WHERE url = ?",
            row["url"],
        )[0][0]
        assert (
            " ".join(words) in " ".join(re.findall(r"\w+", body.lower())) or " ".join(words) in text
        )


def test_fts_syntax_on_purpose_is_kept(olyscrape, archive_db):
    either = as_json(
        olyscrape(
            "search",
            "hydrogen OR recycled",
            "--db",
            str(archive_db),
            "--format",
            "json",
            "--limit",
            "100",
        )
    )
    one = as_json(
        olyscrape(
            "search", "hydrogen", "--db", str(archive_db), "--format", "json", "--limit", "100"
        )
    )
    assert len(either) > len(one) > 0


def test_a_real_syntax_error_says_how_to_quote(olyscrape, archive_db):
    line = one_line_error(olyscrape("search", '"unbalanced', "--db", str(archive_db)), 2)
    assert "double quotes" in line


# --- archives that are not whole ---------------------------------------------------------------


def test_a_missing_table_is_one_line_never_a_search_error(olyscrape, archive_db, tmp_path):
    db = tmp_path / "a.db"
    shutil.copy(archive_db, db)
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE crawls")
    conn.execute("DROP VIEW partner_articles")
    conn.commit()
    conn.close()
    for args in (["stats"], ["runs"]):
        line = one_line_error(olyscrape(*args, "--db", str(db)), 1)
        assert "no such" in line
    ok = olyscrape("articles", "--db", str(db), "--limit", "1")
    assert ok.exit_code == 0 and "invalid search" not in ok.output


# --- tables --------------------------------------------------------------------------------


def test_tables_piped_cut_nothing_and_urls_stay_whole(olyscrape, archive_db):
    out = olyscrape("articles", "--db", str(archive_db)).output
    for (url,) in query(archive_db, "SELECT url FROM articles"):
        assert url in out
    longest = max(
        t for (t,) in query(archive_db, "SELECT title FROM articles WHERE title IS NOT NULL")
    )
    assert longest in out


def test_a_table_fits_a_narrow_terminal_titles_and_snippets_keeping_the_most_room():
    url = "https://olympics.com/ioc/news/" + "x" * 90
    rows = [{"title": "A very long title " * 8, "snippet": "\x1b[1mbold\x1b[0m text " * 10,
             "url": url}]  # fmt: skip
    table = render(rows, "table", width=150)
    lines = table.splitlines()
    assert all(visible_width(line) <= 150 for line in lines)
    assert table.count("\x1b[1m") == table.count("\x1b[0m")  # no cut inside, none left open
    title, snippet = (lines[0].index(n) for n in ("title", "snippet"))  # the header: plain
    shown_url = lines[-1][lines[-1].index("https://") :]
    assert shown_url.endswith("…") and snippet - title > len(shown_url)  # titles first
    assert render(rows, "table", width=400).splitlines()[-1].endswith(url)  # fits: whole


def test_a_table_row_stays_one_line_and_other_formats_keep_line_breaks():
    rows = [{"snippet": "end of one paragraph.\n\nStart of the [next]", "n": 1}]
    table = render(rows, "table")
    assert len(table.splitlines()) == 3  # header, rule, one row
    assert "paragraph. Start of the [next]" in table
    assert json.loads(render(rows, "json"))[0]["snippet"] == rows[0]["snippet"]


def test_cut_never_splits_an_escape_code():
    text = "ab\x1b[1mcdefgh\x1b[0mij"
    for width in range(1, 12):
        shown = cut(text, width)
        assert visible_width(shown) <= max(width, 1)
        assert not re.search(r"\x1b\[[0-9;]*$", shown.rstrip("…"))
        assert shown.count("\x1b[1m") <= shown.count("\x1b[0m")


def test_null_is_shown_and_numbers_as_stored(olyscrape, archive_db):
    sql = "SELECT NULL AS missing, '' AS empty, 1.0 AS one, 2 AS two"
    lines = olyscrape("sql", "--db", str(archive_db), sql).output.splitlines()
    assert lines[0].split() == ["missing", "empty", "one", "two"]
    assert lines[-1].split() == [NULL, "1.0", "2"]  # the empty string shows as nothing


def test_csv_and_json_never_change_a_value(olyscrape, archive_db):
    sql = "SELECT url, title, published, NULL AS missing, 1.0 AS one FROM articles ORDER BY url"
    rows = as_json(olyscrape("sql", "--db", str(archive_db), sql, "--format", "json"))
    assert [tuple(r.values()) for r in rows] == query(archive_db, sql)
    text = olyscrape("sql", "--db", str(archive_db), sql, "--format", "csv").output
    assert [r[:3] for r in list(csv.reader(io.StringIO(text)))[1:]] == [
        [u, t or "", p or ""] for u, t, p, _, _ in query(archive_db, sql)
    ]


# --- stats and the chart ----------------------------------------------------------------------


def test_stats_tables_have_titles(olyscrape, archive_db):
    out = olyscrape("stats", "--db", str(archive_db)).output
    for title in ("Articles per partner", "Articles per year published", "Last 5 crawls"):
        assert title in out


@pytest.mark.slow  # draws with matplotlib (seconds a chart)
@pytest.mark.parametrize(
    ("name", "magic"), [("c.png", b"\x89PNG"), ("c.svg", b"<?xml"), ("c.pdf", b"%PDF")]
)
def test_the_chart_is_written_exactly_where_named(olyscrape, archive_db, tmp_path, name, magic):
    out = olyscrape("stats", "--db", str(archive_db), "--chart", str(tmp_path / name))
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert (tmp_path / name).read_bytes().startswith(magic)


@pytest.mark.parametrize("name", ["c", "c.txt"])
def test_a_chart_of_another_kind_is_a_usage_error(olyscrape, archive_db, tmp_path, name):
    one_line_error(olyscrape("stats", "--db", str(archive_db), "--chart", str(tmp_path / name)), 2)
    assert list(tmp_path.iterdir()) == []


# --- browse ------------------------------------------------------------------------------------


def test_browse_on_a_busy_port_has_its_own_exit_code(archive_db):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = cli_runner().invoke(cli, ["browse", "--db", str(archive_db), "--port", str(port)])
    assert result.exit_code == 4
    assert f"127.0.0.1:{port} is in use" in result.stderr and "Traceback" not in result.stderr


def test_browse_refuses_a_text_file_before_datasette_starts(tmp_path):
    notes = tmp_path / "notes.db"
    notes.write_text("notes\n")
    result = cli_runner().invoke(cli, ["browse", "--db", str(notes)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: archive {notes}: not an olyscrape archive (not a SQLite file); left unchanged"
    ]


# --- the crawl summary ------------------------------------------------------------------------


@pytest.mark.slow  # a full crawl in a subprocess
def test_crawl_summary_as_json(tmp_path):
    db = tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "ok" and data["reasons"] == []
    links = dict(query(db, "SELECT partner, count(*) FROM article_partners GROUP BY partner"))
    assert {
        slug: row["new_links"] for slug, row in data["partners"].items() if row["new_links"]
    } == links
    assert data["totals"]["new_articles"] == query(db, "SELECT count(*) FROM articles")[0][0]
    assert (
        data["totals"]["article_pages"]
        == query(db, "SELECT count(*) FROM articles WHERE body IS NOT NULL")[0][0]
    )
    assert data["archive"]["article_partners"] == sum(links.values())


@pytest.mark.slow  # a full crawl in a subprocess
def test_a_page_cap_names_the_partners_it_cut(tmp_path):
    db = tmp_path / "a.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), "--max-pages", "1")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("page cap:"))
    cut_partners = set(line.rsplit(": ", 1)[1].split(", "))
    # the partners whose saved listing offers more (a load-more link or a next page)
    more = {p.stem for p in (SITE / "ioc").glob("*.html")
            if re.search(r'class="btn-more"|rel="next"', p.read_text())}  # fmt: skip
    assert cut_partners == more


@pytest.mark.slow  # a full crawl in a subprocess
def test_the_readmes_summary_sample_is_real_output(tmp_path):
    from tests.helpers import REPO

    text = (REPO / "docs" / "crawling.md").read_text()  # the README's manual, moved to docs/
    sample = re.search(r"```\n(partner +cards seen.*?)```", text, re.S)
    assert sample, "docs/crawling.md shows a crawl summary"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(tmp_path / "a.db"))
    assert result.returncode == 0, result.stderr

    def table(summary: str) -> list[str]:
        return [
            line for line in summary.splitlines() if not line.startswith(("crawl ", "archive "))
        ]

    assert table(sample.group(1)) == table(result.stdout)
    assert re.search(r"^crawl OK in [\d.]+ s \(finish reason: finished\)$", sample.group(1), re.M)
