"""6. Incremental re-crawl: the requests (the mirror's request log) of a second, default
(incremental) crawl of the unchanged generated site, against the first, full crawl into
the same archive.

Expected of the second crawl: discovery and one listing page per partner, no load-more
answer. The crawls' times are in the details (one run each: the request count is the
figure). robots.txt is not asked for: olyscrape does not read it from a loopback mirror
(``LOCAL_ORIGIN_SETTINGS``); the expected count adds it only when the crawl obeys it.
"""

from __future__ import annotations

from benchmarks import common
from benchmarks.common import Options, Result, Row
from olyscrape import settings as olyscrape_settings
from olyscrape.spiders.base import LOCAL_ORIGIN_SETTINGS

NAME = "incremental"
TITLE = "requests of an incremental re-crawl against the full crawl"


def run(options: Options) -> Result:
    result = Result()
    site = common.site_for(options.site)
    work = common.scratch_dir("incremental-")
    db = work / "archive.db"
    with common.mirror(site.root) as server:
        first = common.olyscrape_crawl(server, db, "--full", **site.crawl_options)
        second = common.olyscrape_crawl(server, db, **site.crawl_options)
    obeys = LOCAL_ORIGIN_SETTINGS.get("ROBOTSTXT_OBEY", olyscrape_settings.ROBOTSTXT_OBEY)
    expected = ["/robots.txt"] * bool(obeys) + [site.discovery]
    expected += [chain[0] for chain in site.chains.values()]
    load_more = [p for p in second.mirror_requests if "loadmoreoverviewnews" in p]
    as_expected = sorted(second.mirror_requests) == sorted(expected)
    result.details = {
        "first": {
            "requests": len(first.mirror_requests),
            "elapsed_s": first.elapsed,
            "wall_s": first.child.wall,
        },
        "second": {
            "requests": len(second.mirror_requests),
            "elapsed_s": second.elapsed,
            "wall_s": second.child.wall,
            "paths": second.mirror_requests,
            "load_more_requests": len(load_more),
            "stopped_early": second.stats.get("olyscrape/stopped_early", 0),
            "new": second.stats.get("olyscrape/new", 0),
        },
        "expected_paths": expected,
        "as_expected": as_expected,
    }
    result.add(
        Row(
            NAME,
            "requests, re-crawl vs full crawl",
            len(second.mirror_requests),
            "requests",
            baseline=len(first.mirror_requests),
            baseline_unit="requests",
            ratio=common.ratio(len(second.mirror_requests), len(first.mirror_requests)),
            target=f"= {len(expected)}, no load-more",
            passed=as_expected and not load_more,
            note=f"baseline: the full crawl; expected: discovery + {len(site.chains)} listings",
        )
    )
    return result
