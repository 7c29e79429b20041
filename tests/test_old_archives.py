"""Every read command reads an archive of every past schema version as it is (issue 20).

Each past version is built by ``olyscrape.testing.archives`` from the schema's history (four
shapes made before versioning, then versions 1 to 7, and the sparsest file the migrations
accept). Every read command must exit 0 on each, answer with the rows the file holds,
and leave the file and its folder byte for byte as they were; and what they answer must be
what they answer once a crawl has migrated the file.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from olyscrape.archive import ArchiveReader, ArchiveWriter, ArticleQuery, schema
from olyscrape.cli import cli
from olyscrape.testing.archives import ARTICLES, CRAWL, LINKS, PARTNERS, PAST_VERSIONS, build
from tests.helpers import cli_runner, free_port, query, sha256

URLS = {a["id"]: a["url"] for a in ARTICLES}


def listing(folder: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}


def run(*args: str) -> Any:
    result = cli_runner().invoke(cli, list(args))
    assert result.exit_code == 0, f"{args}: {result.output}{result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def answers(db: Path, out: Path) -> dict[str, Any]:
    """What each read command answers on ``db`` (as JSON where it has it)."""
    d = ["--db", str(db)]

    def js(*args: str) -> Any:
        return json.loads(run(*args, *d, "--format", "json").output)

    return {
        "articles": js("articles"),
        "by_partner": js("articles", "--partner", "visa"),
        "by_search": js("articles", "--search", "cloud"),
        "search": js("search", "cloud"),
        "ids": js("sql", "SELECT id, url FROM articles ORDER BY id"),
        "links": js("sql", "SELECT article_id, partner FROM partner_links ORDER BY 1, 2"),
        "by_year": js(
            "sql",
            "SELECT partner, year, count(*) AS n FROM partner_articles GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        "stats": js("stats"),
        "runs": js("runs"),
    }


@pytest.mark.parametrize("version", PAST_VERSIONS)
def test_every_read_command_reads_every_past_version_as_it_is(version: str, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    db = build(folder / f"v{version}.db", version)
    before = listing(folder)
    got = answers(db, tmp_path)
    columns = dict(PAST_VERSIONS[version].tables)["articles"][0]

    assert {a["url"] for a in got["articles"]} == set(URLS.values())
    partners_of = {URLS[n]: sorted(p for m, p, _ in LINKS if m == n) for n in URLS}
    assert {a["url"]: a["partners"] for a in got["articles"]} == partners_of
    assert {a["url"] for a in got["by_partner"]} == {URLS[n] for n, p, _ in LINKS if p == "visa"}
    assert [a["url"] for a in got["by_search"]] == [URLS[1]]  # "cloud" is in article 1 only
    assert [a["url"] for a in got["search"]] == [URLS[1]]
    assert [(r["id"], r["url"]) for r in got["ids"]] == sorted(URLS.items())
    assert [(r["article_id"], r["partner"]) for r in got["links"]] == sorted(
        (n, p) for n, p, _ in LINKS
    )
    linked = {p: sum(1 for _, q, _ in LINKS if q == p) for p in ("alibaba", "visa")}
    assert {p["partner"]: p["articles"] for p in got["stats"]["partners"]} == linked
    names = {p["slug"]: p["name"] for p in PARTNERS}
    has_names = "name" in dict(PAST_VERSIONS[version].tables)["partners"][0]
    for row in got["stats"]["partners"]:
        assert row["name"] == (names[row["partner"]] if has_names else None)
    dated = "published" in columns
    assert sum(r["n"] for r in got["by_year"]) == len(LINKS)
    assert all((r["year"] is not None) == dated for r in got["by_year"])
    assert [r["id"] for r in got["runs"]] == [CRAWL["id"]]

    verify = run("verify", "--db", str(db))
    older = PAST_VERSIONS[version].version < schema.SCHEMA_VERSION
    assert ("read as it is; the next crawl migrates it" in verify.output) == older
    run("backup", "--db", str(db), str(tmp_path / "copy.db"))
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT count(*) FROM articles").fetchone() == (len(URLS),)
    copy.close()
    with socket.socket() as taken:  # browse checks the archive, then finds its port taken
        port = free_port()
        taken.bind(("127.0.0.1", port))
        taken.listen()
        browse = cli_runner().invoke(cli, ["browse", "--db", str(db), "--port", str(port)])
    assert browse.exit_code == 4, browse.output + browse.stderr

    assert listing(folder) == before  # the file byte for byte, nothing beside it


@pytest.mark.parametrize("version", PAST_VERSIONS)
def test_an_old_archive_reads_as_it_will_once_migrated(version: str, tmp_path: Path) -> None:
    """The current shape given to an old file is the one a crawl's migration makes: every
    command answers the same before and after it (an article's number included)."""
    db = build(tmp_path / "old.db", version)
    before = answers(db, tmp_path)
    migrated = tmp_path / "migrated" / "new.db"
    migrated.parent.mkdir()
    shutil.copyfile(db, migrated)
    ArchiveWriter.open(migrated).close()  # what a crawl does first
    assert query(migrated, "PRAGMA user_version") == [(schema.SCHEMA_VERSION,)]
    assert answers(migrated, tmp_path) == before


def test_sql_sees_the_current_columns_and_the_files_own_tables(tmp_path: Path) -> None:
    """A researcher's ``sql`` on a version 3 file: ``articles`` has the current columns
    (``id`` its rowid, the later ones NULL); the file's own table is ``main.articles``."""
    db = build(tmp_path / "v3.db", "3")
    d = ["--db", str(db), "--format", "json"]
    current = json.loads(run("sql", "SELECT * FROM articles WHERE id = 1", *d).output)[0]
    assert list(current)[: len(schema.SCHEMA["articles"][0])] == list(schema.SCHEMA["articles"][0])
    assert current["page_failures"] is None and current["url"] == URLS[1]
    own = json.loads(run("sql", "SELECT * FROM main.articles LIMIT 1", *d).output)[0]
    assert "id" not in own and "page_failures" not in own and own["url"] == URLS[1]


_MIGRATE = "import sys; from olyscrape.archive import ArchiveWriter; ArchiveWriter.open(sys.argv[1]).close()"


@pytest.mark.parametrize("version", ["0-first", "0-sparse", "3"])
def test_a_reader_open_across_the_first_crawls_migration_keeps_answering(
    version: str, tmp_path: Path
) -> None:
    """A reader of an old file holds no lock between statements (the TEMP full-text index
    it builds is committed), so a crawl migrates the file while it is open (in another
    process, as a crawl would), and the reader answers the same before and after."""
    db = build(tmp_path / "old.db", version)
    reader = ArchiveReader.open(db)
    assert not reader.conn.in_transaction

    def read() -> tuple[object, ...]:
        return (reader.articles(ArticleQuery()), reader.partner_stats(),
                reader.search("cloud"), reader.counts_per_partner_year())  # fmt: skip

    before = read()
    migrated = subprocess.run([sys.executable, "-c", _MIGRATE, str(db)], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    assert query(db, "PRAGMA user_version") == [(schema.SCHEMA_VERSION,)]
    assert read() == before
    reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db"]
