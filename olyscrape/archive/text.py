"""How archive text is read: as UTF-8, a byte that is not UTF-8 costing only its character.

SQLite stores TEXT as the bytes it was given and checks nothing (``quick_check`` and
``integrity_check`` do not look inside cells), so one byte changed by hand, by a disk or by
another program makes a cell that is not UTF-8. Python's default reading of such a cell
raises (``Could not decode to UTF-8 column ...``) for the whole query, and every command
reading that column fails for good. Every connection olyscrape opens to an archive reads
text through :func:`decode` instead: the bad byte becomes U+FFFD and the rest of the cell,
its row and the query are read as they are (a ``stats`` JSON with a bad byte is then
simply JSON that does not parse, which every reader shows as unreadable). ``olyscrape
verify`` lists such cells (:func:`olyscrape.archive.verify.text_damage`).

The cost: a Python call per text cell read, about 0.2 µs more than SQLite's own decoding
(timeit on 90,000 cells: ~0.43 µs → ~0.66 µs a cell); ``bytes.decode`` with positional
arguments is the cheapest of the ways tried (``functools.partial`` with keyword arguments
costs twice as much). On an archive of 20,000 articles, ``search`` (20 results),
``articles --limit 1000`` and ``stats`` show no difference above the noise of this
2-core machine; ``articles`` with no limit (every row) takes ~10 % longer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: What a byte that is not UTF-8 reads as.
REPLACEMENT = "\ufffd"


def decode(data: bytes) -> str:
    """A TEXT cell's bytes as a string, each byte that is not UTF-8 replaced by U+FFFD."""
    return data.decode("utf-8", "replace")


def read_text_leniently(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Make ``conn`` read TEXT through :func:`decode`; ``conn`` back."""
    conn.text_factory = decode
    return conn


def is_not_utf8(exc: BaseException) -> bool:
    """True for SQLite's complaint about a TEXT cell that is not UTF-8."""
    return isinstance(exc, sqlite3.OperationalError) and "Could not decode" in str(exc)


def on_bad_text_leniently(conn: sqlite3.Connection, read: Callable[[], T]) -> T:
    """``read()``, with the default (C) decoding of TEXT, which costs nothing; only when a
    cell is not UTF-8 again through :func:`decode`. The write path's reads take this way:
    decoding every cell in Python would cost a re-crawl a seventh of its speed."""
    try:
        return read()
    except sqlite3.OperationalError as exc:
        if not is_not_utf8(exc):
            raise
    factory = conn.text_factory
    conn.text_factory = decode
    try:
        return read()
    finally:
        conn.text_factory = factory
