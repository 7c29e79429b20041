"""2. Crawl throughput: pages/s and cards/s of a full olyscrape crawl of the generated site.

``olyscrape crawl --base-url <mirror> --db <fresh> --full --no-articles`` in a child
process, against the bare Scrapy spider of ``benchmarks/bare_spider.py`` fetching exactly
the same URLs in the same order with the same concurrency settings (olyscrape's
``CONCURRENT_REQUESTS`` and ``LOCAL_ORIGIN_SETTINGS``: robots.txt off for both) and
parsing nothing. Both hit the same mirror (``common.mirror``: a thread of this process,
TCP_NODELAY) and take turns, ``repeats`` times each; the figure is the median.

Time is Scrapy's ``elapsed_time_seconds`` of each crawl (engine start to close: opening
the archive, the last batch and the closing checks count; interpreter start-up does not);
wall-clock times of the whole processes are in the details. The benchmark checks that
both crawls asked the mirror for the same URLs.

Also measured, without a target: the bare spider yielding one tiny item per card (no
pipelines), what Scrapy itself charges for carrying one item per card.
"""

from __future__ import annotations

from benchmarks import common
from benchmarks.common import CrawlRun, Options, Result, Row

NAME = "crawl"
TITLE = "crawl throughput against a bare Scrapy spider"
TARGET = 0.9


def _summary(run: CrawlRun, cards: int) -> dict[str, float]:
    return {
        "elapsed_s": run.elapsed,
        "wall_s": run.child.wall,
        "responses": run.responses,
        "pages_per_s": run.responses / run.elapsed,
        "cards_per_s": cards / run.elapsed,
        "mirror_window_s": run.mirror_window,
        "mirror_busy_share": run.mirror_busy / run.mirror_window if run.mirror_window else 0.0,
        "peak_rss_mib": run.child.maxrss_mib,
    }


def run(options: Options) -> Result:
    result = Result()
    site = common.site_for(options.site)
    cards = site.spec.cards
    work = common.scratch_dir("crawl-")
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "olyscrape": [], "bare_items": []}
    same_urls = True
    olyscrape_cards: set[int] = set()
    counter = iter(range(10**6))
    urls: dict[str, list[str]] = {}

    with common.mirror(site.root) as server:

        def bare() -> float:
            run = common.bare_crawl(server, site, work)
            runs["bare"].append(_summary(run, cards))
            urls["bare"] = sorted(run.mirror_requests)
            return run.elapsed

        def bare_items() -> float:
            run = common.bare_crawl(server, site, work, items=True)
            runs["bare_items"].append(_summary(run, cards))
            return run.elapsed

        def olyscrape() -> float:
            db = work / f"crawl-{next(counter)}.db"
            run = common.olyscrape_crawl(server, db, "--full", **site.crawl_options)
            runs["olyscrape"].append(_summary(run, cards))
            urls["olyscrape"] = sorted(run.mirror_requests)
            olyscrape_cards.add(int(run.stats.get("olyscrape/cards", 0)))
            db.unlink()
            return run.elapsed

        for _ in range(options.repeats):
            bare()
            olyscrape()
            bare_items()
            same_urls = same_urls and urls["bare"] == urls["olyscrape"]

    def med(kind: str, key: str) -> float:
        return common.median([r[key] for r in runs[kind]])

    result.details = {
        "site": {"partners": site.spec.partners, "answers": site.spec.answers, "cards": cards},
        "requests_per_crawl": len(urls["bare"]),
        "same_urls": same_urls,
        "olyscrape_cards_counted": sorted(olyscrape_cards),
        "runs": runs,
        "medians": {
            kind: {key: med(kind, key) for key in runs[kind][0]} for kind in runs if runs[kind]
        },
    }
    if not same_urls:
        raise RuntimeError("olyscrape and the bare spider did not fetch the same URLs")
    if olyscrape_cards != {cards}:
        raise RuntimeError(f"olyscrape counted {olyscrape_cards} cards, the site has {cards}")

    for unit in ("pages/s", "cards/s"):
        key = unit.replace("/", "_per_")
        figure, baseline = med("olyscrape", key), med("bare", key)
        value = common.ratio(figure, baseline)
        result.add(
            Row(
                NAME,
                f"full crawl, {unit}",
                figure,
                unit,
                baseline=baseline,
                baseline_unit=unit,
                ratio=value,
                target=f"ratio >= {TARGET}",
                passed=value is not None and value >= TARGET,
                note="baseline: bare Scrapy spider, same URLs, parses nothing",
            )
        )
    figure, baseline = med("bare_items", "pages_per_s"), med("bare", "pages_per_s")
    result.add(
        Row(
            NAME,
            "bare spider + 1 item/card, pages/s",
            figure,
            "pages/s",
            baseline=baseline,
            baseline_unit="pages/s",
            ratio=common.ratio(figure, baseline),
            note="figure: bare spider + 1 tiny item per card, no pipelines; baseline: bare spider",
        )
    )
    return result
