"""Damage SQLite's own checks cannot see, and messages that named the wrong cause
(issue 18's hostile trial, findings 1 to 3).

- A TEXT cell that is not UTF-8 (one byte changed by hand, a disk, another program) costs
  only its character: every command goes on, ``verify`` names the cell.
- A byte changed inside an index page passes ``quick_check``: ``crawl`` and ``reparse``
  run the full ``integrity_check`` first and refuse the file, unchanged.
- A header write version SQLite cannot write is damage, not a read-only file; ``sql``
  refuses a checkpoint or a journal-mode change as the write it is.

Real files throughout: the saved site's archive (a real crawl), bytes changed with plain
sqlite3 or in the file itself, the CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from olyscrape.archive import text
from olyscrape.archive.errors import ArchiveDamaged, QueryError
from olyscrape.archive.reader import ArchiveReader
from olyscrape.archive.schema import check_for_writing
from olyscrape.archive.text import text_damage
from tests.helpers import SITE, one_error_line, query, run_olyscrape, sha256

slow = pytest.mark.slow  # real crawls and commands in subprocesses


def crawl(db: Path, *args: str) -> subprocess.CompletedProcess:
    return run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), *args)


def store_bytes(db: Path, table: str, column: str, data: bytes, where: str = "1") -> None:
    """Store ``data`` as the TEXT of ``table.column`` (rows matching ``where``), exactly as
    given: what a hand edit or a damaged page leaves, and what SQLite never checks."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(f"UPDATE {table} SET {column} = CAST(? AS TEXT) WHERE {where}", [data])
    finally:
        conn.close()


def text_findings(verify: subprocess.CompletedProcess) -> list[dict]:
    report = json.loads(verify.stdout)
    assert report["sound"] is False
    return [f for f in report["findings"] if f["check"] == "text"]


# --- reading text that is not UTF-8 (in-process) ----------------------------------------------


def test_the_decoder_replaces_only_the_bad_byte():
    assert text.decode(b"Z\xc3\xbcrich \xff ok") == "Zürich \ufffd ok"


def test_text_damage_names_each_column_its_count_and_rows(tmp_path):
    db = tmp_path / "t.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, t TEXT, n INTEGER, b BLOB, v TEXT)")
    conn.execute("CREATE TABLE k (x INTEGER, p TEXT, PRIMARY KEY (x, p)) WITHOUT ROWID")
    conn.executemany("INSERT INTO a VALUES (?, CAST(? AS TEXT), 1, ?, ?)",
                     [(1, b"fine", b"\xff", "ok"), (2, b"x\xff", b"\xfe", "\u00e9"),
                      (9, b"\xc3", None, None)])  # fmt: skip
    conn.execute("INSERT INTO k VALUES (7, CAST(? AS TEXT))", [b"p\xfeq"])
    conn.commit()
    damage = text_damage(conn)
    conn.close()
    # a BLOB holding bytes that are not UTF-8 is no damage; a TEXT holding them is
    assert [(d.table, d.column, d.count, d.rows) for d in damage] == [
        ("a", "t", 2, ("2", "9")),
        ("k", "p", 1, ("x=7 p='p\ufffdq'",)),
    ]
    assert damage[0].message().startswith("a.t: 2 text cells are not valid UTF-8 (rowid 2, 9)")


def test_the_reader_reads_a_row_with_a_bad_byte(archive_copy):
    (rowid, title) = query(archive_copy, "SELECT id, title FROM articles ORDER BY id LIMIT 1")[0]
    store_bytes(archive_copy, "articles", "title", title.encode() + b"\xff", f"id = {rowid}")
    with ArchiveReader.open(archive_copy) as reader:
        _, rows = reader.run_sql("SELECT title FROM articles WHERE id = ?", [rowid])
    assert rows == [(title + "\ufffd",)]


def test_sql_refuses_a_checkpoint_and_a_journal_mode_change(archive_copy):
    # a -wal beside the file, as a crawl that was killed leaves it
    holder = sqlite3.connect(archive_copy)
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    with holder:
        holder.execute("UPDATE crawls SET reasons = '[\"x\"]'")
    wal = Path(f"{archive_copy}-wal")
    try:
        assert wal.stat().st_size > 0
        before = (sha256(archive_copy), sha256(wal))
        with ArchiveReader.open(archive_copy) as reader:
            for statement in ("PRAGMA wal_checkpoint(TRUNCATE)", "pragma main.WAL_CHECKPOINT",
                              "PRAGMA journal_mode = delete"):  # fmt: skip
                with pytest.raises(QueryError, match="read-only here; statement refused"):
                    reader.run_sql(statement)
            assert reader.run_sql("PRAGMA journal_mode") == (["journal_mode"], [("wal",)])
        assert (sha256(archive_copy), sha256(wal)) == before
    finally:
        holder.close()


