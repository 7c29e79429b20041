"""9. Schema migrations: how long they take, the room they need at their peak, and the free
pages they leave, against what :func:`olyscrape.archive.room.needed` asks for beforehand.

Two migrations, each through :func:`olyscrape.archive.migrations.migrate` on a connection
as the writer opens it:

- **version 7 to the current one** on a copy of the ``search`` benchmark's archive
  (``Options.search_articles``: 1,000,000; ``--quick`` 20,000), taken back to version 7
  first (``partner_counts`` and its triggers dropped) if the builder made it current.
  Baseline: copying the file (``shutil.copyfile``), timed in the same run.
- **version 3 to the current one** (version 4's rewrite of the articles and links, then the
  ``VACUUM`` that gives back the pages it freed) on a version 3 archive of a fifth as many
  articles (200,000; ``--quick`` 4,000) built in SQL as ``tests/helpers.make_large_v3``
  builds it. Its seconds per million are the measured ones × 1,000,000 / articles (an
  extrapolation: the rewrite and the ``VACUUM`` read and write each row once).

The peak is sampled every 10 ms: the file, its ``-journal`` and ``-wal`` above the file's
size before, and SQLite's temporary files (a sort, ``VACUUM``'s copy), which it unlinks
as it opens them: the deleted files this process holds open, seen in ``/proc/self/fd``.

The migrated version 7 copy, given the 14 partners and a finished crawl, is kept in the
cache for the ``stats`` benchmark (:func:`stats_archive`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks import bench_search, common
from benchmarks.common import Options, Result, Row
from olyscrape.archive import counts, migrations, room
from olyscrape.archive.schema import SCHEMA_VERSION
from olyscrape.testing import archives
from olyscrape.testing.sitegen.data import PARTNERS

NAME = "migration"
TITLE = "schema migrations: seconds, peak room, free pages after"
SEEN = "2026-01-01T00:00:00Z"


class Peak:
    """The most room taken beside ``db``'s starting size, sampled until :meth:`stop`."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.start_size = db.stat().st_size
        self.folder = 0  # bytes above the file's starting size: file, -journal, -wal
        self.temp = 0  # SQLite's unlinked temporary files
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _folder(self) -> int:
        sizes = (Path(f"{self.db}{s}") for s in ("", "-journal", "-wal"))
        return sum(p.stat().st_size for p in sizes if p.exists()) - self.start_size

    @staticmethod
    def _temp() -> int:
        total = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{fd}").endswith(" (deleted)"):
                    total += os.stat(f"/proc/self/fd/{fd}").st_size
            except OSError:
                continue
        return total

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.folder = max(self.folder, self._folder())
            self.temp = max(self.temp, self._temp())
            time.sleep(0.01)

    def stop(self) -> Peak:
        self._stop.set()
        self._thread.join()
        return self


def migrate(db: Path) -> dict[str, Any]:
    """Migrate ``db`` as the writer does; seconds, CPU, peaks, free pages after, the
    estimate :func:`room.needed` made beforehand."""
    version = _query(db, "PRAGMA user_version")
    need = room.needed(db, version)
    size = db.stat().st_size
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    peak = Peak(db)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        migrations.migrate(conn)
    finally:
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak.stop()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    conn.close()
    return {
        "from_version": version, "bytes_before": size, "bytes_after": db.stat().st_size,
        "seconds": seconds, "cpu_seconds": cpu, "peak_folder_bytes": peak.folder,
        "peak_temp_bytes": peak.temp, "free_pages_after": free, "pages_after": pages,
        "estimate_folder_bytes": need.folder, "estimate_temp_bytes": need.temp,
        "vacuumed": need.vacuum,
    }  # fmt: skip


def _query(db: Path, sql: str) -> Any:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def as_version_7(db: Path) -> None:
    """``db`` as version 7 left it: no ``partner_counts``, none of its triggers."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] > 7:
            for name in counts.TRIGGERS:
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            conn.execute("DROP TABLE IF EXISTS partner_counts")
            conn.execute("PRAGMA user_version = 7")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def version_3(path: Path, articles: int) -> Path:
    """A version 3 archive of ``articles`` more articles, each linked to one partner, with a
    short body, indexed for search (as ``tests/helpers.make_large_v3``)."""
    archives.build(path, "3")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute(
        """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO articles (url, title, category, published, first_seen, last_seen, body)
        SELECT 'https://olympics.com/ioc/news/story-' || i, 'Story ' || i || ' of athletes',
            'News', printf('20%02d-%02d-%02d', i % 20, 1 + i % 12, 1 + i % 28), ?, ?,
            replace(printf('%.40c', '*'), '*', 'word ' || (i % 97) || ' ')
        FROM n""",
        [articles, SEEN, SEEN],
    )
    conn.execute(
        """INSERT INTO article_partners (article_url, partner, position, first_seen, last_seen)
        SELECT url, CASE WHEN rowid % 2 THEN 'visa' ELSE 'alibaba' END, rowid, first_seen,
            last_seen FROM articles WHERE url LIKE '%/story-%'"""
    )
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return path


def stats_path(options: Options) -> Path:
    """Where the ``stats`` benchmark's archive is kept: the ``search`` archive, current."""
    count = options.search_articles
    return common.CACHE / f"stats-{count}-v{bench_search.DATA_VERSION}-s{SCHEMA_VERSION}.db"


