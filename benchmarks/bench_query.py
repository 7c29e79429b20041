"""8. Exporting a large result, and stopping a query: ``olyscrape sql`` against
``sqlite-utils query`` on the same archive (the million-article archive of the ``search``
benchmark; ``--quick``: 20,000).

- **Peak memory** (``ru_maxrss`` of the command itself, through ``common``'s launcher) of
  exporting ``Options.query_rows`` rows (1,000,000) as CSV and as JSON lines:
  ``olyscrape sql STATEMENT --format csv`` / ``--format jsonl`` against
  ``sqlite-utils query ARCHIVE STATEMENT --csv`` / ``--nl``, output to ``/dev/null``.
  Target: olyscrape's peak within 10 MiB of sqlite-utils' (the issue's "within a few MB").
  The wall time of each export is reported too (no target).
- **Time to first row**: from spawning the command to reading its first data row from a
  pipe (start-up included, as ``| head`` sees it), median of ``repeats``.
- **Ctrl-C**: ``olyscrape sql`` on an endless recursive CTE, SIGINT sent once it runs;
  how long until the process has exited (with 130). Target: under a second.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks import bench_search, common
from benchmarks.common import Options, Result, Row

NAME = "query"
TITLE = "sql export memory and first row against sqlite-utils; Ctrl-C latency"
#: olyscrape's peak RSS may exceed sqlite-utils' by at most this much.
TARGET_MIB = 10.0
TARGET_STOP_MS = 1000.0
ENDLESS = "with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c"
SQLITE_UTILS = str(Path(common.PYTHON).parent / "sqlite-utils")


def statement(rows: int) -> str:
    return f"SELECT id, url, title, category, published FROM articles LIMIT {rows}"


def commands(db: Path, sql: str, fmt: str) -> dict[str, list[str]]:
    """The two exports of one format: olyscrape's and sqlite-utils'."""
    flag = {"csv": "--csv", "jsonl": "--nl"}[fmt]
    return {
        "olyscrape": [common.PYTHON, "-m", "olyscrape", "sql", "--db", str(db), sql,
                      "--format", fmt],
        "sqlite-utils": [SQLITE_UTILS, "query", str(db), sql, flag],
    }  # fmt: skip


def peak(args: list[str]) -> tuple[float, float]:
    """Peak RSS (MiB) and wall time (s) of ``args`` writing to /dev/null, measured by the
    launcher (so that this process's size is not counted in the child's)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as usage:
        start = time.perf_counter()
        subprocess.run(
            [common.PYTHON, "-S", "-c", common._LAUNCHER, usage.name, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=common.CHILD_ENV,
            check=True,
        )
        wall = time.perf_counter() - start
        report = json.loads(Path(usage.name).read_text())
    if report["returncode"] != 0:
        raise RuntimeError(f"{' '.join(args)} exited {report['returncode']}")
    return report["maxrss_kib"] / 1024, wall


def first_row(args: list[str]) -> float:
    """Seconds from spawning ``args`` to reading its first data row (after the header)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=common.CHILD_ENV)  # fmt: skip
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the header
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - start
        if not line:
            raise RuntimeError(f"{' '.join(args)} wrote no row")
        return elapsed
    finally:
        proc.kill()
        proc.wait()


def stop_after_sigint(db: Path, settle: float) -> tuple[float, int]:
    """Milliseconds from SIGINT to the exit of ``olyscrape sql`` running an endless CTE."""
    proc = subprocess.Popen(
        [common.PYTHON, "-m", "olyscrape", "sql", "--db", str(db), ENDLESS],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        env=common.CHILD_ENV,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    time.sleep(settle)  # imports done, the statement running
    if proc.poll() is not None:
        raise RuntimeError(f"the endless query ended by itself ({proc.returncode})")
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return 60_000.0, -9
    return (time.perf_counter() - sent) * 1000, code


def run(options: Options) -> Result:
    result = Result()
    db, meta = bench_search.cached_archive(
        options.search_articles, options.search_sample, options.repeats
    )
    rows = min(options.query_rows, meta["articles"])
    sql = statement(rows)
    details: dict[str, dict] = {"archive": {"path": str(db), "articles": meta["articles"]}}
    for fmt in ("csv", "jsonl"):
        runs = commands(db, sql, fmt)
        measured = {name: peak(args) for name, args in runs.items()}
        (ours, our_wall), (theirs, their_wall) = measured["olyscrape"], measured["sqlite-utils"]
        details[fmt] = {
            "rows": rows,
            "peak_mib": {"olyscrape": ours, "sqlite-utils": theirs},
            "wall_s": {"olyscrape": our_wall, "sqlite-utils": their_wall},
        }
        result.add(
            Row(
                NAME,
                f"peak RSS, {rows:,} rows as {fmt}",
                ours,
                "MiB",
                baseline=theirs,
                baseline_unit="MiB",
                ratio=common.ratio(ours, theirs),
                target=f"within {TARGET_MIB:g} MiB of sqlite-utils",
                passed=ours - theirs <= TARGET_MIB,
                note=f"baseline: sqlite-utils query {'--csv' if fmt == 'csv' else '--nl'}; "
                f"difference {ours - theirs:+.1f} MiB",
            )
        )
        result.add(
            Row(
                NAME,
                f"export time, {rows:,} rows as {fmt}",
                our_wall,
                "s",
                baseline=their_wall,
                baseline_unit="s",
                ratio=common.ratio(our_wall, their_wall),
                note="one run each, start-up included, output to /dev/null",
            )
        )
    runs = commands(db, sql, "csv")
    firsts = common.alternate(
        {name: (lambda a=args: first_row(a) * 1000) for name, args in runs.items()},
        options.repeats,
    )
    ours_ms, theirs_ms = common.median(firsts["olyscrape"]), common.median(firsts["sqlite-utils"])
    details["first_row_ms"] = firsts
    result.add(
        Row(
            NAME,
            "time to first row (csv, to a pipe)",
            ours_ms,
            "ms",
            baseline=theirs_ms,
            baseline_unit="ms",
            ratio=common.ratio(ours_ms, theirs_ms),
            note="from spawning the command, start-up included; median",
        )
    )
    stops = [stop_after_sigint(db, settle=3.0) for _ in range(options.repeats)]
    details["sigint"] = [{"ms": ms, "exit": code} for ms, code in stops]
    stop_ms = common.median([ms for ms, _ in stops])
    result.add(
        Row(
            NAME,
            "SIGINT to exit, endless recursive CTE",
            stop_ms,
            "ms",
            target=f"< {TARGET_STOP_MS:g} ms, exit 130",
            passed=stop_ms < TARGET_STOP_MS and all(code == 130 for _, code in stops),
            note=f"median of {len(stops)}; exits {sorted({code for _, code in stops})}",
        )
    )
    result.details = details
    return result
