"""The SQLite archive, split by job.

- :mod:`~olyscrape.archive.schema`: the tables, views and indexes, the SQL they share, and
  the file's identity (application id and schema version);
- :mod:`~olyscrape.archive.migrations`: an older archive brought up to this schema;
  :mod:`~olyscrape.archive.room`: the free space that needs, checked first, and the pages
  it frees, given back;
- :mod:`~olyscrape.archive.counts`: each partner's articles per date published, kept by
  triggers, which ``stats`` reads;
- :mod:`~olyscrape.archive.writer`: the crawl's write path, the only code that writes:
  its connection, transactions and the crawl's row;
- :mod:`~olyscrape.archive.batch`: what one batch of cards and article pages changes, and
  the statements that write it; :mod:`~olyscrape.archive.walks`: the links an incremental
  walk did not reach;
- :mod:`~olyscrape.archive.lookups`: what a crawl asks of the archive it writes (earlier
  links, completed walks, the pages still wanted, counts), read on the writer's connection;
- :mod:`~olyscrape.archive.captures`: the stored responses, also a replay source;
- :mod:`~olyscrape.archive.reader`: the read-only API of the query commands;
  :mod:`~olyscrape.archive.legacy`: an older archive read in the current shape;
- :mod:`~olyscrape.archive.errors`: what can go wrong, each as one line;
- :mod:`~olyscrape.archive.paths`: the file reached as a path, and read-only connections;
  :mod:`~olyscrape.archive.traces`: reading a file without leaving anything beside it;
- :mod:`~olyscrape.archive.text`: text that is not UTF-8, read leniently and found;
- :mod:`~olyscrape.archive.health`: the check before the first write, and the checkpoint;
- :mod:`~olyscrape.archive.walfile`: the ``-wal`` read without SQLite;
  :mod:`~olyscrape.archive.walowner`: whether it is this file's or another copy's;
- :mod:`~olyscrape.archive.verify`: ``olyscrape verify``, every check that reads;
- :mod:`~olyscrape.archive.backup`: a consistent copy, and recovery from a damaged file.

Times are UTC ISO-8601 strings. Nothing here imports Scrapy, nor any of olyscrape but
``olyscrape.items`` and ``olyscrape.crawlstats`` (``tests/test_archive_layers.py`` checks).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from olyscrape.archive.captures import Capture, CaptureStore
    from olyscrape.archive.errors import (
        ArchiveError,
        ArchiveRefused,
        ArchiveWriteError,
        QueryError,
    )
    from olyscrape.archive.reader import ArchiveReader, ArticleQuery
    from olyscrape.archive.schema import CANNED_QUERIES, SCHEMA
    from olyscrape.archive.writer import ArchiveWriter, StoreResult, utcnow

#: Every name below, from the module that defines it, imported when first asked: a query
#: command that reads the archive never loads the crawl's write path (nor the other way).
_LAZY = {
    "ArchiveReader": "reader", "ArticleQuery": "reader",
    "Capture": "captures", "CaptureStore": "captures",
    "ArchiveError": "errors", "ArchiveRefused": "errors", "ArchiveWriteError": "errors",
    "QueryError": "errors",
    "CANNED_QUERIES": "schema", "SCHEMA": "schema",
    "ArchiveWriter": "writer", "StoreResult": "writer", "utcnow": "writer",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"olyscrape.archive.{_LAZY[name]}"), name)
    try:  # a module of the package (``olyscrape.archive.schema``), as when all were loaded
        return import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
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
