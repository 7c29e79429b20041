"""Shared helpers of the benchmarks: timing, machine description, results, the generated
site and its mirror, child processes with their peak memory, deterministic words.

Timings are repeated (``REPEATS``, 3 by default) and the median is kept: the machines
these run on are shared and noisy, and a median of three shrugs off one bad run.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from olyscrape.testing import sitegen
from olyscrape.testing.mirror import MirrorHandler, MirrorServer

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: Built artefacts worth keeping between runs (the million-article archive), never in the repo.
CACHE = Path(
    os.environ.get("OLYSCRAPE_BENCH_CACHE") or Path(tempfile.gettempdir()) / "olyscrape-bench"
)
#: Timings per measurement; the median is reported.
REPEATS = 3
CHILD_ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}


# --- results -----------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table: a figure, the baseline it is compared with (run in
    the same process run), their ratio, and its target (benchmarks/README.md), met or not."""

    benchmark: str
    name: str
    figure: float
    unit: str
    baseline: float | None = None
    baseline_unit: str = ""
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    note: str = ""


@dataclass
class Result:
    """What one benchmark module hands back: its table rows and everything else measured."""

    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def to_json(self) -> dict[str, Any]:
        return {"rows": [asdict(r) for r in self.rows], "details": self.details}


def ratio(a: float, b: float | None) -> float | None:
    return a / b if b else None


# --- timing --------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def alternate(
    runs: dict[str, Callable[[], float]], repeats: int = REPEATS
) -> dict[str, list[float]]:
    """Run each measurement ``repeats`` times, interleaved (a, b, a, b, ...) so that a
    noisy stretch of the machine hits all of them alike; each returns its own figure."""
    out: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            out[name].append(fn())
    return out


# --- the machine ---------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return f"{head}{'+dirty' if dirty else ''}" if head else None


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import lxml.etree
    import parsel
    import scrapy

    memory = _memory_bytes()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "parsel": parsel.__version__,
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
        "sqlite": sqlite3.sqlite_version,
        "olyscrape_commit": _git_commit(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, "
        f"Python {info['python']}, Scrapy {info['scrapy']}, SQLite {info['sqlite']}, "
        f"load {'/'.join(str(x) for x in info['load_average'])}, {info['date']}"
    )


# --- deterministic words ----------------------------------------------------------------

_ONSETS = ("b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "br", "ch", "cl", "dr", "gr", "pl", "sh", "st", "tr", "th")  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou")
_CODAS = ("", "", "n", "r", "s", "l", "m", "nd", "st", "x")


class Words:
    """A fixed vocabulary of made-up words drawn with a Zipf law (rank r has weight
    1/r): the first words are in nearly every text, the last ones in a handful out of a
    million. Same seed, same words, on every machine."""

    def __init__(self, size: int = 50_000, seed: int = 2021) -> None:
        rng = random.Random(seed)
        vocabulary: list[str] = []
        seen: set[str] = set()
        while len(vocabulary) < size:
            syllables = rng.choice((2, 2, 3, 3, 4))
            word = "".join(
                rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                for _ in range(syllables)
            )
            if word not in seen:
                seen.add(word)
                vocabulary.append(word)
        self.vocabulary = vocabulary
        total, cumulative = 0.0, []
        for rank in range(1, size + 1):
            total += 1.0 / rank
            cumulative.append(total)
        self._cumulative = cumulative
        self.rng = random.Random(seed + 1)

    def draw(self, count: int) -> list[str]:
        return self.rng.choices(self.vocabulary, cum_weights=self._cumulative, k=count)

    def text(self, count: int) -> str:
        return " ".join(self.draw(count))

    def expected_share(self, rank: int, words_per_text: int) -> float:
        """The expected share of texts of ``words_per_text`` words holding the word of this
        rank (1-based)."""
        p = (1.0 / rank) / self._cumulative[-1]
        return 1.0 - (1.0 - p) ** words_per_text


# --- the generated site ----------------------------------------------------------------


LABELS = ("Tokyo 2020", "IOC News", "Paris 2024", "Beijing 2022", "Sustainability",
          "Olympic Agenda 2020", "PyeongChang 2018", "Olympic Channel")  # fmt: skip


@dataclass(frozen=True)
class SiteSpec:
    """A generated site: ``partners`` TOP partners (of the 14 in the menu), each with a
    listing page of ``per_page`` cards and a load-more link (count ``per_page``, offset
    ``per_page``), then ``answers`` load-more answers of ``per_page`` cards, the last one
    holding ``last`` cards (fewer, so that paging stops there)."""

    partners: int = 14
    answers: int = 200
    per_page: int = 10
    last: int = 5

    @property
    def cards_per_partner(self) -> int:
        return self.per_page * self.answers + self.last

    @property
    def cards(self) -> int:
        return self.partners * self.cards_per_partner

    @property
    def requests(self) -> int:
        """Discovery, then per partner its listing and every load-more answer."""
        return 1 + self.partners * (1 + self.answers)


