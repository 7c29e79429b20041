"""The option types of the commands, as click ``ParamType``\\ s: a mistake in a value is a
one-line usage error (exit 2) raised while the command line is parsed, before a command
opens anything."""

from __future__ import annotations

import calendar
import datetime
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


class Filter(click.ParamType):
    """A filter's text (``--partner``, ``--category``, ``--search``, a search query). An
    empty or blank one is a usage error: it used to mean "no filter" (every row listed) or
    reach FTS5 as a syntax error. A search (``words=True``) needs a word to look for. The
    text is given back without the spaces around it."""

    name = "text"

    def __init__(self, what: str, words: bool = False) -> None:
        self.what = what
        self.words = words

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if not text.strip():
            option = param is not None and param.param_type_name == "option"
            what = "gives no words to search for" if self.words else "filters nothing"
            leave = "; leave the option out for no filter" if option else ""
            self.fail(f"an empty {self.what} {what}{leave}", param, ctx)
        if self.words and not re.search(r"\w", text):
            self.fail(f"{text!r} has no word to search for", param, ctx)
        return text.strip()  # ' visa ' is visa


class PartnerList(click.ParamType):
    """``--partners``: slugs or names, comma-separated, as one text again comma-joined
    (spaces around a name dropped). A list that names no partner (``''``, ``','``) is a
    usage error: the crawl would otherwise take every partner."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        names = [name.strip() for name in str(value).split(",")]
        if not any(names):
            self.fail(
                f"{value!r} names no partner; give slugs or names, comma-separated"
                " (leave --partners out for every partner)",
                param,
                ctx,
            )
        return ",".join(name for name in names if name)


#: Settings that an option of the command names: given with ``-s`` they would send the
#: run to another archive than the one the command checked, locked and reports.
OPTION_SETTINGS = {"OLYSCRAPE_DB": "--db", "OLYSCRAPE_CHECK_KEEP": "check --keep"}


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
        from olyscrape.settingvalues import setting_value  # Scrapy: only when -s is given

        try:
            return name, setting_value(name, text)
        except ValueError as exc:
            self._fail(f"{name}={text!r}: {name} takes {exc}", param, ctx)

    @staticmethod
    def _fail(message: str, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        # Named by its long form alone, as the message always was ("for --set").
        raise click.BadParameter(message, ctx=ctx, param=param, param_hint="--set")
