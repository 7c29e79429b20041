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
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from olyscrape.archive import backup, counts, health, legacy, paths, schema, walfile, walowner
from olyscrape.archive.errors import (
    ArchiveDamaged,
    ArchiveError,
    damaged_line,
    detail_of,
    is_corruption,
    size_text,
)
from olyscrape.archive.running import raise_if_interrupted
from olyscrape.archive.text import text_damage
from olyscrape.archive.walfile import WalState

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


def wal_backlog(path: str | Path) -> int:
    """Pages of committed transactions in the ``-wal`` not yet copied into the file,
    counted from the ``-wal`` itself; the ``-shm``'s count of copied frames is used only
    when its header checks out and belongs to this ``-wal`` (:mod:`~olyscrape.archive.walfile`)."""
    return walfile.wal_frames(path).not_copied


def _file_alone_sound(path: str | Path) -> bool:
    """Does the ``.db`` pass ``integrity_check`` read without its ``-wal``?"""
    try:
        conn = paths.connect_read_only(path, immutable=1)
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


def _open_hint(path: str | Path) -> str:
    """For a file SQLite will not open: ``recover`` when it can still find the tables (a
    file cut short, a damaged page), else what is left (its schema is lost)."""
    if backup.schema_readable(path):
        return _recover_hint(path)
    return (
        "its schema (the table of its tables) cannot be read, so `olyscrape recover` cannot"
        " find its tables either: restore it from a copy (`olyscrape backup` makes one) or"
        " crawl again into a new file"
    )


def verify(
    path: str | Path, quick: bool = False, crawl_running: bool = False,
    only_integrity: bool = False,
) -> Report:  # fmt: skip
    """Check the archive at ``path`` (which must be one: :class:`ArchiveError` otherwise).
    ``crawl_running``: a crawl holds the archive now, so its ``running`` row and its WAL
    are expected. ``only_integrity``: SQLite's check alone."""
    report = Report(str(path))
    wal = walfile.wal_state(path)
    if not crawl_running and _foreign_wal(report, path, wal):
        return report  # read with it, every other check would describe two files mixed
    try:
        identity = schema.identify(path)
        if identity.empty:
            what = "no such file" if not identity.exists else "an empty file, not an archive"
            raise ArchiveError(f"archive {path}: {what}")
        conn = paths.read_connection(path)
    except (ArchiveDamaged, sqlite3.DatabaseError) as exc:
        if isinstance(exc, sqlite3.DatabaseError) and not is_corruption(exc):
            raise ArchiveError(f"archive {path}: cannot be opened ({detail_of(exc)})") from None
        report.checks.append("open")
        report.add("open", str(exc), hint=_open_hint(path))
        return report
    try:
        _check_header(report, path)
        _check_integrity(report, conn, path, quick, wal)
        if only_integrity:
            return report
        _check_version(report, conn, identity.version)
        if not quick:
            _check_text(report, conn)
            _check_counts(report, conn)
        _check_bodies(report, conn)
        _check_articles(report, conn)
        _check_crawls(report, conn, crawl_running)
    finally:
        conn.close()
    _check_wal(report, path, wal, crawl_running)
    return report


def _unreadable(report: Report, check: str, what: str, exc: sqlite3.Error, path: str) -> None:
    report.add(check, f"{what} cannot be read ({detail_of(exc)})", hint=_recover_hint(path))


def _foreign_wal(report: Report, path: str | Path, wal: WalState) -> bool:
    """Report a ``-wal`` that belongs to another copy of the archive (true), with what to do:
    move it aside when the file alone is sound."""
    owner = walowner.wal_owner(path, wal)
    if not owner.foreign:
        return False
    report.checks.append("wal")
    report.facts["wal"] = {"bytes": wal.bytes, "frames": wal.frames, "foreign": True}
    aside = f"move {path}-wal and {path}-shm aside (the other copy's commits go with them)"
    if _file_alone_sound(path):
        hint = f"the file is sound without it: {aside}, then verify again"
    else:
        hint = f"{aside}; the file alone is not sound either: then {_recover_hint(path)}"
    report.add("wal", f"its -wal ({size_text(wal.bytes)}) belongs to another copy of"
               f" the archive: {owner.why}", hint=hint)  # fmt: skip
    return True


def _check_integrity(
    report: Report, conn: sqlite3.Connection, path: str | Path, quick: bool, wal: WalState
) -> None:
    check = "quick_check" if quick else "integrity_check"
    report.checks.append(check)
    try:
        problems = health.integrity_problems(conn, quick)
    except sqlite3.DatabaseError as exc:
        raise_if_interrupted(exc)  # Ctrl-C is no finding about the file
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


