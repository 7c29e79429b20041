"""``olyscrape export-wacz``: the archive's captures as a WACZ file that Webrecorder's own
tools accept. Checked with those tools: the ``wacz`` library's validator, the file's CDXJ
index read as pywb reads it, and a real pywb (``wb-manager add``, ``wayback``) serving an
archived article, whose bytes must be the capture's. The expected values come from the
archive (its captures and articles), never from the command's output.

pywb lives in an environment of its own (its brotlipy would replace Scrapy's brotli in
olyscrape's): ``$OLYSCRAPE_PYWB`` names a folder holding its ``wayback`` and ``wb-manager``,
else one is installed once into a cache folder (a skip says why where it cannot be).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import importlib.util
import io
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import (
    CHRIS_TUNG,
    cli_runner,
    free_port,
    one_error_line,
    query,
    run_olyscrape,
    sha256,
    start_olyscrape,
)

pytest.importorskip("wacz", reason="export-wacz needs the wacz extra (Python 3.11+)")

PYWB = "pywb==2.10.0"
NO_WACZ = "Error: export-wacz needs the wacz library (Python 3.11 or later): pip install 'olyscrape[wacz]'"


def export(db: Path, target: Path, *args: str) -> subprocess.CompletedProcess:
    return run_olyscrape("export-wacz", "--db", str(db), str(target), *args)


def invoke(*args: str):  # the CLI in this process: for what is refused before any work
    from olyscrape.cli import cli

    return cli_runner().invoke(cli, ["export-wacz", *args], prog_name="olyscrape")


def capture_body(db: Path, url: str) -> tuple[bytes, str]:
    """The newest capture of ``url`` in the archive: its body and its 14-digit timestamp."""
    body, fetched = query(
        db,
        "SELECT b.body, c.fetched_at FROM captures c JOIN capture_bodies b USING (sha256)"
        " WHERE c.canonical_url = ? ORDER BY c.id DESC LIMIT 1",
        url,
    )[0]
    return zlib.decompress(body), "".join(ch for ch in fetched if ch.isdigit())[:14]


def records(wacz: Path) -> list:
    """Every WARC record of the WACZ's archive/ folder: (target URI, type, headers, body)."""
    found = []
    with zipfile.ZipFile(wacz) as zf:
        for name in zf.namelist():
            if not name.startswith("archive/"):
                continue
            for record in ArchiveIterator(io.BytesIO(zf.read(name))):
                found.append((
                    record.rec_headers.get_header("WARC-Target-URI"), record.rec_type,
                    record.http_headers, record.content_stream().read(),
                ))  # fmt: skip
    return found


def cdxj_lines(wacz: Path) -> list[str]:
    """The CDXJ index: its compressed blocks (ZipNum), each a gzip member."""
    with zipfile.ZipFile(wacz) as zf:
        return gzip.decompress(zf.read("indexes/index.cdx.gz")).decode().splitlines()


def left_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def assert_refused(result, code: int, line: str, folder: Path, before: set[str]) -> None:
    assert result.exit_code == code, result.output
    stderr = result.stderr
    assert one_error_line(stderr) == line
    assert left_in(folder) == before  # no file, no temporary file


# --- the file itself ------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(archive_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's archive of the saved site, exported once by the command."""
    target = tmp_path_factory.mktemp("wacz") / "site.wacz"
    result = export(archive_db, target)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return target


@pytest.mark.slow
def test_the_wacz_validates_with_the_wacz_librarys_own_validator(exported):
    result = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(exported)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded, the passed WACZ is valid" in result.stdout
    with zipfile.ZipFile(exported) as zf:
        package = json.loads(zf.read("datapackage.json"))
        for resource in package["resources"]:  # each digest is the file's own
            digest = hashlib.sha256(zf.read(resource["path"])).hexdigest()
            assert resource["hash"] == f"sha256:{digest}"
        assert {r["path"] for r in package["resources"]} >= {
            "pages/pages.jsonl", "indexes/index.cdx.gz", "indexes/index.idx",
            "archive/site.warc.gz",
        }  # fmt: skip


