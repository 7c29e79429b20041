"""Where a command's output goes, and how it fails: loudly, never with a cut file and exit 0.

Two sinks: standard output, and a file named by ``-o FILE`` that is written beside it under
a temporary name (``.FILE.XXXXXX.part``) and renamed over ``FILE`` only once complete; on
any failure, or Ctrl-C, the temporary file is removed and a previous ``FILE`` stays as it
was. A symlink ``FILE`` is followed (its target is replaced); an existing ``FILE`` that is
no regular file (a device, a FIFO) is written directly, as ``>`` would (:class:`DeviceSink`).

A write that fails (a full disk, ``/dev/full``, an I/O error; a short write is one too,
since Python raises on what it could not write) ends the command with one line, exit 1
(:class:`OutputError`). A closed pipe (``| head -1``) ends it quietly with exit 141, the
code a shell gives a program killed by ``SIGPIPE`` (:class:`ClosedPipe`), as ``cat`` or
``grep`` end there. Standard output is flushed here, explicitly, and after a failure its
file descriptor is pointed at ``/dev/null``, so that the flush Python does at exit finds
nothing left to fail on (which would print ``Exception ignored ...`` and exit 120).

Output is written in blocks: the first row at once (a reader of a pipe sees it as soon as
SQLite yields it), then at least every :data:`FLUSH_SECONDS` while rows keep coming, or
whenever :data:`FLUSH_BYTES` are waiting.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from olyscrape.archive import paths
from olyscrape.cli.inputs import refuse_archive_target

FLUSH_BYTES = 64 * 1024
FLUSH_SECONDS = 0.1
#: How a shell reports a program ended by SIGPIPE (128 + 13): what ``| head`` gives.
EXIT_CLOSED_PIPE = 141


class OutputError(click.ClickException):
    """The output could not be written: one line, exit 1."""

    exit_code = 1


class ClosedPipe(click.ClickException):
    """The reader of the pipe went away (``| head``): nothing to say, exit 141."""

    exit_code = EXIT_CLOSED_PIPE

    def __init__(self) -> None:
        super().__init__("the reader of standard output closed it")

    def show(self, file: IO[Any] | None = None) -> None:
        """Say nothing, as a program killed by SIGPIPE says nothing."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def silence_stdout(stream: IO[str]) -> None:
    """Point standard output's file descriptor at ``/dev/null`` (when ``stream`` is standard
    output): what Python still holds for it is then flushed there at exit, without a
    second error. Harmless where standard output is no file descriptor (click's runner)."""
    if stream is not sys.stdout and stream is not sys.__stdout__:
        return
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def stdout_failure(exc: OSError) -> click.ClickException | None:
    """What a command's failed write to standard output means (one line, exit 1; a closed
    pipe, exit 141), or None when ``exc`` is no such write. Commands that print with
    ``click.echo`` (``schema``, ``verify``, ``--help``, ``--version``) are recognised by
    the stream ``click.echo`` was writing to; a broken pipe can only be an output's."""
    tb = exc.__traceback__
    stream = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "echo" and frame.f_globals.get("__name__") == "click.utils":
            stream = frame.f_locals.get("file")
        tb = tb.tb_next
    if stream is not None and _is_stdout(stream):
        return Sink(sys.stdout).failed(exc)
    if isinstance(exc, BrokenPipeError):
        return Sink(sys.stdout).failed(exc)
    return None


