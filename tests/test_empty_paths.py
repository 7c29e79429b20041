"""An empty file path (``--db ''``, a script's unset variable) is a usage error for every
command: exit 2, one line, nothing created. ``Path("")`` is ``.``: ``crawl`` called it a
folder (exit 2) and ``stats`` not an archive (exit 1)."""

from __future__ import annotations

import os

import pytest

from olyscrape.cli import cli
from tests.helpers import cli_runner, one_error_line


def run_in(folder, monkeypatch, *args):
    """The command in this process, run from ``folder`` (where a default path would land)."""
    monkeypatch.chdir(folder)
    return cli_runner().invoke(cli, list(args))


COMMANDS = [
    ("crawl", "--no-articles"),
    ("stats",),
    ("runs",),
    ("search", "tokyo"),
    ("articles",),
    ("sql", "SELECT 1"),
    ("verify",),
    ("reparse",),
    ("backup", "copy.db"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_an_empty_db_is_a_usage_error(tmp_path, monkeypatch, command):
    name, *rest = command
    result = run_in(tmp_path, monkeypatch, name, "--db", "", *rest)
    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)  # and no traceback
    assert line.startswith("Error: Invalid value for '--db': an empty path names no file")
    assert os.listdir(tmp_path) == []  # no lock, no archive, no copy


def test_an_empty_backup_destination_is_a_usage_error(tmp_path, monkeypatch, archive_copy):
    result = run_in(tmp_path, monkeypatch, "backup", "--db", str(archive_copy), "")
    assert result.exit_code == 2, result.output
    assert "an empty path names no file" in one_error_line(result.stderr)
    assert sorted(os.listdir(tmp_path)) == ["archive.db"]
