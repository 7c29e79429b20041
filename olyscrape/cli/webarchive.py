"""``olyscrape export-wacz``: the archive's captures as a WACZ file, for the web
archivists' own tools (ReplayWeb.page, pywb). The work is :mod:`olyscrape.wacz`'s; this
checks the inputs before it starts and says what was written."""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from olyscrape.cli.inputs import check_creatable
from olyscrape.cli.interrupts import interrupted_with
from olyscrape.cli.options import db_option, open_reader
from olyscrape.cli.sinks import is_special
from olyscrape.cli.types import FilePath

if TYPE_CHECKING:
    from olyscrape.archive.reader import ArchiveReader

NO_WACZ = "export-wacz needs the wacz library (Python 3.11 or later): pip install 'olyscrape[wacz]'"
INTERRUPTED = "Interrupted: no WACZ file written; the archive is unchanged"
#: The extension ReplayWeb.page and pywb know a WACZ file by.
SUFFIX = ".wacz"


class CrawlChoice(click.ParamType):
    """``--crawl``: a crawl's id (as ``olyscrape runs`` lists them) or ``last``."""

    name = "ID|last"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip().lower()
        if text == "last":
            return text
        if text.isdigit() and int(text) > 0:
            return int(text)
        self.fail(f"{value!r}: give a crawl's id (a positive number) or 'last'", param, ctx)


@click.command("export-wacz")
@db_option
@click.argument("file", type=FilePath())
@click.option(
    "--crawl",
    type=CrawlChoice(),
    help="Only this crawl's captures: its id (see olyscrape runs), or 'last' for the newest"
    " crawl. Default: every capture the archive holds.",
)
@interrupted_with(INTERRUPTED)
def export_wacz(db: Path, file: Path, crawl: int | str | None) -> None:
    """Package the archive's captures (every response a crawl received) as a WACZ file,
    which ReplayWeb.page and pywb open: the pages as they were served, under their
    olympics.com URLs.

    FILE ends in .wacz; it is replaced only once complete (written beside it first).
    """
    # Before anything opens it: proving a FIFO writable would wait for its reader.
    if is_special(file):  # a FIFO or a device would be replaced by a regular file
        raise click.BadParameter(f"{file} is no regular file; name a file", param_hint="'FILE'")
    check_creatable(file, "'FILE'", archive=db)
    if Path(file).suffix.lower() != SUFFIX:
        raise click.BadParameter(
            f"{file}: name a {SUFFIX} file (ReplayWeb.page and pywb know WACZ by it)",
            param_hint="'FILE'",
        )
    folder = file.resolve().parent
    if not folder.is_dir():  # not made for it: a typo in a path should not grow folders
        raise click.BadParameter(f"{file}: no folder {folder}", param_hint="'FILE'")
    if importlib.util.find_spec("wacz") is None:
        raise click.ClickException(NO_WACZ)
    from olyscrape.archive.captures import has_captures, iter_captures
    from olyscrape.wacz import ExportFailed
    from olyscrape.wacz import export_wacz as export

    with open_reader(db) as archive:
        crawl_id = _crawl_id(archive, crawl)
        conn = archive.conn
        if not has_captures(conn, crawl_id):
            which = f"crawl {crawl_id} kept" if crawl_id else "the archive holds"
            raise click.ClickException(f"no WACZ written: {which} no captures")
        title = f"olyscrape archive {db.name}" + (f", crawl {crawl_id}" if crawl_id else "")
        description = (
            "Responses to olyscrape's crawls of the IOC's partner news pages on olympics.com,"
            f" as the archive {db.name} kept them" + (f" (crawl {crawl_id})." if crawl_id else ".")
        )
        try:
            with contextlib.closing(iter_captures(conn, crawl_id)) as rows:  # before the reader
                done = export(rows, file, title=title, description=description)
        except ImportError:
            raise click.ClickException(NO_WACZ) from None
        except ExportFailed as exc:
            raise click.ClickException(f"no WACZ written: {exc}") from None
        except OSError as exc:
            raise click.ClickException(
                f"cannot write {file} ({exc.strerror or exc}): no WACZ written"
            ) from None
    undated = f"; {done.undated:,} without a date left out" if done.undated else ""
    click.echo(
        f"WACZ written to {file}: {done.captures:,} captures, {done.pages:,} pages,"
        f" {done.bytes / 1_048_576:.1f} MiB{undated}",
        err=True,
    )


def _crawl_id(archive: ArchiveReader, crawl: int | str | None) -> int | None:
    """The crawl ``--crawl`` names (None: every crawl); a usage error for one the archive
    does not have, naming those it has."""
    if crawl is None:
        return None
    ids = archive.run_sql("SELECT min(id), max(id), count(*) FROM crawls")[1][0]
    first, last, count = ids
    if not count:
        raise click.BadParameter("the archive has no crawl yet", param_hint="'--crawl'")
    if crawl == "last":
        return int(last)
    assert isinstance(crawl, int)
    if archive.crawl(crawl) is None:
        raise click.BadParameter(
            f"the archive has no crawl {crawl} (its crawls: {first} to {last}; see olyscrape runs)",
            param_hint="'--crawl'",
        )
    return crawl
