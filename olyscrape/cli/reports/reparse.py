"""What ``olyscrape reparse`` (and ``recover``) print: the rows a re-parse changed, read
from the re-parse's stats."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from olyscrape import crawlstats
from olyscrape.archive.health import checkpoint_line
from olyscrape.cli.exits import EXIT_FAILED, EXIT_OK

#: The counts a re-parse reports, by their stats name.
COUNTS = ("changed_rows", "new_articles", "new", "updated", "bodies", "versions")


@dataclass
class ReparseReport:
    counts: dict[str, int]
    #: The partners whose listing has no capture (not re-parsed).
    skipped: list[str] = field(default_factory=list)
    #: Pages asked for that had no capture.
    missing: int = 0
    #: False when some listing pages could not be re-read.
    complete: bool = True
    #: Stopped from outside (Ctrl-C, SIGTERM): what committed before the stop stays.
    interrupted: bool = False
    #: The writer's closing checkpoint (see ``olyscrape.archive.health.Checkpoint``).
    checkpoint: dict[str, Any] = field(default_factory=dict)
    db: str = ""

    @classmethod
    def from_stats(cls, stats: dict[str, Any], db: str) -> ReparseReport:
        crawl = crawlstats.CrawlStats(stats)
        return cls(
            counts={name: crawl.count(name) for name in COUNTS},
            skipped=list(stats.get(crawlstats.REPARSE_SKIPPED) or []),
            missing=crawl.count("replay/missing"),
            complete=crawl.finish_reason == "finished" and not crawl.count("errors"),
            interrupted=crawl.finish_reason in crawlstats.INTERRUPTED_REASONS,
            checkpoint=stats.get(crawlstats.ARCHIVE_CHECKPOINT) or {},
            db=db,
        )

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.complete else EXIT_FAILED

    def render(self, *, width: int | None = None) -> str:
        """The changed rows (and the WAL left uncopied, if a reader kept it); no table, so
        ``width`` leaves it as it is."""
        counts = self.counts
        lines = [
            f"reparse: {counts['changed_rows']} rows changed ({counts['new_articles']} new"
            f" articles, {counts['new']} new partner links, {counts['updated']} updated cards,"
            f" {counts['bodies']} bodies; {counts['versions']} previous versions kept)"
        ]
        left = checkpoint_line(self.db, self.checkpoint)
        if left:
            lines.append(left)
        return "\n".join(lines)

    def notes(self) -> list[str]:
        """What was left out or failed, for stderr."""
        lines = []
        if self.skipped:
            lines.append(f"skipped, no capture of their listing: {', '.join(self.skipped)}")
        if self.missing:
            lines.append(f"{self.missing} page(s) had no capture to re-parse")
        if self.interrupted:
            lines.append(
                "reparse INTERRUPTED: the rows counted above were committed before the stop;"
                " run `olyscrape reparse` again to re-read the rest"
            )
        elif not self.complete:
            lines.append("reparse FAILED: some listing pages could not be re-read")
        return lines

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)
