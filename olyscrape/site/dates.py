"""Dates and text (``docs/site.md`` §7): the raw text of a card, an answer or an article
page made clean, and its date read as ``YYYY-MM-DD``; shared by the page objects and the
normalize pipeline."""

from __future__ import annotations

import html
import re
from datetime import datetime
from functools import lru_cache

from dateutil import parser as dateparser

_SPACE = re.compile(r"\s+")
#: How the site writes dates: cards ``12 Mar 2019``, article pages ``09 JUL 2019`` (strptime
#: matches month names in any case), ISO ``2019-07-09``.
_SITE_FORMATS = ("%d %b %Y", "%Y-%m-%d")
_YEAR_FIRST = re.compile(r"^\d{4}\D")

# Two defaults that differ in every field: a date string that lacks its day, month
# or year parses differently against each, and so is recognised as incomplete.
_DEFAULT_A = datetime(1901, 1, 1)
_DEFAULT_B = datetime(1902, 2, 2)


#: Control characters no text on a page means (all below a space but tab, newline and
#: return), the non-characters U+FFFE and U+FFFF, and lone surrogates (half a character,
#: as a JSON answer cut in the middle of an emoji gives): XML cannot hold them, so an Atom
#: feed of a title with one would fail, and SQLite cannot store a lone surrogate at all.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def without_controls(value: str) -> str:
    """``value`` without control characters (tab, newline and return kept), U+FFFE,
    U+FFFF and lone surrogates."""
    return _CONTROL.sub("", value)


def clean_text(value: str | None) -> str | None:
    """Decode HTML entities, drop control characters and collapse runs of white space;
    empty becomes None.

    Typographic quotes and other non-ASCII characters are kept as they are.
    """
    if value is None:
        return None
    if "&" in value:
        value = html.unescape(value)
    text = " ".join(without_controls(value).split())
    return text or None


@lru_cache(maxsize=4096)
def _parse_clean_date(text: str) -> str | None:
    for fmt in _SITE_FORMATS:  # the site's own forms first: strptime is ~20x cheaper
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            pass
    # The site writes day-first dates; ISO dates (year first) keep month before day.
    year_first = bool(_YEAR_FIRST.match(text))
    try:
        first = dateparser.parse(
            text, default=_DEFAULT_A, yearfirst=year_first, dayfirst=not year_first
        )
        second = dateparser.parse(
            text, default=_DEFAULT_B, yearfirst=year_first, dayfirst=not year_first
        )
    except (ValueError, OverflowError, TypeError):
        return None
    if first != second:
        return None
    return first.date().isoformat()


def parse_date(raw: str | None) -> str | None:
    """Parse a card or article date into ISO ``YYYY-MM-DD``.

    Accepts the site's forms (``12 Mar 2019``, ``09 JUL 2019``) and other common ones
    (``2019-07-09``, ``9 July 2019``). Anything that is not a complete calendar date
    (``TBC``, ``Mar 2019``, an empty string) gives None.
    """
    text = clean_text(raw)
    if not text:
        return None
    # Cards of one site repeat a few hundred dates: each is parsed once.
    return _parse_clean_date(text)
