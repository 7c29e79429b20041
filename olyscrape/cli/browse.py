"""Browse the archive in Datasette: a server to run it, with the metadata of
:mod:`olyscrape.cli.browsemeta`.

``olyscrape browse`` runs ``python -m datasette serve`` on the archive with that metadata:
descriptions of every table, view and column, facets on partner, category and year,
full-text search on ``articles`` and on the ``partner_articles`` view, and a few canned
queries. Datasette opens the archive read-only (a mutable file, so it reads while a crawl
writes). Datasette is an optional dependency: ``olyscrape[browse]``.
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

from olyscrape.cli.browsemeta import metadata

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001


class BrowseUnavailable(RuntimeError):
    """Datasette, which ``olyscrape browse`` runs, is not installed."""


def datasette_available() -> bool:
    """Whether this interpreter can run Datasette."""
    return importlib.util.find_spec("datasette") is not None


def atom_available() -> bool:
    """Whether Datasette can render the feeds: its plugin ``datasette-atom`` (in the
    ``browse`` extra) is installed."""
    return importlib.util.find_spec("datasette_atom") is not None


#: What ``browse`` says when Datasette runs without ``datasette-atom``: it serves, but a
#: feed reader subscribed to a ``.atom`` URL would get Datasette's 404.
NO_ATOM = (
    "note: datasette-atom is not installed, so the feeds' .atom URLs answer 404 (their"
    " canned queries still show the rows): pip install 'olyscrape[browse]'"
)


def require_datasette() -> None:
    """Raise :class:`BrowseUnavailable` unless Datasette is importable."""
    if not datasette_available():
        raise BrowseUnavailable(
            "olyscrape browse needs Datasette, which is not installed: "
            "pip install 'olyscrape[browse]'"
        )


def schema_version(db: Path) -> int:
    """The schema version of the archive at ``db`` (the current one for a file not there
    yet or empty, which the first crawl makes current)."""
    from olyscrape.archive.schema import SCHEMA_VERSION, identify

    identity = identify(db)
    return SCHEMA_VERSION if identity.empty else identity.version


@contextmanager
def metadata_file(db: Path) -> Iterator[Path]:
    """A temporary JSON file holding the metadata for ``db`` (as its schema version has
    it), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="olyscrape-browse-") as folder:
        path = Path(folder) / "metadata.json"
        meta = metadata(Path(db).stem, schema_version(db))
        path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
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
            meta = metadata(served.stem, schema_version(db))
            path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        argv = command(served, host, port, metadata_path=path, open_browser=open_browser,
                       extra=extra)  # fmt: skip
        url = f"http://{url_host(host)}:{port}/"
        supervisor = Supervisor(argv)
        code = supervisor.run(
            on_ready=lambda: listening(host, port),
            ready=(lambda: ready(url)) if ready else None,
        )
        return code, supervisor.signal
