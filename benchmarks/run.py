"""Run olyscrape's benchmarks, print a table and write the results as JSON.

    python benchmarks/run.py                     # everything, full sizes
    python benchmarks/run.py --quick             # a small run of each (about a minute)
    python benchmarks/run.py --only crawl,parser --json /tmp/results.json
    python benchmarks/run.py --answers 50 --search-articles 200000

Every ratio compares olyscrape with a baseline measured on the same machine in the same
run. Every timing is repeated (``--repeats``, 3 by default) and the median is kept: the
machine is shared and noisy. Exit code 1 when a benchmark could not run (missed targets
are findings, not errors: they are in the table and the JSON).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
import traceback
from dataclasses import asdict, fields
from pathlib import Path
from types import ModuleType
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `olyscrape` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCHMARKS = (
    "site", "crawl", "parser", "archive", "memory", "incremental", "search", "query",
    "crawlstart", "migration", "stats", "startup",
)  # fmt: skip
DEFAULT_JSON = Path(__file__).resolve().parent / "results.json"


def module(name: str) -> ModuleType:
    return importlib.import_module(f"benchmarks.bench_{name}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="olyscrape's benchmarks: figures, same-run baselines, ratios, targets."
    )
    parser.add_argument("--quick", action="store_true", help="a small run of each benchmark")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument(
        "--only", help=f"comma-separated benchmarks to run, of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--repeats", type=int, help="timings per measurement (median kept; 3)")
    sizes = parser.add_argument_group("sizes (defaults: full run; --quick makes some smaller)")
    from benchmarks.common import Options

    quick = Options.quick_sizes()
    for option in fields(Options):
        if option.name in ("quick", "repeats"):
            continue
        text = f"default {option.default}"
        if option.name in quick:
            text += f", quick {quick[option.name]}"
        sizes.add_argument(f"--{option.name.replace('_', '-')}", type=int, metavar="N", help=text)
    args = parser.parse_args(argv)
    chosen = [n.strip() for n in (args.only or ",".join(BENCHMARKS)).split(",") if n.strip()]
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    args.chosen = [n for n in BENCHMARKS if n in chosen]
    return args


def options_from(args: argparse.Namespace) -> Any:
    from benchmarks.common import Options

    values: dict[str, Any] = {"quick": args.quick}
    if args.quick:
        values.update(Options.quick_sizes())
    for option in fields(Options):
        given = getattr(args, option.name, None)
        if option.name != "quick" and given is not None:
            values[option.name] = given
    return Options(**values)


def fmt(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    magnitude = abs(value)
    if float(value).is_integer() and magnitude < 1000:
        text = f"{value:.0f}"
    elif magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def table(rows: list[dict[str, Any]]) -> str:
    head = ("benchmark", "measure", "figure", "baseline", "ratio", "target", "result")
    lines = [head]
    for row in rows:
        result = {True: "pass", False: "FAIL", None: "—"}[row["passed"]]
        lines.append(
            (
                row["benchmark"],
                row["name"],
                fmt(row["figure"], row["unit"]),
                fmt(row["baseline"], row["baseline_unit"]),
                "—" if row["ratio"] is None else f"{row['ratio']:.3g}",
                row["target"] or "—",
                result,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for number, line in enumerate(lines):
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        out.append("  ".join(cells).rstrip())
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from benchmarks import common

    options = options_from(args)
    started = time.perf_counter()
    machine = common.machine()
    print(f"machine: {common.machine_line(machine)}", flush=True)
    print(
        f"every timing: median of {options.repeats} runs (shared, noisy machine); "
        "ratio = figure / baseline, both measured in this run",
        flush=True,
    )
    report: dict[str, Any] = {
        "machine": machine,
        "command": [sys.executable, *sys.argv] if argv is None else ["run.py", *argv],
        "quick": options.quick,
        "repeats": options.repeats,
        "method": (
            f"each timing repeated {options.repeats} times, median kept; "
            "baselines measured in the same run on the same machine"
        ),
        "options": asdict(options),
        "benchmarks": {},
    }
    failed = []
    for name in args.chosen:
        bench = module(name)
        print(f"[{name}] {bench.TITLE} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            result = bench.run(options)
            entry = result.to_json()
        except Exception:
            failed.append(name)
            entry = {"rows": [], "details": {}, "error": traceback.format_exc()}
            print(entry["error"], file=sys.stderr, flush=True)
        entry["seconds"] = time.perf_counter() - start
        entry["title"] = bench.TITLE
        report["benchmarks"][name] = entry
        print(f"[{name}] {entry['seconds']:.0f} s", file=sys.stderr, flush=True)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=str))

    report["total_seconds"] = time.perf_counter() - started
    report["machine"]["load_average_end"] = common.machine()["load_average"]
    args.json.write_text(json.dumps(report, indent=1, default=str))
    rows = [row for entry in report["benchmarks"].values() for row in entry["rows"]]
    print()
    print(table(rows))
    print()
    for row in rows:
        if row["note"]:
            print(f"  {row['benchmark']}, {row['name']}: {row['note']}")
    print()
    for name in failed:
        print(f"{name}: did not run to its end (see the error in the JSON)")
    missed = [f"{r['benchmark']}: {r['name']}" for r in rows if r["passed"] is False]
    print(
        f"{len(rows)} figures, {sum(r['passed'] is True for r in rows)} targets met, "
        f"{len(missed)} missed; {report['total_seconds']:.0f} s in all; JSON: {args.json}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