def test_a_header_write_version_sqlite_cannot_write_is_damage(archive_copy):
    data = bytearray(archive_copy.read_bytes())
    data[18] = 3
    archive_copy.write_bytes(bytes(data))
    with pytest.raises(ArchiveDamaged, match=r"damaged \(.*write version of 3 \(byte 18\)"):
        check_for_writing(archive_copy)


# --- the commands ------------------------------------------------------------------------------


@slow
def test_stats_that_are_not_utf8_read_as_unreadable_and_crawls_go_on(archive_copy):
    db = archive_copy
    store_bytes(db, "crawls", "stats", b'{"\xff"}')
    for args in (["runs"], ["stats"]):
        result = run_olyscrape(*args, "--db", str(db))
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        assert "ok (unreadable stats)" in result.stdout

    verify = run_olyscrape("verify", "--db", str(db), "--format", "json")
    assert verify.returncode == 1 and "Traceback" not in verify.stderr
    (finding,) = text_findings(verify)
    assert finding["message"].startswith("crawls.stats: 1 text cell is not valid UTF-8 (rowid 1)")

    result = crawl(db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "crawl OK" in result.stdout and "Traceback" not in result.stderr
    assert "stats in the archive are unreadable" in result.stderr  # compared with nothing
    assert query(db, "SELECT status FROM crawls ORDER BY id") == [("ok",), ("ok",)]


@slow
def test_reasons_and_partner_names_that_are_not_utf8_cost_only_their_bytes(archive_copy):
    db = archive_copy
    store_bytes(db, "crawls", "reasons", b'["\xff"]')
    (slug, name) = query(db, "SELECT slug, name FROM partners ORDER BY slug DESC LIMIT 1")[0]
    store_bytes(db, "partners", "name", name.encode() + b"\xfe", f"slug = '{slug}'")
    for args in (["runs"], ["stats"], ["articles", "--partner", slug], ["search", "olympic"]):
        result = run_olyscrape(*args, "--db", str(db))
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr
    verify = run_olyscrape("verify", "--db", str(db), "--format", "json")
    assert verify.returncode == 1
    columns = {f["message"].split(":")[0] for f in text_findings(verify)}
    assert columns == {"crawls.reasons", "partners.name"}

    result = crawl(db)  # writes the partner's name again, as the site shows it
    assert result.returncode == 0 and "crawl OK" in result.stdout, result.stderr
    assert query(db, "SELECT name FROM partners WHERE slug = ?", slug) == [(name,)]


@slow
def test_a_title_that_is_not_utf8_is_named_by_verify_and_repaired_by_reparse(
    archive_copy, archive_db
):
    db = archive_copy
    rows = query(db, "SELECT id, title FROM articles WHERE title != '' ORDER BY id LIMIT 2")
    for rowid, title in rows:
        store_bytes(db, "articles", "title", title.encode()[:5] + b"\xff", f"id = {rowid}")
    articles = run_olyscrape("articles", "--db", str(db), "--format", "json")
    assert articles.returncode == 0 and "Traceback" not in articles.stderr, articles.stderr
    titles = {a["title"] for a in json.loads(articles.stdout)}
    assert {t.encode()[:5].decode(errors="replace") + "\ufffd" for _, t in rows} <= titles

    verify = run_olyscrape("verify", "--db", str(db))
    assert verify.returncode == 1 and "Traceback" not in verify.stderr
    problems = [line for line in verify.stdout.splitlines() if line.startswith("PROBLEM")]
    rowids = ", ".join(str(rowid) for rowid, _ in rows)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"PROBLEM [text] articles.title: 2 text cells are not valid UTF-8 (rowid {rowids})"
    )

    reparse = run_olyscrape("reparse", "--db", str(db))
    assert reparse.returncode == 0, reparse.stdout + reparse.stderr
    assert run_olyscrape("verify", "--db", str(db)).returncode == 0
    titles_sql = "SELECT id, title FROM articles ORDER BY id"
    assert query(db, titles_sql) == query(archive_db, titles_sql)


