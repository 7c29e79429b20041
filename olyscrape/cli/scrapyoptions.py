"""The Scrapy options of ``crawl``, ``check`` and ``reparse``, as ``scrapy crawl`` has them:
``-s NAME=VALUE``, ``-L/--loglevel``, ``--logfile``, ``--nolog`` and, on ``crawl``, the feed
exports ``-o/-O``. One decorator adds them and hands the command one ``scrapy_settings``
dict (checked: a bad value, an unwritable log or feed file is a usage error, exit 2,
before the archive's lock or any file is touched).

Precedence, as in Scrapy: ``-L``, ``--logfile`` and ``--nolog`` win over ``-s LOG_LEVEL``,
``-s LOG_FILE`` and ``-s LOG_ENABLED``; a later ``-s`` of a name wins over an earlier one;
``-v`` adds Scrapy's own lines and its stats dump, at DEBUG unless a level is given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click

from olyscrape.cli.inputs import check_creatable
from olyscrape.cli.types import FilePath, SettingOverride

_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def scrapy_options(feeds: bool = False) -> Callable[[Callable[..., Any]], Any]:
    """Add ``-s``, ``-L``, ``--logfile``, ``--nolog`` (and, ``feeds``, ``-o``/``-O``) to a
    command, which receives them as one ``scrapy_settings`` keyword: the settings they
    give, at Scrapy's ``cmdline`` priority once the runner sets them."""

    def decorate(command: Callable[..., Any]) -> Any:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs["scrapy_settings"] = _settings(
                overrides=kwargs.pop("overrides"),
                loglevel=kwargs.pop("loglevel"),
                logfile=kwargs.pop("logfile"),
                nolog=kwargs.pop("nolog"),
                output=kwargs.pop("output", ()),
                overwrite_output=kwargs.pop("overwrite_output", ()),
                verbose=kwargs.get("verbose", False),
                archive=kwargs.get("db") or kwargs.get("keep"),
            )
            return command(*args, **kwargs)

        options = [
            click.option(
                "-s",
                "--set",
                "overrides",
                type=SettingOverride(),
                multiple=True,
                metavar="NAME=VALUE",
                help="Set a Scrapy or olyscrape setting (repeatable), e.g. -s DOWNLOAD_TIMEOUT=2.5;"
                " checked as the setting's type (docs/crawling.md).",
            ),
            click.option(
                "-L",
                "--loglevel",
                type=click.Choice(_LEVELS, case_sensitive=False),
                metavar="LEVEL",
                help="Log every logger's lines at LEVEL (CRITICAL, ERROR, WARNING, INFO,"
                " DEBUG) and above (LOG_LEVEL); default: olyscrape's progress and"
                " others' warnings.",
            ),
            click.option(
                "--logfile",
                type=FilePath(),
                help="Write the log to this file (appended; LOG_FILE) instead of stderr.",
            ),
            click.option("--nolog", is_flag=True, help="Log nothing (LOG_ENABLED=False)."),
        ]
        if feeds:
            options += [
                click.option(
                    "-o",
                    "--output",
                    multiple=True,
                    metavar="FILE",
                    help="Append one item per article to FILE (Scrapy's feed exports;"
                    " format from the extension or FILE:FORMAT).",
                ),
                click.option(
                    "-O",
                    "--overwrite-output",
                    multiple=True,
                    metavar="FILE",
                    help="As -o, overwriting FILE.",
                ),
            ]
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def _settings(
    overrides: tuple[tuple[str, Any], ...],
    loglevel: str | None,
    logfile: Path | None,
    nolog: bool,
    output: tuple[str, ...],
    overwrite_output: tuple[str, ...],
    verbose: bool,
    archive: Path | None = None,
) -> dict[str, Any]:
    settings = dict(overrides)
    if nolog and logfile:
        raise click.UsageError("--nolog and --logfile exclude each other")
    if nolog and verbose:
        raise click.UsageError("--nolog and --verbose exclude each other")
    if loglevel:
        settings["LOG_LEVEL"] = loglevel.upper()
    if logfile:
        settings["LOG_FILE"] = str(logfile)
    if nolog:
        settings["LOG_ENABLED"] = False
    if settings.get("LOG_FILE"):
        _check_writable(settings["LOG_FILE"], "--logfile" if logfile else "--set", archive)
    if output or overwrite_output:
        settings["FEEDS"] = _feeds(settings, list(output), list(overwrite_output), archive)
    return settings


def _feeds(
    settings: dict[str, Any], output: list[str], overwrite: list[str], archive: Path | None
) -> dict[str, Any]:
    """``FEEDS`` for ``-o``/``-O``, as ``scrapy crawl`` makes it (format from the extension
    or a ``:format`` suffix, ``-O`` overwriting), each local file checked writable; stdout
    is refused: it carries the crawl's summary."""
    from scrapy.exceptions import UsageError
    from scrapy.utils.conf import feed_process_params_from_cli

    from olyscrape.crawl import project_settings

    hint = "-O/--overwrite-output" if overwrite else "-o/--output"
    try:
        feeds = feed_process_params_from_cli(
            project_settings(**settings), output, overwrite_output=overwrite
        )
    except UsageError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None
    for uri in feeds:
        parsed = urlparse(str(uri))
        if parsed.scheme == "stdout" or str(uri) == "-":
            raise click.BadParameter(
                "the crawl's summary is stdout: give a file for the items", param_hint=hint
            )
        if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # a path (C:\\ too)
            _check_writable(parsed.path if parsed.scheme == "file" else str(uri), hint, archive)
    return feeds


def _check_writable(path: str, hint: str, archive: Path | None) -> None:
    """A file the run will write (the log, a feed) must be creatable, before anything:
    proved by trying (:func:`~olyscrape.cli.inputs.prove_writable`, which leaves nothing),
    since the permission bits say yes to root on ``/proc``, where the log's handler then
    raised a traceback and a feed failed after the crawl with exit 0."""
    check_creatable(Path(path), hint, archive)  # never the archive, its lock or -wal
