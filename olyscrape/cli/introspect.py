"""What the archive holds, as sqlite-utils users ask it: ``olyscrape tables`` (its tables
and views, with their row counts) and ``olyscrape schema [TABLE]`` (the CREATE
statements). Both read the archive read-only, through the reader; docs/schema.md says
what each table and column means."""

from __future__ import annotations

from pathlib import Path

import click

from olyscrape.archive import catalogue
from olyscrape.cli.interrupts import interruptible
from olyscrape.cli.options import db_option, format_option, open_reader
from olyscrape.cli.output import echo_rows


@click.command()
@db_option
@click.option("--hidden", is_flag=True, help="Also the full-text index's own shadow tables.")
@format_option
@interruptible
def tables(db: Path, hidden: bool, fmt: str) -> None:
    """List the archive's tables and views with their row counts (docs/schema.md says
    what each holds)."""
    with open_reader(db) as archive:
        rows = [
            {"name": t["name"], "type": t["type"], "rows": catalogue.row_count(archive, t["name"])}
            for t in catalogue.objects(archive)
            if hidden or not t["hidden"]
        ]
    echo_rows(rows, fmt, ["name", "type", "rows"])


@click.command()
@db_option
@click.argument("table", required=False)
@interruptible
def schema(db: Path, table: str | None) -> None:
    """Print the archive's CREATE statements, or those of TABLE (a table or view, with its
    indexes and triggers). docs/schema.md explains every table and column."""
    with open_reader(db) as archive:
        if table is not None:
            known = [t["name"] for t in catalogue.objects(archive)]
            if table.casefold() not in (name.casefold() for name in known):
                raise click.BadParameter(
                    f"the archive has no table or view {table!r}; it has: {', '.join(known)}",
                    param_hint="TABLE",
                )
        statements = catalogue.create_statements(archive, table)
    click.echo("\n\n".join(f"{sql.strip()};" for sql in statements))
