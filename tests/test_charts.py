"""``olyscrape stats --chart``: a figure fit for a paper, drawn for real by matplotlib.

Each test reads the chart the command writes (PNG header and pixels, the SVG's XML, the
PDF's objects) or lays the figure out with Agg's renderer and measures its text, and
compares with the archive read by plain sqlite3.
"""

from __future__ import annotations

import re
import sqlite3
import struct
import xml.etree.ElementTree as ET
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SITE, cli_runner, one_error_line, query, run_olyscrape, sha256

pytest.importorskip(
    "matplotlib", reason="matplotlib is not installed: pip install 'olyscrape[chart]'"
)

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from olyscrape.cli import chart

SVG = "{http://www.w3.org/2000/svg}"


def draw(db: Path, out: Path) -> Any:
    """``olyscrape stats --db DB --chart OUT`` in this process (stdout and stderr apart)."""
    from olyscrape.cli import cli

    return cli_runner().invoke(cli, ["stats", "--db", str(db), "--chart", str(out)])


def svg_texts(path: Path) -> list[str]:
    """The text of every ``<text>`` element of an SVG file (drawn as text, not paths)."""
    root = ET.parse(path).getroot()
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def dated_per_partner(db: Path) -> dict[str, int]:
    """Per partner that has one, its name (slug if none) → its dated articles' links."""
    return dict(query(db, """
        SELECT coalesce(p.name, p.slug), count(*) FROM partner_links l
        JOIN partners p ON p.slug = l.partner JOIN articles a ON a.id = l.article_id
        WHERE a.published IS NOT NULL AND a.published != '' GROUP BY p.slug"""))  # fmt: skip


def undated(db: Path) -> int:
    return query(db, "SELECT count(*) FROM articles WHERE published IS NULL")[0][0]


