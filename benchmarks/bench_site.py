"""1. The generated large site, and the mirror that serves it.

Writes the site every crawl benchmark uses (``Options.partners`` partners, each a listing
page of 10 cards with a load-more link of count 10 offset 10, then ``Options.answers``
load-more answers of 10 cards, the last one shorter) and checks what its mirror can do
with a plain HTTP client in another process: the latency of one request on a keep-alive
connection and the requests per second of 8 connections, for ``olyscrape.testing.mirror`` as it
ships against the same server with TCP_NODELAY forced on, as the crawl benchmarks use it
(before 33c80ae the shipped mirror left Nagle's algorithm on: ~40 ms per request). No
target: this says whether the mirror could limit a crawl.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import common
from benchmarks.common import Options, Result, Row

NAME = "site"
TITLE = "generated site and its mirror"
CLIENT = common.REPO / "benchmarks" / "http_client.py"


def _client(server: common.TimedMirror, paths: list[str], threads: int, work: Path) -> dict:
    paths_file = work / "paths.json"
    paths_file.write_text(json.dumps(paths))
    out = work / "client.json"
    common.run_child(
        [common.PYTHON, str(CLIENT), server.base_url, str(paths_file), str(threads), str(out)],
        cwd=work,
        timeout=600,
    ).check()
    result = json.loads(out.read_text())
    if result["failures"]:
        raise RuntimeError(f"the mirror answered {result['failures']} requests with an error")
    return result


def run(options: Options) -> Result:
    result = Result()
    site = common.site_for(options.site)
    spec = site.spec
    result.details["site"] = {
        "root": str(site.root),
        "partners": spec.partners,
        "answers_per_partner": spec.answers,
        "cards": spec.cards,
        "requests_per_crawl": spec.requests,
        "files": site.files,
        "bytes": site.size,
        "generate_seconds": site.seconds,
    }
    result.add(
        Row(
            NAME,
            "generate the site",
            site.seconds,
            "s",
            note=f"{site.files} files, {site.size / 1e6:.1f} MB, {spec.cards} cards, "
            f"{spec.requests} requests a crawl",
        )
    )

    work = common.scratch_dir("mirror-client-")
    sequential = site.paths[: 30 if options.quick else 100]
    concurrent = site.paths[: 100 if options.quick else 400]
    figures: dict[str, dict[str, list[float]]] = {}
    for label, nodelay in (("shipped", False), ("nodelay", True)):
        with common.mirror(site.root, nodelay=nodelay) as server:
            runs = common.alternate(
                {
                    "latency_ms": lambda s=server: (
                        _client(s, sequential, 1, work)["median_latency"] * 1000
                    ),
                    "requests_per_s": lambda s=server: (
                        len(concurrent) / _client(s, concurrent, 8, work)["seconds"]
                    ),
                },
                options.repeats,
            )
        figures[label] = runs
    result.details["mirror"] = {
        "sequential_requests": len(sequential),
        "concurrent_requests": len(concurrent),
        "runs": figures,
    }
    shipped_latency = common.median(figures["shipped"]["latency_ms"])
    nodelay_latency = common.median(figures["nodelay"]["latency_ms"])
    result.add(
        Row(
            NAME,
            "mirror latency, 1 keep-alive conn.",
            shipped_latency,
            "ms",
            baseline=nodelay_latency,
            baseline_unit="ms",
            ratio=common.ratio(shipped_latency, nodelay_latency),
            note="figure: olyscrape.testing.mirror as shipped; baseline: the same with TCP_NODELAY",
        )
    )
    shipped_rate = common.median(figures["shipped"]["requests_per_s"])
    nodelay_rate = common.median(figures["nodelay"]["requests_per_s"])
    result.add(
        Row(
            NAME,
            "mirror capacity, 8 conn.",
            shipped_rate,
            "req/s",
            baseline=nodelay_rate,
            baseline_unit="req/s",
            ratio=common.ratio(shipped_rate, nodelay_rate),
            note="figure: the mirror as shipped; baseline: with TCP_NODELAY (as crawls use)",
        )
    )
    return result
