"""``olyscrape verify``: is the archive sound? Every check reads, none writes.

The checks: SQLite's ``integrity_check`` (``quick_check`` with ``quick``), every capture
body against its sha256 and size, captures whose body is missing, crawls still recorded
``running``, the ``-wal``'s pages not yet copied into the file, and (a note, not a fault)
articles whose page is not stored. Each finding is one line; a finding that makes the
archive unsound carries what to do about it, where the damage allows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import sys
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from olyscrape.archive import health, paths, schema
from olyscrape.archive.errors import (
    ArchiveDamaged,
    ArchiveError,
    damaged_line,
    detail_of,
    is_corruption,
)

#: How many damaged capture bodies are listed one by one.
BODIES_LISTED = 20


@dataclass
class Finding:
    """One line of the report. ``sound`` findings are notes; any other makes exit 1."""

    check: str
    message: str
    sound: bool = False
    hint: str | None = None

    def line(self) -> str:
        word = "note" if self.sound else "PROBLEM"
        hint = f" -> {self.hint}" if self.hint else ""
        return f"{word} [{self.check}] {self.message}{hint}"


@dataclass
class Report:
    """What ``verify`` found; ``facts`` are the figures it read (counts, the WAL)."""

    path: str
    checks: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def sound(self) -> bool:
        return all(f.sound for f in self.findings)

    def add(self, check: str, message: str, sound: bool = False, hint: str | None = None) -> None:
        self.findings.append(Finding(check, message, sound, hint))

    def lines(self) -> list[str]:
        verdict = "sound" if self.sound else "NOT sound"
        done = ", ".join(self.checks)
        head = f"archive {self.path}: {verdict} (checked: {done})"
        return [head, *(f.line() for f in self.findings)]

    def damaged_line(self) -> str:
        """The first problem as the one ``damaged`` line every command prints."""
        first = next(f for f in self.findings if not f.sound)
        if first.check == "open":
            return first.message
        return damaged_line(self.path, f"{first.check}: {first.message}; `olyscrape verify"
                            f" --db {self.path}` says more")  # fmt: skip

    def to_json(self) -> str:
        data = asdict(self) | {"sound": self.sound}
        return json.dumps(data, indent=2, ensure_ascii=False)


def wal_backlog(path: str | Path, wal: health.WalState) -> int:
    """Pages in the ``-wal`` not yet copied into the file: from the WAL index (``-shm``)
    when there is one (its last frame minus those backfilled), else every frame."""
    try:
        with open(f"{path}-shm", "rb") as fh:
            header = fh.read(136)
    except OSError:
        return wal.frames
    if len(header) < 136 or not header[12]:  # isInit
        return wal.frames
    order = "<" if sys.byteorder == "little" else ">"
    (max_frame,) = struct.unpack(order + "I", header[16:20])
    (backfilled,) = struct.unpack(order + "I", header[96:100])
    return max(0, max_frame - backfilled)


def _file_alone_sound(path: str | Path) -> bool:
    """Does the ``.db`` pass ``integrity_check`` read without its ``-wal``?"""
    try:
        conn = sqlite3.connect(paths.sqlite_uri(path, immutable=1), uri=True)
        try:
            return not health.integrity_problems(conn, quick=False)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False


def _recover_hint(path: str | Path) -> str:
    return (
        f"rebuild it from its intact captures into a new file: `olyscrape recover --db {path}"
        " NEW.db` (the damaged file is left as it is)"
    )


def verify(
    path: str | Path, quick: bool = False, crawl_running: bool = False,
    only_integrity: bool = False,
) -> Report:  # fmt: skip
    """Check the archive at ``path`` (which must be one: :class:`ArchiveError` otherwise).
    ``crawl_running``: a crawl holds the archive now, so its ``running`` row and its WAL
    are expected. ``only_integrity``: SQLite's check alone."""
    report = Report(str(path))
    wal = health.wal_state(path)
    if not crawl_running and _foreign_wal(report, path, wal):
        return report  # read with it, every other check would describe two files mixed
    try:
        identity = schema.identify(path)
        if identity.empty:
            what = "no such file" if not identity.exists else "an empty file, not an archive"
            raise ArchiveError(f"archive {path}: {what}")
        conn = schema.read_connection(path)
    except (ArchiveDamaged, sqlite3.DatabaseError) as exc:
        if isinstance(exc, sqlite3.DatabaseError) and not is_corruption(exc):
            raise ArchiveError(f"archive {path}: cannot be opened ({detail_of(exc)})") from None
        report.checks.append("open")
        report.add("open", str(exc), hint=_recover_hint(path))
        return report
    try:
        _check_integrity(report, conn, path, quick, wal)
        if only_integrity:
            return report
        _check_bodies(report, conn)
        _check_articles(report, conn)
        _check_crawls(report, conn, crawl_running)
    finally:
        conn.close()
    _check_wal(report, path, wal, crawl_running)
    return report


def _unreadable(report: Report, check: str, what: str, exc: sqlite3.Error, path: str) -> None:
    report.add(check, f"{what} cannot be read ({detail_of(exc)})", hint=_recover_hint(path))


