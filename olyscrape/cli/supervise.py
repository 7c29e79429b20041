"""Serving until stopped: where a server may listen, and a child server run so that a stop
signal stops it promptly.

``browse`` runs Datasette as a child process. ``kill -INT`` (or SIGTERM, SIGHUP) reaches
only ``olyscrape``, not its child, unlike Ctrl-C at a terminal, which reaches both: so
the signal is passed on, the child given :data:`GRACE` seconds to finish, then killed;
the command exits ``128 + signal`` (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP), as
a shell reports a process a signal stopped, with one line and no traceback.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

#: Seconds a child server has to stop after the signal is passed on, before it is killed.
GRACE = 2.0
#: The signals that stop a server: Ctrl-C, a supervisor's stop, a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class BadAddress(ValueError):
    """The host cannot be listened on here: not an address, or not one of this machine's."""


class PortBusy(OSError):
    """Something else listens on the port already."""


def stopped_code(signum: int) -> int:
    """The exit code of a command a signal stopped: 128 + its number, as shells report it."""
    return 128 + signum


def _family(host: str) -> tuple[socket.AddressFamily, str]:
    """The address family and address to bind for ``host`` (an IP address or a name)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return (socket.AF_INET6 if address.version == 6 else socket.AF_INET), str(address)
    if not host or host.strip() != host or len(host) > 253:
        raise BadAddress(f"{host!r} is not an IP address or a host name")
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid name"
        raise BadAddress(f"{host!r} is not an IP address or a name this machine resolves"
                         f" ({reason})") from None  # fmt: skip
    family, _, _, _, sockaddr = infos[0]
    return family, str(sockaddr[0])


def check_host(host: str) -> None:
    """Raise :class:`BadAddress` unless ``host`` is an IP address or a name that resolves."""
    _family(host)


def check_listen(host: str, port: int) -> int:
    """The port to listen on at ``host``: ``port`` once proved free, or for ``port`` 0 a free
    one the system chose. Raises :class:`BadAddress` for a host that is not an address
    of this machine (a usage error) and :class:`PortBusy` for a port in use."""
    family, address = _family(host)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortBusy(exc.errno, f"{host}:{port} is in use") from None
            raise BadAddress(
                f"cannot listen on {host}: {exc.strerror or exc} (not an address of this machine)"
            ) from None
        return int(sock.getsockname()[1])


def url_host(host: str) -> str:
    """``host`` as a URL writes it (an IPv6 address in brackets)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host
    return f"[{address}]" if address.version == 6 else host


def listening(host: str, port: int) -> bool:
    """Whether something accepts connections on ``host:port`` now."""
    try:
        family, address = _family(host)
    except BadAddress:
        return False
    if address in ("0.0.0.0", "::"):  # listening everywhere: ask on the loopback
        address = "127.0.0.1" if family == socket.AF_INET else "::1"
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((address, port)) == 0


@contextmanager
def stop_signals() -> Iterator[list[int]]:
    """For a server in this process: the stop signals received while inside, in a list
    (empty until one comes) that its loop checks between requests, instead of a
    ``KeyboardInterrupt`` raised wherever it happens to be."""
    asked: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        asked.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield asked
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _die_with_parent() -> None:
    """In the child, before it runs: on Linux, ask the kernel for SIGTERM when its parent
    dies, so that even ``kill -9`` on ``olyscrape`` (which cannot pass anything on) does
    not leave the server running, orphaned. Elsewhere nothing."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


#: prctl(2)'s option: the signal a process gets when its parent thread dies.
_PR_SET_PDEATHSIG = 1


class Supervisor:
    """Run ``argv`` as a child until it exits or a stop signal arrives; on a signal, pass it
    on, wait :data:`GRACE` seconds, then kill. :meth:`run` returns the exit code."""

    def __init__(self, argv: Sequence[str], *, grace: float = GRACE) -> None:
        self.argv = list(argv)
        self.grace = grace
        #: The first stop signal received, if any.
        self.signal: int | None = None

    def run(
        self, on_ready: Callable[[], bool] | None = None, ready: Callable[[], None] | None = None
    ) -> int:
        """The child's exit code, or :func:`stopped_code` when a signal stopped it.
        ``on_ready`` is polled until it is true (the server answers), then ``ready`` called
        once (the command prints its URL)."""
        process = subprocess.Popen(self.argv, preexec_fn=_die_with_parent)  # our argv, no shell

        def stop(signum: int, _frame: FrameType | None) -> None:
            if self.signal is None:
                self.signal = signum
            if process.poll() is None:
                process.send_signal(signum)

        previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
        try:
            announced = on_ready is None
            deadline: float | None = None
            while True:
                try:
                    code = process.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if self.signal is not None:
                    deadline = deadline or time.monotonic() + self.grace
                    if time.monotonic() >= deadline:
                        process.kill()
                        process.wait()
                        break
                elif not announced and on_ready is not None and on_ready():
                    announced = True
                    if ready is not None:
                        ready()
            if self.signal is not None:
                return stopped_code(self.signal)
            return stopped_code(-code) if code < 0 else code  # killed by another signal
        finally:
            if process.poll() is None:  # an exception of ours: never leave it serving
                process.kill()
                process.wait()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
