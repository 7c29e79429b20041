"""9. A crawl's cost against the size of its archive: CPU time (user + sys) and peak RSS of
the same incremental crawl (default options) of the saved site (``tests/fixtures/site``,
``--replay``: no network) into an archive of ``Options.search_articles`` articles
(1,000,000; ``--quick``: 20,000) and into a small one, alternating, medians.
Target: within 1.2x of the small archive, CPU and memory.

"The same crawl": both archives first hold one crawl of the saved site (the large one on
top of the search benchmark's articles, whose builder and cache it reuses: see
``bench_search.cached_archive``), so the measured crawls read the same pages (discovery,
one listing page per partner, each stopped at cards archived before) and add nothing new.
The large archive is a copy of the search archive kept in ``common.CACHE``
(``crawlstart-<N>-v<version>.db``, made once: a 2 GB copy and a first crawl), so
repeated runs measure the same file; the links its generator gave to partners whose saved
listing shows no card (Airbnb) are removed, or the monitors would fail that crawl ("no card
on its listing page, 71429 archived before") where the small archive's passes.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path

from benchmarks import bench_search, common
from benchmarks.common import Options, Result, Row

NAME = "crawlstart"
TITLE = "an incremental crawl into a large archive against the same crawl into a small one"
TARGET_RATIO = 1.2
SITE = common.REPO / "tests" / "fixtures" / "site"
#: Bump when the way the large archive is prepared changes: its cache is keyed by it.
PREPARED_VERSION = 1


def crawl(db: Path) -> common.ChildRun:
    """``olyscrape crawl --replay <saved site> --db <db>``, default options, in a child."""
    args = [common.PYTHON, "-m", "olyscrape", "crawl", "--replay", SITE, "--db", db]
    return common.run_child(args).check()


def _partners_linked(db: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {slug for (slug,) in conn.execute("SELECT DISTINCT partner FROM partner_links")}


def _last_crawl(db: Path) -> dict[str, object]:
    conn = sqlite3.connect(db)
    try:
        (stats,) = conn.execute("SELECT stats FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return dict(json.loads(stats))


def prepared_archive(count: int, options: Options, small: Path) -> tuple[Path, dict[str, object]]:
    """The search benchmark's archive of ``count`` articles, copied once into the cache,
    without the links of partners the saved site shows no card for (those ``small``, after
    its first crawl, does not link), then crawled once. How it was made comes back."""
    source, meta = bench_search.cached_archive(count, options.search_sample, options.repeats)
    path = common.CACHE / (
        f"crawlstart-{count}-v{bench_search.DATA_VERSION}.{PREPARED_VERSION}"
        f"-s{bench_search.SCHEMA_VERSION}.db"
    )
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        return path, json.loads(meta_path.read_text()) | {"cached": True}
    building = path.with_suffix(".building")
    for stale in (path, meta_path, building):
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{stale}{suffix}").unlink(missing_ok=True)
    copy_s, _ = common.timed(lambda: shutil.copyfile(source, building))
    shown = _partners_linked(small)
    others = _partners_linked(building) - shown
    with contextlib.closing(sqlite3.connect(building)) as conn:
        with conn:
            for slug in others:
                conn.execute("DELETE FROM partner_links WHERE partner = ?", [slug])
        # Into the file itself before it is renamed: a -wal left under the old name
        # would be lost with what it holds.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        left = Path(f"{building}{suffix}")
        if left.exists() and suffix == "-wal" and left.stat().st_size:
            raise RuntimeError(f"{left}: not checkpointed into {building}")
        left.unlink(missing_ok=True)
    building.rename(path)  # then crawled in place: its lock keeps the file's fingerprint
    first = crawl(path)  # migrates the copy if it is behind, checks it in full
    made = {"source": str(source), "source_build": meta, "copy_s": copy_s,
            "first_crawl_cpu_s": first.cpu, "first_crawl_wall_s": first.wall}  # fmt: skip
    meta_path.write_text(json.dumps(made, indent=1))
    return path, made | {"cached": False}


def run(options: Options) -> Result:
    result = Result()
    count = options.search_articles
    work = common.scratch_dir("crawlstart-")
    small = work / "small.db"
    crawl(small)  # the small archive: one crawl of the saved site
    large, made = prepared_archive(count, options, small)
    if not options.quick:  # warm: the page cache, and a first check of a file moved here
        crawl(small)
        crawl(large)
    pairs = 1 if options.quick else max(options.repeats, 5)
    runs: dict[str, list[common.ChildRun]] = {"small": [], "large": []}
    for _ in range(pairs):
        runs["small"].append(crawl(small))
        runs["large"].append(crawl(large))
    read = {name: _last_crawl(db) for name, db in (("small", small), ("large", large))}
    shutil.rmtree(work, ignore_errors=True)
    pages = {name: stats.get("response_received_count") for name, stats in read.items()}
    same_pages = pages["small"] == pages["large"]
    cpu = {name: common.median([r.cpu for r in rs]) for name, rs in runs.items()}
    rss = {name: common.median([r.maxrss_mib for r in rs]) for name, rs in runs.items()}
    result.details = {
        "articles": count,
        "large_archive": str(large),
        "prepared": made,
        "pairs": pairs,
        "responses": pages,
        "same_pages": same_pages,
        "cpu_s": {name: [r.cpu for r in rs] for name, rs in runs.items()},
        "maxrss_mib": {name: [r.maxrss_mib for r in rs] for name, rs in runs.items()},
        "wall_s": {name: [r.wall for r in rs] for name, rs in runs.items()},
    }
    note = f"baseline: the same crawl into a {pages['small']}-response small archive"
    for what, figures, unit in (("CPU (user+sys)", cpu, "s"), ("peak RSS", rss, "MiB")):
        ratio = common.ratio(figures["large"], figures["small"])
        result.add(
            Row(
                NAME,
                f"incremental crawl {what} at {count:,} articles",
                figures["large"],
                unit,
                baseline=figures["small"],
                baseline_unit=unit,
                ratio=ratio,
                target=f"<= {TARGET_RATIO:g}x",
                passed=same_pages and ratio is not None and ratio <= TARGET_RATIO,
                note=f"{note}; median of {pairs}, alternating",
            )
        )
    return result
