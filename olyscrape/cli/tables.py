"""Tables for reading, drawn to fit a terminal's width.

Every table olyscrape prints (the rows of ``articles``, ``search``, ``sql``, ``runs``, the
tables of ``stats``, a crawl's summary, ``check``'s points) is laid out here, so that one
rule decides what gives way when a table is wider than the terminal. Widths are counted as
the terminal shows them: escape codes (the bold of a search snippet) take no room, wide
(East Asian) characters two columns, combining marks none; the separators between columns
count too. A table that fits is drawn as it is. One that does not is fitted in steps, each
taken only if the one before was not enough:

1. headers of several words go on two lines (``new links`` over ``new`` / ``links``);
2. columns are one space apart instead of two;
3. text is cut with an ellipsis, the room shared by weight: titles, snippets and other
   prose three parts, URLs two, any other text one. Numbers and narrow columns (dates,
   times, ids, slugs, statuses: 16 characters or fewer) are never cut, and no cut column
   is left narrower than 12 characters while another can still give;
4. only when even that cannot fit (a terminal of 30 columns), cut columns go down to 3
   characters, and a line still too long is cut at the width.

Without a width (the output is piped or written to a file), nothing is cut.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
#: Columns this narrow (and numbers) are never cut: dates, times to the minute, ids,
#: slugs, statuses.
NARROW = 16
#: The narrowest a cut column gets while another column can still give.
FLOOR = 12
#: The narrowest a cut column gets, when nothing else can give.
LEAST = 3
GAP = 2
#: Columns read as prose: they keep the most room when a table is cut.
PROSE = frozenset({"title", "snippet", "body", "evidence", "reasons", "name", "text", "changed"})
#: Columns of URLs (by name; a column of nothing but http(s) URLs is one too).
URLS = frozenset({"url", "article_url", "canonical_url", "image_url"})
WEIGHTS = {"prose": 3, "url": 2, "text": 1}
_URL_VALUE = re.compile(r"https?://\S*\Z")


def char_width(char: str) -> int:
    """Columns one character takes on a terminal."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def visible_width(text: str) -> int:
    """Columns ``text`` takes on a terminal (escape codes take none)."""
    plain = ESCAPE.sub("", text)
    if plain.isascii():
        return len(plain)
    return sum(char_width(c) for c in plain)


def cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` visible columns with an ellipsis, never inside an escape
    code or a wide character; an escape left open is closed."""
    if visible_width(text) <= width:
        return text
    out, shown, pos, opened = [], 0, 0, False
    while pos < len(text):
        match = ESCAPE.match(text, pos)
        if match:
            out.append(match.group())
            opened = match.group() != "\x1b[0m"
            pos = match.end()
            continue
        size = char_width(text[pos])
        if shown + size > width - 1:
            break
        out.append(text[pos])
        shown += size
        pos += 1
    return "".join(out) + ("\x1b[0m" if opened else "") + ("…" if width >= 1 else "")


@dataclass
class Column:
    """One column: its header, its cells as text, how it aligns and what kind it is:
    ``fixed`` (never cut), ``prose``, ``url`` or ``text`` (see the module's rule)."""

    header: str
    cells: list[str]
    right: bool = False
    kind: str = "text"
    #: At least this wide (a report's columns that stay put from one run to the next).
    least: int = 0
    header_lines: list[str] = field(default_factory=list)

    def natural(self) -> int:
        lines = self.header_lines or [self.header]
        return max(self.least, *(visible_width(x) for x in [*lines, *self.cells]))


def kind_of(name: str, values: Sequence[object], cells: Sequence[str]) -> str:
    """What a column of ``render`` is, by its name and values (see the module's rule)."""
    if all(isinstance(v, (int, float)) or v is None for v in values):
        return "fixed"
    if max((visible_width(c) for c in [name, *cells]), default=0) <= NARROW:
        return "fixed"
    if name in URLS or all(
        v is None or (isinstance(v, str) and _URL_VALUE.match(v)) for v in values
    ):
        return "url"
    return "prose" if name in PROSE else "text"


def two_lines(header: str) -> list[str]:
    """A header of several words split where its longer line is shortest."""
    words = header.split(" ")
    if len(words) < 2:
        return [header]
    splits = [[" ".join(words[:n]), " ".join(words[n:])] for n in range(1, len(words))]
    return min(splits, key=lambda pair: max(visible_width(line) for line in pair))


def _total(sizes: Sequence[int], gap: int) -> int:
    return sum(sizes) + gap * (len(sizes) - 1)


def share(columns: Sequence[Column], room: int) -> list[int]:
    """Each column's width when the columns must fit ``room`` (separators not included):
    fixed columns whole, the rest sharing what is left by weight (step 3, then 4)."""
    sizes = [c.natural() for c in columns]
    cuttable = [i for i, c in enumerate(columns) if c.kind != "fixed"]
    avail = room - sum(s for i, s in enumerate(sizes) if i not in cuttable)
    floors = {i: min(sizes[i], FLOOR) for i in cuttable}
    if sum(floors.values()) > avail:
        floors = {i: min(sizes[i], LEAST) for i in cuttable}
    weight = {i: WEIGHTS[columns[i].kind] for i in cuttable}
    active = set(cuttable)
    while active:
        unit = max(avail, 0) / sum(weight[i] for i in active)
        settled = {i: sizes[i] for i in active if sizes[i] <= unit * weight[i]}
        if not settled:
            settled = {i: floors[i] for i in active if floors[i] >= unit * weight[i]}
        if settled:
            for i, size in settled.items():
                sizes[i] = size
                avail -= size
            active -= settled.keys()
            continue
        for i in active:
            sizes[i] = int(unit * weight[i])
        left = avail - sum(sizes[i] for i in active)
        for i in sorted(active, key=lambda i: (-weight[i], i)):  # the heaviest first
            if left <= 0:
                break
            sizes[i] += 1
            left -= 1
        break
    return sizes


def _fitted(columns: list[Column], width: int | None) -> tuple[list[int], int]:
    """The columns' widths and the gap between them, after the steps of the module's rule."""
    sizes = [c.natural() for c in columns]
    if width is None or _total(sizes, GAP) <= width:
        return sizes, GAP
    for column in columns:
        if " " in column.header and visible_width(column.header) > max(
            [column.least, *(visible_width(c) for c in column.cells)]
        ):
            column.header_lines = two_lines(column.header)
    sizes = [c.natural() for c in columns]
    if _total(sizes, GAP) <= width:
        return sizes, GAP
    if _total(sizes, 1) <= width:
        return sizes, 1
    return share(columns, width - (len(columns) - 1)), 1


def _pad(text: str, size: int, right: bool) -> str:
    room = size - visible_width(text)
    return " " * room + text if right else text + " " * room


def draw(
    columns: list[Column],
    width: int | None = None,
    *,
    rule: str = "columns",
    totals: Sequence[Sequence[str]] = (),
) -> list[str]:
    """The table's lines: header (on one or two lines), a dashed rule (one per column, or
    one ``line`` across the table), the rows, and a rule and ``totals`` rows if any; fitted
    to ``width`` as the module says (None: never cut). A last column aligned left is not
    padded."""
    if not columns:
        return []
    sizes, gap = _fitted(columns, width)
    last = len(columns) - 1

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, (cell, column) in enumerate(zip(cells, columns, strict=True)):
            shown = cut(cell, sizes[i])
            parts.append(shown if i == last and not column.right else
                         _pad(shown, sizes[i], column.right))  # fmt: skip
        return (" " * gap).join(parts).rstrip(" ")

    depth = max(len(c.header_lines or [c.header]) for c in columns)
    header_rows = [
        [([""] * depth + (c.header_lines or [c.header]))[-depth:][n] for c in columns]
        for n in range(depth)
    ]
    heads = [line(row) for row in header_rows]
    body = [line(row) for row in rows_of(columns)]
    tail = [line(row) for row in totals]
    if rule == "columns":
        dashes = (" " * gap).join("-" * size for size in sizes)
    else:
        dashes = "-" * max(visible_width(x) for x in [*heads, *body, *tail])
    lines = [*heads, dashes, *body]
    if tail:
        lines += [dashes, *tail]
    if width is not None:
        lines = [cut(x, width) for x in lines]
    return lines


def rows_of(columns: Sequence[Column]) -> list[list[str]]:
    return [list(row) for row in zip(*(c.cells for c in columns), strict=True)]


def aligned(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Collection[int] = (),
    widths: Sequence[int] = (),
    totals: Sequence[Sequence[str]] = (),
    width: int | None = None,
    prose: Collection[int] = (),
    whole: Collection[int] = (),
) -> list[str]:
    """A report's plain-text table as lines: columns each as wide as its widest cell, its
    header or ``widths[i]``; the columns numbered in ``right`` aligned right (numbers)
    and those in ``whole`` never cut, those in ``prose`` keeping the most room when the
    table must fit ``width``; a dashed rule across the table under the header, and
    another above the ``totals`` rows."""
    table = [
        Column(
            name,
            [row[i] for row in rows],
            right=i in right,
            kind="fixed" if i in right or i in whole else "prose" if i in prose else "text",
            least=widths[i] if i < len(widths) else 0,
        )
        for i, name in enumerate(columns)
    ]
    for i, column in enumerate(table):  # the totals rows count for the widths as rows do
        column.least = max([column.least, *(visible_width(row[i]) for row in totals)])
    return draw(table, width, rule="line", totals=totals)