@pytest.mark.slow
def test_every_capture_is_a_response_record_under_its_canonical_url(exported, archive_db):
    rows = query(
        archive_db,
        "SELECT c.canonical_url, c.status, c.content_type, b.body FROM captures c"
        " JOIN capture_bodies b USING (sha256) ORDER BY c.id",
    )
    found = [r for r in records(exported) if r[1] == "response"]
    assert len(found) == len(rows) > 100
    for (url, status, content_type, body), (uri, _, http, payload) in zip(rows, found, strict=True):
        assert uri == url and uri.startswith("https://olympics.com/")
        assert http.get_statuscode() == str(status)
        assert http.get_header("Content-Type") == content_type
        assert payload == zlib.decompress(body)  # byte for byte as stored
        assert http.get_header("Content-Length") == str(len(payload))


@pytest.mark.slow
def test_the_cdxj_index_finds_the_article_page_at_its_capture(exported, archive_db):
    body, timestamp = capture_body(archive_db, CHRIS_TUNG)
    key = "com,olympics)/" + CHRIS_TUNG.removeprefix("https://olympics.com/")
    hits = [line for line in cdxj_lines(exported) if line.split(" ", 1)[0] == key]
    assert len(hits) == 1, key
    _, ts, fields = hits[0].split(" ", 2)
    entry = json.loads(fields)
    assert ts == timestamp
    assert (entry["url"], entry["status"], entry["mime"]) == (CHRIS_TUNG, "200", "text/html")
    with zipfile.ZipFile(exported) as zf:  # the record where the index says it is
        warc = zf.read(f"archive/{entry['filename']}")
    chunk = warc[int(entry["offset"]) : int(entry["offset"]) + int(entry["length"])]
    record = next(iter(ArchiveIterator(io.BytesIO(chunk))))
    assert record.content_stream().read() == body


@pytest.mark.slow
def test_the_pages_list_holds_the_html_pages_with_their_archived_titles(exported, archive_db):
    with zipfile.ZipFile(exported) as zf:
        lines = zf.read("pages/pages.jsonl").decode().splitlines()
    header, *pages = (json.loads(line) for line in lines)
    assert header["format"] == "json-pages-1.0"
    html = query(
        archive_db,
        "SELECT count(*) FROM captures WHERE content_type LIKE 'text/html%' AND status = 200",
    )[0][0]
    assert len(pages) == html
    by_url = {page["url"]: page for page in pages}
    (title,) = query(archive_db, "SELECT title FROM articles WHERE url = ?", CHRIS_TUNG)[0]
    assert by_url[CHRIS_TUNG]["title"] == title
    (name, listing) = query(archive_db, "SELECT name, url FROM partners WHERE slug = 'visa'")[0]
    assert by_url[listing]["title"] == name
    assert not any("loadmore" in url for url in by_url)  # a listing's JSON is no page


# --- a real pywb -----------------------------------------------------------------------


