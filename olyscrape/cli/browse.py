"""Browse the archive in Datasette: metadata, canned queries, and a server to run it.

``olyscrape browse`` runs ``python -m datasette serve`` on the archive with the metadata
:func:`metadata` builds: descriptions of every table, view and column, facets on partner,
category and year, full-text search on ``articles`` and on the ``partner_articles`` view,
and a few canned queries. Datasette opens the archive read-only (a mutable file, so it
reads while a crawl writes). Datasette is an optional dependency: ``olyscrape[browse]``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from olyscrape.archive import CANNED_QUERIES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
#: The database name Datasette gives ``data/olyscrape.db`` (it names a file by its stem).
DEFAULT_DB_NAME = "olyscrape"

_SEEN = {
    "first_seen": "When a crawl first saw this (UTC, ISO-8601)",
    "last_seen": "When a crawl last saw this (UTC, ISO-8601)",
}

#: Table or view → (description, {column: description}, extra Datasette table settings).
TABLES: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
    "partner_articles": (
        "One row per article and partner that showed it: the place to facet and search. "
        "An article shown by two partners appears twice.",
        {
            "article_rowid": "The article's number (articles.id, and its row in articles_fts)",
            "partner": "Slug of the partner whose listing showed the article",
            "url": "Canonical URL of the article",
            "title": "Title as the card gives it",
            "category": "Category label of the card (e.g. Tokyo 2020, IOC News), else the"
            " section the article's page gives",
            "published": "Publication date, YYYY-MM-DD (empty when the card gives none)",
            "year": "Year of publication, YYYY",
            "position": "Position on the partner's listing (1 = newest)",
            "body": "Text of the article's page: paragraphs and headings, a blank line apart",
            **_SEEN,
        },
        {
            "facets": ["partner", "category", "year"],
            "sort_desc": "published",
            "fts_table": "articles_fts",
            "fts_pk": "article_rowid",
            "label_column": "title",
        },
    ),
    "articles": (
        "A news article about a TOP partner, by its canonical URL (one row however many "
        "partners showed it).",
        {
            "id": "Article number (primary key; also the row's number in articles_fts)",
            "url": "Canonical URL of the article (unique)",
            "title": "Title as the card gives it",
            "category": "Category label of the card (e.g. Tokyo 2020, IOC News), else the"
            " section the article's page gives",
            "published": "Publication date from the card, YYYY-MM-DD (empty when it had none)",
            "published_raw": "The card's date as the page writes it",
            "image_url": "The card's image, else the image the article page's structured"
            " data declares",
            **_SEEN,
            "body": "Text of the article's page: paragraphs and headings, a blank line apart",
            "page_published": "Publication date the article's own page gives (its visible"
            " date, else its structured data's)",
            "capture_id": "The capture (captures.id) this row was last parsed from",
            "modified": "Date the article was last modified, YYYY-MM-DD, as its page's"
            " structured data declares it",
            "field_sources": "JSON: where each field came from: listing (the card), page"
            " (the article page's markup), json-ld or opengraph (its structured data)",
            "page_failures": "Crawls in a row whose fetch of the article's page failed (0 once"
            " stored); at OLYSCRAPE_PAGE_MAX_FAILURES it is no longer asked for",
            "page_error": "Why the last fetch of the article's page failed",
            "page_tried": "When the article's page was last asked for (UTC)",
        },
        {"facets": ["category"], "sort_desc": "published", "label_column": "title"},
    ),
    "partners": (
        "The worldwide TOP partners, as the olympics.com menu lists them.",
        {
            "slug": "Short name used everywhere else (primary key)",
            "name": "Name as the menu writes it",
            "url": "The partner's news listing on olympics.com",
            "walk_started": "When the last crawl started walking this partner's listing",
            "walk_completed": "When a crawl last walked this listing to its end; earlier than "
            "walk_started when the last walk was cut short",
        },
        {"label_column": "name", "sort": "slug"},
    ),
    "partner_links": (
        "Which partner's listing showed which article, and where (by article number).",
        {
            "article_id": "The article (articles.id)",
            "partner": "The partner (partners.slug)",
            "position": "Position on the partner's listing (1 = newest)",
            **_SEEN,
        },
        {"facets": ["partner"]},
    ),
    "article_partners": (
        "partner_links by article URL: which partner's listing showed which article.",
        {
            "article_url": "The article (articles.url)",
            "partner": "The partner (partners.slug)",
            "position": "Position on the partner's listing (1 = newest)",
            **_SEEN,
        },
        {"facets": ["partner"]},
    ),
    "article_tags": (
        "Tags the article's own page gives.",
        {"article_url": "The article (articles.url)", "tag": "One tag"},
        {"facets": ["tag"]},
    ),
    "article_versions": (
        "The values an article had before a crawl saw them change (articles holds the newest).",
        {
            "id": "Version number (primary key)",
            "article_url": "The article (articles.url)",
            "changed_at": "When the change was seen (UTC, ISO-8601)",
            "crawl_id": "The crawl that saw it (crawls.id)",
            "title": "Previous title",
            "category": "Previous category",
            "published": "Previous publication date, YYYY-MM-DD",
            "body": "Previous page text",
        },
        {"sort_desc": "changed_at"},
    ),
    "captures": (
        "Every response a crawl received (robots.txt, listings, load-more answers, pages).",
        {
            "id": "Capture number (primary key)",
            "url": "URL as fetched (maybe from a mirror)",
            "canonical_url": "The same URL on https://olympics.com",
            "fetched_at": "When it was received (UTC, ISO-8601)",
            "status": "HTTP status",
            "content_type": "Content-Type header",
            "sha256": "SHA-256 of the body (capture_bodies.sha256)",
            "crawl_id": "The crawl that fetched it (crawls.id)",
        },
        {"facets": ["status", "content_type"], "sort_desc": "id"},
    ),
    "capture_bodies": (
        "Distinct response bodies, stored once each, zlib-compressed (hidden: binary).",
        {
            "sha256": "SHA-256 of the uncompressed body (primary key)",
            "size": "Uncompressed size in bytes",
            "body": "The body, zlib-compressed",
        },
        {"hidden": True},
    ),
    "crawls": (
        "One crawl: running, ok, failed or interrupted (a crawl that died).",
        {
            "id": "Crawl number (primary key)",
            "started_at": "When it started (UTC, ISO-8601)",
            "finished_at": "When it finished (UTC, ISO-8601)",
            "status": "running, ok, failed or interrupted",
            "stats": "Scrapy's crawl stats, as JSON",
            "reasons": "Why a failed crawl failed, as a JSON list of messages",
        },
        {"facets": ["status"], "sort_desc": "id"},
    ),
    "writer_session": (
        "The mark of the crawl or re-parse that last opened the archive, by which a -wal left "
        "beside the file is told to be its own or another copy's (one row).",
        {
            "id": "Always 1: one row",
            "token": "A random token, new each time a writer opens the archive",
            "commits": "The commits that writer made so far (each one adds one)",
            "history": "JSON: the [token, commits] marks earlier writers started from, newest"
            " first",
            "opened_at": "When that writer opened the archive (UTC, ISO-8601)",
        },
        {},
    ),
    "articles_fts": (
        "Full-text index (SQLite FTS5, porter stemming) of articles' titles and bodies, kept "
        "in step by triggers. Search it from articles or partner_articles.",
        {"title": "Article title, indexed", "body": "Article text, indexed"},
        {"hidden": True},
    ),
}


class BrowseUnavailable(RuntimeError):
    """Datasette, which ``olyscrape browse`` runs, is not installed."""


def metadata(db_name: str = DEFAULT_DB_NAME) -> dict[str, Any]:
    """Datasette 0.65 metadata for an archive that Datasette names ``db_name``."""
    tables = {
        name: {"description": description, "columns": columns, **settings}
        for name, (description, columns, settings) in TABLES.items()
    }
    queries = {
        name: {"title": title, "description": description, "sql": sql.strip()}
        for name, (title, description, sql) in CANNED_QUERIES.items()
    }
    return {
        "title": "olyscrape: IOC TOP partner news",
        "description": (
            "News the International Olympic Committee publishes about its worldwide TOP "
            "partners, archived by olyscrape. Start with partner_articles: facet by partner, "
            "category and year, or search titles and bodies."
        ),
        "source": "International Olympic Committee, olympics.com",
        "source_url": "https://olympics.com/ioc/partners",
        "databases": {db_name: {"tables": tables, "queries": queries}},
    }


def datasette_available() -> bool:
    """Whether this interpreter can run Datasette."""
    return importlib.util.find_spec("datasette") is not None


def require_datasette() -> None:
    """Raise :class:`BrowseUnavailable` unless Datasette is importable."""
    if not datasette_available():
        raise BrowseUnavailable(
            "olyscrape browse needs Datasette, which is not installed: "
            "pip install 'olyscrape[browse]'"
        )


@contextmanager
def metadata_file(db: Path) -> Iterator[Path]:
    """A temporary JSON file holding the metadata for ``db``, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="olyscrape-browse-") as folder:
        path = Path(folder) / "metadata.json"
        path.write_text(json.dumps(metadata(Path(db).stem), indent=2), encoding="utf-8")
        yield path


