"""The capture store: every response a crawl received, its body kept once per sha256.

Bodies are zlib-compressed in ``capture_bodies``; ``captures`` holds one row per response
(the URL as fetched, the canonical URL it stands for, time, status, content type, the
body's sha256, the crawl). The store is also a replay source (``lookup``), which is how
``olyscrape reparse`` reads what the archive kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import zlib
from collections.abc import Generator
from dataclasses import dataclass

_BODY_STORED = "SELECT 1 FROM capture_bodies WHERE sha256 = ?"
_INSERT_BODY = "INSERT INTO capture_bodies (sha256, size, body) VALUES (?, ?, ?)"
_INSERT_CAPTURE = """
INSERT INTO captures (id, url, canonical_url, fetched_at, status, content_type, sha256, crawl_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""
_LATEST = """
SELECT c.id, c.url, c.canonical_url, c.fetched_at, c.status, c.content_type, b.body
FROM captures c JOIN capture_bodies b ON b.sha256 = c.sha256
WHERE c.canonical_url = ? ORDER BY c.id DESC LIMIT 1
"""
#: Every capture (of one crawl, or all), in id order, with the title of what it stands
#: for: the archived article's, else the partner's name for its listing page.
_EVERY = """
SELECT c.id, c.url, c.canonical_url, c.fetched_at, c.status, c.content_type, b.body,
       coalesce(a.title, p.name) AS title
FROM captures c JOIN capture_bodies b ON b.sha256 = c.sha256
LEFT JOIN articles a ON a.url = c.canonical_url
LEFT JOIN partners p ON p.url = c.canonical_url
WHERE :crawl IS NULL OR c.crawl_id = :crawl
ORDER BY c.id
"""
_ANY = "SELECT 1 FROM captures WHERE :crawl IS NULL OR crawl_id = :crawl LIMIT 1"


@dataclass
class Capture:
    """A response as the crawl received it (``url`` as fetched, maybe from a mirror)."""

    url: str
    canonical_url: str
    status: int
    content_type: str | None
    body: bytes
    fetched_at: str | None = None
    id: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        """The headers a replay serves it with: its content type, when it had one."""
        return {"Content-Type": self.content_type} if self.content_type else {}


class CaptureStore:
    """Captures on one connection: written inside the caller's transaction, read back by
    canonical URL. The connection's owner (the archive writer) commits."""

    def __init__(self, conn: sqlite3.Connection | None) -> None:
        self.conn = conn

    def next_id(self) -> int:
        """The id the next capture gets: the writer holds the archive's lock, so ids can
        be handed out before the capture is written (in the transaction of its cards)."""
        if self.conn is None:
            return 1
        return int(self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM captures").fetchone()[0])

    def insert(self, capture: Capture, crawl_id: int | None) -> None:
        """Write ``capture`` (its ``id`` already given) and its body, if new. No commit."""
        assert self.conn is not None
        digest = hashlib.sha256(capture.body).hexdigest()
        if not self.conn.execute(_BODY_STORED, [digest]).fetchone():
            body = zlib.compress(capture.body, 6)
            self.conn.execute(_INSERT_BODY, [digest, len(capture.body), body])
        self.conn.execute(
            _INSERT_CAPTURE,
            [capture.id, capture.url, capture.canonical_url, capture.fetched_at,
             capture.status, capture.content_type, digest, crawl_id],
        )  # fmt: skip

    def latest(self, canonical_url: str) -> Capture | None:
        """The newest capture of a canonical URL, body included."""
        if self.conn is None:
            return None
        row = self.conn.execute(_LATEST, [canonical_url]).fetchone()
        if row is None:
            return None
        id_, url, canonical, fetched_at, status, content_type, body = row
        return Capture(url=url, canonical_url=canonical, status=status,
                       content_type=content_type, body=zlib.decompress(body),
                       fetched_at=fetched_at, id=id_)  # fmt: skip

    def has(self, canonical_url: str) -> bool:
        if self.conn is None:
            return False
        sql = "SELECT 1 FROM captures WHERE canonical_url = ? LIMIT 1"
        return self.conn.execute(sql, [canonical_url]).fetchone() is not None

    # --- as a replay source (olyscrape.saved.Source) ----------------------------------

    def lookup(self, url: str) -> Capture | None:
        """The newest capture of ``url``: its ``status``, ``headers`` and ``body`` are what
        a replay serves (a :class:`olyscrape.saved.Saved`)."""
        return self.latest(url)

    def close(self) -> None:
        """Nothing: the connection belongs to the archive writer."""


# --- every capture, for an export ------------------------------------------------------


def has_captures(conn: sqlite3.Connection, crawl_id: int | None = None) -> bool:
    """Whether the archive (or crawl ``crawl_id``) kept any response."""
    return conn.execute(_ANY, {"crawl": crawl_id}).fetchone() is not None


def iter_captures(
    conn: sqlite3.Connection, crawl_id: int | None = None, *, batch: int = 64
) -> Generator[tuple[Capture, str | None], None, None]:
    """Every capture (of crawl ``crawl_id``, or all), oldest first, body included, with
    the title of the page it is (the archived article's, or the partner's name for its
    listing; None for anything else). One statement read ``batch`` rows at a time, so an
    archive of a million captures is never in memory, and what it yields is one snapshot
    of the archive however long the caller takes. The cursor is closed however it ends."""
    cursor = conn.execute(_EVERY, {"crawl": crawl_id})
    try:
        while rows := cursor.fetchmany(batch):
            for id_, url, canonical, fetched_at, status, content_type, body, title in rows:
                capture = Capture(url=url, canonical_url=canonical, status=status,
                                  content_type=content_type, body=zlib.decompress(body),
                                  fetched_at=fetched_at, id=id_)  # fmt: skip
                yield capture, title
    finally:
        with contextlib.suppress(sqlite3.ProgrammingError):  # its connection closed first
            cursor.close()
