"""5. Peak memory: the peak RSS (``ru_maxrss`` of the child process, from ``wait4``) of a
full olyscrape crawl (``--full --no-articles``) of a generated site with N cards, and of
one with ten times the cards (``Options.memory_factor``): the same partners, ten times the
load-more answers each. Target: the peak for 10 N at most 1.2 times the peak for N.

Each crawl runs once per size: peak RSS is not a timing, and varies from run to run by
far less than the margin the target allows. Scrapy's own ``memusage/max`` is kept too.
"""

from __future__ import annotations

from benchmarks import common
from benchmarks.common import Options, Result, Row, SiteSpec

NAME = "memory"
TITLE = "peak RSS of a crawl, 10x the cards against 1x"
TARGET = 1.2


def _crawl(spec: SiteSpec, work_name: str) -> dict:
    site = common.site_for(spec)
    work = common.scratch_dir(work_name)
    with common.mirror(site.root) as server:
        run = common.olyscrape_crawl(server, work / "crawl.db", "--full", **site.crawl_options)
    cards = int(run.stats.get("olyscrape/cards", 0))
    if cards != spec.cards:
        raise RuntimeError(f"the crawl counted {cards} cards, the site has {spec.cards}")
    return {
        "partners": spec.partners,
        "answers": spec.answers,
        "cards": cards,
        "pages": run.responses,
        "peak_rss_mib": run.child.maxrss_mib,
        "scrapy_memusage_max_mib": run.stats.get("memusage/max", 0) / 2**20,
        "elapsed_s": run.elapsed,
    }


def run(options: Options) -> Result:
    result = Result()
    small = SiteSpec(partners=options.memory_partners, answers=options.memory_answers)
    large = SiteSpec(
        partners=options.memory_partners, answers=options.memory_answers * options.memory_factor
    )
    one = _crawl(small, "memory-1x-")
    many = _crawl(large, "memory-10x-")
    growth = (many["peak_rss_mib"] - one["peak_rss_mib"]) * 1024 / (many["cards"] - one["cards"])
    result.details = {
        "1x": one,
        f"{options.memory_factor}x": many,
        "growth_kib_per_1000_cards": growth * 1000,
    }
    value = common.ratio(many["peak_rss_mib"], one["peak_rss_mib"])
    result.add(
        Row(
            NAME,
            f"peak RSS, {many['cards']} vs {one['cards']} cards",
            many["peak_rss_mib"],
            "MiB",
            baseline=one["peak_rss_mib"],
            baseline_unit="MiB",
            ratio=value,
            target=f"ratio <= {TARGET}",
            passed=value is not None and value <= TARGET,
            note=f"baseline: the same crawl with 1/{options.memory_factor} of the cards",
        )
    )
    result.add(
        Row(
            NAME,
            "peak RSS growth per 1,000 cards",
            growth * 1000,
            "KiB",
            note="(peak 10x - peak 1x) / (cards 10x - cards 1x): what more cards cost",
        )
    )
    return result
