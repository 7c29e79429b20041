"""Where a partner's links stand after a walk of its listing that stopped early.

``partner_links.position`` is a card's place on its partner's listing, as a full walk
numbers it. An incremental walk stops at the cards archived before, so the links it did
not reach would keep their old places while the new cards above them push them down:
:class:`WalkLinks` follows what one walk met across the crawl's batches, and when the walk
ends :func:`shift_unreached` moves the links it did not reach as far as the last known card
it saw moved.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from olyscrape.items import WalkDone

#: After a walk that stopped at cards archived before: the partner's links it did not reach
#: (below ``:reached``, the archived place of the last known card it saw, and not seen in
#: this crawl: ``:seen`` is a JSON array of their article numbers) move down as far as
#: that card did. Links above it that the walk did not meet left the listing: they keep
#: their place as last walked, as after a full walk.
_SHIFT_UNREACHED = """UPDATE partner_links SET position = position + :shift
    WHERE partner = :partner AND position > :reached
        AND article_id NOT IN (SELECT value FROM json_each(:seen))"""


@dataclass
class WalkLinks:
    """What a crawl met, so far, of one partner's links (across batches, until the walk's
    :class:`WalkDone`): the articles whose link it saw (new, moved or in place), and the
    link archived before this crawl that it met furthest down the listing, as (its place
    now, its place before). An incremental walk's older links move by the difference."""

    seen: set[int] = field(default_factory=set)
    last_known: tuple[int, int] | None = None

    def meet(self, article_id: int, position: int | None, archived: int | None) -> None:
        """A link seen at ``position``; ``archived``: its place before this crawl (None
        for a link new to the archive)."""
        if article_id in self.seen:
            return  # met earlier in this crawl: its archived place is this crawl's
        self.seen.add(article_id)
        if position is None or archived is None:
            return
        if self.last_known is None or position > self.last_known[0]:
            self.last_known = (position, archived)

    def shift(self) -> dict[str, Any] | None:
        """The parameters of :data:`_SHIFT_UNREACHED`, or None when nothing moves."""
        if self.last_known is None or self.last_known[0] == self.last_known[1]:
            return None
        position, archived = self.last_known
        return {"shift": position - archived, "reached": archived,
                "seen": json.dumps(sorted(self.seen))}  # fmt: skip


def shift_unreached(
    conn: sqlite3.Connection, walks: dict[str, WalkLinks], done: Sequence[WalkDone]
) -> None:
    """Walks ended: an incremental one moves the partner's links it did not reach by
    as far as the known cards it saw moved (new cards were added above them), so that
    ``position`` stays the card's place on the listing, as a full walk numbers it.
    A full walk saw every card on the listing: nothing to move. (A batch that fails
    ends the writer's writing, so what this forgets of ``walks`` is never needed again.)"""
    for item in done:
        walk = walks.pop(item.partner, None)
        params = walk.shift() if walk is not None and item.incremental else None
        if params is not None:
            conn.execute(_SHIFT_UNREACHED, params | {"partner": item.partner})
