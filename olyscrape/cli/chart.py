"""Draw the archive's articles per partner and year (``olyscrape stats --chart``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Okabe & Ito's blue: small multiples need no colour per partner (each has its panel),
#: and this one reads well in print and with any common colour-vision deficiency.
BAR_COLOUR = "#0072B2"


def draw_articles_per_year(
    rows: Iterable[dict[str, Any]],
    path: Path,
    *,
    undated: int = 0,
    as_of: str | None = None,
    source: str = "",
) -> None:
    """Small multiples: one panel per partner, the articles its listing showed, by year
    published (an article two partners showed counts once in each panel, never twice in
    one). The caption gives the undated articles left out, the archive's date and source.
    The format follows ``path``'s extension (png, svg, pdf). Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    series: dict[str, dict[int, int]] = {}
    for row in rows:
        series.setdefault(row["partner"], {})[int(row["year"])] = int(row["articles"])
    years = sorted({year for counts in series.values() for year in counts}) or [0]
    partners = sorted(series)
    columns = 4
    lines = max(1, -(-len(partners) // columns))
    fig, axes = plt.subplots(
        lines, columns, figsize=(12, 2.2 * lines + 1.2), dpi=100, sharex=True, sharey=True,
        squeeze=False,
    )  # fmt: skip
    for n, ax in enumerate(axes.flat):
        if n >= len(partners):
            ax.set_visible(False)
            continue
        partner = partners[n]
        counts = [series[partner].get(year, 0) for year in years]
        ax.bar(years, counts, color=BAR_COLOUR, width=0.8)
        ax.set_title(f"{partner} ({sum(counts)})", fontsize="medium")
        ax.grid(axis="y", alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize="small", labelbottom=True)
        ax.set_xticks(years)
    fig.supxlabel("year published", fontsize="small", y=0.035)
    for ax in axes[:, 0]:
        ax.set_ylabel("articles", fontsize="small")
    fig.suptitle("IOC news articles per TOP partner and year")
    caption = [f"{undated} undated article(s) not shown"]
    if as_of:
        caption.append(f"archive as of {as_of}")
    caption.append(f"source: olympics.com via olyscrape, {source}" if source else "olympics.com")
    fig.text(0.01, 0.005, "; ".join(caption), fontsize="small", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
