"""Where a replayed crawl gets its answers: a folder of saved pages, a WARC file, or the
captures an archive kept. Each source answers ``lookup(canonical_url)``."""

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


class Source(Protocol):
    def lookup(self, url: str) -> SavedResponse | None: ...

    def close(self) -> None: ...


class FolderSource:
    """A saved copy of the site as files (see :mod:`olyscrape.sitefiles`)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def lookup(self, url: str) -> SavedResponse | None:
        from olyscrape import sitefiles

        path = sitefiles.resolve(self.root, url)
        if path is None:
            return None
        return SavedResponse(200, {"Content-Type": sitefiles.content_type(path)}, path.read_bytes())

    def close(self) -> None:
        pass


class WarcSource:
    """The responses of a WARC file written by ``--warc``."""

    def __init__(self, path: str | Path) -> None:
        from olyscrape.warc import WarcIndex

        self.index = WarcIndex(path)

    def lookup(self, url: str) -> SavedResponse | None:
        return self.index.lookup(url)

    def close(self) -> None:
        pass


class ArchiveSource:
    """The newest capture of each URL in an archive (what ``reparse`` reads)."""

    def __init__(self, db: str | Path) -> None:
        from olyscrape.archive import Archive

        self.archive = Archive.open(db)

    def lookup(self, url: str) -> SavedResponse | None:
        capture = self.archive.latest_capture(url)
        if capture is None:
            return None
        headers = {"Content-Type": capture.content_type} if capture.content_type else {}
        return SavedResponse(capture.status, headers, capture.body)

    def close(self) -> None:
        self.archive.close()