def command(
    db: Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    metadata_path: Path,
    open_browser: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """The argv that serves ``db`` with Datasette: read-only, as a mutable file (a crawl may
    write it meanwhile), or with ``-i`` (immutable) where the file or its folder cannot
    be written, since SQLite could not create a WAL archive's ``-shm`` file there.
    ``extra`` are Datasette's own options (see :func:`datasette_options`), passed last."""
    path = Path(db).resolve()  # Datasette opens file:{path}: an absolute path, as a path
    writable = os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
    database = [str(path)] if writable else ["-i", str(path)]
    argv = [sys.executable, "-m", "datasette", "serve", *database, "--metadata", str(metadata_path)]
    argv += ["--host", host, "--port", str(port)]
    return [*argv, *(["--open"] if open_browser else []), *extra]


#: What Datasette's ``file:{path}?mode=ro`` would read as URI syntax in a file's path.
_URI_SYNTAX = re.compile(r"[?#%]")


def served_path(db: Path, folder: Path) -> Path:
    """The name Datasette opens ``db`` by: its real path, or, where that path holds ``?``,
    ``#`` or ``%`` (which Datasette, opening ``file:{path}`` as a URI, would read as
    syntax and so open another file), a symlink to it in ``folder`` with those replaced.
    SQLite follows the link, so the ``-wal`` and ``-shm`` stay beside the file itself."""
    real = Path(db).resolve()
    if not _URI_SYNTAX.search(str(real)):
        return real
    link = folder / _URI_SYNTAX.sub("_", real.name)
    link.symlink_to(real)
    return link


#: Datasette options that browse sets itself (its archive, read-only; its metadata; its
#: address), or that would serve something else: refused after ``--``, with the option
#: of ``browse`` to use instead where there is one.
RESERVED = {
    "-h": "--host", "--host": "--host", "-p": "--port", "--port": "--port",
    "-o": "--open", "--open": "--open", "--uds": None, "-i": None, "--immutable": None,
    "-m": None, "--metadata": None, "--create": None, "--reload": None, "--get": None,
    "--inspect-file": None, "--help": None, "--help-settings": None, "--pdb": None,
}  # fmt: skip


def _reserved_in(arg: str) -> str | None:
    """The reserved option ``arg`` gives, in any of click's spellings: ``--port=8123``,
    ``-p8123`` (a value attached), ``-ip`` (flags run together); None if it gives none.
    A run of short letters is read whole: safe, if it refuses a value that holds one."""
    name = arg.split("=", 1)[0]
    if name in RESERVED:
        return name
    if arg.startswith("-") and not arg.startswith("--"):
        for letter in arg[1:]:
            if f"-{letter}" in RESERVED:
                return f"-{letter}"
    return None


class BadOption(ValueError):
    """A Datasette option ``browse`` cannot pass on: a usage error."""


def setting_problem(name: str, value: str) -> str | None:
    """Why Datasette would refuse ``--setting NAME VALUE``, or None: a name it does not
    know, or a value not of its setting's type (checked against Datasette's own list)."""
    from datasette.app import SETTINGS

    known = {setting.name: setting.default for setting in SETTINGS}
    if name not in known:
        return f"unknown Datasette setting {name!r}; known: {', '.join(sorted(known))}"
    default = known[name]
    if isinstance(default, bool):
        if value.lower() not in ("on", "off", "true", "false", "1", "0"):
            return f"setting {name} takes on or off, not {value!r}"
    elif isinstance(default, int):
        try:
            int(value)
        except ValueError:
            return f"setting {name} takes a whole number, not {value!r}"
    return None


def datasette_options(
    settings: Sequence[tuple[str, str]] = (),
    cors: bool = False,
    plugins_dir: Path | None = None,
    template_dir: Path | None = None,
    passed: Sequence[str] = (),
) -> list[str]:
    """Datasette's own options from ``browse``'s, with ``passed`` (what follows ``--``)
    last, as given. Raises :class:`BadOption` for an option ``browse`` sets itself (the
    archive stays read-only and served with olyscrape's metadata) or a bad setting."""
    for arg in passed:
        name = _reserved_in(arg)
        if name is not None:
            instead = RESERVED[name]
            hint = f"use browse's own {instead}" if instead else "browse sets it itself"
            raise BadOption(f"Datasette's {name} cannot be passed after --: {hint}")
    options: list[str] = []
    for name, value in settings:
        problem = setting_problem(name, value)
        if problem:
            raise BadOption(problem)
        options += ["--setting", name, value]
    if cors:
        options.append("--cors")
    if plugins_dir is not None:
        options += ["--plugins-dir", str(plugins_dir)]
    if template_dir is not None:
        options += ["--template-dir", str(template_dir)]
    return [*options, *passed]


def serve(
    db: Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
    extra: Sequence[str] = (),
    ready: Callable[[str], None] | None = None,
) -> tuple[int, int | None]:
    """Serve ``db`` with Datasette until it stops: its exit code and the signal that stopped
    it, if one did (Ctrl-C, SIGTERM, SIGHUP: passed on to Datasette, which has two
    seconds to stop before it is killed; the code is then 128 + the signal, see
    :mod:`olyscrape.cli.supervise`). ``ready`` gets the URL once Datasette answers."""
    from olyscrape.cli.supervise import Supervisor, listening, url_host

    require_datasette()
    with metadata_file(db) as path:
        served = served_path(db, path.parent)
        if served.stem != Path(db).stem:  # Datasette names the database by the link's stem
            path.write_text(json.dumps(metadata(served.stem), indent=2), encoding="utf-8")
        argv = command(served, host, port, metadata_path=path, open_browser=open_browser,
                       extra=extra)  # fmt: skip
        url = f"http://{url_host(host)}:{port}/"
        supervisor = Supervisor(argv)
        code = supervisor.run(
            on_ready=lambda: listening(host, port),
            ready=(lambda: ready(url)) if ready else None,
        )
        return code, supervisor.signal
