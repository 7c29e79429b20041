"""Writing the saved site: :class:`SiteWriter` puts pages into a folder (and counts them),
:func:`write_site` writes the whole saved site (or its changed copy), and :func:`generate`
does so safely into a folder that is empty, new, or an earlier generated site (the
command's job).

A generated site carries a marker file, :data:`MARKER`, naming every file the generator
wrote there. Regenerating replaces exactly those files; anything else in the folder is
left alone, and a non-empty folder without the marker is refused (it is someone's work).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from olyscrape.testing.sitegen import markup
from olyscrape.testing.sitegen.changes import changed_items
from olyscrape.testing.sitegen.manifest import changed_manifest, manifest
from olyscrape.testing.sitegen.news import Item, Layout, build_items, check

#: The marker file of a generated site: a comment line, then one owned file a line.
MARKER = ".olyscrape-site"
MARKER_HEADER = (
    "# Written by `python -m olyscrape.testing.site`: the files it owns in this folder "
    "(regenerating replaces these, and nothing else)."
)


class NotASiteError(Exception):
    """The folder given to :func:`generate` is not empty and holds no generated site (or is
    not a folder at all): nothing was written or removed."""


class SiteWriter:
    """Writes the saved site's pages under ``root``, remembering what it wrote: ``files``
    (relative paths, in order) and ``size`` (bytes)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.files: list[str] = []
        self.size = 0

    def write(self, relative: str, text: str) -> None:
        data = text.encode("utf-8")
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.files.append(relative)
        self.size += len(data)

    def robots(self) -> None:
        self.write("robots.txt", "User-agent: *\nAllow: /\n")

    def partners_page(self) -> None:
        self.write("ioc/partners.html", markup.partners_page())

    def listing(self, slug: str, items: list[Item], layout: Layout) -> list[str]:
        """Partner ``slug``'s listing page and no-script pages; their URL paths back."""
        written = []
        for relative, page in markup.listing_pages(slug, items, layout):
            self.write(relative, page)
            written.append("/" + relative.removesuffix(".html"))
        return written

    def load_more_answer(self, slug: str, count: int, offset: int, items: list[Item]) -> str:
        """One load-more answer of partner ``slug``; the link that asks for it back."""
        self.write(*markup.load_more_answer(slug, count, offset, items))
        return markup.loadmore_href(markup.partner(slug).guid, count, offset)

    def load_more(self, slug: str, items: list[Item], layout: Layout) -> None:
        """Every load-more answer ``layout`` serves for partner ``slug``."""
        for relative, text in markup.load_more_answers(slug, items, layout):
            self.write(relative, text)

    def article(self, item: Item) -> None:
        self.write(*markup.article_page(item))


def write_site(root: Path, changed: bool = False) -> list[str]:
    """Write the whole saved site (``tests/fixtures/site``), or its changed copy (the site a
    week later, :mod:`olyscrape.testing.sitegen.changes`), under ``root``, overwriting what
    is there and removing nothing; the files written back, in order (``MANIFEST.md`` last)."""
    if changed:
        items, registry, pages = changed_items()
    else:
        items, registry = build_items()
        pages = [item for item in registry.values() if item.has_page]
    check(items, registry, changed)
    writer = SiteWriter(root)
    writer.robots()
    writer.partners_page()
    for slug in items:
        layout = Layout.of(slug, changed)
        writer.listing(slug, items[slug], layout)
        writer.load_more(slug, items[slug], layout)
    for item in pages:
        writer.article(item)
    text = changed_manifest(items, registry, pages) if changed else manifest(items, registry)
    writer.write("MANIFEST.md", text)
    return writer.files


def owned_files(folder: Path) -> list[str] | None:
    """The files an earlier run of the generator wrote in ``folder`` (its marker's list), or
    None when ``folder`` holds no marker. Entries that would reach outside are dropped."""
    marker = folder / MARKER
    if not marker.is_file():
        return None
    owned = []
    for line in marker.read_text(encoding="utf-8").splitlines():
        path = PurePosixPath(line.strip())
        if line.startswith("#") or not line.strip() or path.is_absolute() or ".." in path.parts:
            continue
        owned.append(str(path))
    return owned


def _remove(folder: Path, owned: list[str]) -> None:
    """Remove the ``owned`` files and then the folders they leave empty (up to ``folder``)."""
    for relative in owned:
        target = folder / relative
        if target.is_file() or target.is_symlink():
            target.unlink()
        parent = target.parent
        while parent != folder and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def generate(folder: Path, changed: bool = False) -> list[str]:
    """Write the saved site (or its changed copy, when ``changed``) into ``folder``: a new
    or empty folder, or a generated site
    (whose generated files are replaced, and nothing else). Raises :class:`NotASiteError`,
    having touched nothing, for anything else."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotASiteError(f"{folder} is not a folder")
    owned = owned_files(folder) if folder.is_dir() else None
    if owned is None and folder.is_dir() and any(folder.iterdir()):
        raise NotASiteError(
            f"{folder} is not empty and holds no generated site (no {MARKER}): "
            "refusing to write into it"
        )
    if owned:
        _remove(folder, owned)
    files = write_site(folder, changed)
    lines = [MARKER_HEADER, *sorted(files)]
    (folder / MARKER).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return files
