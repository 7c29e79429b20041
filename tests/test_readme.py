"""The README and the docs are what a new user and CI run and read: keep them honest.

The README is the landing page (its Quickstart is what CI runs); the manual is in
``docs/``, built by MkDocs from ``mkdocs.yml``. These tests are fast: they read files and
click's command objects, and build nothing."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.helpers import REPO

QUICKSTART = runpy.run_path(str(REPO / "ci" / "quickstart.py"))["quickstart_commands"]
DOCS = REPO / "docs"

#: Each command → the guide page that says what its options do (the CLI reference,
#: docs/cli.md, is generated from --help and so lists them all anyway).
GUIDES = {
    "crawl": "crawling.md",
    "check": "crawling.md",
    "reparse": "archive.md",
    "articles": "querying.md",
    "search": "querying.md",
    "sql": "querying.md",
    "stats": "querying.md",
    "tables": "querying.md",
    "schema": "querying.md",
    "runs": "scheduling.md",
    "browse": "browsing.md",
    "verify": "archive.md",
    "backup": "archive.md",
    "recover": "archive.md",
    "mirror": "replay.md",
    "changes": "changes.md",
    "history": "changes.md",
    "export-wacz": "replay.md",
}
#: Options every archive command shares, explained once, with the crawl (docs/crawling.md).
#: The Scrapy options of crawl, check and reparse too (docs/crawling.md, "Scrapy's options").
SHARED = {"db", "overrides", "loglevel", "logfile", "nolog"}
#: Links in Markdown: [text](target), the target up to a space or the closing bracket.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def quickstart_commands(path: Path = REPO / "README.md") -> list[str]:
    return QUICKSTART(path.read_text(encoding="utf-8"))


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def nav_pages() -> list[str]:
    """Every page named in mkdocs.yml's nav (an entry's value ending in ``.md``)."""
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1]
    nav = re.split(r"\n(?=\S)", nav, maxsplit=1)[0]  # up to the next top-level key
    return re.findall(r":\s*(\S+\.md)\s*$", nav, re.M)


def test_quickstart_holds_two_commands_crawl_then_tests():
    first, second = quickstart_commands()
    assert "olyscrape crawl --replay tests/fixtures/site" in first
    assert "pytest" in second


def test_ci_runs_both_quickstart_commands_in_order_as_the_readme_writes_them():
    printed = subprocess.run(
        [sys.executable, str(REPO / "ci" / "quickstart.py")],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.splitlines()  # fmt: skip
    assert printed == quickstart_commands()
    script = (REPO / ".ci" / "run").read_text()
    first = script.index('bash -euo pipefail -c "${QUICKSTART[0]}"')
    second = script.index('bash -euo pipefail -c "${QUICKSTART[1]}"')
    assert "ci/quickstart.py" in script and first < second


def test_the_docs_home_page_shows_the_readmes_quickstart():
    assert quickstart_commands(DOCS / "index.md") == quickstart_commands()


def test_ci_checks_the_generated_pages_and_builds_the_docs_strictly():
    script = (REPO / ".ci" / "run").read_text()
    assert "cog --check docs/cli.md docs/schema.md" in script
    assert "mkdocs build --strict" in script
    lint = script.index(".venv/bin/mypy")
    assert (
        lint
        < script.index("cog --check")
        < script.index('bash -euo pipefail -c "${QUICKSTART[1]}"')
    )
    assert re.search(r"^strict: true$", (REPO / "mkdocs.yml").read_text(), re.M)


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_is_a_page():
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(nav_pages()) == pages


def test_every_relative_link_in_the_readme_leads_to_a_file():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    targets = [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]
    assert targets, "the README links into the docs"
    for target in targets:
        path = target.split("#", 1)[0]
        assert (REPO / path).is_file(), f"README.md links to {target}, which is no file"


def test_the_readme_links_every_docs_page():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    linked = {t.split("#", 1)[0] for t in LINK.findall(text)}
    assert {f"docs/{name}" for name in nav_pages()} <= linked


def test_the_readme_is_a_landing_page_not_the_manual():
    """What is in the README: what, the Quickstart, one example per kind of user, links."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[0] == "Quickstart"
    for reader in ("analysts", "researchers", "contributors"):
        assert any(reader in h for h in headings), f"no example for {reader}"
    assert len(text.splitlines()) < 150


@pytest.mark.parametrize("command", sorted(GUIDES))
def test_every_option_of_a_command_is_explained_in_its_guide(command):
    from olyscrape.cli import all_commands

    assert sorted(GUIDES) == sorted(all_commands()), "every command has a guide page"
    text = page(GUIDES[command])
    for param in all_commands()[command].params:
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        spellings = [o for o in param.opts + param.secondary_opts if o.startswith("-")]
        where = text + (page("crawling.md") if param.name in SHARED else "")
        assert any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", where) for o in spellings), (
            f"docs/{GUIDES[command]} does not explain {command} {'/'.join(spellings)}"
        )


def test_the_cli_reference_has_a_section_per_command():
    from olyscrape.cli import all_commands

    sections = re.findall(r"^## olyscrape (\S+)$", page("cli.md"), re.M)
    assert sections == sorted(all_commands())


def test_the_schema_reference_has_a_section_per_table():
    from olyscrape.archive import SCHEMA

    sections = set(re.findall(r"^## (\w+)$", page("schema.md"), re.M))
    assert set(SCHEMA) <= sections


def test_the_fault_page_names_every_fault_the_mirror_injects():
    from olyscrape.testing.mirror import FAULT_KINDS

    kinds = page("faults.md").split("Kinds: ", 1)[1].split("\n\n", 1)[0]
    assert FAULT_KINDS
    for kind in FAULT_KINDS:
        assert f"`{kind}`" in kinds, f"docs/faults.md does not name the fault kind {kind}"


def test_the_test_files_the_fault_tables_cite_exist():
    cited = set(re.findall(r"`(tests/test_\w+\.py)`", page("faults.md")))
    assert len(cited) >= 5
    for path in cited:
        assert (REPO / path).is_file(), f"docs/faults.md cites {path}, which is gone"


def test_the_exit_codes_table_lists_every_code_the_commands_use():
    table = page("crawling.md").split("| exit | meaning |", 1)[1].split("\n\n", 1)[0]
    codes = re.findall(r"^\| (\d) \|", table, re.M)
    assert codes == ["0", "1", "2", "3", "4", "5"]
