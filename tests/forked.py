"""``olyscrape`` in processes forked from a server that has imported Scrapy and olyscrape
once (multiprocessing's forkserver): the commands that start a crawl (Twisted's reactor
runs once a process, and pytest-twisted's runs in the test process) at about a second less
each than a fresh interpreter, several at once. For the fast loop's small crawls; the other
tests that need a process of their own use :func:`tests.helpers.run_olyscrape`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: What the server imports before it forks: a child starts with these loaded.
PRELOAD = ["scrapy.crawler", "olyscrape.cli", "tests.forked"]


def _olyscrape_in_child(args: list[str], cwd: str, out: str, err: str) -> None:
    """The body of a :func:`run_forked` child: ``olyscrape ARGS`` in ``cwd``, its output
    into the files ``out`` and ``err``, its exit code the process's."""
    import warnings

    warnings.simplefilter("ignore")
    os.chdir(cwd)
    for fd, path in ((1, out), (2, err)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(handle, fd)
        os.close(handle)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    from olyscrape.cli import cli

    try:
        cli.main(args=args, prog_name="olyscrape")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


_FORKSERVER: Any = None


def warm_forkserver() -> None:
    """Start the server :func:`start_forked` forks from, without waiting for its imports: a
    session fixture calls this before its own crawl, so that both run at once."""
    global _FORKSERVER
    if _FORKSERVER is None:
        import multiprocessing
        from multiprocessing import forkserver

        _FORKSERVER = multiprocessing.get_context("forkserver")
        _FORKSERVER.set_forkserver_preload(PRELOAD)
        forkserver.ensure_running()


class Forked:
    """``olyscrape ARGS`` running in a process of its own (see :func:`start_forked`);
    :meth:`result` waits for it."""

    def __init__(self, args: Sequence[str], cwd: Path | None) -> None:
        warm_forkserver()
        self.args = ["olyscrape", *args]
        self._scratch = tempfile.TemporaryDirectory(prefix="olyscrape-cwd-")
        scratch = Path(self._scratch.name)
        self._out, self._err = scratch / ".stdout", scratch / ".stderr"
        self._out.touch()
        self._err.touch()
        place = str(cwd) if cwd else tempfile.mkdtemp(dir=scratch)
        self._child = _FORKSERVER.Process(
            target=_olyscrape_in_child, args=(list(args), place, str(self._out), str(self._err))
        )
        self._child.start()

    def result(self, timeout: float = 120) -> subprocess.CompletedProcess:
        try:
            self._child.join(timeout)
            if self._child.exitcode is None:
                self._child.kill()
                self._child.join()
                raise subprocess.TimeoutExpired(self.args, timeout)
            out, err = self._out.read_text(), self._err.read_text()
            return subprocess.CompletedProcess(self.args, self._child.exitcode, out, err)
        finally:
            self._scratch.cleanup()


def start_forked(*args: str, cwd: Path | None = None) -> Forked:
    """Start ``olyscrape ARGS`` in a process of its own, as :func:`tests.helpers.run_olyscrape` runs it, but
    forked from a server that imports Scrapy and olyscrape once per session
    (multiprocessing's forkserver): about a second sooner, and several can run at once.
    Each child is new: its reactor has never run. In ``cwd``, or an empty folder."""
    return Forked(args, cwd)


def run_forked(
    *args: str, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """:func:`start_forked`, waited for."""
    return start_forked(*args, cwd=cwd).result(timeout)
