"""A ``crawls`` row as ``runs`` and ``stats`` show it: its stored stats read into counts,
and stats or reasons that cannot be read shown as such, never a traceback."""

from __future__ import annotations

import json
from typing import Any

from olyscrape.archive import schema

#: How ``runs`` and ``stats`` show a crawl whose stored stats or reasons cannot be read.
UNREADABLE_STATS = "(unreadable stats)"
UNREADABLE_REASONS = "(unreadable reasons)"


def _reasons(text: str | None) -> list[str]:
    try:
        reasons = json.loads(text or "[]")
    except (ValueError, TypeError):
        return [UNREADABLE_REASONS]
    return [str(r) for r in reasons] if isinstance(reasons, list) else [UNREADABLE_REASONS]


def crawl_summary(row: dict[str, Any]) -> dict[str, Any]:
    """A ``crawls`` row as ``runs`` and ``stats`` show it. Stats that are not the JSON
    object a crawl writes (edited by hand, written by a bug) leave the counts empty and
    the status marked ``(unreadable stats)``: shown as such, never a traceback."""
    stored = schema.crawl_stats(row.pop("stats"))
    reasons = _reasons(row.pop("reasons", None))
    try:
        if stored is None:
            raise ValueError("not a JSON object")
        from olyscrape.crawlstats import CrawlStats  # only ``runs`` and ``stats`` read them

        crawl = CrawlStats(stored)
        return row | {
            "new": crawl.count("new"),
            "updated": crawl.count("updated"),
            "errors": crawl.count("errors"),
            "finish_reason": crawl.finish_reason,
            "new_by_partner": crawl.by_partner("new"),
            "failures": crawl.failures,
            "cards": crawl.count("cards"),
            "pages": crawl.count("pages"),
            "seconds": crawl.elapsed,
            "reasons": reasons,
        }
    except (ValueError, TypeError, AttributeError):  # not JSON, or JSON of another shape
        counts = ("new", "updated", "errors", "finish_reason", "cards", "pages", "seconds")
        return (
            row
            | dict.fromkeys(counts)
            | {
                "status": f"{row.get('status')} {UNREADABLE_STATS}",
                "new_by_partner": {},
                "failures": [],
                "reasons": reasons,
            }
        )
