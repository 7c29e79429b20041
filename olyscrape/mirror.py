"""Serve a saved copy of the site over HTTP on loopback, for tests, demos and benchmarks.

``olyscrape mirror DIR --port N`` (or :func:`serve_in_thread` from a test) answers each
path with the file :mod:`olyscrape.sitefiles` maps it to, and 404 otherwise. It serves
only what is inside ``DIR`` and stops by itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from olyscrape import sitefiles


class MirrorHandler(BaseHTTPRequestHandler):
    server: MirrorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self.server.record(self.path)
        if self.server.delay:
            time.sleep(self.server.delay)
        path = sitefiles.resolve(self.server.root, self.path)
        if path is None:
            self._send(404, b"not found\n", "text/plain")
        else:
            self._send(200, path.read_bytes(), sitefiles.content_type(path))

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class MirrorServer(ThreadingHTTPServer):
    """A threaded HTTP server over a saved site; ``requests`` lists the paths asked for."""

    daemon_threads = True

    def __init__(
        self,
        root: Path,
        port: int = 0,
        host: str = "127.0.0.1",
        verbose: bool = False,
        delay: float = 0.0,
    ) -> None:
        self.root = Path(root).resolve()
        self.verbose = verbose
        self.delay = delay  # seconds before each answer: a slow site
        self.requests: list[str] = []
        self._lock = threading.Lock()
        super().__init__((host, port), MirrorHandler)

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@contextmanager
def serve_in_thread(
    root: Path, lifetime: float = 600.0, delay: float = 0.0
) -> Iterator[MirrorServer]:
    """Run a mirror of ``root`` on a free loopback port for the ``with`` block."""
    server = MirrorServer(root, delay=delay)
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