def _is_stdout(stream: Any) -> bool:
    if stream is sys.stdout or stream is sys.__stdout__:
        return True
    try:
        return bool(stream.fileno() == sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False


def flush_stdout(code: int) -> int:
    """The exit code once standard output is flushed, as Python flushes it at exit: a
    failed flush is :func:`stdout_failure`'s line (exit 1) or a closed pipe (141), and
    standard output is then pointed at ``/dev/null`` so that Python's own flush at exit
    has nothing left to fail on."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        failure = Sink(sys.stdout).failed(exc)
        failure.show()
        return code or failure.exit_code
    return code


class Sink:
    """Text written in blocks to a stream; an error of the stream becomes :meth:`failed`."""

    name = "standard output"

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._pending: list[str] = []
        self._size = 0
        self._flushed_at: float | None = None

    def write(self, text: str) -> None:
        self._pending.append(text)
        self._size += len(text)
        now = time.monotonic()
        if (
            self._flushed_at is None
            or self._size >= FLUSH_BYTES
            or now - self._flushed_at >= FLUSH_SECONDS
        ):
            self.flush()
            self._flushed_at = now

    def flush(self) -> None:
        text = "".join(self._pending)
        self._pending.clear()
        self._size = 0
        try:
            if text:
                self.stream.write(text)
            self.stream.flush()
        except OSError as exc:
            raise self.failed(exc) from None

    def failed(self, exc: OSError) -> click.ClickException:
        """A failed write of standard output, as the command ends on it."""
        silence_stdout(self.stream)
        if isinstance(exc, BrokenPipeError):
            return ClosedPipe()
        return OutputError(
            f"cannot write to {self.name} ({_reason(exc)}): the output is incomplete"
        )

    def close(self) -> None:
        self.flush()

    def abandon(self) -> None:
        """The command failed: what is still pending is dropped."""
        self._pending.clear()


class FileSink(Sink):
    """``-o FILE``: a temporary file beside ``FILE``, renamed over it once complete. A
    symlink ``FILE`` is followed: the temporary file goes beside its target, which is
    replaced, and the link stays (as ``>`` writes through it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        path = self.target = path.resolve()
        folder = path.parent
        try:
            fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
        except OSError as exc:
            raise click.BadParameter(
                f"{path}: cannot create a file in {folder} ({_reason(exc)})",
                param_hint="'-o' / '--output'",
            ) from None
        self.temp = Path(temp)
        super().__init__(os.fdopen(fd, "w", encoding="utf-8", newline=""))

    def failed(self, exc: OSError) -> click.ClickException:
        self.abandon()
        return OutputError(
            f"cannot write {self.path} ({_reason(exc)}): left as it was, nothing written"
        )

    def close(self) -> None:
        self.flush()
        try:
            os.fsync(self.stream.fileno())
            self.stream.close()
            os.chmod(self.temp, paths.kept_mode(self.target))
            os.replace(self.temp, self.target)
        except OSError as exc:
            raise self.failed(exc) from None

    def abandon(self) -> None:
        self._pending.clear()
        with contextlib.suppress(OSError):
            self.stream.close()  # its last flush may fail again: the file goes anyway
        with contextlib.suppress(OSError):
            self.temp.unlink()


class DeviceSink(Sink):
    """``-o FILE`` where ``FILE`` exists and is no regular file (``/dev/null``, a FIFO, a
    terminal): written directly, as ``>`` would, since a rename would put a regular file
    in its place (a FIFO's reader would then wait for ever). Nothing to roll back there:
    a failed write says the output is incomplete."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        try:
            stream = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise click.BadParameter(
                f"{path}: cannot open it for writing ({_reason(exc)})",
                param_hint="'-o' / '--output'",
            ) from None
        super().__init__(stream)

    def failed(self, exc: OSError) -> click.ClickException:
        self.abandon()
        if isinstance(exc, BrokenPipeError):  # a FIFO whose reader went away
            return ClosedPipe()
        return OutputError(
            f"cannot write to {self.path} ({_reason(exc)}): the output is incomplete"
        )

    def close(self) -> None:
        self.flush()
        try:
            self.stream.close()
        except OSError as exc:
            raise self.failed(exc) from None

    def abandon(self) -> None:
        self._pending.clear()
        with contextlib.suppress(OSError):
            self.stream.close()


def is_special(path: Path) -> bool:
    """An existing ``path`` (links followed) that is neither a regular file nor a folder."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


#: The files SQLite and olyscrape keep beside an archive: ``-o`` never names one of them.


def check_output(path: Path | None, archive: Path) -> None:
    """``-o FILE`` must not name the archive it reads, nor one of the files beside it (its
    crawl lock, its ``-wal``, ``-shm`` or ``-journal``), nor a folder (exit 2)."""
    if path is None:
        return
    hint = "'-o' / '--output'"
    refuse_archive_target(path, archive, hint)  # a symlink loop too
    real = path.resolve()
    if real.is_dir():
        raise click.BadParameter(f"{path} is a folder; name a file", param_hint=hint)


@contextlib.contextmanager
def open_sink(path: Path | None = None) -> Iterator[Sink]:
    """Standard output (``path`` None), or ``path`` written atomically. Leaving the block
    normally writes the rest; any error (Ctrl-C included) leaves ``path`` untouched."""
    sink: Sink
    if path is None:
        sink = Sink(sys.stdout)
    elif is_special(path):
        sink = DeviceSink(path)
    else:
        sink = FileSink(path)
    try:
        yield sink
    except BaseException:
        sink.abandon()
        raise
    sink.close()


def output_option(func: Any) -> Any:
    """``-o/--output FILE``: write there (complete, or not at all) instead of stdout."""
    from olyscrape.cli.types import FilePath

    def stdout_for_dash(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        return None if value is not None and str(value) == "-" else value  # `-o -`: stdout

    return click.option(
        "-o",
        "--output",
        type=FilePath(),
        callback=stdout_for_dash,
        help="Write the output to FILE, replaced only once complete (default: stdout;"
        " '-' is stdout too).",
    )(func)
