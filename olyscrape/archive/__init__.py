"""The SQLite archive, split by job.

- :mod:`~olyscrape.archive.schema`: the tables, the file's identity (application id and
  schema version) and migrations;
- :mod:`~olyscrape.archive.writer`: the crawl's write path, the only code that writes;
- :mod:`~olyscrape.archive.captures`: the stored responses, also a replay source;
- :mod:`~olyscrape.archive.reader`: the read-only API of the query commands;
- :mod:`~olyscrape.archive.errors`: what can go wrong, each as one line;
- :mod:`~olyscrape.archive.health`: the check before the first write, the WAL's state and
  its checkpoint;
- :mod:`~olyscrape.archive.verify`: ``olyscrape verify``, every check that reads;
- :mod:`~olyscrape.archive.backup`: a consistent copy, and recovery from a damaged file.

Times are UTC ISO-8601 strings. Nothing here imports Scrapy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from olyscrape.archive.captures import Capture, CaptureStore
from olyscrape.archive.errors import ArchiveError, ArchiveRefused, ArchiveWriteError, QueryError
from olyscrape.archive.schema import CANNED_QUERIES, SCHEMA
from olyscrape.archive.writer import ArchiveWriter, StoreResult, utcnow

#: The read API loads sqlite-utils, which a crawl never needs: imported when first asked.
_LAZY = {"ArchiveReader": "olyscrape.archive.reader", "ArticleQuery": "olyscrape.archive.reader"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CANNED_QUERIES",
    "SCHEMA",
    "ArchiveError",
    "ArchiveReader",
    "ArchiveRefused",
    "ArchiveWriteError",
    "ArchiveWriter",
    "ArticleQuery",
    "Capture",
    "CaptureStore",
    "QueryError",
    "StoreResult",
    "utcnow",
]
