"""Taking Ctrl-C (SIGINT) and SIGTERM for a while, and giving them back: the one way the
commands do it (:mod:`olyscrape.cli.interrupts` for the queries, :mod:`olyscrape.heldstops`
for a crawl's start-up). Nothing here imports Scrapy: the query commands load it."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

#: The stop signals, with the handler Python starts a process with for each.
PYTHON_DEFAULTS: dict[int, Any] = {
    signal.SIGINT: signal.default_int_handler,
    signal.SIGTERM: signal.SIG_DFL,
}


def take_stops(handler: Callable[[int, Any], Any]) -> dict[int, Any]:
    """SIGINT and SIGTERM handled by ``handler`` where Python's defaults would handle them:
    a signal ignored when the command started (a background job's SIGINT) stays ignored,
    and off the main thread nothing changes. The handlers replaced, for :func:`give_back`."""
    replaced: dict[int, Any] = {}
    for signum, default in PYTHON_DEFAULTS.items():
        previous = signal.getsignal(signum)
        if previous is default:
            try:
                signal.signal(signum, handler)
            except ValueError:  # not the main thread
                continue
            replaced[signum] = previous
    return replaced


def give_back(replaced: dict[int, Any], handler: Callable[[int, Any], Any] | None = None) -> None:
    """The handlers :func:`take_stops` replaced, back; with ``handler``, only where it is
    still the one installed (another, such as Scrapy's, may have taken over since)."""
    for signum, previous in replaced.items():
        if handler is None or signal.getsignal(signum) == handler:
            signal.signal(signum, previous)
