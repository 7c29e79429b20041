"""A saved copy of the site as a folder of files, shared by replay and the mirror server.

A URL path maps to a file by percent-decoding it and trying, in order: ``<path>``,
``<path>.html``, ``<path>.json``, ``<path>/index.html``, ``<path>/index.json``. The query
string is ignored. Nothing outside the folder can be reached (``..``, encoded slashes
and symlinks leading out are refused).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

_SUFFIXES = ("", ".html", ".json", "/index.html", "/index.json")
_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json", ".txt": "text/plain"}


def resolve(root: Path, url: str) -> Path | None:
    """The saved file answering ``url`` (a URL or a path), or None."""
    root = root.resolve()
    path = unquote(urlsplit(url).path)
    if "\x00" in path:
        return None
    relative = path.lstrip("/").rstrip("/")
    for suffix in _SUFFIXES:
        if not relative and not suffix.startswith("/"):
            continue
        candidate = (root / (relative + suffix).lstrip("/")).resolve()
        if not candidate.is_relative_to(root):
            return None
        if candidate.is_file():
            return candidate
    return None


def content_type(path: Path) -> str:
    """The Content-Type a saved file is served with."""
    return (
        _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
