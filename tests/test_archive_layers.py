"""The archive is a layer of its own: it imports nothing of olyscrape but itself and the
shared bottom (``olyscrape.items``, ``olyscrape.crawlstats``), no Scrapy, and each of its modules
does one job in at most about 400 lines.

Read from the source with :mod:`ast` (every import, in functions too, and every
``import_module("...")``), so a lazy import cannot hide an upward one.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from olyscrape.archive import schema
from tests.helpers import REPO

ARCHIVE = REPO / "olyscrape" / "archive"
MODULES = sorted(ARCHIVE.glob("*.py"))
#: What of olyscrape the archive may import besides itself: the items it stores and the
#: stats keys it reads back.
ALLOWED = ("olyscrape.archive", "olyscrape.items", "olyscrape.crawlstats")
#: The crawl's machinery, which sits above the archive.
FORBIDDEN_LIBRARIES = ("scrapy", "twisted", "parsel", "spidermon")
MAX_LINES = 400


def imported(path: Path) -> set[str]:
    """Every module name ``path`` imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = "olyscrape.archive"
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the archive package itself
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # ``from olyscrape import crawlstats`` imports olyscrape.crawlstats
            names += [f"{module}.{alias.name}" if module == "olyscrape" else module
                      for alias in node.names]  # fmt: skip
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(str(node.args[0].value))
    # the lazy names of olyscrape/archive/__init__.py, imported by import_module(variable)
    names += [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("olyscrape.")
        and " " not in node.value
    ]
    return set(names)


def allowed(name: str) -> bool:
    if name == "olyscrape" or name.startswith("olyscrape."):
        return any(name == a or name.startswith(a + ".") for a in ALLOWED)
    return name.split(".")[0] not in FORBIDDEN_LIBRARIES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_archive_imports_only_itself_items_and_stats(path):
    wrong = sorted({name for name in imported(path) if not allowed(name)})
    assert not wrong, f"olyscrape/archive/{path.name} imports {', '.join(wrong)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_archive_module_is_over_400_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"olyscrape/archive/{path.name} has {lines} lines"


def test_the_check_sees_an_upward_import(tmp_path):
    """The parse is not vacuous: lazy, aliased and ``from olyscrape import`` forms count."""
    source = tmp_path / "m.py"
    source.write_text(
        "from olyscrape import crawlstats, urls\n"
        "def f():\n    from olyscrape.lock import held_by_another\n"
        "    import scrapy.http as h\n"
        "    return import_module('olyscrape.site.urls')\n"
    )
    assert sorted(n for n in imported(source) if not allowed(n)) == [
        "olyscrape.lock",
        "olyscrape.site.urls",
        "olyscrape.urls",
        "scrapy.http",
    ]


def test_the_archive_and_the_site_agree_on_the_canonical_origin():
    """The archive keeps the origin of the canonical URLs it stores as a fact of its own
    (it may not import the site's code); the site's URL rules must canonicalise to it."""
    urls = importlib.import_module("olyscrape.site.urls")
    assert urls.CANONICAL_ORIGIN == schema.CANONICAL_ORIGIN
