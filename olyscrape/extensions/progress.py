"""The live progress of a long crawl on stderr, and warnings of one kind said a few times.

A crawl of a 35,070-card site printed 3,514 page lines and 35,070 warnings, with no count,
rate or ETA. This extension (``OLYSCRAPE_PROGRESS``, which ``olyscrape crawl`` and
``reparse`` turn on) replaces them:

- on a terminal, one line updated in place (``\\r``) at most four times a second: elapsed
  time, partners done, pages (and their rate), cards, new links, article pages, errors
  and the partners being walked;
- elsewhere (cron, a pipe, a file), a plain log line every ``OLYSCRAPE_PROGRESS_INTERVAL``
  seconds (the walks' own ``done`` line per partner stays);
- every warning or error of one kind (the same logger and message template) is shown
  ``OLYSCRAPE_REPEATS_SHOWN`` times; the rest are counted, and the crawl's end says
  ``... and N more like it: <the first one>`` per kind (``olyscrape/log/not_shown`` in the
  stats).

It reads the crawl's stats and never touches a request, so it costs the crawl nothing
measurable: a timer, not a signal per response.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections import Counter
from typing import IO, TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from olyscrape import crawlstats
from olyscrape.addon import setting

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Updates of the terminal line per second, at most.
TTY_INTERVAL = 0.25
#: The stats key of the warnings and errors counted but not shown.
NOT_SHOWN = "olyscrape/log/not_shown"


class RepeatedLines(logging.Filter):
    """A handler's filter: each warning or error of one kind (logger and message template)
    passes ``shown`` times, the rest are counted. ``before_line`` runs before any line is
    written (the terminal's progress line is cleared first)."""

    def __init__(self, shown: int, before_line: Any = None, on_hidden: Any = None) -> None:
        super().__init__()
        self.shown = shown
        self.before_line = before_line
        self.on_hidden = on_hidden
        self.counts: Counter[tuple[str, str]] = Counter()
        self.first: dict[tuple[str, str], str] = {}
        self._last: logging.LogRecord | None = None
        self._passes = True

    def filter(self, record: logging.LogRecord) -> bool:
        if record is not self._last:  # each handler asks: the record is counted once
            self._last, self._passes = record, self._judge(record)
        if self._passes and self.before_line is not None:
            self.before_line()
        return self._passes

    def _judge(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or record.name == __name__:
            return True
        kind = (record.name, str(record.msg))
        self.counts[kind] += 1
        if self.counts[kind] == 1:
            self.first[kind] = record.getMessage()
        if self.counts[kind] <= self.shown:
            return True
        if self.on_hidden is not None:
            self.on_hidden()
        return False

    def not_shown(self) -> list[tuple[int, str]]:
        """Per kind with lines left out: how many, and its first line."""
        return [(n - self.shown, self.first[kind]) for kind, n in self.counts.items()
                if n > self.shown]  # fmt: skip


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _width(stream: IO[str]) -> int:
    """The columns of the terminal ``stream`` is (stdout may be a pipe meanwhile)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size().columns


class ProgressDisplay:
    """The crawl's progress on ``stream`` (stderr): see the module's docstring."""

    def __init__(self, crawler: Crawler, stream: IO[str] | None = None) -> None:
        self.crawler = crawler
        self.stream = stream or sys.stderr
        settings = crawler.settings
        self.tty = self.stream.isatty()
        self.interval = (
            TTY_INTERVAL if self.tty else setting(settings, "OLYSCRAPE_PROGRESS_INTERVAL")
        )
        self.repeats = RepeatedLines(
            setting(settings, "OLYSCRAPE_REPEATS_SHOWN"),
            self.clear if self.tty else None,
            self._hidden,  # counted as they come: the crawls row is written before the end
        )
        self.started = time.monotonic()
        self.shown_line = ""
        self.timer: task.LoopingCall | None = None
        self.handlers: list[logging.Handler] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressDisplay:
        from olyscrape.spiders.partners import PartnersSpider

        if not setting(crawler.settings, "OLYSCRAPE_PROGRESS"):
            raise NotConfigured
        if not crawler.settings.getbool("LOG_ENABLED", True):
            raise NotConfigured  # --nolog: nothing on stderr, progress included
        if not issubclass(crawler.spidercls, PartnersSpider):
            raise NotConfigured  # the probe: a few pages, its own report
        display = cls(crawler)
        crawler.signals.connect(display.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(display.spider_closed, signal=signals.spider_closed)
        return display

    # --- the crawl's start and end --------------------------------------------------------

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.handlers = list(logging.getLogger().handlers)
        for handler in self.handlers:
            handler.addFilter(self.repeats)
        self.timer = task.LoopingCall(self.update)
        self.timer.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.clear()
        left_out = self.repeats.not_shown()
        for count, first in left_out:
            logger.warning("... and %d more like it: %s", count, first)
        for handler in self.handlers:
            handler.removeFilter(self.repeats)

    def _hidden(self) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(NOT_SHOWN)

    # --- the line -------------------------------------------------------------------------

    def line(self) -> str:
        """The progress so far, in one line."""
        assert self.crawler.stats is not None
        raw = self.crawler.stats.get_stats()
        crawl = crawlstats.CrawlStats(raw)
        elapsed = time.monotonic() - self.started
        pages = crawl.count("pages")
        partners = crawl.partners
        done = [p for p in partners if crawl.stop_reason(p) or crawl.count("errors", p)]
        walking = [p for p in partners if p not in done and crawl.count("pages", p)]
        rate = pages / elapsed if elapsed > 0 else 0.0
        parts = [
            _duration(elapsed),
            f"partners {len(done)}/{len(partners)}" if partners else "discovery",
            f"pages {pages:,} ({rate:.1f}/s)",
            f"cards {crawl.count('cards'):,}",
            f"new links {crawl.count('new'):,}",
            f"article pages {crawl.count('articles'):,}",
            f"errors {crawl.count('errors') + crawl.count('articles/failed'):,}",
        ]
        if walking:  # per partner: its pages so far
            parts.append("walking " + ", ".join(f"{p} {crawl.count('pages', p)}p" for p in walking))
        return " · ".join(parts)

    def update(self) -> None:
        """Write the line: in place on a terminal (cut to its width, which a line must not
        wrap past for ``\\r`` to reach its start), as a log line elsewhere."""
        line = self.line()
        if not self.tty:
            logger.info("progress: %s", line)
            return
        width = _width(self.stream) - 1
        line = line if len(line) <= width else line[: width - 1] + "…"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.shown_line = line

    def clear(self) -> None:
        """Take the terminal's progress line away (before a log line, and at the end)."""
        if self.tty and self.shown_line:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown_line = ""
