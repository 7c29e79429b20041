"""Read commands create nothing beside a file they refuse or only read (issue 20).

SQLite (3.22 on) creates a ``-wal`` and ``-shm`` for any read-only connection to a WAL-mode
file whose ``-wal`` is missing, and only a writable connection's close removes them. Here:
another program's WAL-mode file refused by every command, and an archive at rest read by
every read command, leave their folder as it was, byte for byte; a crawl's live ``-wal``
is never taken from it, and one holding commits (a killed crawl's) is never removed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from olyscrape.archive import ArchiveReader, ArchiveWriter, paths
from olyscrape.archive.walfile import wal_state
from olyscrape.cli import cli
from tests.helpers import SITE, cli_runner, free_port, one_error_line, run_olyscrape, sha256

# Every read command, as run on the archive at ``{db}`` (``{out}``: a folder elsewhere).
READS = {
    "articles": ["articles", "--db", "{db}"],
    "articles --search": ["articles", "--search", "athletes", "--db", "{db}"],
    "search": ["search", "athletes", "--db", "{db}"],
    "sql": ["sql", "--db", "{db}", "SELECT count(*) FROM articles"],
    "stats": ["stats", "--db", "{db}"],
    "runs": ["runs", "--db", "{db}"],
    "verify": ["verify", "--db", "{db}"],
    "backup": ["backup", "--db", "{db}", "{out}/copy.db"],
}


def listing(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` and its sha256."""
    return {p.name: sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}


def argv(template: list[str], db: Path, out: Path) -> list[str]:
    return [a.format(db=db, out=out) for a in template]


def foreign_wal_file(path: Path) -> Path:
    """Another program's SQLite file in WAL mode, at rest (its -wal checkpointed away)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('mine')")
    conn.commit()
    conn.close()
    assert paths.in_wal_mode(path) and not Path(f"{path}-wal").exists()
    return path


@pytest.fixture
def at_rest(archive_db: Path, tmp_path: Path) -> Path:
    """A copy of the session's archive, alone in a folder, at rest: in WAL mode, no -wal."""
    folder = tmp_path / "archive"
    folder.mkdir()
    db = folder / "archive.db"
    shutil.copyfile(archive_db, db)
    assert paths.in_wal_mode(db) and list(folder.iterdir()) == [db]
    return db


@pytest.mark.parametrize("name", [*READS, "browse"])
def test_a_foreign_wal_file_is_refused_and_nothing_appears_beside_it(
    name: str, tmp_path: Path
) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir()
    db = foreign_wal_file(folder / "f.db")
    before = listing(folder)
    args = ["browse", "--db", str(db), "--port", "0"] if name == "browse" else READS[name]
    result = cli_runner().invoke(cli, argv(args, db, tmp_path))
    assert result.exit_code == 1, result.output
    line = one_error_line(result.stderr)
    assert "not an olyscrape archive" in line and "left unchanged" in line
    assert listing(folder) == before  # no -wal, no -shm, the file byte for byte
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["crawl", "reparse"])
def test_a_refused_crawl_or_reparse_creates_nothing_beside_a_foreign_file(
    command: str, tmp_path: Path
) -> None:
    db = foreign_wal_file(tmp_path / "f.db")
    before = listing(tmp_path)
    extra = ["--replay", str(SITE)] if command == "crawl" else []
    result = run_olyscrape(command, "--db", str(db), *extra)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not an olyscrape archive" in one_error_line(result.stderr)
    assert listing(tmp_path) == before  # no -wal, -shm, -journal or .lock


@pytest.mark.parametrize("name", READS)
def test_reading_an_archive_at_rest_leaves_its_folder_as_it_was(
    name: str, at_rest: Path, tmp_path: Path
) -> None:
    folder = at_rest.parent
    before = listing(folder)
    result = cli_runner().invoke(cli, argv(READS[name], at_rest, tmp_path))
    assert result.exit_code == 0, result.output + result.stderr
    assert "Traceback" not in result.stderr
    assert listing(folder) == before
    if name == "backup":  # the copy itself is whole, and alone in its own folder
        with ArchiveReader.open(tmp_path / "copy.db") as copy:
            assert copy.count("articles") > 100
        assert not Path(f"{tmp_path}/copy.db-wal").exists()


