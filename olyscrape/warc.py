"""WARC files: writing every request and response of a crawl, and reading them back.

Written with warcio, one gzip member per record, so that standard tools read them
(``warcio index``, pywb). Each record's ``WARC-Target-URI`` is the URL as fetched (a
mirror's, say); ``WARC-Olyscrape-Canonical-URI`` gives the canonical URL it stands for,
which is what a replay looks records up by.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from olyscrape import __version__
from olyscrape.saved import SavedResponse
from olyscrape.site import urls

CANONICAL_HEADER = "WARC-Olyscrape-Canonical-URI"
_INFO = {"software": f"olyscrape/{__version__} (warcio)", "format": "WARC File Format 1.1"}
# Headers describing the bytes on the wire, which no longer hold for the decoded body kept.
_WIRE_HEADERS = {"content-length", "content-encoding", "transfer-encoding"}


class WarcWriter:
    """Append request/response record pairs to a gzipped WARC file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = open(self.path, "ab")  # noqa: SIM115 - closed in close()
        self._writer = WARCWriter(self._file, gzip=True)
        self._writer.write_record(self._writer.create_warcinfo_record(self.path.name, _INFO))

    def write_exchange(
        self,
        *,
        url: str,
        canonical_url: str,
        method: str,
        request_headers: list[tuple[str, str]],
        status: int,
        response_headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        extra = {CANONICAL_HEADER: canonical_url}
        parts = urlsplit(url)
        target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        request = self._writer.create_warc_record(
            url,
            "request",
            payload=BytesIO(b""),
            warc_headers_dict=extra,
            http_headers=StatusAndHeaders(
                f"{method} {target} HTTP/1.1", request_headers, is_http_request=True
            ),
        )
        headers = [(k, v) for k, v in response_headers if k.lower() not in _WIRE_HEADERS]
        headers.append(("Content-Length", str(len(body))))
        response = self._writer.create_warc_record(
            url,
            "response",
            payload=BytesIO(body),
            warc_headers_dict=extra,
            http_headers=StatusAndHeaders(
                f"{status} {_reason(status)}", headers, protocol="HTTP/1.1"
            ),
        )
        request.rec_headers.add_header(
            "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
        )
        self._writer.write_record(request)
        self._writer.write_record(response)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class ResponseWriter:
    """Response records only, to an open binary file (gzipped, one member a record): the
    archive's captures as a replay tool reads them, under the canonical URL they stand for.

    A capture keeps no request, so none is written: ``WARC-Target-URI`` is the canonical
    URL (a replay asks for ``https://olympics.com/...``, never the mirror a crawl may have
    fetched it from), ``WARC-Date`` when it was received, and the HTTP headers are the ones
    the archive kept: the status line, the content type, and the length of the body as
    stored (decoded, byte for byte as the crawl received it)."""

    def __init__(self, out: BinaryIO, name: str) -> None:
        self._writer = WARCWriter(out, gzip=True)
        self._writer.write_record(self._writer.create_warcinfo_record(name, _INFO))

    def write_response(
        self, *, url: str, date: str, status: int, content_type: str | None, body: bytes
    ) -> None:
        """One response record: ``url`` canonical, ``date`` a WARC date (``...Z``)."""
        headers = [("Content-Type", content_type)] if content_type else []
        headers.append(("Content-Length", str(len(body))))
        record = self._writer.create_warc_record(
            url,
            "response",
            payload=BytesIO(body),
            length=len(body),
            warc_headers_dict={"WARC-Date": date, CANONICAL_HEADER: url},
            http_headers=StatusAndHeaders(
                f"{status} {_reason(status)}", headers, protocol="HTTP/1.1"
            ),
        )
        self._writer.write_record(record)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _canonical_key(target_uri: str, canonical: str | None) -> str:
    if canonical:
        return canonical
    if urls.is_canonical(target_uri):
        return urls.canonical_url(target_uri, target_uri) or target_uri
    parts = urlsplit(target_uri)
    return urls.canonical(urlunsplit(("", "", parts.path or "/", parts.query, "")))


class WarcIndex:
    """The response records of a WARC file, looked up by canonical URL (the last one wins).

    Only offsets are kept in memory; a body is read from the file when it is asked for.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.offsets: dict[str, int] = {}
        with open(self.path, "rb") as fh:
            records = ArchiveIterator(fh)
            for record in records:
                uri = record.rec_headers.get_header("WARC-Target-URI")
                if record.format != "warc" or record.rec_type != "response" or not uri:
                    continue
                key = _canonical_key(uri, record.rec_headers.get_header(CANONICAL_HEADER))
                self.offsets[key] = records.get_record_offset()

    def __len__(self) -> int:
        return len(self.offsets)

    def lookup(self, url: str) -> SavedResponse | None:
        offset = self.offsets.get(url)
        if offset is None:
            return None
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh)))
            body = record.content_stream().read()
            status = int(record.http_headers.get_statuscode())
            headers = {
                k: v for k, v in record.http_headers.headers if k.lower() not in _WIRE_HEADERS
            }
        return SavedResponse(status=status, headers=headers, body=body)


class WarcSource:
    """The responses of a WARC file written by ``--warc``, as a replay source."""

    def __init__(self, path: str | Path) -> None:
        self.index = WarcIndex(path)

    def lookup(self, url: str) -> SavedResponse | None:
        return self.index.lookup(url)

    def close(self) -> None:
        pass
