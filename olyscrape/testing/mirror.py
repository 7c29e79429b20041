"""Serve a saved copy of the site over HTTP on loopback, for tests, demos and benchmarks,
with faults injected path by path.

``olyscrape mirror DIR --port N [--faults FILE]`` (or :func:`serve_in_thread` from a
test) answers each path with the file :mod:`olyscrape.site.files` maps it to, and 404
otherwise. It serves only what is inside ``DIR`` and stops by itself after a bounded time.

A fault applies to one path (with its query), to its first ``times`` requests (a
transient fault) or to all of them (``times`` left out: a permanent fault). Kinds:

=================  ===================================================================
``status``         answer ``status`` (default 503) with a short body
``retry-after``    answer 429 with ``Retry-After: seconds``
``slow``           wait ``seconds`` before answering (longer than the crawl's timeout)
``reset``          close the connection at once, with a TCP reset, before any answer
``truncate``       promise the whole body in Content-Length, send half, hang up
``bad-json``       answer 200 ``application/json`` that is not JSON
``html``           answer 200 with an HTML error page where JSON is expected
``redirect-loop``  answer 302 to the same path with a growing ``?loop=N``
``redirect``       answer 302 to ``location`` (another host, say)
``oversize``       answer 200 with ``size`` bytes of padding (over the crawl's maximum)
``chunked``        the same padding sent in chunks, with no Content-Length
``deep``           the saved answer nested ``depth`` levels deep: a JSON answer becomes
                   that many nested arrays, an HTML page gets that many ``div`` around
                   nothing after its first card
=================  ===================================================================
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from olyscrape.site import files as sitefiles

FAULT_KINDS = (
    "status", "retry-after", "slow", "reset", "truncate", "bad-json", "html",
    "redirect-loop", "redirect", "oversize", "chunked", "deep",
)  # fmt: skip


@dataclass(frozen=True)
class Fault:
    """What goes wrong on one path, and for how many requests (None: every one)."""

    kind: str
    times: int | None = None
    status: int = 503
    seconds: float = 1.0
    location: str = ""
    size: int = 32 * 1024 * 1024
    depth: int = 5000

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")

    @classmethod
    def load(cls, path: Path) -> dict[str, Fault]:
        """Faults from a JSON file: ``{"/ioc/visa": {"kind": "status", "times": 2}, ...}``."""
        try:
            data = json.loads(Path(path).read_text())
            return {str(p): cls(**spec) for p, spec in data.items()}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"cannot read faults from {path}: {exc}") from None


class MirrorHandler(BaseHTTPRequestHandler):
    server: MirrorServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, each
    # keep-alive answer waited ~40 ms for the client's delayed ACK (benchmarks/ found it).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        hit = self.server.record(self.path)
        if self.server.delay:
            time.sleep(self.server.delay)
        fault = self.server.faults.get(self.path) or self.server.faults.get(
            urlsplit(self.path).path
        )
        if fault and (fault.times is None or hit <= fault.times):
            self._fault(fault)
        else:
            self._serve_saved()

    def _serve_saved(self) -> None:
        path = sitefiles.resolve(self.server.root, self.path)
        if path is None:
            self._send(404, b"not found\n", "text/plain")
        else:
            self._send(200, path.read_bytes(), sitefiles.content_type(path))

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout): fine

    def _fault(self, fault: Fault) -> None:
        kind = fault.kind
        if kind == "status":
            self._send(fault.status, f"fault: {fault.status}\n".encode(), "text/plain")
        elif kind == "retry-after":
            self._send(429, b"slow down\n", "text/plain", {"Retry-After": f"{fault.seconds:g}"})
        elif kind == "slow":
            time.sleep(fault.seconds)
            self._serve_saved()
        elif kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif kind == "truncate":
            body = self._saved_body()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        elif kind == "bad-json":
            self._send(200, b'{"content": [{"title": "cut', "application/json")
        elif kind == "html":
            self._send(200, b"<html><body><h1>Service unavailable</h1></body></html>", "text/html")
        elif kind == "redirect-loop":
            loop = parse_qs(urlsplit(self.path).query).get("loop", ["0"])[0]
            target = f"{urlsplit(self.path).path}?loop={int(loop) + 1}"
            self.server.faults.setdefault(target, fault)
            self._send(302, b"", "text/plain", {"Location": target})
        elif kind == "redirect":
            self._send(302, b"", "text/plain", {"Location": fault.location})
        elif kind == "oversize":
            self._send(200, b"<html>" + b" " * fault.size + b"</html>", "text/html")
        elif kind == "chunked":
            self._send_chunked(b"<html>" + b" " * fault.size + b"</html>", "text/html")
        elif kind == "deep":
            self._send_deep(fault.depth)

    def _send_chunked(self, body: bytes, content_type: str, chunk: int = 64 * 1024) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for start in range(0, len(body), chunk):
                part = body[start : start + chunk]
                self.wfile.write(b"%x\r\n%b\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading: the point

    def _send_deep(self, depth: int) -> None:
        path = sitefiles.resolve(self.server.root, self.path)
        if path is not None and path.suffix == ".json":
            self._send(200, b"[" * depth + b"]" * depth, "application/json")
            return
        body = self._saved_body()
        cut = body.find(b"</article>")
        cut = len(body) // 2 if cut < 0 else cut + len(b"</article>")
        deep = b"<div>" * depth + b"</div>" * depth
        self._send(200, body[:cut] + deep + body[cut:], "text/html; charset=utf-8")

    def _saved_body(self) -> bytes:
        path = sitefiles.resolve(self.server.root, self.path)
        return path.read_bytes() if path else b"not found\n" * 100


class MirrorServer(ThreadingHTTPServer):
    """A threaded HTTP server over a saved site; ``requests`` lists the paths asked for,
    in order, and ``faults`` maps a path to the :class:`Fault` it suffers."""

    daemon_threads = True

    def __init__(
        self,
        root: Path,
        port: int = 0,
        host: str = "127.0.0.1",
        verbose: bool = False,
        delay: float = 0.0,
        faults: dict[str, Fault] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.verbose = verbose
        self.delay = delay  # seconds before each answer: a slow site
        self.faults: dict[str, Fault] = dict(faults or {})
        self.requests: list[str] = []
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        super().__init__((host, port), MirrorHandler)

    def record(self, path: str) -> int:
        """Log a request; how many times this path has been asked for, this one included."""
        with self._lock:
            self.requests.append(path)
            self.hits[path] += 1
            return self.hits[path]

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"


@contextmanager
def serve_in_thread(
    root: Path, lifetime: float = 600.0, delay: float = 0.0, faults: dict[str, Any] | None = None
) -> Iterator[MirrorServer]:
    """Run a mirror of ``root`` on a free loopback port for the ``with`` block; it stops
    by itself after ``lifetime`` seconds whatever happens."""
    server = MirrorServer(root, delay=delay, faults=faults)
    timer = threading.Timer(lifetime, server.shutdown)
    timer.daemon = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    timer.start()
    try:
        yield server
    finally:
        timer.cancel()
        server.shutdown()
        server.server_close()
