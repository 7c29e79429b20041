"""The README's Quickstart is what a new user and CI run: keep it honest."""

from __future__ import annotations

import runpy
import subprocess
import sys

from tests.helpers import REPO

QUICKSTART = runpy.run_path(str(REPO / "ci" / "quickstart.py"))["quickstart_commands"]


def quickstart_commands() -> list[str]:
    return QUICKSTART((REPO / "README.md").read_text(encoding="utf-8"))


def test_quickstart_holds_two_commands_crawl_then_tests():
    first, second = quickstart_commands()
    assert "olyscrape crawl --replay tests/fixtures/site" in first
    assert "pytest" in second


def test_ci_runs_both_quickstart_commands_in_order_as_the_readme_writes_them():
    printed = subprocess.run(
        [sys.executable, str(REPO / "ci" / "quickstart.py")],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.splitlines()  # fmt: skip
    assert printed == quickstart_commands()
    script = (REPO / ".ci" / "run").read_text()
    first = script.index('bash -euo pipefail -c "${QUICKSTART[0]}"')
    second = script.index('bash -euo pipefail -c "${QUICKSTART[1]}"')
    assert "ci/quickstart.py" in script and first < second