def keep_for_stats(db: Path, options: Options) -> Path:
    """``db`` (current) with the 14 partners and a finished crawl, kept as the ``stats``
    archive: the builder writes no partner and no crawl."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT OR IGNORE INTO partners (slug, name, url) VALUES (?, ?, ?)",
            [(slug, name, f"https://olympics.com/ioc/{slug}") for slug, name, _ in PARTNERS],
        )
        conn.execute(
            "INSERT INTO crawls (started_at, finished_at, status, stats, reasons)"
            " VALUES (?, ?, 'ok', '{}', '[]')",
            [SEEN, SEEN],
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    kept = stats_path(options)
    for old in (kept, Path(f"{kept}-wal"), Path(f"{kept}-shm")):
        old.unlink(missing_ok=True)
    shutil.move(db, kept)
    return kept


def stats_archive(options: Options) -> Path:
    """The ``stats`` benchmark's archive: kept from this benchmark's last run, else made
    now (a copy of the ``search`` archive, migrated if the builder made an older one)."""
    kept = stats_path(options)
    if kept.exists():
        return kept
    source, _ = bench_search.cached_archive(
        options.search_articles, options.search_sample, options.repeats
    )
    db = common.CACHE / f"{kept.stem}.making.db"
    shutil.copyfile(source, db)
    if _query(db, "PRAGMA user_version") < SCHEMA_VERSION:
        migrate(db)
    return keep_for_stats(db, options)


def _mb(size: float) -> str:
    return f"{size / 1e6:,.0f} MB"


def _rows(result: Result, label: str, run: dict[str, Any], articles: int, copy_s: float) -> None:
    size = run["bytes_before"]
    per_million = 1_000_000 / articles
    peak = run["peak_folder_bytes"] + run["peak_temp_bytes"]
    estimate = run["estimate_folder_bytes"] + run["estimate_temp_bytes"]
    free_share = run["free_pages_after"] / run["pages_after"]
    result.add(Row(
        NAME, f"{label}, {articles:,} articles: seconds", run["seconds"], "s",
        baseline=copy_s, baseline_unit="s", ratio=common.ratio(run["seconds"], copy_s),
        note=f"baseline: copying the {_mb(size)} file; {run['seconds'] * per_million:.0f} s per"
        f" million articles{' (extrapolated)' if articles != 1_000_000 else ''}; CPU"
        f" {run['cpu_seconds']:.1f} s" + ("; with the VACUUM" if run["vacuumed"] else ""),
    ))  # fmt: skip
    result.add(Row(
        NAME, f"{label}: peak extra room", peak / size, "x file",
        baseline=estimate / size, baseline_unit="x file (estimate)",
        ratio=common.ratio(peak, estimate), target="peak <= the estimate checked before",
        passed=peak <= estimate,
        note=f"{_mb(run['peak_folder_bytes'])} beside the file (file growth, -journal), "
        f"{_mb(run['peak_temp_bytes'])} of SQLite temporary files; estimated "
        f"{_mb(run['estimate_folder_bytes'])} + {_mb(run['estimate_temp_bytes'])}",
    ))  # fmt: skip
    result.add(Row(
        NAME, f"{label}: free pages after", free_share * 100, "%",
        target=f"<= {room.FREE_LIMIT * 100:.0f} %", passed=free_share <= room.FREE_LIMIT,
        note=f"file {_mb(size)} before, {_mb(run['bytes_after'])} after",
    ))  # fmt: skip


def run(options: Options) -> Result:
    result = Result()
    work = common.scratch_dir("olyscrape-migration-")
    source, _ = bench_search.cached_archive(
        options.search_articles, options.search_sample, options.repeats
    )
    db = work / "v7.db"
    copy_s, _ = common.timed(lambda: shutil.copyfile(source, db))
    as_version_7(db)
    latest = migrate(db)
    _rows(result, "v7 -> v8", latest, options.search_articles, copy_s)
    keep_for_stats(db, options)

    small = max(options.search_articles // 5, 1_000)
    old = version_3(work / "v3.db", small)
    old_copy_s, _ = common.timed(lambda: shutil.copyfile(old, work / "v3-copy.db"))
    (work / "v3-copy.db").unlink()
    oldest = migrate(old)
    _rows(result, "v3 -> v8", oldest, small, old_copy_s)
    result.details = {"v7": latest, "v3": oldest, "copy_seconds": {"v7": copy_s, "v3": old_copy_s}}
    return result
