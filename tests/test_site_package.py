"""The site contract is spelled once: each selector of the real markup is written in one
place of olyscrape's code (its page object's constant), and the crawl and the probe read
the site through the same page objects, never with selectors of their own."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from tests.helpers import REPO

PACKAGE = REPO / "olyscrape"
#: The site generator writes the markup the page objects read: it is the other side.
WRITERS = PACKAGE / "testing"

#: What olyscrape reads of the real pages (docs/site.md §1 to §5): class names, tags with
#: their class, attributes and properties that only the markup gives.
MARKUP = (
    "div.drop-col", "strong.title", "li a[href]",
    "ajax-area", "article.box",
    "btn-more", "a.next[rel~=next]", "noscript", ".paging",
    "news-topic-label",
    "post-box", "section.text-content", "info-col", "social-col", "caption",
    "application/ld+json", "og:title", "og:image", "article:published_time",
    "article:modified_time", "article:section", "article:tag",
    "loadmoreoverviewnews",
)  # fmt: skip


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the constants that are docstrings (of a module, class or function)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _literals(path: Path) -> list[str]:
    """Every string literal of a module's code (f-string parts included), docstrings not."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


@cache
def _code_literals() -> list[tuple[str, str]]:
    """Every string literal of olyscrape's code but the site generator's, with its module."""
    paths = [p for p in sorted(PACKAGE.rglob("*.py")) if not p.is_relative_to(WRITERS)]
    return [(str(path.relative_to(REPO)), literal) for path in paths for literal in _literals(path)]


@pytest.mark.parametrize("markup", MARKUP)
def test_each_piece_of_markup_is_spelled_once(markup):
    spelled = [f"{path}: {literal!r}" for path, literal in _code_literals() if markup in literal]
    assert len(spelled) == 1, spelled
    assert spelled[0].startswith("olyscrape/site/"), spelled


SPIDERS = PACKAGE / "spiders"


def _calls(path: Path) -> list[str]:
    """The names of the functions and methods a module calls."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.append(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def _site_names(path: Path) -> set[str]:
    """The names a module imports from olyscrape.site."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("olyscrape.site")
        for alias in node.names
    }


def test_no_spider_reads_markup_itself():
    for path in sorted(SPIDERS.glob("*.py")):
        called = set(_calls(path))
        assert not called & {"css", "xpath"}, f"{path.name} queries a page itself"


def test_the_probe_and_the_crawl_read_through_the_same_page_objects():
    page_objects = {"DiscoveryPage", "ListingPage", "LoadMoreLink", "LoadMoreAnswer", "ArticlePage"}
    probe = _site_names(SPIDERS / "check.py") & page_objects
    crawl = set().union(*(_site_names(p) for p in SPIDERS.glob("*.py") if p.name != "check.py"))
    assert probe == page_objects
    assert probe <= crawl


def test_the_probe_builds_one_listing_page_per_listing():
    source = (SPIDERS / "check.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    (check_listing,) = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "check_listing"
    ]
    built = [
        node
        for node in ast.walk(check_listing)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ListingPage"
    ]
    assert len(built) == 1


def test_the_site_package_imports_nothing_above_it():
    allowed = ("olyscrape.site", "olyscrape.items", "olyscrape.crawlstats")
    for path in sorted((PACKAGE / "site").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.module == "olyscrape":
                modules = [f"olyscrape.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            for module in modules:
                if module == "olyscrape" or module.startswith("olyscrape."):
                    assert module.startswith(allowed), f"{path.name} imports {module}"


def test_both_spiders_take_arguments_and_politeness_from_the_base_spider():
    from scrapy.settings import Settings

    from olyscrape.spiders.base import SiteSpider, apply_arguments
    from olyscrape.spiders.check import CheckSpider
    from olyscrape.spiders.partners import PartnersSpider

    assert issubclass(PartnersSpider, SiteSpider) and issubclass(CheckSpider, SiteSpider)
    assert not issubclass(CheckSpider, PartnersSpider)  # the probe is no crawl
    settings = Settings({"ROBOTSTXT_OBEY": True, "DOWNLOAD_DELAY": 1})
    base_url = apply_arguments(settings, {"base_url": "http://localhost:8000/", "max_pages": 3})
    assert base_url == "http://localhost:8000" == settings.get("OLYSCRAPE_BASE_URL")
    assert settings.getint("OLYSCRAPE_MAX_PAGES") == 3
    assert settings.getbool("ROBOTSTXT_OBEY") is False and settings.getfloat("DOWNLOAD_DELAY") == 0
    remote = Settings({"ROBOTSTXT_OBEY": True})
    assert apply_arguments(remote, {"base_url": "https://mirror.example.org"}) is not None
    assert remote.getbool("ROBOTSTXT_OBEY") is True