@dataclass
class Site:
    root: Path
    spec: SiteSpec
    slugs: list[str]
    #: Per partner, the paths a crawl asks for after discovery, in the order it must.
    chains: dict[str, list[str]]
    files: int
    size: int
    seconds: float
    discovery: str = "/ioc/partners"

    @property
    def crawl_options(self) -> dict[str, Any]:
        """``olyscrape_crawl`` arguments to crawl this site in full: ``--partners`` when the
        site has fewer than the menu's 14, ``--max-pages`` above the default cap of 300."""
        every = len(sitegen.PARTNERS)
        return {
            "partners": self.slugs if len(self.slugs) < every else None,
            "max_pages": self.spec.answers + 10 if self.spec.answers + 1 > 300 else None,
        }

    @property
    def paths(self) -> list[str]:
        return [self.discovery] + [p for chain in self.chains.values() for p in chain]

    def manifest(self, base_url: str) -> dict[str, Any]:
        """What the bare spider needs to fetch the same URLs in the same order (and how
        many cards each page holds, for its ``items`` variant)."""
        per_page, last, answers = self.spec.per_page, self.spec.last, self.spec.answers
        cards = [per_page] * answers + [last]
        return {
            "base_url": base_url,
            "discovery": self.discovery,
            "chains": self.chains,
            "cards": {slug: cards for slug in self.chains},
        }


