"""The commands that look after the archive: ``verify``, ``backup`` and ``recover``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from olyscrape.cli.crawling import reparse_captures
from olyscrape.cli.exits import EXIT_FAILED, EXIT_OK
from olyscrape.cli.inputs import check_creatable
from olyscrape.cli.interrupts import interrupted_with
from olyscrape.cli.options import db_option, report_format_option, verbose_option
from olyscrape.cli.types import FilePath


@click.command()
@db_option
@click.option("--quick", is_flag=True, help="SQLite's quick_check instead of integrity_check.")
@report_format_option("report")
@interrupted_with("Interrupted: the check was stopped before its end; the archive is unchanged")
def verify(db: Path, quick: bool, fmt: str) -> None:
    """Is the archive sound? Checks the file and every stored capture, reads only.

    SQLite's integrity_check (quick_check with --quick), every capture body against its
    sha256, crawls left `running`, pages of the -wal not yet in the file, and articles
    without a stored page (a note). One line per finding, with what to do where the
    damage allows. Exits 0 when sound, 1 otherwise.
    """
    from olyscrape.archive.verify import verify as verify_archive
    from olyscrape.lock import held_by_another

    report = verify_archive(db, quick=quick, crawl_running=held_by_another(db))
    # The archive's own report (olyscrape.archive.verify): its text is a list of lines.
    click.echo(report.to_json() if fmt == "json" else "\n".join(report.lines()))
    sys.exit(EXIT_OK if report.sound else EXIT_FAILED)


@click.command()
@db_option
@click.argument("dest", type=FilePath(dir_okay=True))  # backup refuses a folder itself
@interrupted_with("Interrupted: no copy made (nothing left at DEST); the archive is unchanged")
def backup(db: Path, dest: Path) -> None:
    """Copy the archive to DEST consistently, even while a crawl writes to it.

    Uses SQLite's online backup API: DEST holds one snapshot of every committed crawl,
    its -wal included, and passes SQLite's quick check. An existing DEST is replaced
    only if it is an olyscrape archive (or empty); anything else is refused.
    """
    from olyscrape.archive.backup import backup as copy_archive
    from olyscrape.archive.health import size_text
    from olyscrape.lock import held_by_another

    copied = copy_archive(db, dest, held_by_another)
    click.echo(
        f"backup: {dest} holds {copied.articles} articles, {copied.captures} captures and"
        f" {copied.crawls} crawl{'' if copied.crawls == 1 else 's'} ({size_text(copied.bytes)}),"
        f" a consistent copy of {db}"
    )


@click.command()
@db_option
@click.argument("new", type=FilePath())
@verbose_option
def recover(db: Path, new: Path, verbose: bool) -> None:
    """Rebuild a damaged archive (--db) into a NEW file from its intact captures.

    Copies every readable crawl record and partner, and every capture whose body still
    matches its sha256, then re-parses them (as `reparse`) into cards and articles. The
    damaged file is only read (a file cut short included). Articles whose pages were
    never captured are not in NEW: the next crawl into NEW fetches them.
    """
    from olyscrape.archive.backup import recover_captures

    check_creatable(new, "NEW", archive=db)  # never a.db-wal: it would be a.db's WAL
    if new.exists():
        raise click.BadParameter(f"{new} already exists; recover into a new file", param_hint="NEW")
    result = recover_captures(db, new)
    click.echo(
        f"recover: {result.captures} captures ({result.bodies} bodies), {result.crawls}"
        f" crawl records and {result.partners} partners copied into {new}; left out:"
        f" {result.left_out()}"
    )
    if not result.captures:
        raise click.ClickException(f"{db} holds no intact capture to rebuild from")
    reparse_captures(new, verbose)
