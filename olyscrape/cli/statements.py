"""How ``olyscrape sql`` gets its statement: an argument, standard input (``-``) or a file
(``-f``), in the file's own encoding, and a statement that starts with ``-`` (an SQL
comment) told how to pass it rather than taken for an unknown option."""

from __future__ import annotations

import codecs
import re
import sys
from typing import IO, Any

import click

#: Byte-order marks and the codec that reads past each (UTF-32 before UTF-16: FF FE 00 00
#: begins with FF FE).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: What an option looks like: ``-x``, ``--name``, ``--name=value``. Anything else given
#: where an option may be (``-- comment``, ``-1``) is most likely a statement.
_OPTION_LIKE = re.compile(r"--?[A-Za-z][\w-]*(=.*)?", re.DOTALL)


def decode(data: bytes, source: str) -> str:
    """``data`` as text: by its byte-order mark (UTF-8, UTF-16, UTF-32), else UTF-8. Text
    that cannot be read is a usage error naming the first bad byte; so is a null byte in
    UTF-8, which only a file in UTF-16 or UTF-32 without its mark holds (SQLite would
    refuse it later as "a null character", exit 1, never naming the encoding)."""
    encoding = next((codec for bom, codec in _BOMS if data.startswith(bom)), "utf-8")
    if encoding == "utf-8" and b"\x00" in data:  # UTF-16 or UTF-32 without a mark
        at = data.index(b"\x00")
        raise click.UsageError(
            f"{source}: not UTF-8 text (byte 0x00 at offset {at}: UTF-16 or"
            " UTF-32 without a byte-order mark?); save it as UTF-8, or as UTF-16 with a"
            " byte-order mark"
        )
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        name = "UTF-8" if encoding == "utf-8" else encoding.upper().replace("-SIG", "")
        raise click.UsageError(
            f"{source}: not {name} text (byte 0x{bad} at offset {exc.start}); save it as"
            " UTF-8, or as UTF-16 with a byte-order mark"
        ) from None


def read_statement(statement: str | None, sql_file: IO[bytes] | None) -> str:
    """The statement from the argument, ``-`` (standard input) or ``--file``."""
    if sql_file is not None and statement:
        raise click.UsageError("give the statement or --file, not both")
    if sql_file is not None:
        name = getattr(sql_file, "name", "--file")
        try:
            data = sql_file.read()
        except OSError as exc:  # /proc/self/mem, a folder, a bad disk
            raise click.UsageError(f"cannot read {name} ({exc.strerror or exc})") from None
        statement = decode(data, "standard input" if name == "<stdin>" else name)
    elif statement == "-":
        statement = decode(sys.stdin.buffer.read(), "standard input")
    if not statement or not statement.strip():
        raise click.UsageError("no SQL statement given (an argument, '-' or --file)")
    return statement


class SqlCommand(click.Command):
    """``sql``, whose statement may start with ``-``: when click takes one for an unknown
    option, the error says to put it after ``--``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            if _OPTION_LIKE.fullmatch(exc.option_name):
                raise
            shown = exc.option_name.splitlines()[0] if exc.option_name.strip() else ""
            raise click.UsageError(
                f"{shown!r} was read as an option: a statement that starts with '-' (an SQL"
                f" comment) goes after '--', e.g. olyscrape sql -- \"-- comment ...\"",
                ctx,
            ) from None


def time_limit_option(func: Any) -> Any:
    """``--time-limit MS``: stop the statement after this many milliseconds."""
    return click.option(
        "--time-limit",
        "time_limit",
        type=click.IntRange(1, None),
        metavar="MS",
        help="Stop the query after MS milliseconds, from its start to its last row"
        " (exit 1). Default: no limit.",
    )(func)
