"""``sql -f`` on a file in UTF-16 or UTF-32 without its byte-order mark: one line naming
the null byte and the likely encoding, a usage error (exit 2), not SQLite's "null
character" (exit 1)."""

from __future__ import annotations

import pytest

from tests.helpers import cli_runner, one_error_line, sha256


@pytest.mark.parametrize(
    ("encoding", "offset"),
    [("utf-16-le", 1), ("utf-16-be", 0), ("utf-32-le", 1)],
)
def test_sql_file_without_its_byte_order_mark_is_one_line_exit_2(
    archive_db, tmp_path, encoding, offset
):
    from olyscrape.cli import cli

    path = tmp_path / "q.sql"
    path.write_bytes("select 1 as one".encode(encoding))
    before = sha256(archive_db)
    runner = cli_runner()
    result = runner.invoke(cli, ["sql", "--db", str(archive_db), "-f", str(path)])
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: {path}: not UTF-8 text (byte 0x00 at offset {offset}:")
    assert "without a byte-order mark" in line
    assert result.stdout == ""
    piped = runner.invoke(cli, ["sql", "--db", str(archive_db), "-"], input=path.read_bytes())
    assert piped.exit_code == 2
    assert one_error_line(piped.stderr).startswith("Error: standard input: not UTF-8 text")
    assert sha256(archive_db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.sql"]


def test_sql_file_that_cannot_be_read_is_one_line_exit_2(archive_db):
    """A file the kernel refuses to read (``/proc/self/mem`` gives EIO) is bad input."""
    from olyscrape.cli import cli

    before = sha256(archive_db)
    result = cli_runner().invoke(cli, ["sql", "--db", str(archive_db), "-f", "/proc/self/mem"])
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith("Error: cannot read /proc/self/mem (")
    assert "Traceback" not in result.stderr
    assert sha256(archive_db) == before
