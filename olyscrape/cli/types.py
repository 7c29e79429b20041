"""The option types of the commands, as click ``ParamType``\\ s: a mistake in a value is a
one-line usage error (exit 2) raised while the command line is parsed, before a command
opens anything."""

from __future__ import annotations

import calendar
import datetime
import json
import math
import re
from pathlib import Path
from typing import Any

import click

_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


class FilePath(click.Path):
    """A file's path (a folder refused, unless ``dir_okay``); an empty one is a usage
    error. (``Path("")`` is ``.``, the current folder: one command called it a folder,
    another not an archive, with different exit codes.)"""

    def __init__(self, dir_okay: bool = False) -> None:
        super().__init__(dir_okay=dir_okay, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            self.fail("an empty path names no file", param, ctx)
        return super().convert(value, param, ctx)


class DateBound(click.ParamType):
    """YYYY, YYYY-MM or YYYY-MM-DD as an inclusive ISO date: the first day of the year or
    month given (``end=False``, for ``--since``) or its last day (``end=True``, ``--until``)."""

    name = "text"  # shown as TEXT in --help, as before it was a type

    def __init__(self, end: bool) -> None:
        self.end = end

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        match = _DATE.fullmatch(str(value).strip())
        if not match:
            self.fail("give a date as YYYY, YYYY-MM or YYYY-MM-DD", param, ctx)
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None
        if month is None:
            month, day = (12, 31) if self.end else (1, 1)
        elif not 1 <= month <= 12:
            self.fail(f"{value}: there is no month {month:02d}", param, ctx)
        elif day is None:
            day = calendar.monthrange(year, month)[1] if self.end else 1
        try:
            return datetime.date(year, month, day).isoformat()
        except ValueError:
            self.fail(f"{value} is not a date of the calendar", param, ctx)


#: Settings that an option of the command names: given with ``-s`` they would send the
#: run to another archive than the one the command checked, locked and reports.
OPTION_SETTINGS = {"OLYSCRAPE_DB": "--db", "OLYSCRAPE_CHECK_KEEP": "check --keep"}

#: Scrapy's ``Settings.getbool`` reads a whole number (0 false, any other true) or these.
_BOOLEANS = {"True": True, "true": True, "False": False, "false": False}
_BOOLEAN_WORDS = "true or false (Scrapy reads 1, 0, True, False, true, false)"


class SettingOverride(click.ParamType):
    """``-s NAME=VALUE``: a Scrapy setting as ``(NAME, value)``, the value read as Scrapy
    will read it, and refused here, before anything opens, when Scrapy would crash on it or
    olyscrape would misread it (:func:`setting_value`). A setting an option names
    (:data:`OPTION_SETTINGS`) is refused: the option is the one way to give it."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):  # already converted
            return value
        name, sep, text = str(value).partition("=")
        name = name.strip()
        if not sep or not name:
            self._fail(f"{value!r} is not NAME=VALUE", param, ctx)
        if name in OPTION_SETTINGS:
            self._fail(f"{name} is given with {OPTION_SETTINGS[name]}, not -s", param, ctx)
        try:
            return name, setting_value(name, text)
        except ValueError as exc:
            self._fail(f"{name}={text!r}: {name} takes {exc}", param, ctx)

    @staticmethod
    def _fail(message: str, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        # Named by its long form alone, as the message always was ("for --set").
        raise click.BadParameter(message, ctx=ctx, param=param, param_hint="--set")


def setting_value(name: str, text: str) -> Any:
    """``text`` as the value of setting ``name``: a bool, int or float where Scrapy reads
    one (``getbool``, ``getint``, ``getfloat``: ``1e6`` for a whole number is 1000000), a
    word of its domain (:data:`olyscrape.addon.DOMAINS`), JSON (or Scrapy's comma list)
    for a list or dict, else the text itself: an unknown name passes as text, as Scrapy
    takes any name. Raises ``ValueError`` saying what the setting takes."""
    from olyscrape.addon import DOMAINS, Domain

    domain = DOMAINS.get(name)
    default = _default(name)
    if domain is None:
        if isinstance(default, bool):
            return _boolean(text)
        if isinstance(default, int):
            domain = Domain("whole", words="a whole number")
        elif isinstance(default, float):
            domain = Domain("number", words="a number")
        elif isinstance(default, (dict, list, tuple)) or hasattr(default, "copy_to_dict"):
            _check_json(text, list if isinstance(default, (list, tuple)) else dict)
            return text  # Scrapy's getlist / getdict read it
        else:
            return text
    if domain.kind == "choice":
        chosen = {choice.casefold(): choice for choice in domain.choices}.get(
            text.strip().casefold()
        )
        if chosen is None:
            raise ValueError(domain.words or "one of " + ", ".join(domain.choices))
        return chosen
    number = _number(text, whole=domain.kind == "whole")
    low, high = domain.low, domain.high
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(
            domain.words or ("a whole number" if domain.kind == "whole" else "a number")
        )
    return number


def _boolean(text: str) -> bool:
    """As Scrapy's ``getbool`` reads it (not ``yes``, which crashed the crawl in Twisted)."""
    try:
        return bool(int(text))
    except ValueError:
        if text.strip() in _BOOLEANS:
            return _BOOLEANS[text.strip()]
        raise ValueError(_BOOLEAN_WORDS) from None


def _number(text: str, whole: bool) -> int | float | None:
    """A finite number (a whole one if ``whole``: ``1e6`` and ``2.0`` are, ``2.5`` is not)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or (whole and not number.is_integer()):
        return None
    return int(number) if whole else number


def _check_json(text: str, kind: type) -> None:
    """A dict as a JSON object; a list as a JSON array, or as Scrapy's comma-separated text."""
    if kind is list and not text.strip().startswith("["):
        return
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise ValueError(
            "a JSON array (or comma-separated values)" if kind is list else "a JSON object"
        )


def _default(name: str) -> Any:
    """The default of a setting: the project's (Scrapy's own below it), else the add-on's
    (None if neither)."""
    from olyscrape.addon import DEFAULTS
    from olyscrape.crawl import project_settings

    return project_settings().get(name, DEFAULTS.get(name))
