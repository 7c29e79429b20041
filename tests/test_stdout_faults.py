"""A failed write to standard output is one line and exit 1 whichever command printed
(``schema``, ``verify``, ``--help``, ``--version`` print with ``click.echo``, not through a
sink), and a closed pipe a quiet exit 141: never a traceback (``> /dev/full``, opened for
writing only)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers import one_error_line, run_olyscrape, sha256

FULL = "Error: cannot write to standard output (No space left on device): the output is incomplete"


@pytest.mark.parametrize(
    "command",
    [["schema"], ["verify"], ["--help"], ["--version"], ["sql", "--help"]],
    ids=["schema", "verify", "help", "version", "sql-help"],
)
def test_dev_full_is_one_line_exit_1_for_every_printer(archive_copy, command):
    before = sha256(archive_copy)
    files = sorted(p.name for p in archive_copy.parent.iterdir())
    db = ["--db", str(archive_copy)] if command[0] in ("schema", "verify") else []
    with open("/dev/full", "w") as full:
        result = run_olyscrape(*command, *db, stdout=full)
    assert result.returncode == 1, result.stderr
    assert one_error_line(result.stderr) == FULL
    assert result.stderr.splitlines() == [FULL]
    assert sha256(archive_copy) == before
    assert sorted(p.name for p in archive_copy.parent.iterdir()) == files


def test_the_same_commands_print_normally(archive_copy):
    """The check above is of the failure only: with a writable stdout they print."""
    schema = run_olyscrape("schema", "--db", str(archive_copy), stdout=subprocess.PIPE)
    assert schema.returncode == 0 and "CREATE TABLE" in schema.stdout
    version = run_olyscrape("--version", stdout=subprocess.PIPE)
    assert version.returncode == 0 and "version" in version.stdout


def test_a_closed_pipe_during_help_is_quiet_exit_141():
    read, write = os.pipe()
    os.close(read)  # the reader went away before anything was written
    with os.fdopen(write, "w") as closed:
        result = run_olyscrape("--help", stdout=closed)
    assert result.returncode == 141
    assert result.stderr == ""