def _check_version(report: Report, conn: sqlite3.Connection, version: int) -> None:
    """An archive of an earlier schema version is checked as it is, in the current shape
    (:mod:`~olyscrape.archive.legacy`: what it lacks reads as empty): a note, since the
    next crawl migrates it."""
    report.facts["schema_version"] = version
    if version >= schema.SCHEMA_VERSION:
        return
    try:
        older = legacy.present_current_shape(conn, search=False)
    except sqlite3.DatabaseError:  # damage: the checks that follow say where
        return
    if older:
        report.checks.append("schema")
        report.add("schema", f"schema version {version} (this olyscrape writes"
                   f" {schema.SCHEMA_VERSION}): read as it is; the next crawl migrates it",
                   sound=True)  # fmt: skip


def _check_header(report: Report, path: str | Path) -> None:
    """The SQLite header's bytes SQLite itself does not report (the write version)."""
    report.checks.append("header")
    problem = schema.header_problem(path)
    if problem:
        report.add("header", problem, hint=_recover_hint(path))


def _check_text(report: Report, conn: sqlite3.Connection) -> None:
    """Text cells that are not UTF-8: each reads with its bad bytes replaced, so nothing
    fails on them, but their text is not what was written."""
    report.checks.append("text")
    try:
        damage = text_damage(conn)
    except sqlite3.DatabaseError as exc:
        _unreadable(report, "text", "the text columns", exc, report.path)
        return
    report.facts["text_cells_not_utf8"] = sum(d.count for d in damage)
    for d in damage:
        report.add("text", d.message(), hint=_TEXT_HINTS.get(d.table, _TEXT_HINT))


_TEXT_HINT = "the row's text was changed outside olyscrape; correct it, or recover the archive"
_TEXT_HINTS = {
    "articles": "`olyscrape reparse` writes the text again from the stored pages"
    " (`olyscrape crawl --full --refresh-articles` from the site)",
    "partners": "the next crawl writes the partner's name again",
    "crawls": "only that crawl's record is touched; commands show it unreadable",
}


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


def _check_counts(report: Report, conn: sqlite3.Connection) -> None:
    """``partner_counts`` (what ``stats`` reads) against the links it counts: its triggers
    keep it exact, unless something wrote with them dropped or disabled."""
    report.checks.append("partner counts")
    try:
        kept = "SELECT partner, published, articles FROM partner_counts"
        links = f"SELECT * FROM ({counts.COMPUTED})"
        (wrong,) = conn.execute(
            f"SELECT (SELECT count(*) FROM ({links} EXCEPT {kept}))"
            f" + (SELECT count(*) FROM ({kept} EXCEPT {links}))"
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        _unreadable(report, "partner counts", "partner_counts", exc, report.path)
        return
    if wrong:
        rebuild = counts.COMPUTED.replace("\n", " ")
        report.add("partner counts", f"partner_counts disagrees with the links it counts"
                   f" ({wrong} partner and date rows): `stats` shows its figures",
                   hint=f"rebuild it: `sqlite3 {report.path} \"DELETE FROM partner_counts;"
                   f" INSERT INTO partner_counts {rebuild}\"`")  # fmt: skip


def _check_articles(report: Report, conn: sqlite3.Connection) -> None:
    """Articles on the site (the canonical origin, as a crawl counts them) whose page is
    not stored: a note, not a problem (a ``--no-articles`` crawl leaves them on purpose)."""
    report.checks.append("article pages")
    on_site = "body IS NULL AND substr(url, 1, ?) = ?"
    columns = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
    failed = "page_failures > 0" if "page_failures" in columns else "0"  # version 5 on
    try:
        articles, missing, failing = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {on_site}),"
            f" count(*) FILTER (WHERE {on_site} AND {failed}) FROM articles",
            [len(schema.CANONICAL_ORIGIN), schema.CANONICAL_ORIGIN] * 2,
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        _unreadable(report, "article pages", "articles", exc, report.path)
        return
    report.facts |= {"articles": articles, "articles_without_page": missing}
    if missing:
        why = f", {failing} of them failed before (articles.page_error says why)" if failing else ""
        report.add("article pages", f"{missing} of {articles} articles on the site have no"
                   f" page stored{why}: the next crawl asks for those that failed fewer than"
                   " OLYSCRAPE_PAGE_MAX_FAILURES crawls in a row", sound=True)  # fmt: skip


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


def _check_wal(report: Report, path: str | Path, wal: WalState, crawl_running: bool) -> None:
    report.checks.append("wal")
    backlog = wal_backlog(path)
    report.facts["wal"] = {"bytes": wal.bytes, "frames": wal.frames, "not_checkpointed": backlog}
    if not backlog:
        return
    message = (
        f"{backlog} page(s) of its -wal ({size_text(wal.bytes)}) are not yet copied into"
        " the file: the .db alone is not the whole archive"
    )
    if crawl_running:
        report.add("wal", message + " (a crawl is writing now)", sound=True)
    else:
        report.add("wal", message, hint=f"the next crawl copies them in; for a copy now, "
                   f"`olyscrape backup --db {path} COPY.db` (never cp)")  # fmt: skip
