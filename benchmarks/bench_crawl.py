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

The comparison holds only when both did the same job: the benchmark checks that every
run asked the mirror for the same URLs (the site's own list) and that both stored the
same number of articles and partner links; the counts are in the details, and a mismatch
fails the headline row (and is printed) instead of hiding behind a ratio.

Also measured, without a target: the fetch-only bare spider of ``bare_spider.py`` (same
URLs, parses nothing), the floor of any Scrapy program fetching these pages, and the same
yielding one tiny item per card (no pipelines), what Scrapy charges for carrying items.
"""

from __future__ import annotations

import sqlite3
import sys
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


def _stored(db: Path) -> dict[str, int]:
    # article_partners: olyscrape's view of its links by URL, the same-job spider's table
    return {"articles": _count(db, "articles"), "links": _count(db, "article_partners")}


def run(options: Options) -> Result:
    result = Result()
    site = common.site_for(options.crawl_site)
    cards = site.spec.cards
    work = common.scratch_dir("crawl-")
    kinds = ("samejob", "olyscrape", "bare", "bare_items")
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    stored: dict[str, list[dict[str, int]]] = {"samejob": [], "olyscrape": []}
    urls: dict[str, list[list[str]]] = {kind: [] for kind in kinds}
    counter = iter(range(10**6))

    def note(kind: str, run: CrawlRun) -> float:
        runs[kind].append(_summary(run, cards))
        urls[kind].append(sorted(run.mirror_requests))
        return run.child.cpu

    with common.mirror(site.root) as server:

        def samejob() -> float:
            db = work / f"samejob-{next(counter)}.db"
            cpu = note("samejob", common.samejob_crawl(server, site, db, work))
            stored["samejob"].append(_stored(db))
            db.unlink()
            return cpu

        def olyscrape() -> float:
            db = work / f"olyscrape-{next(counter)}.db"
            run = common.olyscrape_crawl(server, db, "--full", **site.crawl_options)
            cpu = note("olyscrape", run)
            stored["olyscrape"].append(_stored(db))
            db.unlink()
            return cpu

        def bare() -> float:
            return note("bare", common.bare_crawl(server, site, work))

        def bare_items() -> float:
            return note("bare_items", common.bare_crawl(server, site, work, items=True))

        common.alternate(
            {"samejob": samejob, "olyscrape": olyscrape, "bare": bare, "bare_items": bare_items},
            options.repeats,
        )

    def med(kind: str, key: str) -> float:
        return common.median([r[key] for r in runs[kind]])

    # The comparison holds only if both did the same job: the same URLs asked of the
    # mirror, and the same number of articles and partner links stored (one each per
    # card of the site), on every run.
    expected = sorted(site.paths)
    same_urls = {kind: all(u == expected for u in urls[kind]) for kind in kinds}
    counts = [tuple(c.values()) for kind in stored for c in stored[kind]]
    same_rows = len(set(counts)) == 1
    mismatches = [f"{kind} fetched other URLs" for kind, same in same_urls.items() if not same]
    if not same_rows:
        mismatches.append(f"stored rows differ: {stored}")
    elif counts[0] != (cards, cards):  # every card of the site is its own article
        mismatches.append(f"both stored {counts[0]} articles and links, the site has {cards}")
    result.details = {
        "site": {
            "partners": site.spec.partners,
            "answers": site.spec.answers,
            "cards_per_partner": site.spec.cards_per_partner,
            "cards": cards,
        },
        "requests_per_crawl": len(expected),
        "same_urls": same_urls,
        "stored": stored,  # per run: rows in articles and article_partners
        "same_rows": same_rows,
        "mismatches": mismatches,
        "runs": runs,
        "medians": {kind: {key: med(kind, key) for key in runs[kind][0]} for kind in runs},
    }
    for mismatch in mismatches:
        print(f"[crawl] MISMATCH: {mismatch}", file=sys.stderr, flush=True)

    figure, baseline = med("olyscrape", "cpu_s"), med("samejob", "cpu_s")
    value = common.ratio(baseline, figure)  # higher is better: the baseline's share
    articles, links = stored["olyscrape"][0]["articles"], stored["olyscrape"][0]["links"]
    same_job = not mismatches
    result.add(
        Row(
            NAME,
            f"full crawl, {site.spec.partners} partners x {site.spec.cards_per_partner} cards, "
            "CPU s",
            figure,
            "CPU s",
            baseline=baseline,
            baseline_unit="CPU s",
            ratio=value,
            target=f"ratio >= {TARGET}",
            passed=same_job and value is not None and value >= TARGET,
            note=(
                "ratio: same-job spider's CPU time / olyscrape's (user + sys, median); "
                + (
                    f"both fetched the same {len(expected)} URLs and stored {articles} "
                    f"articles, {links} partner links"
                    if same_job
                    else "NOT THE SAME JOB: " + "; ".join(mismatches)
                )
            ),
        )
    )
    for kind, name, what in (
        ("bare", "fetch-only bare spider", "same URLs, parses nothing"),
        ("bare_items", "bare spider + 1 item/card", "same URLs, 1 tiny item a card, no pipelines"),
    ):
        cpu = med(kind, "cpu_s")
        result.add(
            Row(
                NAME,
                f"{name}, CPU s",
                cpu,
                "CPU s",
                baseline=baseline,
                baseline_unit="CPU s",
                ratio=common.ratio(cpu, baseline),
                note=f"figure: {name} ({what}); baseline: same-job spider; no target",
            )
        )
    return result
