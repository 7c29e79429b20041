"""A setting's value as Scrapy will read it, checked before anything starts: ``-s
NAME=VALUE`` of ``olyscrape crawl``, ``check``, ``reparse`` (:mod:`olyscrape.cli.types`)
and of ``scrapy crawl`` (:mod:`olyscrape.commands.crawl`). A value Scrapy would crash on
in mid-crawl (``ROBOTSTXT_OBEY=yes``), or one olyscrape would misread
(``OLYSCRAPE_MONITOR_MAX_DROP=30``), is refused with what the setting takes."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from scrapy.settings import Settings

from olyscrape.addon import DEFAULTS, DOMAINS, Domain

#: Scrapy's ``Settings.getbool`` reads a whole number (0 false, any other true) or these.
_BOOLEANS = {"True": True, "true": True, "False": False, "false": False}
_BOOLEAN_WORDS = "true or false (Scrapy reads 1, 0, True, False, true, false)"
#: Settings whose keys are classes Scrapy imports (their ``_BASE`` forms too).
_COMPONENT_DICTS = (
    "MIDDLEWARES", "MIDDLEWARES_BASE", "PIPELINES", "PIPELINES_BASE", "EXTENSIONS",
    "EXTENSIONS_BASE", "HANDLERS", "HANDLERS_BASE", "EXPORTERS", "EXPORTERS_BASE",
    "STORAGES", "STORAGES_BASE", "ADDONS",
)  # fmt: skip
#: A default that is a dotted path to a class (``scrapy.core.scheduler.Scheduler``).
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+\.[A-Z]\w*$")


def setting_value(name: str, text: str) -> Any:
    """``text`` as the value of setting ``name``: a bool, int or float where Scrapy reads
    one (``getbool``, ``getint``, ``getfloat``: ``1e6`` for a whole number is 1000000), a
    word of its domain (:data:`olyscrape.addon.DOMAINS`), JSON (or Scrapy's comma list)
    for a list or dict, else the text itself: an unknown name passes as text, as Scrapy
    takes any name. Raises ``ValueError`` saying what the setting takes."""
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
            value = _check_json(text, list if isinstance(default, (list, tuple)) else dict)
            if isinstance(value, dict) and name.endswith(_COMPONENT_DICTS):
                for path in value:  # each key a class Scrapy will import
                    _check_import(str(path))
            return text  # Scrapy's getlist / getdict read it
        else:
            if isinstance(default, str) and _IMPORT_PATH.match(default):
                _check_import(text)  # a class or reactor Scrapy will import
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


def _check_import(path: str) -> None:
    """``path`` names something Python can import: Scrapy imports it only once the crawl
    starts, where a wrong one ended in a traceback (``-s TWISTED_REACTOR=nope``)."""
    from scrapy.utils.misc import load_object

    try:
        load_object(path)
    except (ImportError, NameError, ValueError, AttributeError) as exc:
        raise ValueError(f"an import path that exists ({path!r}: {exc})") from None


def _check_json(text: str, kind: type) -> Any:
    """A dict as a JSON object; a list as a JSON array, or as Scrapy's comma-separated text.
    The value read (None for a comma list)."""
    if kind is list and not text.strip().startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise ValueError(
            "a JSON array (or comma-separated values)" if kind is list else "a JSON object"
        )
    return value


def _default(name: str) -> Any:
    """The default of a setting: the project's (Scrapy's own below it), else the add-on's
    (None if neither)."""
    global _PROJECT
    if _PROJECT is None:
        _PROJECT = Settings()
        _PROJECT.setmodule("olyscrape.settings", priority="project")
    return _PROJECT.get(name, DEFAULTS.get(name))


_PROJECT: Settings | None = None
