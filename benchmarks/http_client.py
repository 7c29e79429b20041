"""A plain HTTP/1.1 client for the site benchmark, run in its own process (stdlib only):

    python benchmarks/http_client.py BASE_URL PATHS.json THREADS OUT.json

Fetches every path of PATHS.json (a JSON list) from BASE_URL over keep-alive connections,
one per thread, the threads taking paths in turn; writes the seconds it took, the
requests and the median latency of one request to OUT.json.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit


def fetch_all(base_url: str, paths: list[str], threads: int) -> dict[str, float]:
    parts = urlsplit(base_url)
    pending = list(reversed(paths))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while True:
            with lock:
                if not pending:
                    break
                path = pending.pop()
            start = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                if response.status != 200:
                    failures.append(f"{response.status} {path}")
        conn.close()

    start = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "requests": len(latencies),
        "failures": len(failures),
        "median_latency": statistics.median(latencies),
    }


def main(base_url: str, paths_file: str, threads: str, out_file: str) -> None:
    paths = json.loads(Path(paths_file).read_text())
    Path(out_file).write_text(json.dumps(fetch_all(base_url, paths, int(threads))))


if __name__ == "__main__":
    main(*sys.argv[1:5])