def _foreign_wal(report: Report, path: str | Path, wal: health.WalState) -> bool:
    """Report a ``-wal`` that belongs to another copy of the archive (true), with what to do:
    move it aside when the file alone is sound."""
    owner = health.wal_owner(path, wal)
    if not owner.foreign:
        return False
    report.checks.append("wal")
    report.facts["wal"] = {"bytes": wal.bytes, "frames": wal.frames, "foreign": True}
    aside = f"move {path}-wal and {path}-shm aside (the other copy's commits go with them)"
    if _file_alone_sound(path):
        hint = f"the file is sound without it: {aside}, then verify again"
    else:
        hint = f"{aside}; the file alone is not sound either: then {_recover_hint(path)}"
    report.add("wal", f"its -wal ({health.size_text(wal.bytes)}) belongs to another copy of"
               f" the archive: {owner.why}", hint=hint)  # fmt: skip
    return True


def _check_integrity(
    report: Report, conn: sqlite3.Connection, path: str | Path, quick: bool, wal: health.WalState
) -> None:
    check = "quick_check" if quick else "integrity_check"
    report.checks.append(check)
    try:
        problems = health.integrity_problems(conn, quick)
    except sqlite3.DatabaseError as exc:
        problems = [detail_of(exc)]
    report.facts["integrity_problems"] = len(problems)
    if not problems:
        return
    hint = _recover_hint(path)
    if not wal.empty and _file_alone_sound(path):
        hint = (
            f"the file is sound without its -wal, which does not belong to it (another copy's,"
            f" or a crash's): move {path}-wal and {path}-shm aside (its commits go with them),"
            " then verify again"
        )
    for n, problem in enumerate(problems):
        report.add(check, problem, hint=hint if n == 0 else None)


def _check_bodies(report: Report, conn: sqlite3.Connection) -> None:
    """Every capture body decompresses to ``size`` bytes whose sha256 is its key."""
    report.checks.append("capture bodies")
    checked = bad = 0
    try:
        for sha, size, body in conn.execute("SELECT sha256, size, body FROM capture_bodies"):
            checked += 1
            try:
                data = zlib.decompress(body)
                wrong = hashlib.sha256(data).hexdigest() != sha or len(data) != size
                what = "does not match its sha256" if wrong else ""
            except (zlib.error, TypeError):
                what = "cannot be decompressed"
            if what:
                bad += 1
                if bad <= BODIES_LISTED:
                    report.add("capture bodies", f"the body {sha} {what}",
                               hint="`olyscrape recover` leaves it out; the next crawl of"
                               " that page stores a new capture")  # fmt: skip
        (dangling,) = conn.execute(
            "SELECT count(*) FROM captures WHERE sha256 NOT IN (SELECT sha256 FROM capture_bodies)"
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        _unreadable(report, "capture bodies", f"capture_bodies (after {checked} rows)", exc,
                    report.path)  # fmt: skip
        return
    finally:
        report.facts["capture_bodies"] = checked
        report.facts["damaged_bodies"] = bad
    if bad > BODIES_LISTED:
        report.add("capture bodies", f"... and {bad - BODIES_LISTED} more damaged bodies")
    if dangling:
        report.add("capture bodies", f"{dangling} capture(s) have no stored body")


def _check_articles(report: Report, conn: sqlite3.Connection) -> None:
    report.checks.append("article pages")
    try:
        articles, missing = conn.execute(
            "SELECT count(*), count(*) - count(body) FROM articles"
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        _unreadable(report, "article pages", "articles", exc, report.path)
        return
    report.facts |= {"articles": articles, "articles_without_page": missing}
    if missing:
        report.add("article pages", f"{missing} of {articles} articles have no page stored"
                   " (body empty): a crawl fetches them (`--refresh-articles` all)",
                   sound=True)  # fmt: skip


def _check_crawls(report: Report, conn: sqlite3.Connection, crawl_running: bool) -> None:
    report.checks.append("crawls")
    try:
        rows = conn.execute(
            "SELECT id, started_at FROM crawls WHERE status = 'running' ORDER BY id"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        _unreadable(report, "crawls", "crawls", exc, report.path)
        return
    report.facts["crawls_running"] = len(rows)
    for n, (crawl_id, started) in enumerate(rows):
        if crawl_running and n == len(rows) - 1:
            report.add("crawls", f"crawl {crawl_id} (started {started}) is running now", sound=True)
        else:
            report.add("crawls", f"crawl {crawl_id} (started {started}) is recorded running, but"
                       " it ended without closing its record (killed)",
                       hint="the next crawl records it interrupted and fetches what it"
                       " missed")  # fmt: skip


def _check_wal(report: Report, path: str | Path, wal: health.WalState, crawl_running: bool) -> None:
    report.checks.append("wal")
    backlog = wal_backlog(path, wal)
    report.facts["wal"] = {"bytes": wal.bytes, "frames": wal.frames, "not_checkpointed": backlog}
    if not backlog:
        return
    message = (
        f"{backlog} page(s) of its -wal ({health.size_text(wal.bytes)}) are not yet copied into"
        " the file: the .db alone is not the whole archive"
    )
    if crawl_running:
        report.add("wal", message + " (a crawl is writing now)", sound=True)
    else:
        report.add("wal", message, hint=f"the next crawl copies them in; for a copy now, "
                   f"`olyscrape backup --db {path} COPY.db` (never cp)")  # fmt: skip
