"""The benchmarks still run: ``python benchmarks/run.py --quick`` ends, and its JSON holds
every benchmark with numeric figures. No timing is asserted here (that is the
benchmarks' own business, on a machine chosen for it)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow  # see pyproject's markers

BENCHMARKS = {"site", "crawl", "parser", "archive", "memory", "incremental", "search", "query",
              "crawlstart", "migration", "stats", "startup"}  # fmt: skip


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def test_quick_benchmarks_write_every_figure(tmp_path):
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,  # about a minute; a shared CI machine can take far longer
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())

    assert report["quick"] is True
    for key in ("cpu", "cores", "memory_gib", "python", "scrapy", "sqlite", "date"):
        assert report["machine"][key], key
    assert set(report["benchmarks"]) == BENCHMARKS
    for name, entry in report["benchmarks"].items():
        assert "error" not in entry, f"{name}: {entry.get('error')}"
        assert entry["rows"], f"{name} reported no figure"
        for row in entry["rows"]:
            assert _number(row["figure"]), (name, row)
            for key in ("baseline", "ratio"):
                assert row[key] is None or _number(row[key]), (name, key, row)
            assert row["passed"] in (True, False, None), (name, row)
    assert "figure" in result.stdout and "baseline" in result.stdout  # the printed table
