"""The log of a run in this process (:mod:`olyscrape.crawl`): olyscrape's own handler in
place of Scrapy's, honouring Scrapy's log settings (``LOG_LEVEL``, ``LOG_FILE``,
``LOG_ENABLED``, ``LOG_FILE_APPEND``, ``STATS_DUMP``) as a user gives them (``-s``, ``-L``,
``--logfile``, ``--nolog``), over the runner's defaults."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from scrapy.settings import SETTINGS_PRIORITIES, Settings

_STATS_LOGGER = "scrapy.statscollectors"
#: olyscrape's log line (shorter than Scrapy's); ``-s LOG_FORMAT``, ``LOG_DATEFORMAT`` win.
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_DATEFORMAT = "%H:%M:%S"


class _ProgressFilter(logging.Filter):
    """olyscrape's own INFO lines (progress), everybody else's warnings and errors, but
    not Spidermon's unittest-style report (olyscrape.monitors logs each failed check)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("[Spidermon]"):
            return False
        return (
            record.levelno >= logging.WARNING
            or record.name.startswith("olyscrape")
            or record.name == _STATS_LOGGER  # the stats dump, when -s STATS_DUMP=True asks
        )


#: The runner's own logging, below a user's ``-s`` of the same name (which is set at
#: ``cmdline`` priority, so it wins: the two are merged, never passed twice). olyscrape
#: installs its own log handler, so Scrapy's is off unless a user asks for it.
RUNNER_PRIORITY = "project"


def runner_settings(verbose: bool) -> dict[str, Any]:
    """What the runner sets, at :data:`RUNNER_PRIORITY`: INFO (DEBUG with ``-v``), the
    stats dump only with ``-v``, and no Scrapy root handler (this module installs one)."""
    return {
        "LOG_LEVEL": "DEBUG" if verbose else "INFO",
        "STATS_DUMP": verbose,
        "LOG_INSTALL_ROOT_HANDLER": False,
    }


def _log_handler(settings: Settings) -> logging.Handler:
    """Where log lines go, as Scrapy decides it: ``LOG_FILE`` (appended unless
    ``LOG_FILE_APPEND`` is false), else stderr, else nowhere (``LOG_ENABLED`` false)."""
    filename = settings.get("LOG_FILE")
    if filename:
        Path(filename).parent.mkdir(parents=True, exist_ok=True)  # as the archive's folder
        mode = "a" if settings.getbool("LOG_FILE_APPEND") else "w"
        return logging.FileHandler(filename, mode=mode, encoding=settings.get("LOG_ENCODING"))
    if settings.getbool("LOG_ENABLED"):
        return logging.StreamHandler()
    return logging.NullHandler()


def configure_logging(settings: Settings, verbose: bool) -> None:
    """olyscrape's log handler in place of Scrapy's: without ``-v`` and without a level
    given (``-L``, ``-s LOG_LEVEL``), olyscrape's progress at INFO and everybody else's
    warnings and errors; with ``-v`` or a level given, every logger's lines at that level
    (``-v`` alone: DEBUG), as ``scrapy crawl -L`` shows them. ``-s
    LOG_INSTALL_ROOT_HANDLER=True`` keeps Scrapy's own handler instead, untouched."""
    # Spidermon 1.27 still calls Spider.log(), which Scrapy 2.13+ deprecates.
    warnings.filterwarnings("ignore", message=r"Spider\.log\(\) is deprecated")
    if settings.getbool("LOG_INSTALL_ROOT_HANDLER"):
        return
    level = _level(settings.get("LOG_LEVEL"))
    filtered = not verbose and not _given(settings, "LOG_LEVEL")
    handler = _log_handler(settings)
    handler.setFormatter(
        logging.Formatter(
            settings["LOG_FORMAT"] if _given(settings, "LOG_FORMAT") else _FORMAT,
            settings["LOG_DATEFORMAT"] if _given(settings, "LOG_DATEFORMAT") else _DATEFORMAT,
        )
    )
    handler.setLevel(level)
    if filtered:
        handler.addFilter(_ProgressFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Scrapy's own config sets its loggers to DEBUG: a record would be built for every
    # response and item ("Crawled", "Scraped from") only for the filter to drop it.
    logging.getLogger("scrapy").setLevel(max(level, logging.WARNING) if filtered else level)
    logging.getLogger(_STATS_LOGGER).setLevel(level)  # logs once, at the end


def _given(settings: Settings, name: str) -> bool:
    """True when a user set ``name`` (``-s``, a log option), above the runner's defaults."""
    return (settings.getpriority(name) or 0) > SETTINGS_PRIORITIES[RUNNER_PRIORITY]


def _level(value: Any) -> int:
    """A level's number, from its name (``"DEBUG"``) or a number given through the API."""
    if isinstance(value, int):
        return value
    level = logging.getLevelName(str(value).upper())
    return level if isinstance(level, int) else logging.INFO
