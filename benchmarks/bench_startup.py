"""9. Start-up: how long a query command takes when its query is cheap, against the
interpreter's own start-up (the million-article archive of the ``search`` benchmark;
``--quick``: 20,000).

- **Wall time** of each command, from spawn to exit, output to ``/dev/null``:
  ``olyscrape runs``, ``olyscrape articles --partner visa --since 2020 --limit 20`` and
  ``olyscrape sql "SELECT count(*) FROM partners"``, through the installed ``olyscrape``
  script, as a user types them. Baselines, measured in turns with them: ``python -c
  'import sqlite3'`` (the interpreter's start-up) and a plain Python program that opens the
  archive read-only and runs the same SQL (start-up plus the query). Median, p95 and max of
  ``Options.startup_runs`` runs. Target: the median within 100 ms of ``import sqlite3``'s.
- **What it imports**: ``python -X importtime -m olyscrape runs``: the time of every import
  (the sum of each module's own time) and whether any heavy library (numpy, Scrapy,
  Twisted, sqlite-utils, lxml, parsel, Datasette...) was loaded. Target: none.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from benchmarks import bench_search, common
from benchmarks.common import Options, Result, Row

NAME = "startup"
TITLE = "start-up of a query command against the interpreter's own"
#: A query command may take this much longer than ``python -c 'import sqlite3'``.
TARGET_MS = 100.0
#: Libraries a query command that does not use them must not load.
HEAVY = ("numpy", "scrapy", "twisted", "sqlite_utils", "lxml", "parsel", "datasette",
         "feedgen", "warcio", "wacz", "click_default_group", "pandas")  # fmt: skip
SCRIPT = Path(common.PYTHON).parent / "olyscrape"

#: name → (olyscrape arguments after ``--db ARCHIVE``, the same SQL for the plain program).
COMMANDS: dict[str, tuple[list[str], str]] = {
    "runs": (["runs"], "SELECT * FROM crawls ORDER BY id DESC LIMIT 20"),
    "articles --category 'IOC News' --since 2020 --limit 20": (
        ["articles", "--category", "IOC News", "--since", "2020", "--limit", "20"],
        """SELECT a.url, a.title, a.category, a.published FROM articles a
        WHERE a.category = 'IOC News' COLLATE NOCASE AND a.published >= '2020'
        ORDER BY a.published DESC NULLS LAST, a.url LIMIT 20""",
    ),
    "sql count(*) of partners": (["sql", "SELECT count(*) FROM partners"],
                                 "SELECT count(*) FROM partners"),
}  # fmt: skip

_PLAIN = """
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for row in conn.execute(sys.argv[2]):
    print(*row, sep="\\t")
"""


def olyscrape_command(db: Path, args: list[str]) -> list[str]:
    """The installed script (as users run it), else ``python -m olyscrape``."""
    head = [str(SCRIPT)] if SCRIPT.exists() else [common.PYTHON, "-m", "olyscrape"]
    return [*head, args[0], "--db", str(db), *args[1:]]


def wall_ms(args: list[str]) -> float:
    """Milliseconds from spawning ``args`` to its exit (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=common.CHILD_ENV)  # fmt: skip
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-500:]!r}")
    return elapsed


def imports(db: Path) -> dict[str, Any]:
    """What ``olyscrape runs`` imports: every module, its own and cumulative microseconds."""
    args = [common.PYTHON, "-X", "importtime", "-m", "olyscrape", "runs", "--db", str(db)]
    done = subprocess.run(args, capture_output=True, text=True, env=common.CHILD_ENV, check=True)
    modules: dict[str, tuple[int, int]] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        modules[name.strip()] = (int(own), int(cumulative))
    heavy = sorted(n for n in modules if n.split(".")[0] in HEAVY)
    top = sorted(((n, c) for n, (_, c) in modules.items() if "." not in n),
                 key=lambda item: -item[1])[:6]  # fmt: skip
    return {
        "modules": len(modules),
        "total_ms": sum(own for own, _ in modules.values()) / 1000,
        "heavy": heavy,
        "top_level_ms": {name: c / 1000 for name, c in top},
    }


def _spread(values: list[float]) -> str:
    return (f"median {common.median(values):.0f} ms, p95 {common.percentile(values, 0.95):.0f}"
            f" ms, max {max(values):.0f} ms")  # fmt: skip


def compile_package() -> None:
    """Compile olyscrape's modules, as the Quickstart does: an editable install's sources are
    not compiled by pip, and where ``PYTHONDONTWRITEBYTECODE`` is set every run would
    compile what it imports (~70 ms) instead of loading it."""
    package = Path(__file__).resolve().parent.parent / "olyscrape"
    subprocess.run([common.PYTHON, "-m", "compileall", "-q", str(package)], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def run(options: Options) -> Result:
    result = Result()
    compile_package()
    db, _ = bench_search.cached_archive(
        options.search_articles, options.search_sample, options.repeats
    )
    bare = [common.PYTHON, "-c", "import sqlite3"]
    runs: dict[str, Any] = {"import sqlite3": lambda: wall_ms(bare)}
    for name, (args, sql) in COMMANDS.items():
        command, plain = olyscrape_command(db, args), [common.PYTHON, "-c", _PLAIN, str(db), sql]
        runs[name] = lambda command=command: wall_ms(command)
        runs[f"plain: {name}"] = lambda plain=plain: wall_ms(plain)
    for fn in runs.values():  # warm the page cache and the bytecode once, unmeasured
        fn()
    times = common.alternate(runs, options.startup_runs)
    base = common.median(times["import sqlite3"])
    result.details.update(
        articles=options.search_articles, archive=str(db), runs=options.startup_runs,
        times_ms=times, imports=imports(db),
    )  # fmt: skip
    for name in COMMANDS:
        figure = common.median(times[name])
        plain = common.median(times[f"plain: {name}"])
        result.add(Row(
            benchmark=NAME, name=f"wall, {name}", figure=figure, unit="ms",
            baseline=base, baseline_unit="ms", ratio=common.ratio(figure, base),
            target=f"≤ python -c 'import sqlite3' + {TARGET_MS:.0f} ms",
            passed=figure - base <= TARGET_MS,
            note=(f"olyscrape {_spread(times[name])}; import sqlite3 "
                  f"{_spread(times['import sqlite3'])}; the same SQL in a plain Python "
                  f"program {_spread(times[f'plain: {name}'])} (olyscrape − plain = "
                  f"{figure - plain:.0f} ms); {options.search_articles:,} articles"),
        ))  # fmt: skip
    found = result.details["imports"]
    result.add(Row(
        benchmark=NAME, name="heavy libraries imported by `runs`", figure=len(found["heavy"]),
        unit="modules", target="0", passed=not found["heavy"],
        note=(f"{found['modules']} modules, {found['total_ms']:.0f} ms of imports under "
              "-X importtime; largest: " + ", ".join(
                  f"{n} {ms:.0f} ms" for n, ms in found["top_level_ms"].items())
              + (f"; heavy: {', '.join(found['heavy'][:8])}" if found["heavy"] else "")),
    ))  # fmt: skip
    return result
