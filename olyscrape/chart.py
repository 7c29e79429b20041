"""Draw the archive's articles per partner per year (``olyscrape stats --chart``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any


def draw_articles_per_year(rows: Iterable[dict[str, Any]], path: Path) -> None:
    """Stacked bars: articles published each year, one colour per partner. Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    series: dict[str, dict[str, int]] = {}
    for row in rows:
        series.setdefault(row["partner"], {})[row["year"]] = row["articles"]
    years = sorted({year for counts in series.values() for year in counts})
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=100)
    colours = plt.get_cmap("tab20").colors
    bottom = [0] * len(years)
    for n, (partner, counts) in enumerate(sorted(series.items())):
        heights = [counts.get(y, 0) for y in years]
        ax.bar(years, heights, bottom=bottom, label=partner, color=colours[n % len(colours)])
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_title("IOC news per TOP partner and year")
    ax.set_xlabel("year published")
    ax.set_ylabel("articles")
    ax.grid(axis="y", alpha=0.3)
    if series:
        ax.legend(ncol=2, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
