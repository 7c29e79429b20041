"""``scrapy crawl``, as Scrapy has it, but a busy archive is one line and exit 3, and
``-s`` values are checked as ``olyscrape crawl`` checks them.

The archive keeper refuses an archive another process holds by raising
:class:`~olyscrape.lock.ArchiveLocked` while the crawler starts (before any request, any
file created). Scrapy's own command lets asyncio print that as a traceback ("Task
exception was never retrieved") and exits 1; this one retrieves it, prints
``Error: the archive is in use by pid N (lock ...); not starting a crawl on it.`` on
stderr and exits 3, as ``olyscrape crawl`` does (``EXIT_LOCKED``). Every other failure is
logged and exits as Scrapy's command does.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError
from scrapy.utils.conf import arglist_to_dict
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from olyscrape.lock import ArchiveLocked
from olyscrape.settingvalues import setting_value

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)

#: The exit code of a run whose archive another process holds (``olyscrape crawl``'s too).
EXIT_LOCKED = 3


class Command(ScrapyCrawl):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's, then each ``-s`` read as the setting's type
        (:func:`~olyscrape.settingvalues.setting_value`): ``-s ROBOTSTXT_OBEY=yes`` is a
        usage error (exit 2) rather than a crash in mid-crawl, ``-s DOWNLOAD_MAXSIZE=1e6``
        the number Scrapy's ``getint`` could not read."""
        super().process_options(args, opts)
        assert self.settings is not None
        for name, text in arglist_to_dict(opts.set).items():
            try:
                value = setting_value(name, text)
            except ValueError as exc:
                message = f"-s {name}={text!r}: {name} takes {exc}"
                raise UsageError(message, print_help=False) from None
            self.settings.set(name, value, priority="cmdline")
        if opts.loglevel:  # Scrapy's -L wins over -s LOG_LEVEL, as it did
            self.settings.set("LOG_LEVEL", opts.loglevel, priority="cmdline")
        if opts.logfile:
            self.settings.set("LOG_FILE", opts.logfile, priority="cmdline")
        if opts.nolog:
            self.settings.set("LOG_ENABLED", False, priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:  # Scrapy's own command says why
            return super().run(args, opts)
        assert self.crawler_process
        refusals: list[ArchiveLocked] = []
        started = self.crawler_process.crawl(self._create_crawler(args[0]), **opts.spargs)
        _watch(started, refusals)
        self.crawler_process.start()
        if refusals:
            what = "check" if args[0] == "check" else "crawl"
            print(f"Error: {refusals[0]}; not starting a {what} on it.", file=sys.stderr)
            self.exitcode = EXIT_LOCKED
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        return None


def _watch(started: Any, refusals: list[ArchiveLocked]) -> None:
    """Collect an :class:`ArchiveLocked` the start of a crawl ends with (an asyncio task
    or a Deferred, whichever Scrapy's process returns), so that it is not printed as a
    traceback; any other failure is logged with its traceback, as before."""

    def done(task: asyncio.Future[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()  # retrieved: asyncio no longer logs it
        if isinstance(exc, ArchiveLocked):
            refusals.append(exc)
        elif exc is not None:
            logger.error("the crawl could not start", exc_info=exc)

    def failed(failure: Failure) -> Failure | None:
        if isinstance(failure.value, ArchiveLocked):
            refusals.append(failure.value)
            return None
        return failure

    if isinstance(started, asyncio.Future):
        started.add_done_callback(done)
    elif isinstance(started, Deferred):
        started.addErrback(failed)
    else:  # pragma: no cover - an unknown process kind: Scrapy's behaviour
        raise UsageError("unexpected crawl handle")
