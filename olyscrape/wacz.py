"""The archive's captures as a WACZ file, which ReplayWeb.page and pywb replay.

WACZ (Webrecorder's format, the one Browsertrix writes) is a ZIP of WARC files, their
CDXJ index, a list of pages and a ``datapackage.json`` giving each file's digest. The
WARC is written here, one response record a capture (:class:`olyscrape.warc.ResponseWriter`:
under the canonical URL, dated when it was received, its body byte for byte as stored);
everything else is the ``wacz`` library's own ``wacz create`` (it indexes with
``cdxj-indexer``), given that WARC and the pages list, so the file is what Webrecorder's
tools make and check.

Nothing is held in memory: the captures are read one batch at a time, the WARC and the
pages list go to files, and the index is sorted by the indexer in runs spilled to disk.
All of it happens in a temporary folder beside the target, whose finished ZIP is renamed
over the target; whatever fails, or Ctrl-C, the folder goes and the target stays as it was.
The ``wacz`` library (and its ``frictionless``) is imported only here, when a file is made.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import IO, BinaryIO

from olyscrape.archive import paths
from olyscrape.archive.captures import Capture
from olyscrape.warc import ResponseWriter

#: The media types a page list holds: what a reader opens as a page, not its parts.
PAGE_TYPES = ("text/html", "application/xhtml+xml")
#: ``pages/pages.jsonl``'s first line (the WACZ spec's "json-pages-1.0").
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Pages"}


class ExportFailed(Exception):
    """The ``wacz`` library refused what it was given (one line: its own words)."""


@dataclass
class Exported:
    """What a WACZ file holds: its path, the captures (response records) and pages in it,
    the captures left out (no date to give them), and its size in bytes."""

    path: Path
    captures: int = 0
    pages: int = 0
    undated: int = 0
    bytes: int = 0


def warc_date(value: str | None) -> str | None:
    """A capture's ``fetched_at`` as a WARC date (UTC, ``YYYY-MM-DDThh:mm:ssZ``), or None
    when it has none that can be read."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:  # the archive writes UTC
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_page(capture: Capture) -> bool:
    """A page a reader would open (an HTML answer that succeeded), not a load-more answer."""
    media = (capture.content_type or "").split(";", 1)[0].strip().lower()
    return media in PAGE_TYPES and 200 <= capture.status < 300


def page_entry(capture: Capture, date: str, title: str | None) -> dict[str, object]:
    """One line of ``pages/pages.jsonl``: the capture's id, URL, date and title."""
    entry: dict[str, object] = {"id": f"capture-{capture.id}", "url": capture.canonical_url}
    entry["ts"] = date
    if title:
        entry["title"] = title
    return entry


def write_records(
    rows: Iterable[tuple[Capture, str | None]], warc: BinaryIO, pages: IO[str], name: str
) -> Exported:
    """Each capture of ``rows`` as a response record to ``warc`` (named ``name``), each
    page also a line of ``pages``; what was written (the path is the caller's to set)."""
    writer = ResponseWriter(warc, name)
    done = Exported(path=Path(name))
    pages.write(json.dumps(PAGES_HEADER) + "\n")
    for capture, title in rows:
        date = warc_date(capture.fetched_at)
        if date is None:
            done.undated += 1
            continue
        writer.write_response(
            url=capture.canonical_url, date=date, status=capture.status,
            content_type=capture.content_type, body=capture.body,
        )  # fmt: skip
        done.captures += 1
        if is_page(capture):
            pages.write(json.dumps(page_entry(capture, date, title)) + "\n")
            done.pages += 1
    return done


def export_wacz(
    rows: Iterable[tuple[Capture, str | None]],
    path: Path,
    *,
    title: str,
    description: str,
) -> Exported:
    """Write ``rows`` (captures with their pages' titles, as
    :func:`olyscrape.archive.captures.iter_captures` yields them) to the WACZ file
    ``path``, replaced only once complete. Needs the ``wacz`` library (ImportError
    without it, before anything is written); OSError (a full disk) and
    :class:`ExportFailed` leave ``path`` as it was and nothing beside it."""
    from wacz.main import create_wacz  # frictionless and all: only when a file is made

    target = path.resolve()  # a symlink stays, the file it names is replaced
    with _work_folder(target) as work:
        warc = work / f"{target.stem or 'olyscrape'}.warc.gz"
        pages = work / "pages.jsonl"
        with open(warc, "xb") as warc_out, open(pages, "x", encoding="utf-8") as pages_out:
            done = write_records(rows, warc_out, pages_out, warc.name)
            warc_out.flush()
            os.fsync(warc_out.fileno())
        if not done.captures:  # a WARC of its warcinfo alone would pass for an export
            raise ExportFailed(f"none of its {done.undated:,} captures has a date")
        made = work / "out.wacz"
        options = SimpleNamespace(
            inputs=[str(warc)], output=str(made), pages=str(pages), copy_pages=True,
            extra_pages=None, detect_pages=False, text=False, hash_type="sha256",
            log_directory=None, split_seeds=False, ts=None, url=None, date=None,
            title=title, desc=description, signing_url=None, signing_token=None,
        )  # fmt: skip
        said = io.StringIO()
        try:
            with _temporary_files_in(work), contextlib.redirect_stdout(said):
                code = create_wacz(options)  # what `wacz create` runs
        except OSError:
            raise
        except Exception as exc:  # the library's own failure, whatever its kind: one line
            raise ExportFailed(f"the wacz library failed ({type(exc).__name__}: {exc})") from exc
        if code:
            lines = [line for line in said.getvalue().splitlines() if line.strip()]
            raise ExportFailed(lines[-1] if lines else f"wacz create said {code}")
        _sync(made)
        os.chmod(made, paths.kept_mode(target))
        os.replace(made, target)
    done.path = path
    done.bytes = target.stat().st_size
    return done


@contextlib.contextmanager
def _work_folder(target: Path) -> Iterator[Path]:
    """A private folder beside ``target`` (same disk: the rename is atomic), removed with
    everything in it however the block ends. Its name holds this process's id
    (``.FILE.PID.XXXX.tmp``): the folder of an export that was killed outright (SIGKILL,
    a power cut) is removed by the next export into the same folder, once its process is
    gone."""
    _remove_abandoned(target)
    prefix = f".{target.name}.{os.getpid()}."
    folder = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=target.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


#: An export's work folder: ``.NAME.wacz.PID.XXXX.tmp``.
_WORK_FOLDER = re.compile(r"\..+\.wacz\.(\d+)\.[^.]+\.tmp")


def _remove_abandoned(target: Path) -> None:
    """Remove the work folders beside ``target`` of exports whose process no longer runs."""
    for folder in target.parent.glob(".*.wacz.*.tmp"):
        found = _WORK_FOLDER.fullmatch(folder.name)
        if found and folder.is_dir() and not _running(int(found[1])):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    """True when a process ``pid`` exists (even one this user may not signal)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextlib.contextmanager
def _temporary_files_in(folder: Path) -> Iterator[None]:
    """The indexer's sorted runs and spooled records (Python's ``tempfile`` defaults) go
    to ``folder``, so that they share its disk and its removal, not ``/tmp``'s."""
    before = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = before


def _sync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