def flip_in_index_entry(db: Path, index: str) -> None:
    """Change one bit of a URL stored in a leaf page of ``index`` (the cell's payload, not
    the page header): the b-tree stays well formed, so ``quick_check`` passes, but the
    entry no longer matches its row."""
    conn = sqlite3.connect(db)
    try:
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        pages = [row[0] for row in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
            [index])]  # fmt: skip
    finally:
        conn.close()
    data = bytearray(db.read_bytes())
    start = (pages[0] - 1) * page_size
    url = data.rfind(b"https://olympics.com/", start, start + page_size)
    assert url > start
    data[url + 40] ^= 0x01
    db.write_bytes(bytes(data))


@slow
def test_an_index_entry_quick_check_cannot_see_is_refused_by_crawl_and_reparse(archive_copy):
    db = archive_copy
    flip_in_index_entry(db, "idx_articles_url")
    assert query(db, "PRAGMA quick_check") == [("ok",)]  # what the quick check misses
    before = sha256(db)
    for args in (["crawl", "--replay", str(SITE)], ["reparse"]):
        result = run_olyscrape(*args, "--db", str(db))
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        line = one_error_line(result.stderr)
        assert line.startswith(f"Error: archive {db}: damaged (integrity_check: "), line
        assert "idx_articles_url" in line and line.endswith("; left unchanged")
        assert "crawl OK" not in result.stdout
        assert sha256(db) == before
        wal = Path(f"{db}-wal")  # a read-only check may leave an empty one, no more
        assert not wal.exists() or wal.stat().st_size == 0

    wrong = crawl(db, "-s", "OLYSCRAPE_ARCHIVE_CHECK=fast")  # a usage error, before any check
    assert wrong.returncode == 2
    assert one_error_line(wrong.stderr).startswith(
        "Error: Invalid value for --set: OLYSCRAPE_ARCHIVE_CHECK='fast':"
        " OLYSCRAPE_ARCHIVE_CHECK takes one of full, quick"
    )
    assert sha256(db) == before


@slow
def test_the_quick_setting_skips_the_full_check(archive_copy):
    """Who sets ``OLYSCRAPE_ARCHIVE_CHECK=quick`` trades that safety for start-up time:
    the same damage is not seen, and the crawl runs."""
    db = archive_copy
    flip_in_index_entry(db, "idx_articles_url")
    result = crawl(db, "-s", "OLYSCRAPE_ARCHIVE_CHECK=quick")
    assert "damaged" not in result.stderr and "Traceback" not in result.stderr
    assert query(db, "SELECT count(*) FROM crawls")[0][0] == 2


@slow
def test_a_header_write_version_is_named_damage_by_crawl_and_verify(archive_copy):
    db = archive_copy
    data = bytearray(db.read_bytes())
    data[18] = 3
    db.write_bytes(bytes(data))
    before = sha256(db)
    result = crawl(db)
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: archive {db}: damaged (its SQLite header gives a file format"
                           " write version of 3 (byte 18)")  # fmt: skip
    assert "read-only (" not in result.stderr
    assert sha256(db) == before
    verify = run_olyscrape("verify", "--db", str(db), "--format", "json")
    assert verify.returncode == 1
    checks = [f["check"] for f in json.loads(verify.stdout)["findings"] if not f["sound"]]
    assert checks == ["header"]
    assert sha256(db) == before


@slow
def test_sql_refuses_a_checkpoint_in_one_line_and_changes_nothing(archive_copy):
    db = archive_copy
    holder = sqlite3.connect(db)  # leaves a -wal beside the file while it lives
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    with holder:
        holder.execute("UPDATE crawls SET reasons = '[\"x\"]'")
    wal = Path(f"{db}-wal")
    try:
        before = (sha256(db), sha256(wal), os.stat(wal).st_size)
        for statement in ("pragma wal_checkpoint(TRUNCATE)", "pragma journal_mode=delete"):
            result = run_olyscrape("sql", statement, "--db", str(db))
            assert result.returncode == 1
            line = one_error_line(result.stderr)
            assert line.startswith("Error: the archive is read-only here; statement refused")
            assert "disk I/O error" not in result.stderr
        assert (sha256(db), sha256(wal), os.stat(wal).st_size) == before
    finally:
        holder.close()
