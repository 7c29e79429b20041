"""Draw the archive's articles per partner and year (``olyscrape stats --chart``).

The chart is meant for a paper: partners by their display names, 300 dpi PNG, text kept
as text in SVG and PDF (so it can be edited, searched and sized with the paper's fonts),
no date or version embedded (the same archive gives the same bytes on every run of the
command, so a figure can be rebuilt and compared), and a caption that names the archive
by its file name only (a local path says nothing to a reader and leaks one's folders).
"""

from __future__ import annotations

import errno
import os
import secrets
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olyscrape.cli.sinks import is_special

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Okabe & Ito's blue: small multiples need no colour per partner (each has its panel),
#: and this one reads well in print and with any common colour-vision deficiency.
BAR_COLOUR = "#0072B2"
#: The formats the chart is written in, by the path's extension.
FORMATS = ("png", "svg", "pdf")
#: Raster output at print resolution (journals ask for 300 dpi at least).
PNG_DPI = 300
COLUMNS = 4
#: Inches per panel, across and down.
PANEL_WIDTH, PANEL_HEIGHT = 3.0, 2.2
#: Up to this many years, a panel labels every year; beyond, about this many ticks.
YEARS_EACH = 7

#: Text as text (SVG ``<text>``, PDF TrueType/Type 42 fonts, not paths or Type 3), and a
#: fixed salt for SVG's element ids, which are otherwise random on every run.
RC: dict[Any, Any] = {
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.hashsalt": "olyscrape",
    "font.family": "DejaVu Sans",  # matplotlib's own font: the same glyphs everywhere
}
#: No creation date, and no software version (it changes bytes between installs).
METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}


class NothingToDraw(ValueError):
    """The archive holds no dated article: a chart would be an empty frame."""


def caption(*, undated: int = 0, as_of: str | None = None, archive: str = "") -> str:
    """What the figure says under its panels: the undated articles left out (only when
    there are some), which archive and as of when, and the source."""
    parts = []
    if undated:
        parts.append(f"{undated:,} undated article{'s' if undated != 1 else ''} not shown.")
    where = f"Archive {archive}" if archive else "Archive"
    parts.append(f"{where}, as of {as_of[:10]}." if as_of else f"{where}.")
    parts.append("Source: olympics.com (IOC partner news), collected with olyscrape.")
    return " ".join(parts)