def _date(index: int) -> str:
    months = sitegen.MONTHS
    day = dt.date(2021, 8, 8) - dt.timedelta(days=index // 3)
    return f"{day.day:02d} {months[day.month - 1]} {day.year}"


def partner_items(partner: int, count: int, words: Words) -> list[sitegen.Item]:
    """``count`` news items (``olyscrape.testing.sitegen.Item``) of the menu's ``partner``-th
    partner, newest first, each with its own link, a title of made-up words, a label and a
    date."""
    slug, name, _ = sitegen.PARTNERS[partner]
    items = []
    for n in range(count):
        title = f"{name} {words.text(7).capitalize()} {n + 1}"
        item_slug = f"{sitegen.slugify(title)}-{slug}"
        items.append(
            sitegen.Item(
                date=_date(n),
                label=LABELS[n % len(LABELS)],
                title=title,
                slug=item_slug,
                href=f"/ioc/news/{item_slug}",
                partners=[name],
            )
        )
    return items


def _layout(items: list[sitegen.Item], load_more: tuple[int, int] | None) -> sitegen.Layout:
    """One listing page showing every item, with a load-more link of ``(count, offset)``."""
    return sitegen.Layout(pages=(len(items),), more=load_more)


def listing_page(partner: int, items: list[sitegen.Item], load_more: tuple[int, int] | None) -> str:
    """The listing page of the menu's ``partner``-th partner showing ``items`` as cards,
    with a load-more link of ``(count, offset)``, as the saved site's listings are written."""
    slug = sitegen.PARTNERS[partner][0]
    ((_, page),) = sitegen.listing_pages(slug, items, _layout(items, load_more))
    return page


def generate_site(root: Path, spec: SiteSpec) -> Site:
    """Write the site under ``root`` with the layout of ``tests/fixtures/site``."""
    start = time.perf_counter()
    words = Words(size=5_000, seed=7)
    writer = sitegen.SiteWriter(root)
    writer.robots()
    writer.partners_page()
    chains: dict[str, list[str]] = {}
    count = spec.per_page
    slugs = [slug for slug, _, _ in sitegen.PARTNERS[: spec.partners]]
    for partner, slug in enumerate(slugs):
        items = partner_items(partner, spec.cards_per_partner, words)
        chain = writer.listing(slug, items[:count], _layout(items[:count], (count, count)))
        for answer in range(1, spec.answers + 1):
            offset = answer * count
            size_here = spec.last if answer == spec.answers else count
            answered = items[offset : offset + size_here]
            chain.append(writer.load_more_answer(slug, count, offset, answered))
        chains[slug] = chain
    seconds = time.perf_counter() - start
    return Site(root, spec, slugs, chains, len(writer.files), writer.size, seconds)


_SITES: dict[SiteSpec, Site] = {}


def site_for(spec: SiteSpec) -> Site:
    """The site of ``spec``, generated once per run into a temporary folder."""
    if spec not in _SITES:
        _SITES[spec] = generate_site(scratch_dir(f"site-{spec.partners}x{spec.answers}-"), spec)
    return _SITES[spec]


def scratch_dir(prefix: str = "olyscrape-bench-") -> Path:
    """A temporary folder removed when the run ends."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


# --- the mirror ------------------------------------------------------------------------


class _TimedHandler(MirrorHandler):
    server: TimedMirror
    # TCP_NODELAY, whatever olyscrape.testing.mirror does: the handler writes an answer's headers
    # and body in two send() calls, and with Nagle's algorithm on the body waits for the
    # client's delayed ACK (~40 ms on Linux) on every keep-alive request, so the mirror,
    # not the crawler, would set the pace (olyscrape.testing.mirror sets it too since 33c80ae;
    # the site benchmark checks the mirror as shipped against this).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        start = time.perf_counter()
        try:
            super().do_GET()
        finally:
            self.server.add_busy(time.perf_counter() - start)


class _TimedShippedHandler(_TimedHandler):
    disable_nagle_algorithm = MirrorHandler.disable_nagle_algorithm  # as olyscrape ships it


class TimedMirror(MirrorServer):
    """``olyscrape.testing.mirror.MirrorServer`` that also notes when each request arrived and how
    long its handler took, to check the mirror is not what limits a crawl; with
    ``nodelay`` its connections set TCP_NODELAY (see ``_TimedHandler``), without it they
    do what ``olyscrape.testing.mirror.MirrorHandler`` does."""

    def __init__(self, root: Path, nodelay: bool = True) -> None:
        super().__init__(root)
        self.RequestHandlerClass = _TimedHandler if nodelay else _TimedShippedHandler
        self.arrivals: list[float] = []
        self.busy = 0.0

    def record(self, path: str) -> int:
        hit = super().record(path)
        self.arrivals.append(time.perf_counter())
        return hit

    def add_busy(self, seconds: float) -> None:
        with self._lock:
            self.busy += seconds

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.hits.clear()
            self.arrivals.clear()
            self.busy = 0.0

    def window(self) -> float:
        """Seconds from the first request received to the last one."""
        return self.arrivals[-1] - self.arrivals[0] if len(self.arrivals) > 1 else 0.0


@contextmanager
def mirror(root: Path, nodelay: bool = True) -> Iterator[TimedMirror]:
    """Serve ``root`` on 127.0.0.1 from a thread of this process for the ``with`` block.

    The crawls it serves run in child processes while this process only waits, so the
    mirror has this interpreter (and its GIL) to itself: crawler and server never share
    a GIL, as with ``olyscrape mirror`` in a subprocess, and the request log stays at hand.
    """
    server = TimedMirror(root, nodelay=nodelay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# --- child processes -------------------------------------------------------------------


@dataclass
class ChildRun:
    args: list[str]
    returncode: int
    wall: float
    maxrss_mib: float
    stdout: str
    stderr: str
    cpu: float = 0.0  # user + sys seconds of the command (wait4), start-up included

    def check(self) -> ChildRun:
        if self.returncode != 0:
            raise RuntimeError(
                f"{' '.join(self.args)} exited {self.returncode}:\n"
                f"{self.stdout[-2000:]}\n{self.stderr[-3000:]}"
            )
        return self


#: Runs a command and writes its exit code and peak RSS (``wait4``) as JSON. Commands go
#: through it because Linux counts in a child's ``ru_maxrss`` the memory of the process
#: it was spawned from (the parent's address space at fork/vfork, kept across exec): a
#: crawl spawned by this process, grown by earlier benchmarks, would report this
#: process's size. Spawned from this small launcher (``-S``: no site, a few MiB), the
#: command's own peak is what counts.
_LAUNCHER = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"returncode": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss,
               "cpu_s": usage.ru_utime + usage.ru_stime}, out)
"""


def run_child(args: list[str], cwd: Path | None = None, timeout: float = 1800) -> ChildRun:
    """Run a command to its end; its wall time and its own peak RSS (see ``_LAUNCHER``)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(suffix=".json") as usage,
    ):
        start = time.perf_counter()
        launcher = [PYTHON, "-S", "-c", _LAUNCHER, usage.name, *map(str, args)]
        proc = subprocess.Popen(
            launcher,
            cwd=cwd or REPO,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=CHILD_ENV,
            start_new_session=True,  # one process group: a timeout kills the command too
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wall = time.perf_counter() - start
        report = json.loads(Path(usage.name).read_text() or "{}")
        out.seek(0)
        err.seek(0)
        return ChildRun(
            args=[str(a) for a in args],
            returncode=report.get("returncode", proc.returncode or -1),
            wall=wall,
            maxrss_mib=report.get("maxrss_kib", 0) / 1024,  # KiB on Linux
            cpu=report.get("cpu_s", 0.0),
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


@dataclass
class CrawlRun:
    """One crawl in a child process, with Scrapy's own figures for it."""

    child: ChildRun
    stats: dict[str, Any]
    mirror_requests: list[str]
    mirror_window: float
    mirror_busy: float

    @property
    def elapsed(self) -> float:
        """Scrapy's ``elapsed_time_seconds``: engine start to close (spider opening and
        closing work included, interpreter start-up and imports not)."""
        return float(self.stats["elapsed_time_seconds"])

    @property
    def responses(self) -> int:
        return int(self.stats.get("response_received_count", 0))


def olyscrape_crawl(
    server: TimedMirror,
    db: Path,
    *extra: str,
    partners: list[str] | None = None,
    max_pages: int | None = None,
    timeout: float = 1800,
) -> CrawlRun:
    """``olyscrape crawl --base-url <mirror> --db <db> --no-articles ...`` in a child process."""
    args = [PYTHON, "-m", "olyscrape", "crawl", "--base-url", server.base_url, "--db", str(db)]
    args += ["--no-articles", *extra]
    if partners:
        args += ["--partners", ",".join(partners)]
    if max_pages:
        args += ["--max-pages", str(max_pages)]
    server.reset()
    child = run_child(args, timeout=timeout).check()
    conn = sqlite3.connect(db)
    try:
        (stats,) = conn.execute("SELECT stats FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return CrawlRun(child, json.loads(stats), list(server.requests), server.window(), server.busy)


def bare_crawl(
    server: TimedMirror, site: Site, workdir: Path, items: bool = False, timeout: float = 1800
) -> CrawlRun:
    """The bare Scrapy spider (``benchmarks/bare_spider.py``) over the same URLs; with
    ``items``, it also yields one tiny item per card (no pipelines)."""
    manifest = workdir / "manifest.json"
    manifest.write_text(json.dumps(site.manifest(server.base_url)))
    stats_path = workdir / "bare-stats.json"
    args = [PYTHON, str(REPO / "benchmarks" / "bare_spider.py"), str(manifest), str(stats_path)]
    args += ["items"] if items else []
    server.reset()
    child = run_child(args, cwd=workdir, timeout=timeout).check()
    stats = json.loads(stats_path.read_text())
    return CrawlRun(child, stats, list(server.requests), server.window(), server.busy)


def samejob_crawl(
    server: TimedMirror, site: Site, db: Path, workdir: Path, timeout: float = 1800
) -> CrawlRun:
    """The same-job baseline (``benchmarks/samejob_spider.py``) into a fresh ``db``."""
    stats_path = workdir / "samejob-stats.json"
    partners = ",".join(site.crawl_options["partners"] or [])
    args = [PYTHON, str(REPO / "benchmarks" / "samejob_spider.py"), server.base_url, str(db)]
    args += [str(stats_path), partners]
    server.reset()
    child = run_child(args, cwd=workdir, timeout=timeout).check()
    stats = json.loads(stats_path.read_text())
    return CrawlRun(child, stats, list(server.requests), server.window(), server.busy)


# --- options -----------------------------------------------------------------------------


@dataclass
class Options:
    """Sizes of every benchmark (``run.py`` sets them; ``--quick`` makes them small)."""

    quick: bool = False
    repeats: int = REPEATS
    partners: int = 14
    answers: int = 200
    crawl_partners: int = 10
    crawl_answers: int = 80
    parser_cards: int = 1000
    archive_rows: int = 20_000
    archive_batch: int = 200
    memory_partners: int = 14
    memory_answers: int = 200
    memory_factor: int = 10
    search_articles: int = 1_000_000
    search_queries: int = 50
    search_sample: int = 50_000
    query_rows: int = 1_000_000
    startup_runs: int = 20

    @classmethod
    def quick_sizes(cls) -> dict[str, int]:
        return {
            "answers": 5,
            "crawl_partners": 3,
            "crawl_answers": 5,
            "parser_cards": 200,
            "archive_rows": 2_000,
            "memory_partners": 2,
            "memory_answers": 5,
            "search_articles": 20_000,
            "search_sample": 5_000,
            "query_rows": 20_000,
            "startup_runs": 5,
        }

    @property
    def site(self) -> SiteSpec:
        return SiteSpec(partners=self.partners, answers=self.answers)

    @property
    def crawl_site(self) -> SiteSpec:
        """The crawl benchmark's site: 10 partners of 805 cards by default."""
        return SiteSpec(partners=self.crawl_partners, answers=self.crawl_answers)
