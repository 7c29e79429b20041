"""Stored responses: the small interface every replay source implements, and the simplest
source, a folder of saved pages.

The other sources are a WARC file (:class:`olyscrape.warc.WarcSource`) and the captures an
archive kept (:class:`olyscrape.archive.captures.CaptureStore`). Each answers
``lookup(canonical_url)``; none imports another."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass
class SavedResponse:
    """A response to replay: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


class Saved(Protocol):
    """What a source answers: a :class:`SavedResponse`, or anything with the same three
    (the archive's :class:`~olyscrape.archive.captures.Capture`, which cannot import this
    module: the archive imports nothing above it)."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> dict[str, str]: ...

    @property
    def body(self) -> bytes: ...


class Source(Protocol):
    def lookup(self, url: str) -> Saved | None: ...

    def close(self) -> None: ...


class FolderSource:
    """A saved copy of the site as files (see :mod:`olyscrape.site.files`)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def lookup(self, url: str) -> SavedResponse | None:
        from olyscrape.site import files as sitefiles

        path = sitefiles.resolve(self.root, url)
        if path is None:
            return None
        return SavedResponse(200, {"Content-Type": sitefiles.content_type(path)}, path.read_bytes())

    def close(self) -> None:
        pass
