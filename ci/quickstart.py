"""Print the commands of the README's Quickstart code block, one a line (for .ci/run).

The README is the one place they are written: CI reads them from there, so it runs
exactly what a newcomer is told to run, in that order."""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def quickstart_commands(text: str) -> list[str]:
    block = re.search(r"^## Quickstart\n.*?```\w*\n(.*?)```", text, re.S | re.M)
    if block is None:
        sys.exit("README.md has no Quickstart section with a code block")
    return [line for line in block.group(1).splitlines()
            if line.strip() and not line.startswith("#")]  # fmt: skip


if __name__ == "__main__":
    print("\n".join(quickstart_commands(README.read_text(encoding="utf-8"))))