def build_figure(
    rows: Iterable[Mapping[str, Any]],
    *,
    names: Mapping[str, str | None] | None = None,
    undated: int = 0,
    as_of: str | None = None,
    archive: str = "",
) -> Figure:
    """Small multiples: one panel per partner (titled by its name from ``names``, else its
    slug), the articles its listing showed, by year published (an article two partners
    showed counts once in each panel, never twice in one). Raises :class:`NothingToDraw`
    when ``rows`` is empty. Call inside :func:`matplotlib.rc_context` with :data:`RC` for
    the saved file to keep its text as text."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    series: dict[str, dict[int, int]] = {}
    for row in rows:
        per_year = series.setdefault(row["partner"], {})
        per_year[int(row["year"])] = per_year.get(int(row["year"]), 0) + int(row["articles"])
    if not series:
        raise NothingToDraw("the archive holds no dated article")
    names = names or {}
    years = sorted({year for counts in series.values() for year in counts})
    partners = sorted(series, key=lambda slug: ((names.get(slug) or slug).casefold(), slug))
    columns = min(COLUMNS, len(partners))
    lines = -(-len(partners) // columns)
    width = max(6.0, PANEL_WIDTH * columns)
    fig = Figure(figsize=(width, PANEL_HEIGHT * lines + 1.0), layout="constrained")
    # The caption gets a band of its own under the panels and their x label, as high as
    # its lines once wrapped: nothing laid out above it can reach into it.
    per_line = int(width * 13)  # characters at the small size, with room to spare
    words = textwrap.fill(caption(undated=undated, as_of=as_of, archive=archive), per_line)
    probe = fig.text(0, 0, words, fontsize="small", parse_math=False)
    band = probe.get_window_extent().height / fig.dpi + 0.15  # inches, with a margin
    probe.remove()
    panels_height = PANEL_HEIGHT * lines + 1.0
    fig.set_size_inches(width, panels_height + band)
    top, bottom = fig.subfigures(2, 1, height_ratios=(panels_height, band), squeeze=False).flat
    bottom.text(0.01, 0.5, words, fontsize="small", ha="left", va="center", parse_math=False)
    axes = top.subplots(lines, columns, sharex=True, sharey=True, squeeze=False)
    for n, ax in enumerate(axes.flat):
        if n >= len(partners):
            ax.set_visible(False)
            continue
        slug = partners[n]
        counts = [series[slug].get(year, 0) for year in years]
        ax.bar(years, counts, color=BAR_COLOUR, width=0.8)
        title = f"{names.get(slug) or slug} ({sum(counts):,})"
        ax.set_title(title, fontsize="medium", parse_math=False)  # "$" is no mathematics
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if years[-1] - years[0] < YEARS_EACH:
            ax.set_xticks(years)  # few enough to label every one
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=YEARS_EACH - 1, integer=True))
        ax.tick_params(labelsize="small", labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel("articles", fontsize="small")
    top.supxlabel("year published", fontsize="small")
    top.suptitle("IOC news articles per TOP partner and year")
    freeze_layout(fig)
    return fig


def freeze_layout(fig: Figure) -> None:
    """Lay ``fig`` out once, keep the result rounded, and lay it out no more. Constrained
    layout's solver lands on positions that differ in their sixth decimal from one run to
    the next, enough for a PDF to differ in its bytes; rounded to a ten-thousandth of the
    figure (a third of a pixel at 300 dpi), they are the same every time, and the same
    for every format."""
    fig.draw_without_rendering()
    for ax in fig.axes:
        x0, y0, width, height = (round(float(v), 4) for v in ax.get_position().bounds)
        ax.set_position((x0, y0, width, height))
    for part in (fig, *fig.subfigs):
        for text in part.texts:  # the title and the x label, which the layout placed
            x, y = text.get_position()
            text.set_position((round(float(x), 4), round(float(y), 4)))
    fig.set_layout_engine("none")


def save(fig: Figure, path: Path) -> None:
    """Write ``fig`` to ``path`` in the format its extension names, reproducibly; whole or
    not at all (a temporary file beside it, renamed once written)."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"{path}: the chart is written as {', '.join(FORMATS)}")
    for folder in (path.parent, *path.parent.parents):  # mkdir would say "File exists"
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():  # the link stays; the file it names is replaced, as -o does
        path = path.resolve()
    if is_special(path):  # a device or FIFO: written into, never replaced by a regular file
        with path.open("wb") as out:
            fig.savefig(out, format=fmt, dpi=PNG_DPI, metadata=METADATA[fmt])
        return
    # Not mkstemp: its file is private (0600); this one gets the umask's mode, as any.
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with temporary.open("xb") as out:
            fig.savefig(out, format=fmt, dpi=PNG_DPI, metadata=METADATA[fmt])
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def draw_articles_per_year(
    rows: Iterable[Mapping[str, Any]],
    path: Path,
    *,
    names: Mapping[str, str | None] | None = None,
    undated: int = 0,
    as_of: str | None = None,
    archive: str = "",
) -> None:
    """The chart of :func:`build_figure`, written to ``path`` (png, svg or pdf by its
    extension). Needs matplotlib; raises :class:`NothingToDraw` for an empty archive
    before any file is written. Each run of the command (a process) writes the same bytes
    for the same archive; a later chart drawn in the same process may differ in the tenth
    decimal of some PDF or SVG coordinates (matplotlib's cached transforms)."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = build_figure(rows, names=names, undated=undated, as_of=as_of, archive=archive)
        save(fig, path)
