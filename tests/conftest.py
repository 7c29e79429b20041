"""Fixtures shared by the test modules; the helpers they use are in ``tests/helpers.py``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from click.testing import CliRunner
from twisted.internet import defer

from tests.forked import warm_forkserver
from tests.helpers import REPO, SITE, crawl_in_process, mount, run_olyscrape


@pytest.fixture
def site() -> Path:
    return SITE


@pytest.fixture(scope="session")
def archive_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's archive of the saved site, crawled once in this process (a replay, as
    ``olyscrape crawl --replay`` does, on the reactor pytest-twisted keeps running): tests
    read it, never write it (a test that writes takes ``archive_copy``). That it equals the
    command's own archive is checked in ``tests/test_commands.py``."""
    warm_forkserver()  # for the small crawls of tests/test_commands.py, meanwhile
    db = tmp_path_factory.mktemp("archive") / "archive.db"
    stats = pytest_twisted.blockon(defer.ensureDeferred(crawl_in_process(db)))
    assert stats.get("finish_reason") == "finished", stats
    return db


@pytest.fixture(scope="session")
def site_crawl(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess]:
    """The saved site crawled once per session by the command itself, ``olyscrape crawl
    --replay`` in a process of its own: its archive, and the finished process (exit code,
    summary and log), for the tests of what the command prints (slow tests only)."""
    db = tmp_path_factory.mktemp("command") / "archive.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    return db, result


@pytest.fixture
def archive_copy(archive_db: Path, tmp_path: Path) -> Path:
    """A copy of the session's archive of the saved site, for a test to write to."""
    copy = tmp_path / "archive.db"
    shutil.copyfile(archive_db, copy)
    return copy


@pytest.fixture
def olyscrape() -> Any:
    """The CLI in this process (click's runner): ``olyscrape(*args, stdin=None)``."""
    runner = CliRunner()
    from olyscrape.cli import cli

    def invoke(*args: str, stdin: str | None = None) -> Any:
        return runner.invoke(cli, list(args), input=stdin, catch_exceptions=False)

    return invoke


def _data_folder() -> dict[str, tuple[int, int]]:
    """The repository's own ``data/`` (where the Quickstart's crawl writes): each file's
    size and modification time."""
    folder = REPO / "data"
    if not folder.is_dir():
        return {}
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="session", autouse=True)
def repository_data_untouched() -> Any:
    """No test reads or leaves anything in the repository's ``data/``: the README's first
    Quickstart command crawls into it, and the second (the tests) must pass after it."""
    before = _data_folder()
    yield
    assert _data_folder() == before, "a test changed the repository's data/ folder"


@pytest.fixture
def disk(tmp_path: Path) -> Any:
    """A real, small tmpfs at ``tmp_path/disk``: ``disk(size)`` mounts it, ``disk.remount(
    options)`` changes it. Unmounted afterwards. Skips unless the test may mount."""
    point = tmp_path / "disk"
    point.mkdir()
    mounted = []

    class Disk:
        path = point

        def __call__(self, size: str) -> Path:
            if os.geteuid() != 0:
                pytest.skip("mounting a tmpfs needs root (CI runs as root)")
            try:
                mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point))
            except (subprocess.CalledProcessError, FileNotFoundError) as exc:
                pytest.skip(f"cannot mount a tmpfs here: {getattr(exc, 'stderr', exc)}")
            mounted.append(point)
            return point

        def remount(self, options: str) -> None:
            mount("-o", f"remount,{options}", str(point))

    yield Disk()
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
