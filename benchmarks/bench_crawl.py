"""2. Crawl cost: CPU time of a full olyscrape crawl against the smallest Scrapy program
that does the same job.

``olyscrape crawl --base-url <mirror> --db <fresh> --full --no-articles`` in a child
process, against ``benchmarks/samejob_spider.py``: the same pages fetched, each card read
with one parsel pass, links canonical and dates ISO, rows upserted with ``executemany``
in one transaction per page, each raw body kept (sha256 + zlib). Both hit the same
mirror (``common.mirror``: a thread of this process) and take turns, ``repeats`` times
each; the figure is the median.

The measure is **CPU time** (user + sys of the child, from ``wait4``): on a 2-core
machine the mirror takes the other core, so wall time would measure the mirror as much
as the crawler. Start-up and imports count for both.

Also measured, without a target: the fetch-only bare spider of ``bare_spider.py`` (same
URLs, parses nothing), the floor of any Scrapy program fetching these pages.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks import common
from benchmarks.common import CrawlRun, Options, Result, Row

NAME = "crawl"
TITLE = "crawl CPU time against the same job done by a minimal Scrapy program"
TARGET = 0.9


def _summary(run: CrawlRun, cards: int) -> dict[str, float]:
    return {
        "cpu_s": run.child.cpu,
        "wall_s": run.child.wall,
        "elapsed_s": run.elapsed,
        "responses": run.responses,
        "cards_per_cpu_s": cards / run.child.cpu if run.child.cpu else 0.0,
        "mirror_busy_share": run.mirror_busy / run.mirror_window if run.mirror_window else 0.0,
        "peak_rss_mib": run.child.maxrss_mib,
    }


def _count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def run(options: Options) -> Result:
    result = Result()
    site = common.site_for(options.crawl_site)
    cards = site.spec.cards
    work = common.scratch_dir("crawl-")
    runs: dict[str, list[dict[str, float]]] = {"samejob": [], "olyscrape": [], "bare": []}
    stored: dict[str, set[tuple[int, int]]] = {"samejob": set(), "olyscrape": set()}
    urls: dict[str, list[str]] = {}
    counter = iter(range(10**6))

    with common.mirror(site.root) as server:

        def samejob() -> float:
            db = work / f"samejob-{next(counter)}.db"
            run = common.samejob_crawl(server, site, db, work)
            runs["samejob"].append(_summary(run, cards))
            urls["samejob"] = sorted(run.mirror_requests)
            stored["samejob"].add((_count(db, "articles"), _count(db, "article_partners")))
            return run.child.cpu

        def olyscrape() -> float:
            db = work / f"olyscrape-{next(counter)}.db"
            run = common.olyscrape_crawl(server, db, "--full", **site.crawl_options)
            runs["olyscrape"].append(_summary(run, cards))
            urls["olyscrape"] = sorted(run.mirror_requests)
            stored["olyscrape"].add((_count(db, "articles"), _count(db, "article_partners")))
            return run.child.cpu

        def bare() -> float:
            run = common.bare_crawl(server, site, work)
            runs["bare"].append(_summary(run, cards))
            return run.child.cpu

        common.alternate(
            {"samejob": samejob, "olyscrape": olyscrape, "bare": bare}, options.repeats
        )

    def med(kind: str, key: str) -> float:
        return common.median([r[key] for r in runs[kind]])

    same_urls = urls["samejob"] == urls["olyscrape"]
    result.details = {
        "site": {"partners": site.spec.partners, "answers": site.spec.answers, "cards": cards},
        "requests_per_crawl": len(urls["olyscrape"]),
        "same_urls": same_urls,
        "stored_articles_and_links": {k: sorted(v) for k, v in stored.items()},
        "runs": runs,
        "medians": {kind: {key: med(kind, key) for key in runs[kind][0]} for kind in runs},
    }
    if not same_urls:
        raise RuntimeError("olyscrape and the same-job spider did not fetch the same URLs")
    if stored["samejob"] != stored["olyscrape"] or len(stored["olyscrape"]) != 1:
        raise RuntimeError(f"the two crawls stored different rows: {stored}")

    figure, baseline = med("olyscrape", "cpu_s"), med("samejob", "cpu_s")
    value = common.ratio(baseline, figure)  # higher is better: the baseline's share
    result.add(
        Row(
            NAME,
            f"full crawl, {cards} cards, CPU s",
            figure,
            "CPU s",
            baseline=baseline,
            baseline_unit="CPU s",
            ratio=value,
            target=f"ratio >= {TARGET}",
            passed=value is not None and value >= TARGET,
            note="ratio: same-job spider's CPU time / olyscrape's (user + sys, median)",
        )
    )
    bare_cpu = med("bare", "cpu_s")
    result.add(
        Row(
            NAME,
            "fetch-only bare spider, CPU s",
            bare_cpu,
            "CPU s",
            baseline=baseline,
            baseline_unit="CPU s",
            ratio=common.ratio(bare_cpu, baseline),
            note="figure: bare spider, same URLs, parses nothing; baseline: same-job spider",
        )
    )
    return result