def test_browse_checks_leave_nothing_beside_the_archive(at_rest: Path) -> None:
    """``browse`` opens the archive and checks it before it looks for its port: with the
    port taken, it stops there (exit 4), having read the archive twice."""
    folder = at_rest.parent
    before = listing(folder)
    import socket

    with socket.socket() as taken:
        port = free_port()
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = cli_runner().invoke(cli, ["browse", "--db", str(at_rest), "--port", str(port)])
    assert result.exit_code == 4, result.output
    assert listing(folder) == before


def test_a_reader_never_takes_a_live_writers_wal(at_rest: Path) -> None:
    """A reader closing while a crawl's writer has the archive open removes nothing (the
    -wal is the writer's, live); the writer closing while a reader is open cannot remove
    its own, so the last one out, the reader, does. Nothing is lost either way."""
    folder = at_rest.parent
    reader = ArchiveReader.open(at_rest)
    articles = reader.count("articles")
    writer = ArchiveWriter.open(at_rest)
    other = ArchiveReader.open(at_rest)
    other.close()  # the writer has the file open: its -wal and -shm stay
    assert Path(f"{at_rest}-wal").exists() and Path(f"{at_rest}-shm").exists()
    with writer._transaction() as conn:  # a crawl's commit while both are open
        conn.execute("UPDATE partners SET name = 'Renamed' WHERE slug = 'visa'")
    assert dict(reader.partners())["visa"] == "Renamed"  # the reader reads the live -wal
    writer.close()  # its checkpoint copies the commit in; the open reader keeps the files
    assert wal_state(at_rest).frames == 0
    assert reader.count("articles") == articles
    reader.close()  # the last connection: nothing left beside the file
    assert sorted(p.name for p in folder.iterdir()) == [at_rest.name]
    conn = sqlite3.connect(f"file:{at_rest}?immutable=1", uri=True)
    assert conn.execute("SELECT name FROM partners WHERE slug = 'visa'").fetchone() == ("Renamed",)
    conn.close()


def test_a_wal_holding_commits_is_never_removed_by_a_reader(at_rest: Path) -> None:
    """A ``-wal`` left with commits (a crawl killed before its checkpoint) stays beside the
    file, untouched, and the file is not written: only a crawl copies it in."""
    script = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('PRAGMA wal_autocheckpoint = 0')\n"
        "conn.execute('BEGIN')\n"
        "conn.execute('UPDATE writer_session SET commits = commits + 1')  # a crawl's mark\n"
        "conn.execute(\"UPDATE partners SET name = 'Killed' WHERE slug = 'visa'\")\n"
        "conn.execute('COMMIT')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(at_rest)], check=True)
    assert wal_state(at_rest).frames > 0
    db, wal = sha256(at_rest), sha256(Path(f"{at_rest}-wal"))
    for name in ("articles", "stats", "runs"):
        result = cli_runner().invoke(cli, argv(READS[name], at_rest, at_rest.parent))
        assert result.exit_code == 0, result.output + result.stderr
    sql = ["sql", "--db", str(at_rest), "SELECT name FROM partners WHERE slug = 'visa'"]
    assert "Killed" in cli_runner().invoke(cli, sql).output  # read through the -wal
    assert sha256(at_rest) == db and sha256(Path(f"{at_rest}-wal")) == wal
    assert Path(f"{at_rest}-shm").exists()  # the -wal's index, which SQLite may rebuild


def test_a_look_at_a_file_is_read_again_when_it_changed_meanwhile(tmp_path: Path) -> None:
    """``read_briefly`` reads a WAL file at rest immutable; if the file changes while it
    reads (a crawl's first checkpoint), what it read is not used: it reads again."""
    db = foreign_wal_file(tmp_path / "f.db")
    reads: list[int] = []

    def read(conn: sqlite3.Connection) -> int:
        reads.append(1)
        if len(reads) == 1:  # as if a writer wrote the file during the first read
            os.utime(db, ns=(1, 1))
        return int(conn.execute("SELECT count(*) FROM notes").fetchone()[0])

    assert paths.read_briefly(db, read) == 1
    assert len(reads) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.db"]