@pytest.fixture(scope="module")
def svg(archive_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chart") / "figure.svg"
    result = draw(archive_db, out)
    assert result.exit_code == 0, result.stderr
    return out


# --- what the figure says ------------------------------------------------------------------


def test_panels_are_titled_by_the_partners_names_with_their_counts(svg, archive_db):
    expected = dated_per_partner(archive_db)
    assert "P&G" in expected and "Coca-Cola" in expected  # the names differ from the slugs
    titles = [t for t in svg_texts(svg) if re.fullmatch(r".+ \(\d+\)", t)]
    assert sorted(titles) == sorted(f"{name} ({n})" for name, n in expected.items())
    slugs = [slug for (slug,) in query(archive_db, "SELECT slug FROM partners")]
    assert not [t for t in titles if t.rsplit(" (", 1)[0] in set(slugs) - set(expected)]
    assert not any(t.startswith(("pg (", "coca-cola (")) for t in titles)


def test_the_caption_names_the_archive_by_its_file_name_only(svg, archive_db):
    text = " ".join(svg_texts(svg))
    assert f"Archive {archive_db.name}," in text
    assert str(archive_db.parent) not in text and "/" not in text.replace("olympics.com", "")
    finished = query(archive_db, "SELECT max(finished_at) FROM crawls")[0][0]
    assert f"as of {finished[:10]}" in text
    n = undated(archive_db)
    assert n > 0 and f"{n} undated article{'s' if n > 1 else ''} not shown" in text


def test_no_undated_count_when_every_article_is_dated(archive_copy, tmp_path):
    with sqlite3.connect(archive_copy) as conn:
        conn.execute("UPDATE articles SET published = '2020-01-01' WHERE published IS NULL")
    conn.close()
    assert undated(archive_copy) == 0
    out = tmp_path / "dated.svg"
    result = draw(archive_copy, out)
    assert result.exit_code == 0, result.stderr
    text = " ".join(svg_texts(out))
    assert "undated" not in text and f"Archive {archive_copy.name}," in text


def test_caption_wording():
    assert "undated" not in chart.caption(undated=0, as_of="2024-05-01T10:00:00Z", archive="a.db")
    assert chart.caption(undated=1).startswith("1 undated article not shown.")
    assert chart.caption(undated=1234).startswith("1,234 undated articles not shown.")
    assert "Archive a.db, as of 2024-05-01." in chart.caption(as_of="2024-05-01T10:00Z",
                                                              archive="a.db")  # fmt: skip


def test_svg_keeps_text_as_text_and_embeds_no_date(svg):
    body = svg.read_text(encoding="utf-8")
    assert body.count("<text") >= 10  # titles, ticks, labels, caption
    assert "<dc:date>" not in body and "Matplotlib v" not in body


# --- layout: nothing overlaps ----------------------------------------------------------------


def _archive_rows(db: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    from olyscrape.cli.options import open_reader

    with open_reader(db) as archive:
        return archive.counts_per_partner_year(), dict(archive.partners())


def _visible_texts(fig: Any) -> list[Text]:
    """Every text drawn: the figure's own (title, x label, caption) and, per visible panel,
    its title, labels and the tick labels in view (an axis keeps spare, undrawn ones)."""

    def shown(artist: Any) -> bool:
        return isinstance(artist, Text) and artist.get_visible() and bool(artist.get_text())

    texts = [t for part in (fig, *fig.subfigs) for t in part.texts if shown(t)]
    for ax in fig.axes:  # every panel, those of its subfigures included
        if not ax.get_visible():
            continue
        texts += [t for t in (ax.title, ax.xaxis.label, ax.yaxis.label) if shown(t)]
        ticks = ((0, ax.get_xticklabels(), ax.get_xlim()), (1, ax.get_yticklabels(), ax.get_ylim()))
        for at, labels, (low, high) in ticks:
            texts += [t for t in labels if shown(t) and low <= t.get_position()[at] <= high]
    return list({id(t): t for t in texts}.values())


LAYOUTS = {  # partners, years: 1 panel, 2 (the case the issue names), 5, all of the archive
    "one panel": 1,
    "two panels": 2,
    "five panels": 5,
    "every partner": None,
}


@pytest.mark.parametrize("panels", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_no_text_overlaps_another_or_leaves_the_figure(archive_db, panels):
    rows, names = _archive_rows(archive_db)
    keep = sorted({row["partner"] for row in rows})[:panels]
    rows = [row for row in rows if row["partner"] in keep]
    assert_laid_out(rows, names, undated=undated(archive_db), archive=archive_db.name)


def test_long_names_many_years_and_a_long_caption_still_fit():
    rows = [{"partner": "a", "year": 1990 + i, "articles": i * 7} for i in range(35)]
    rows += [{"partner": "b", "year": 2010, "articles": 12_345}]
    names = {"a": "A partner with a rather long name, Inc. & Co. $5", "b": None}
    assert_laid_out(rows, names, undated=9_999, archive="an archive called " * 12 + ".db")


def assert_laid_out(rows: list[dict[str, Any]], names: dict[str, Any], **caption: Any) -> None:
    """Draw with Agg and check that no two texts (titles, tick labels, axis labels, caption)
    intersect, that the caption crosses no panel, and that all lie inside the figure."""
    with rc_context(chart.RC):
        fig = chart.build_figure(rows, names=names, **caption)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        texts = _visible_texts(fig)
        boxes = {id(t): t.get_window_extent(renderer) for t in texts}
        frame = fig.bbox
        words = {t.get_text() for t in texts}
        assert "year published" in words
        caption_text = next(t for t in texts if "collected with olyscrape" in t.get_text())
        for a, b in combinations(texts, 2):
            assert not boxes[id(a)].overlaps(boxes[id(b)]), (a.get_text(), b.get_text())
        for text in texts:
            box = boxes[id(text)]
            inside = (box.x0 >= frame.x0 - 0.5 and box.x1 <= frame.x1 + 0.5
                      and box.y0 >= frame.y0 - 0.5 and box.y1 <= frame.y1 + 0.5)  # fmt: skip
            assert inside, text.get_text()
        for ax in fig.findobj(lambda a: hasattr(a, "get_tightbbox") and hasattr(a, "bar")):
            if ax.get_visible():
                assert not ax.get_tightbbox(renderer).overlaps(boxes[id(caption_text)])


# --- files: formats, resolution, reproducible bytes -------------------------------------------


def _png_dpi(path: Path) -> float:
    """Dots per inch from the PNG's own pHYs chunk (pixels per metre)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at = 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"pHYs":
            x, y, unit = struct.unpack(">IIB", data[at + 8 : at + 17])
            assert unit == 1 and x == y  # metres, square pixels
            return x * 0.0254
        at += 12 + length
    raise AssertionError("no pHYs chunk")


def _twice(db: Path, folder: Path, kind: str) -> tuple[bytes, bytes]:
    """The chart of two runs of the command, each its own process, as a user runs it."""
    outs = [folder / f"1.{kind}", folder / f"2.{kind}"]
    for out in outs:
        result = run_olyscrape("stats", "--db", str(db), "--chart", str(out))
        assert result.returncode == 0, result.stderr
    return outs[0].read_bytes(), outs[1].read_bytes()


@pytest.mark.slow  # two interpreters, each drawing at 300 dpi
def test_png_is_300_dpi_and_the_same_bytes_each_run(archive_db, tmp_path):
    from PIL import Image

    first, second = _twice(archive_db, tmp_path, "png")
    assert first == second
    assert round(_png_dpi(tmp_path / "1.png")) == 300
    with Image.open(tmp_path / "1.png") as image:
        assert round(image.info["dpi"][0]) == 300
        assert image.width >= 1800  # at least 6 inches at 300 dpi
        assert "Software" not in image.info  # no version to change the bytes


@pytest.mark.slow  # two interpreters per format
@pytest.mark.parametrize("kind", ["pdf", "svg"])
def test_vector_files_are_the_same_bytes_each_run(archive_db, tmp_path, kind):
    first, second = _twice(archive_db, tmp_path, kind)
    assert first == second  # no date, and SVG's ids salted (random otherwise)


@pytest.mark.slow  # one PDF
def test_pdf_embeds_truetype_fonts_and_no_date(archive_db, tmp_path):
    out = tmp_path / "figure.pdf"
    assert draw(archive_db, out).exit_code == 0
    body = out.read_bytes()
    assert body.startswith(b"%PDF")
    assert b"/FontFile2" in body  # Type 42: the TrueType font embedded, text stays text
    assert b"/Type3" not in body  # glyphs as drawings (matplotlib's default)
    for key in (b"/CreationDate", b"/ModDate", b"/Producer"):
        assert key not in body


def test_an_upper_case_extension_is_written_in_its_format(archive_db, tmp_path):
    out = tmp_path / "FIGURE.SVG"
    assert draw(archive_db, out).exit_code == 0
    assert out.read_bytes().startswith(b"<?xml") and svg_texts(out)
    assert [p.name for p in tmp_path.iterdir()] == ["FIGURE.SVG"]


# --- refusals ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real archive with no article: a crawl of the one partner whose listing is empty."""
    db = tmp_path_factory.mktemp("empty") / "empty.db"
    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db), "--partners", "airbnb")
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(*) FROM articles") == [(0,)]
    return db


def _refused(db: Path, out: Path) -> str:
    before = sha256(db)
    result = draw(db, out)
    assert result.exit_code == 1
    assert result.stdout == ""  # refused before the tables: no half answer
    assert sha256(db) == before
    assert not out.exists() and list(out.parent.glob(f".{out.name}*")) == []
    return one_error_line(result.stderr)


def test_an_empty_archive_is_refused_in_one_line(empty_archive, tmp_path):
    line = _refused(empty_archive, tmp_path / "chart.png")
    assert line == "Error: no chart drawn: the archive holds no dated article"


def test_an_archive_of_undated_articles_only_is_refused(archive_copy, tmp_path):
    with sqlite3.connect(archive_copy) as conn:
        conn.execute("UPDATE articles SET published = NULL")
    conn.close()
    n = undated(archive_copy)
    line = _refused(archive_copy, tmp_path / "chart.svg")
    assert line == f"Error: no chart drawn: the archive holds no dated article ({n} undated)"


@pytest.mark.parametrize("name", ["chart", "chart.txt", "chart.jpg", "chart.png.bak"])
def test_an_unsupported_extension_is_a_usage_error(archive_db, tmp_path, name):
    result = draw(archive_db, tmp_path / name)
    assert result.exit_code == 2
    assert "--chart" in one_error_line(result.stderr)
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_a_chart_under_a_file_is_one_line_and_leaves_nothing(archive_db, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = draw(archive_db, blocker / "chart.png")
    assert result.exit_code == 1
    assert one_error_line(result.stderr) == (
        f"Error: cannot write {blocker / 'chart.png'}: Not a directory"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]


def test_the_chart_module_refuses_nothing_to_draw():
    with pytest.raises(chart.NothingToDraw):
        chart.build_figure([])


@pytest.mark.slow  # mounts a tmpfs and draws at 300 dpi
def test_a_full_disk_is_one_line_and_leaves_no_part_of_a_file(archive_db, disk):
    place = disk("64k")  # room for the folder, not for a 300 dpi PNG
    out = place / "chart.png"
    result = draw(archive_db, out)
    assert result.exit_code == 1
    assert one_error_line(result.stderr) == f"Error: cannot write {out}: No space left on device"
    assert list(place.iterdir()) == []
