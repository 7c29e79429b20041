"""10. ``olyscrape stats`` at a million articles: the whole command's wall time, against the
same SQL run by plain ``sqlite3`` and against Python's own start-up. Target: under 1 s.

The archive is the ``search`` benchmark's (``Options.search_articles``: 1,000,000;
``--quick`` 20,000), current, with the 14 partners and a finished crawl (the builder
writes neither): :func:`benchmarks.bench_migration.stats_archive`, kept in the cache.

Each of these runs in a child process (``common.run_child``), taking turns,
``max(repeats, 5)`` times (median, p95, max):

- ``olyscrape stats --db ARCHIVE`` (its tables to a pipe);
- the same SQL (:mod:`olyscrape.archive.counts`' queries, the crawls, the undated count)
  run by ``python -c 'import sqlite3; ...'`` on a read-only connection: the baseline;
- ``python -c 'import sqlite3'``: the interpreter's own start-up;
- the figures' SQL before version 8 (every link joined to its article, as ``stats`` read
  them at version 7) by plain ``sqlite3``: what ``partner_counts`` saves.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_migration, common
from benchmarks.common import Options, Result, Row
from olyscrape.archive import counts

NAME = "stats"
TITLE = "olyscrape stats at a million articles"
TARGET_S = 1.0

_OTHER = [
    "SELECT * FROM crawls ORDER BY id DESC LIMIT 5",
    "SELECT count(*) FROM articles WHERE published IS NULL",
]
#: What ``stats`` read at version 7: the per-partner figures and the per-partner-year
#: counts, each joining every link to its article, and the years by a sort of every row.
BEFORE = [
    """SELECT p.slug, p.name, count(a.url), min(a.published), max(a.published)
    FROM partners p LEFT JOIN partner_links l ON l.partner = p.slug
    LEFT JOIN articles a ON a.id = l.article_id GROUP BY p.slug ORDER BY p.slug""",
    """SELECT coalesce(substr(published, 1, 4), 'undated'), count(*) FROM articles
    GROUP BY 1 ORDER BY 1""",
    """SELECT partner, year, count(*) FROM partner_articles WHERE year IS NOT NULL
    GROUP BY partner, year ORDER BY partner, year""",
    *_OTHER,
]
NOW = [counts.PARTNER_STATS, counts.PER_YEAR, counts.PER_PARTNER_YEAR, *_OTHER]


def plain(db: Path, statements: list[str]) -> list[str]:
    """A child running ``statements`` with nothing but ``sqlite3``, printing each row."""
    script = (
        "import sys, sqlite3\n"
        f"conn = sqlite3.connect({db.as_uri() + '?mode=ro'!r}, uri=True)\n"
        f"for sql in {statements!r}:\n"
        "    for row in conn.execute(sql):\n"
        "        print(*row)\n"
    )
    return [common.PYTHON, "-c", script]


def _child(args: list[str]) -> common.ChildRun:
    run = common.run_child(args)
    if run.returncode != 0:
        raise RuntimeError(f"{args[:4]} failed ({run.returncode}): {run.stderr[-2000:]}")
    return run


def run(options: Options) -> Result:
    result = Result()
    db = bench_migration.stats_archive(options)
    commands = {
        "stats": [common.PYTHON, "-m", "olyscrape", "stats", "--db", str(db)],
        "same_sql": plain(db, NOW),
        "python": [common.PYTHON, "-c", "import sqlite3"],
        "before_sql": plain(db, BEFORE),
    }
    _child(commands["stats"])  # the file in the page cache, as for every later run
    runs: dict[str, list[common.ChildRun]] = {name: [] for name in commands}

    def each(name: str) -> float:
        child = _child(commands[name])
        runs[name].append(child)
        return child.wall

    repeats = max(options.repeats, 5)
    common.alternate({name: lambda n=name: each(n) for name in commands}, repeats)
    walls = {name: [r.wall for r in rs] for name, rs in runs.items()}
    cpu = {name: common.median([r.cpu for r in rs]) for name, rs in runs.items()}
    median = {name: common.median(w) for name, w in walls.items()}
    articles = f"{options.search_articles:,} articles"
    for label, figure, base in (
        ("median", median["stats"], median["same_sql"]),
        ("p95", common.percentile(walls["stats"], 0.95),
         common.percentile(walls["same_sql"], 0.95)),
        ("max", max(walls["stats"]), max(walls["same_sql"])),
    ):  # fmt: skip
        result.add(Row(
            NAME, f"olyscrape stats, {articles}: wall, {label}", figure, "s",
            baseline=base, baseline_unit="s", ratio=common.ratio(figure, base),
            target=f"< {TARGET_S:g} s", passed=figure < TARGET_S,
            note="baseline: the same SQL by python -c 'import sqlite3; ...' (plain sqlite3);"
            f" CPU {cpu['stats']:.2f} s against {cpu['same_sql']:.2f} s",
        ))  # fmt: skip
    result.add(Row(
        NAME, "olyscrape stats: wall, median, against Python's start-up", median["stats"], "s",
        baseline=median["python"], baseline_unit="s",
        ratio=common.ratio(median["stats"], median["python"]),
        note="baseline: python -c 'import sqlite3'; the difference is olyscrape's imports"
        " and its queries",
    ))  # fmt: skip
    result.add(Row(
        NAME, "the figures' SQL before version 8 (every link joined), plain sqlite3",
        median["before_sql"], "s", baseline=median["same_sql"], baseline_unit="s",
        ratio=common.ratio(median["before_sql"], median["same_sql"]),
        note="baseline: the SQL stats runs now (partner_counts), plain sqlite3",
    ))  # fmt: skip
    result.details = {
        "archive": str(db),
        "walls": walls,
        "cpu_median": cpu,
        "commands": {name: [str(a) for a in args[:6]] for name, args in commands.items()},
    }
    return result
