"""The crawl commands' inputs, checked before any work: one line and a usage error (2)
(or a fault, 1, for an archive that is there and cannot be written), nothing created.

The paths a run will write are proved writable by trying (a probe file made and removed:
the permission bits say yes to root on ``/proc``), and refused when their name means two
files (:func:`olyscrape.archive.paths.check_reachable`); the alert channels are checked for
their form and, for a command, its program (:func:`olyscrape.monitors.command_problem`),
at start rather than when the first alert fires, hours later.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from olyscrape.archive import paths
from olyscrape.archive.paths import UnusablePath, preflight

__all__ = [
    "check_creatable", "check_replay_warc", "checked_alert", "preflight_archive",
    "prove_writable",
]  # fmt: skip


def preflight_archive(db: Path, option: str) -> None:
    """The archive path's pre-flight (:func:`olyscrape.archive.paths.preflight`), before
    anything else, and a new archive's place proved writable (:func:`prove_writable`): a
    usage error (2) or a fault (1), touching nothing. The archive keeper
    checks the archive itself and takes its lock when the run starts (busy: exit 3)."""
    try:
        preflight(db)
        if not db.exists():  # an archive there that cannot be written: the keeper's fault (1)
            prove_writable(db)
    except UnusablePath as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def refuse_archive_target(path: Path | str | None, archive: Path | str | None, hint: str) -> None:
    """A file the command writes must not be the archive or one of its companions (its
    lock, ``-wal``, ``-shm``, ``-journal``): a usage error (exit 2) before anything runs.
    Checked for ``-o``, feeds, the log file, the chart, the WARC and a backup's copy."""
    if path is None or archive is None:
        return
    try:
        what = paths.part_of_archive(path, archive)
    except (OSError, RuntimeError) as exc:  # a symlink loop: Path.resolve gives up
        raise click.BadParameter(f"{path}: {exc}", param_hint=hint) from None
    if what is not None:
        raise click.BadParameter(f"{path} is {what}; name another file", param_hint=hint)


def check_creatable(path: Path, option: str, archive: Path | None = None) -> None:
    """A file an option names must be creatable and writable (a usage error if not),
    proved by trying (:func:`prove_writable`); with ``archive``, it must not be that
    archive or one of its companions either (:func:`refuse_archive_target`)."""
    refuse_archive_target(path, archive, option)
    try:
        paths.check_creatable(path)
        prove_writable(path)
    except UnusablePath as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def prove_writable(path: Path) -> None:
    """Prove that ``path`` can be written by doing it, leaving nothing behind: the file
    opened for appending when it exists (its bytes unchanged), else a temporary file
    created and removed in the folder it would be created in. The permission bits
    (``os.access``) say yes to root on ``/proc`` or a read-only mount, where the crawl then
    failed after its first requests. Raises :class:`UnusablePath`."""
    if path.exists():
        try:
            with open(path, "ab"):
                pass
        except OSError as exc:
            raise UnusablePath(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    folder = paths.nearest_folder(path)
    try:
        handle, probe = tempfile.mkstemp(prefix=".olyscrape-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        where = f"nothing can be created in {folder}"
        raise UnusablePath(f"cannot create {path}: {where} ({exc.strerror or exc})") from None


def check_replay_warc(path: Path) -> None:
    from olyscrape.warc import WarcIndex

    try:
        index = WarcIndex(path)
    except Exception as exc:  # warcio raises several kinds on a file that is no WARC
        raise click.ClickException(f"cannot read WARC {path}: {exc}") from None
    if not len(index):
        raise click.ClickException(f"{path} holds no response records")


def checked_alert(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An alert channel checked when the crawl starts (its form, its program), not when
    the first alert fires, hours later: a usage error (2) naming what is wrong."""
    if value is None:
        return None
    from olyscrape.monitors import command_problem, webhook_problem

    check = command_problem if param.name == "alert_command" else webhook_problem
    problem = check(value)
    if problem:
        raise click.BadParameter(problem, ctx=ctx, param=param)
    return value
