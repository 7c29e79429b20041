"""The README's Quickstart is what a new user and CI run: keep it honest."""

from __future__ import annotations

import re

from tests.helpers import REPO


def quickstart_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"^## Quickstart\n.*?```\w*\n(.*?)```", text, re.S | re.M)
    assert block, "README has a Quickstart section with a code block"
    return [
        line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")
    ]


def test_quickstart_holds_two_commands_crawl_then_tests():
    first, second = quickstart_commands()
    assert "olyscrape crawl --replay tests/fixtures/site" in first
    assert "pytest" in second


def test_ci_runs_the_second_quickstart_command():
    second = quickstart_commands()[1]
    assert second in (REPO / ".ci" / "run").read_text()
