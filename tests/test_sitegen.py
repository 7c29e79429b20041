"""The saved site's generator (``olyscrape.testing.sitegen``) and its command
(``python -m olyscrape.testing.site``): regenerating gives the committed files byte for
byte, and the command writes only into a new, empty or generated folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from olyscrape.testing import site as command
from olyscrape.testing.sitegen import MARKER, owned_files
from tests.helpers import SITE


def files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site written by the command into an empty folder."""
    root = tmp_path_factory.mktemp("regenerated")
    assert command.main([str(root)]) == 0
    return root


def test_regenerating_gives_the_committed_site_byte_for_byte(regenerated):
    committed, fresh = files(SITE), files(regenerated)
    assert sorted(set(committed) - set(fresh)) == [], "committed, no longer generated"
    assert sorted(set(fresh) - set(committed)) == [], "generated, not committed"
    changed = [name for name in committed if committed[name] != fresh[name]]
    assert changed == [], "regenerate: python -m olyscrape.testing.site"


def test_the_marker_names_every_file_the_generator_wrote(regenerated):
    assert sorted(owned_files(regenerated) or []) == sorted(set(files(regenerated)) - {MARKER})


def test_help_answers_and_creates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        command.main(["--help"])
    assert exit.value.code == 0
    assert "usage: python -m olyscrape.testing.site" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_a_folder_of_someone_elses_files_is_refused_untouched(tmp_path, capsys):
    thesis = tmp_path / "work" / "notes" / "thesis.txt"
    thesis.parent.mkdir(parents=True)
    thesis.write_text("four years of work\n")
    assert command.main([str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Error: ") and "not empty" in err
    assert files(tmp_path / "work") == {"notes/thesis.txt": b"four years of work\n"}


def test_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "site").write_text("x")
    assert command.main([str(tmp_path / "site")]) == 2
    assert capsys.readouterr().err.startswith("Error: ")
    assert (tmp_path / "site").read_text() == "x"


def test_regenerating_replaces_only_what_the_generator_owns(regenerated, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(regenerated, root)
    (root / "notes.txt").write_text("mine\n")  # not the generator's: kept
    (root / "ioc" / "news" / "draft.html").write_text("mine too\n")
    stale = root / "ioc" / "gone" / "page.html"  # the generator's, no longer written
    stale.parent.mkdir()
    stale.write_text("old\n")
    (root / MARKER).write_text((root / MARKER).read_text() + "ioc/gone/page.html\n../outside\n")
    (tmp_path / "outside").write_text("never named by a marker of ours\n")
    (root / "robots.txt").write_text("edited\n")  # the generator's: rewritten
    assert command.main([str(root)]) == 0
    assert not stale.exists() and not stale.parent.exists()
    assert (tmp_path / "outside").exists()
    expected = {**files(SITE), "notes.txt": b"mine\n", "ioc/news/draft.html": b"mine too\n"}
    assert files(root) == expected