def test_leave_nothing_keeps_what_is_not_empty_or_in_use(tmp_path: Path) -> None:
    db = foreign_wal_file(tmp_path / "f.db")
    holder = sqlite3.connect(db)  # another program has it open
    holder.execute("SELECT * FROM notes").fetchall()
    assert not paths.leave_nothing(db)
    assert Path(f"{db}-wal").exists()
    holder.close()  # a writable connection's own close removes them
    assert not Path(f"{db}-wal").exists()


@pytest.mark.slow
def test_reads_during_a_crawl_never_fail_and_leave_only_the_crawls_files(at_rest: Path) -> None:
    """Read commands run over and over while a crawl writes (each opening, reading and
    closing the archive as the crawl commits and checkpoints) all succeed; a reader open
    since before the crawl started keeps reading; once both are done, nothing is left
    beside the archive but the crawl's lock file."""
    folder = at_rest.parent
    held = ArchiveReader.open(at_rest)  # a long read, open before the crawl starts
    held.count("articles")
    crawl = subprocess.Popen(
        [sys.executable, "-m", "olyscrape", "crawl", "--replay", str(SITE), "--db", str(at_rest),
         "--full", "--batch-size", "1", "-s", "DOWNLOAD_DELAY=0.02"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    reads = 0
    try:
        while crawl.poll() is None:
            for name in ("articles", "stats", "runs", "search", "sql"):
                result = cli_runner().invoke(cli, argv(READS[name], at_rest, folder))
                assert result.exit_code == 0, (name, result.output, result.stderr)
                reads += 1
            assert held.count("articles") > 100
    finally:
        out, err = crawl.communicate(timeout=240)
    assert crawl.returncode == 0, out + err
    assert reads >= 5
    runs = held.crawl_history()
    assert runs[0]["status"] == "ok"  # the reader open all along sees the crawl's record
    held.close()
    assert sorted(p.name for p in folder.iterdir()) == [at_rest.name, f"{at_rest.name}.lock"]


def test_a_second_reader_in_one_process_keeps_the_first_ones_lock(at_rest: Path) -> None:
    """Closing any descriptor of a file drops every POSIX lock the process holds on it,
    SQLite's included: opening a second reader (which reads the file's header) must not,
    or another process's close could remove the -wal and -shm the first one reads."""
    first = ArchiveReader.open(at_rest)
    first.count("articles")
    ArchiveReader.open(at_rest).close()
    paths.in_wal_mode(at_rest)
    tidy = (
        "import sys; from olyscrape.archive import paths; print(paths.leave_nothing(sys.argv[1]))"
    )
    other = subprocess.run([sys.executable, "-c", tidy, str(at_rest)], capture_output=True,
                           text=True, check=True)  # fmt: skip
    assert other.stdout.strip() == "False"  # the first reader still has the file open
    assert Path(f"{at_rest}-wal").exists() and Path(f"{at_rest}-shm").exists()
    assert first.count("articles") > 100
    first.close()
    assert sorted(p.name for p in at_rest.parent.iterdir()) == [at_rest.name]


def test_what_a_killed_reader_left_is_removed_by_the_next_read(at_rest: Path) -> None:
    """A reader killed (``kill -9``) cannot tidy: its empty -wal and -shm stay, and the
    next read command, the last one out, removes them."""
    script = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True)\n"
        "conn.execute('SELECT count(*) FROM articles').fetchone()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(at_rest)], check=True)
    assert Path(f"{at_rest}-wal").stat().st_size == 0 and Path(f"{at_rest}-shm").exists()
    db = sha256(at_rest)
    result = cli_runner().invoke(cli, argv(READS["runs"], at_rest, at_rest.parent))
    assert result.exit_code == 0, result.output + result.stderr
    assert sorted(p.name for p in at_rest.parent.iterdir()) == [at_rest.name]
    assert sha256(at_rest) == db
