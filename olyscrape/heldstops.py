"""Ctrl-C (or SIGTERM) during a crawl's start-up: held until Scrapy's own handlers are in
place, then handed to them (:class:`HeldStops`). The runner (:mod:`olyscrape.crawl`) holds
them from the start of each run."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess

from olyscrape.stopsignals import give_back, take_stops


class HeldStops:
    """Ctrl-C (or SIGTERM) before Scrapy's own handlers are in place, which happens only
    once the reactor runs: held, not raised, then acted on as Scrapy acts on one (a
    graceful stop; a second, a stop at once) as soon as its handlers are installed.

    Raised where it landed (importing an extension, opening the archive inside a Twisted
    callback), a ``KeyboardInterrupt`` printed two or three ``CRITICAL twisted: Unhandled
    error in Deferred`` tracebacks and exited 1. A signal ignored when the run starts (a
    background job) stays ignored."""

    def __init__(self) -> None:
        self.signals: list[int] = []
        self._replaced: dict[int, Any] = {}

    def _hold(self, signum: int, _frame: Any) -> None:
        self.signals.append(signum)

    def install(self) -> None:
        self._replaced = take_stops(self._hold)  # nothing held off the main thread

    def restore(self) -> None:
        """Python's own handlers back where this replaced them (and Scrapy's did not)."""
        give_back(self._replaced, self._hold)

    def replay(self, process: CrawlerProcess, waited: float = 0.0) -> None:
        """Once Scrapy's handlers are installed: the signals held, handed to them as soon
        as every crawl is running (stopped while still opening, a crawl is cut off and
        recorded as a forced stop rather than closed as Scrapy closes a stopped one)."""
        if not self.signals:
            return
        if waited < _OPENING_WAIT and any(_opening(c) for c in process.crawlers):
            reactor().callLater(0.05, self.replay, process, waited + 0.05)
            return
        if len(self.signals) > 1:
            process._signal_kill(self.signals[1], None)
        else:
            process._signal_shutdown(self.signals[0], None)


#: Seconds a stop held at start-up waits for the crawls to be running, at most.
_OPENING_WAIT = 10.0


def reactor() -> Any:
    """The installed reactor (typed as the module it is imported from, not as one)."""
    from twisted.internet import reactor

    return reactor


def _opening(crawler: Crawler) -> bool:
    """The crawl was started and is not running yet (its engine being built or opened)."""
    try:
        engine = crawler.engine
    except RuntimeError:  # not built yet
        return bool(crawler.crawling)
    return bool(crawler.crawling and not engine.running)


def hold_stops(stack: ExitStack) -> HeldStops:
    """Hold Ctrl-C and SIGTERM from now until Scrapy's handlers take over, Python's own
    handlers back when ``stack`` closes (where Scrapy's did not replace them)."""
    held = HeldStops()
    held.install()
    stack.callback(held.restore)
    return held
