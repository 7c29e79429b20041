"""What ``olyscrape check`` prints: each point of the contract, holds or BROKEN, with its
evidence; as a table or as one JSON object. Read from the probe's stats."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from olyscrape import crawlstats
from olyscrape.cli.exits import EXIT_FAILED, EXIT_OK
from olyscrape.cli.output import aligned
from olyscrape.site.points import ORDER, passed


@dataclass
class CheckReport:
    points: list[dict[str, Any]] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)

    @classmethod
    def from_stats(cls, stats: dict[str, Any]) -> CheckReport:
        """The points in the order of the menu's partners, then of the contract (they
        arrive in the order the pages did)."""
        partners = crawlstats.CrawlStats(stats).partners
        place = {slug: n for n, slug in enumerate(partners)}
        rank = {name: n for n, name in enumerate(ORDER)}
        points = sorted(
            stats.get(crawlstats.CHECK_POINTS) or [],
            key=lambda p: (-1 if p["partner"] is None else place.get(p["partner"], len(place)),
                           rank.get(p["name"], len(rank))),
        )  # fmt: skip
        return cls(points=points, partners=partners)

    @property
    def broken(self) -> list[dict[str, Any]]:
        return [p for p in self.points if not p["holds"]]

    @property
    def ok(self) -> bool:
        """Every point holds, discovery among them (a probe that checked nothing fails)."""
        return passed(self.points)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED

    def broken_lines(self) -> list[str]:
        """One line per broken point, naming the partner and the point."""
        return [f"{p['partner'] or 'discovery'}: {p['name']}: {p['evidence']}" for p in self.broken]

    def to_json(self) -> str:
        data = {"ok": self.ok, "partners": self.partners, "points": self.points,
                "broken": self.broken_lines()}  # fmt: skip
        return json.dumps(data, ensure_ascii=False, indent=2)

    def verdict_line(self) -> str:
        partners = f"{len(self.partners)} partner" + ("" if len(self.partners) == 1 else "s")
        if self.ok:
            return f"check OK: {len(self.points)} points hold ({partners})"
        return f"check FAILED: {len(self.broken)} of {len(self.points)} points broken ({partners})"

    def render(self, *, width: int | None = None) -> str:
        """Each point on a line (partner, point, holds or BROKEN, evidence), then the
        verdict; fitted to ``width`` by cutting the evidence first (``--format json`` and
        the BROKEN lines on stderr keep it whole)."""
        rows = [
            [p["partner"] or "discovery", p["name"], "holds " if p["holds"] else "BROKEN",
             str(p["evidence"])]
            for p in self.points
        ]  # fmt: skip
        header = ["partner", "point", "result", "evidence"]
        lines = aligned(header, rows, widths=[len("discovery")], whole=[0, 1, 2], prose=[3],
                        width=width)  # fmt: skip
        lines.append("")
        lines.append(self.verdict_line())
        return "\n".join(lines)