def _pywb_folder() -> Path:
    """Where pywb's ``wayback`` and ``wb-manager`` are: ``$OLYSCRAPE_PYWB``, else a
    virtual environment made once in the user's cache (locked: xdist's workers share it)."""
    given = os.environ.get("OLYSCRAPE_PYWB")
    if given:
        return Path(given)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "olyscrape-tests" / PYWB.replace("==", "-")
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / "pywb.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / "bin" / "wayback").exists():
            shutil.rmtree(venv, ignore_errors=True)
            made = subprocess.run(
                f"{sys.executable} -m venv {venv} && {venv}/bin/pip install -q {PYWB}",
                shell=True, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if made.returncode:
                shutil.rmtree(venv, ignore_errors=True)
                lines = (made.stderr or made.stdout).strip().splitlines() or ["?"]
                pytest.skip(f"pywb cannot be installed here: {lines[-1]}")
    return venv / "bin"


@contextlib.contextmanager
def wayback(folder: Path, port: int) -> Iterator[str]:
    """pywb's ``wayback`` serving the collections of ``folder`` on 127.0.0.1:``port``."""
    binary = _pywb_folder() / "wayback"
    server = subprocess.Popen(
        [str(binary), "-p", str(port), "-b", "127.0.0.1"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    stderr = server.stderr.read() if server.stderr else b""
                    raise AssertionError(f"wayback did not start: {stderr!r}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.slow
def test_a_real_pywb_replays_the_article_byte_for_byte(exported, archive_db, tmp_path):
    folder = _pywb_folder()
    for args in (["init", "olyscrape"], ["add", "--unpack-wacz", "olyscrape", str(exported)]):
        made = subprocess.run(
            [str(folder / "wb-manager"), *args], cwd=tmp_path, capture_output=True, text=True
        )
        assert made.returncode == 0, made.stderr
    body, timestamp = capture_body(archive_db, CHRIS_TUNG)
    listing, listing_ts = capture_body(archive_db, "https://olympics.com/ioc/visa")
    with wayback(tmp_path, free_port()) as base:
        with urllib.request.urlopen(f"{base}/olyscrape/{timestamp}id_/{CHRIS_TUNG}") as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
            served = answer.read()
        page = f"{base}/olyscrape/{listing_ts}id_/https://olympics.com/ioc/visa"
        with urllib.request.urlopen(page) as answer:
            served_listing = answer.read()
    assert served == body
    assert served_listing == listing


# --- what it exports ---------------------------------------------------------------------


def test_a_mirrors_address_never_reaches_the_wacz(archive_copy, tmp_path):
    """A crawl of a mirror keeps the URL it fetched; the WACZ has the olympics.com one."""
    with sqlite3.connect(archive_copy) as conn:
        conn.execute("UPDATE captures SET url = replace(url, 'https://olympics.com', "
                     "'http://127.0.0.1:8000')")  # fmt: skip
    conn.close()
    target = tmp_path / "out" / "mirror.wacz"
    target.parent.mkdir()
    result = invoke("--db", str(archive_copy), str(target))
    assert result.exit_code == 0, result.output
    uris = [uri for uri, kind, *_ in records(target) if kind == "response"]
    assert len(uris) == query(archive_copy, "SELECT count(*) FROM captures")[0][0]
    assert all(uri.startswith("https://olympics.com/") for uri in uris)
    with zipfile.ZipFile(target) as zf:
        assert b"127.0.0.1" not in zf.read("indexes/index.cdx.gz") + zf.read("pages/pages.jsonl")
    assert left_in(target.parent) == {"mirror.wacz"}  # nothing beside it


@pytest.mark.slow
def test_crawl_last_exports_only_the_newest_crawls_captures(archive_copy, tmp_path):
    again = run_olyscrape("crawl", "--replay", str(Path(__file__).parent / "fixtures" / "site"),
                          "--db", str(archive_copy))  # fmt: skip
    assert again.returncode == 0, again.stderr
    newest = query(archive_copy, "SELECT max(id) FROM crawls")[0][0]
    for which, crawl in (("last", newest), ("1", 1), (None, None)):
        target = tmp_path / f"{which}.wacz"
        result = invoke(
            "--db", str(archive_copy), str(target), *(["--crawl", which] if which else [])
        )
        assert result.exit_code == 0, result.output
        expected = query(
            archive_copy, "SELECT count(*) FROM captures WHERE ? IS NULL OR crawl_id = ?",
            crawl, crawl,
        )[0][0]  # fmt: skip
        assert len([r for r in records(target) if r[1] == "response"]) == expected > 0


# --- refused before any work: one line, its exit code, nothing written -------------------


def test_an_unknown_crawl_is_a_usage_error(archive_db, tmp_path):
    before = left_in(tmp_path)
    result = invoke("--db", str(archive_db), str(tmp_path / "a.wacz"), "--crawl", "99")
    assert_refused(
        result, 2,
        "Error: Invalid value for '--crawl': the archive has no crawl 99 (its crawls: 1 to 1;"
        " see olyscrape runs) (see: olyscrape export-wacz --help)",
        tmp_path, before,
    )  # fmt: skip


def test_an_archive_without_captures_writes_no_file(archive_copy, tmp_path):
    with sqlite3.connect(archive_copy) as conn:
        conn.execute("DELETE FROM captures")
    conn.close()
    folder = tmp_path / "out"
    folder.mkdir()
    result = invoke("--db", str(archive_copy), str(folder / "a.wacz"))
    assert_refused(
        result, 1, "Error: no WACZ written: the archive holds no captures", folder, set()
    )


def test_a_crawl_without_captures_writes_no_file(archive_copy, tmp_path):
    with sqlite3.connect(archive_copy) as conn:  # a crawl that failed before its first answer
        conn.execute("INSERT INTO crawls (id, started_at, status) VALUES (2, '2026-01-01T00:00:00Z',"
                     " 'failed')")  # fmt: skip
    conn.close()
    folder = tmp_path / "out"
    folder.mkdir()
    for which in ("2", "last"):
        result = invoke("--db", str(archive_copy), str(folder / "a.wacz"), "--crawl", which)
        assert_refused(result, 1, "Error: no WACZ written: crawl 2 kept no captures", folder, set())


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("archive.db", "'FILE': {db} is the archive itself; name another file"),
        ("archive.db-wal", "'FILE': {db}-wal is the archive's wal file; name another file"),
        ("missing/a.wacz", "'FILE': {folder}/missing/a.wacz: no folder {folder}/missing"),
        (
            "a.zip",
            "'FILE': {folder}/a.zip: name a .wacz file (ReplayWeb.page and pywb know WACZ by it)",
        ),
        ("sub", "'FILE': {kind} '{folder}/sub' is a directory."),  # click's word varies
    ],
    ids=["the-archive", "its-wal", "a-missing-folder", "not-wacz", "a-folder"],
)
def test_a_bad_file_is_a_usage_error_and_the_archive_keeps_its_bytes(archive_copy, name, line):
    folder = archive_copy.parent
    (folder / "sub").mkdir()
    digest = sha256(archive_copy)
    before = left_in(folder)
    target = folder / name
    result = invoke("--db", str(archive_copy), str(target))
    said = one_error_line(result.stderr)
    kind = "File" if "'FILE': File " in said else "Path"
    expected = line.format(db=archive_copy, folder=folder, kind=kind)
    assert_refused(
        result, 2,
        f"Error: Invalid value for {expected} (see: olyscrape export-wacz --help)",
        folder, before,
    )  # fmt: skip
    assert sha256(archive_copy) == digest


def test_a_fifo_is_refused_and_left_a_fifo(archive_db, tmp_path):
    fifo = tmp_path / "pipe.wacz"
    os.mkfifo(fifo)
    before = left_in(tmp_path)
    result = invoke("--db", str(archive_db), str(fifo))
    assert_refused(
        result, 2,
        f"Error: Invalid value for 'FILE': {fifo} is no regular file; name a file"
        " (see: olyscrape export-wacz --help)",
        tmp_path, before,
    )  # fmt: skip
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_captures_without_a_date_write_no_file(archive_copy, tmp_path):
    with sqlite3.connect(archive_copy) as conn:
        conn.execute("UPDATE captures SET fetched_at = NULL")
    conn.close()
    folder = tmp_path / "out"
    folder.mkdir()
    (total,) = query(archive_copy, "SELECT count(*) FROM captures")[0]
    result = invoke("--db", str(archive_copy), str(folder / "a.wacz"))
    assert_refused(
        result,
        1,
        f"Error: no WACZ written: none of its {total:,} captures has a date",
        folder,
        set(),
    )


def test_without_the_wacz_library_one_line_names_the_extra(archive_db, tmp_path, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "wacz" else find_spec(name, *a),
    )
    before = left_in(tmp_path)
    result = invoke("--db", str(archive_db), str(tmp_path / "a.wacz"))
    assert_refused(result, 1, NO_WACZ, tmp_path, before)


def test_a_failure_inside_the_wacz_library_is_one_line_and_leaves_nothing(
    archive_db, tmp_path, monkeypatch
):
    import wacz.main

    def broken(options):  # as cdxj-indexer failed on a warcio too old for it
        raise TypeError("Indexer.__init__() got an unexpected keyword argument 'verify_http'")

    monkeypatch.setattr(wacz.main, "create_wacz", broken)
    before = left_in(tmp_path)
    result = invoke("--db", str(archive_db), str(tmp_path / "a.wacz"))
    assert_refused(
        result, 1,
        "Error: no WACZ written: the wacz library failed (TypeError: Indexer.__init__() got an"
        " unexpected keyword argument 'verify_http')",
        tmp_path, before,
    )  # fmt: skip


# --- faults while it writes --------------------------------------------------------------


@pytest.mark.slow
def test_a_full_disk_leaves_no_file_and_says_so(archive_db, disk):
    point = disk("512k")
    target = point / "site.wacz"
    result = export(archive_db, target)
    assert result.returncode == 1, result.stderr
    assert one_error_line(result.stderr) == (
        f"Error: cannot write {target} (No space left on device): no WACZ written"
    )
    assert left_in(point) == set()  # neither the file nor its work folder
    disk.remount("size=20m")  # room again: the same command succeeds
    assert export(archive_db, target).returncode == 0
    assert left_in(point) == {"site.wacz"}


@pytest.mark.slow
def test_a_read_only_archive_is_exported_and_left_as_it_was(archive_db, disk, tmp_path):
    point = disk("20m")
    db = point / "archive.db"
    shutil.copyfile(archive_db, db)
    disk.remount("ro")
    files = {p.name: sha256(p) for p in point.iterdir()}
    target = tmp_path / "ro.wacz"
    result = export(db, target)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len([r for r in records(target) if r[1] == "response"]) == query(
        archive_db, "SELECT count(*) FROM captures")[0][0]  # fmt: skip
    assert {p.name: sha256(p) for p in point.iterdir()} == files


def larger_archive(source: Path, target: Path, copies: int) -> Path:
    """The saved site's archive with every capture repeated ``copies`` times (new ids, the
    same bodies): an export that takes long enough to be interrupted."""
    shutil.copyfile(source, target)
    with sqlite3.connect(target) as conn:
        (top,) = conn.execute("SELECT max(id) FROM captures").fetchone()
        for n in range(1, copies):
            conn.execute(
                "INSERT INTO captures (id, url, canonical_url, fetched_at, status, content_type,"
                " sha256, crawl_id) SELECT id + ?, url, canonical_url, fetched_at, status,"
                " content_type, sha256, crawl_id FROM captures WHERE id <= ?",
                (n * top, top),
            )
    conn.close()
    return target


def export_at_work(archive_db: Path, tmp_path: Path, folder: Path) -> subprocess.Popen:
    """An export of a larger archive into ``folder`` (made here) as ``large.wacz``, started
    and seen at work (its folder beside the file), a moment in."""
    db = larger_archive(archive_db, tmp_path / "large.db", copies=40)
    folder.mkdir()
    process = start_olyscrape("export-wacz", "--db", str(db), str(folder / "large.wacz"))
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".tmp") for p in folder.iterdir()):  # at work
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()  # type: ignore[union-attr]
        time.sleep(0.01)
    time.sleep(0.3)
    return process


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_an_interrupted_export_leaves_nothing(archive_db, tmp_path, signum):
    folder = tmp_path / "out"
    process = export_at_work(archive_db, tmp_path, folder)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr.decode()
    assert stderr.decode().strip() == "Interrupted: no WACZ file written; the archive is unchanged"
    assert left_in(folder) == set()
    assert not any(p.name.endswith(("-wal", "-shm")) for p in tmp_path.iterdir())


@pytest.mark.slow
def test_an_export_killed_outright_leaves_its_folder_to_the_next_export(archive_db, tmp_path):
    """SIGKILL gives an export no chance to clean up: its work folder stays, until the next
    export into the same folder removes it (its process is gone). Another export's folder,
    whose process still runs, is left alone."""
    folder = tmp_path / "out"
    process = export_at_work(archive_db, tmp_path, folder)
    process.kill()
    process.communicate(timeout=60)
    (abandoned,) = [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    running = folder / f".large.wacz.{os.getpid()}.abcd1234.tmp"  # this test's: alive
    running.mkdir()
    result = export(archive_db, folder / "other.wacz")  # another file, the same folder
    assert result.returncode == 0, result.stderr
    assert not abandoned.exists() and running.is_dir()
    assert left_in(folder) == {"other.wacz", running.name}
