"""The ``olyscrape`` command's entry point (``python -m olyscrape`` and the installed
script): Ctrl-C while the command is still being loaded (its imports take a few tenths
of a second) is one line and exit 130, as Ctrl-C later in a command that had not started
its work yet, rather than a ``KeyboardInterrupt`` traceback out of some library's import
(and a death by SIGINT). Nothing was touched yet. Once loaded, each command handles
Ctrl-C itself."""

from __future__ import annotations

import os
import sys

#: 128 + SIGINT, as a shell reports a program Ctrl-C ended (as olyscrape.cli.interrupts).
EXIT_INTERRUPTED = 130


def main() -> None:
    try:
        from olyscrape.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted: stopped before it started; nothing was touched\n")
        sys.stderr.flush()
        # Not sys.exit: CPython remembers a KeyboardInterrupt raised in code it ran for a
        # module (some imports do) and then ends itself by SIGINT, whatever the exit code.
        os._exit(EXIT_INTERRUPTED)
    run()


if __name__ == "__main__":
    main()
