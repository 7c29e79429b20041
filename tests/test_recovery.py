"""``recover`` rescues what ``verify`` sends it to, and ``verify`` advises only what works
(issue 18, the hostile trial's findings on recovery).

Real files: the saved site's archive with one page damaged where SQLite's ``dbstat`` table
says a table lives, or cut short as a full disk or an interrupted copy leaves it. Each case
asserts the exit code, the line, no traceback, that the damaged file is unchanged, and what
the recovered archive holds against the clean crawl's.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers import ORIGIN, one_error_line, query, run_olyscrape, sha256

pytestmark = pytest.mark.slow  # re-parses in subprocesses

PARTNER_LIST = f"{ORIGIN}/ioc/partners"
ARTICLE_FIELDS = "SELECT url, title, category, published FROM articles ORDER BY url"
LINKS = "SELECT article_url, partner, position FROM article_partners ORDER BY 1, 2"


def pages_of(db: Path, table: str) -> list[tuple[int, str]]:
    """The pages of ``table`` (number, type), from SQLite's ``dbstat`` on the clean file."""
    return query(db, "SELECT pageno, pagetype FROM dbstat WHERE name = ? ORDER BY pageno", table)


def page_size(db: Path) -> int:
    return int(query(db, "PRAGMA page_size")[0][0])


def flip_first_byte(db: Path, page: int) -> None:
    """Invert byte 0 of ``page`` (a b-tree page's type) in the file itself."""
    size = page_size(db)
    data = bytearray(db.read_bytes())
    data[(page - 1) * size] ^= 0xFF
    db.write_bytes(bytes(data))


def page_bytes(db: Path, page: int) -> bytes:
    size = page_size(db)
    return db.read_bytes()[(page - 1) * size : page * size]


def expected_bodies(clean: Path, lost: set[str]) -> list[tuple]:
    """Each clean article's body, None where the newest capture of its page had a body
    among the ``lost`` sha256s."""
    rows = query(clean, """SELECT a.url, a.body, (SELECT c.sha256 FROM captures c
        WHERE c.canonical_url = a.url ORDER BY c.id DESC LIMIT 1) FROM articles a
        ORDER BY a.url""")  # fmt: skip
    return [(url, None if sha in lost else body) for url, body, sha in rows]


def recover(db: Path, new: Path) -> tuple[int, str, str]:
    result = run_olyscrape("recover", "--db", str(db), str(new))
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


def verify_hint(db: Path) -> str:
    result = run_olyscrape("verify", "--db", str(db))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    problems = [line for line in result.stdout.splitlines() if line.startswith("PROBLEM")]
    assert problems, result.stdout
    return problems[0]


def test_a_lost_partner_list_capture_loses_no_article(archive_copy, archive_db, tmp_path):
    """The page holding the body of the partner list (``/ioc/partners``) damaged: recover
    leaves that body out, and the re-parse takes the partners from the archive's rows."""
    (sha,) = query(archive_db, "SELECT sha256 FROM captures WHERE canonical_url = ?"
                   " ORDER BY id DESC LIMIT 1", PARTNER_LIST)[0]  # fmt: skip
    leaves = [p for p, kind in pages_of(archive_db, "capture_bodies") if kind == "leaf"]
    (page,) = [p for p in leaves if sha.encode() in page_bytes(archive_db, p)]
    every_sha = [s for (s,) in query(archive_db, "SELECT sha256 FROM capture_bodies")]
    lost = {s for s in every_sha if s.encode() in page_bytes(archive_db, page)}
    listings = {s for (s,) in query(archive_db, "SELECT sha256 FROM captures WHERE "
                                    "canonical_url NOT LIKE ?", f"{ORIGIN}/ioc/news/%")}  # fmt: skip
    assert lost & listings == {sha}  # the partner list's is the only listing lost
    flip_first_byte(archive_copy, page)
    before = sha256(archive_copy)
    assert "`olyscrape recover --db" in verify_hint(archive_copy)

    new = tmp_path / "rescued.db"
    code, out, err = recover(archive_copy, new)
    assert code == 0, out + err
    line = next(line for line in out.splitlines() if line.startswith("recover: "))
    assert f"{len(every_sha) - len(lost)} bodies" in line
    assert f"up to {len(lost)} row{'s' if len(lost) > 1 else ''} of capture_bodies" in line
    assert "no capture of the partner list /ioc/partners: taking the 14 partners" in err
    assert sha256(archive_copy) == before
    assert query(new, ARTICLE_FIELDS) == query(archive_db, ARTICLE_FIELDS)
    assert query(new, LINKS) == query(archive_db, LINKS)
    assert query(new, "SELECT url, body FROM articles ORDER BY url") == expected_bodies(
        archive_db, lost)  # fmt: skip
    assert query(new, "SELECT slug, name, url FROM partners ORDER BY slug") == query(
        archive_db, "SELECT slug, name, url FROM partners ORDER BY slug")  # fmt: skip
    assert run_olyscrape("verify", "--db", str(new)).returncode == 0


