"""The points of the site contract (``docs/site.md``) and the probe's verdict on them.

``olyscrape check`` fetches a few pages (discovery, then per partner a listing page, a
load-more answer or no-script page, an article page) and asks each page object for the
points it keeps: a :class:`Point` names a rule, says whether it holds on that page, and
gives the evidence (the selector, the count found, a short excerpt). The page objects
judge with the selectors the crawl reads, so a point that holds is a rule the crawl can
rely on. The points travel in the probe's stats (``olyscrape/check/points``, as dicts);
:func:`passed` is the verdict every reader of them (the crawl runner, the report, the
spider's last log line) shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from olyscrape import crawlstats

EXCERPT = 80


@dataclass(frozen=True)
class Point:
    """One point of the contract on one page: ``partner`` is None for discovery."""

    partner: str | None
    name: str
    holds: bool
    evidence: str
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The order a report lists a partner's points in: the order of the contract.
ORDER = (
    "discovery: TOP column", "listing: cards", "card: link", "card: title", "card: label",
    "card: date", "card: image", "paging: load-more link", "paging: load-more answer",
    "paging: no-script next page", "paging: none", "article: title", "article: date",
    "article: tags", "article: body",
)  # fmt: skip


def excerpt(text: str | bytes | None, size: int = EXCERPT) -> str:
    """The start of a text on one line, for evidence."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    flat = " ".join((text or "").split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def failed_fetch(name: str, partner: str | None, url: str, reason: str) -> Point:
    """A page the probe could not fetch: the point it was to check is broken."""
    return Point(partner, name, False, f"could not fetch it: {reason}", url)


# --- The verdict ------------------------------------------------------------------------


def broken(points: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The points (as the stats hold them) that do not hold."""
    return [p for p in points if not p["holds"]]


def passed(points: Iterable[Mapping[str, Any]]) -> bool:
    """The probe's verdict: every point holds, discovery among them (a probe that checked
    nothing fails)."""
    points = list(points)
    discovered = any(p["partner"] is None and p["holds"] for p in points)
    return discovered and not broken(points)


def points_of(stats: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The points a probe recorded in its stats, in the order the pages came."""
    return list(stats.get(crawlstats.CHECK_POINTS) or [])


def probe_passed(stats: Mapping[str, Any]) -> bool:
    """The verdict of a probe, from its stats (see :func:`passed`)."""
    return passed(points_of(stats))