def test_a_file_cut_short_is_recovered_whole(archive_copy, archive_db, tmp_path):
    """The file cut short as a full disk or an interrupted copy leaves it: shorter than its
    header says, which SQLite refuses to open at all. The pages cut off are of a table
    recover does not need (kept versions, written last), so nothing of the crawl is lost."""
    conn = sqlite3.connect(archive_copy)
    conn.executemany("INSERT INTO article_versions (article_url, changed_at, body)"
                     " VALUES ('x', 'then', ?)", [("v" * 9000,)] * 4)  # fmt: skip
    conn.commit()
    conn.close()  # checkpointed: the file alone holds them, in its last pages
    assert not Path(f"{archive_copy}-wal").exists()
    versions = {p for p, _ in pages_of(archive_copy, "article_versions")}
    size, pages = page_size(archive_copy), archive_copy.stat().st_size // page_size(archive_copy)
    assert {pages, pages - 1, pages - 2} <= versions
    archive_copy.write_bytes(archive_copy.read_bytes()[: (pages - 2) * size + size // 3])
    before = sha256(archive_copy)
    with pytest.raises(sqlite3.DatabaseError):
        query(archive_copy.parent / archive_copy.name, "SELECT count(*) FROM sqlite_master")
    for leftover in (Path(f"{archive_copy}-wal"), Path(f"{archive_copy}-shm")):
        leftover.unlink(missing_ok=True)  # the probe's: the file is the case, not these
    hint = verify_hint(archive_copy)
    assert hint.startswith("PROBLEM [open] ") and f"`olyscrape recover --db {archive_copy}" in hint

    new = tmp_path / "rescued.db"
    code, out, err = recover(archive_copy, new)
    assert code == 0, out + err
    captures, crawls = query(archive_db, "SELECT (SELECT count(*) FROM captures),"
                             " (SELECT count(*) FROM crawls)")[0]  # fmt: skip
    assert f"recover: {captures} captures " in out and f"{crawls} crawl records" in out
    assert "no unreadable rows" in out
    assert sha256(archive_copy) == before
    assert query(new, ARTICLE_FIELDS) == query(archive_db, ARTICLE_FIELDS)
    assert query(new, "SELECT url, body FROM articles ORDER BY url") == query(
        archive_db, "SELECT url, body FROM articles ORDER BY url")  # fmt: skip
    assert query(new, LINKS) == query(archive_db, LINKS)


def test_a_lost_schema_is_said_in_one_line_and_never_sent_to_recover(archive_copy, tmp_path):
    """The table of tables damaged: no table can be found, so verify does not advise
    recover, and recover says so in one line."""
    leaf = next(p for p, kind in pages_of(archive_copy, "sqlite_schema") if kind == "leaf")
    flip_first_byte(archive_copy, leaf)
    before = sha256(archive_copy)
    hint = verify_hint(archive_copy)
    assert "cannot find its tables" in hint and "olyscrape recover --db" not in hint
    assert ".recover" not in hint  # this sqlite3 shell's .recover fails: never advised

    new = tmp_path / "rescued.db"
    result = run_olyscrape("recover", "--db", str(archive_copy), str(new))
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: archive {archive_copy}: damaged beyond recovery: its schema")
    assert not new.exists() and sha256(archive_copy) == before


def test_a_damaged_crawls_page_is_some_rows_never_a_million(archive_copy, archive_db, tmp_path):
    """The crawls table is one page (one crawl): its header damaged, nothing of it can be
    read and how many rows it held is unknown."""
    (root,) = [p for p, kind in pages_of(archive_db, "crawls") if kind == "leaf"]
    flip_first_byte(archive_copy, root)
    new = tmp_path / "rescued.db"
    code, out, err = recover(archive_copy, new)
    assert code == 0, out + err
    assert "0 crawl records" in out and "some rows of crawls could not be read" in out
    assert "1048576" not in out
    assert query(new, "SELECT count(*) FROM crawls") == [(0,)]
    assert query(new, ARTICLE_FIELDS) == query(archive_db, ARTICLE_FIELDS)


def test_a_damaged_captures_page_counts_the_rows_it_held(archive_copy, archive_db, tmp_path):
    """A leaf of captures in the middle of its tree: the rows lost are those it held."""
    leaves = [p for p, kind in pages_of(archive_db, "captures") if kind == "leaf"]
    page = leaves[len(leaves) // 2]
    cells = int.from_bytes(page_bytes(archive_db, page)[3:5], "big")  # its header's count
    flip_first_byte(archive_copy, page)
    new = tmp_path / "rescued.db"
    code, out, err = recover(archive_copy, new)
    total = query(archive_db, "SELECT count(*) FROM captures")[0][0]
    assert code == 0, out + err
    assert f"recover: {total - cells} captures " in out
    assert f"up to {cells} rows of captures could not be read" in out
    assert query(new, "SELECT count(*) FROM captures") == [(total - cells,)]


def test_recover_refuses_another_programs_file_as_every_command_does(tmp_path):
    """Not damage: another program's SQLite file is named as such, and nothing is made."""
    theirs = tmp_path / "theirs.db"
    conn = sqlite3.connect(theirs)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    before = sha256(theirs)
    result = run_olyscrape("recover", "--db", str(theirs), str(tmp_path / "new.db"))
    assert result.returncode == 1
    assert one_error_line(result.stderr) == (
        f"Error: archive {theirs}: not an olyscrape archive (another program's SQLite file,"
        " with tables notes); left unchanged"
    )
    assert sha256(theirs) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs.db"]
