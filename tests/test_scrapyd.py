"""End to end under Scrapyd: build the egg with scrapyd-client, deploy it, schedule a crawl.

A real ``scrapyd`` runs on a free loopback port with its own configuration in a temporary
folder. The egg is built by ``scrapyd-deploy --build-egg`` from a copy of the working tree
(so the repository never sees the ``setup.py``, ``build/`` and ``*.egg-info`` that building
writes), uploaded with ``addversion.json``, and the ``partners`` spider is scheduled with
``schedule.json`` against a loopback mirror of the saved site. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from olyscrape.testing.mirror import serve_in_thread
from tests.helpers import EXPECTED_PER_PARTNER, REPO, SITE, free_port, query

INSTALL = "pip install scrapyd scrapyd-client (in the [test] extra)"
pytest.importorskip("scrapyd", reason=f"scrapyd is not installed: {INSTALL}")
pytest.importorskip("scrapyd_client.deploy", reason=f"scrapyd-client is not installed: {INSTALL}")
import requests  # noqa: E402  (a dependency of scrapyd-client)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]  # see pyproject's markers

PROJECT = "olyscrape"
VERSION = "test-1"
HTTP_TIMEOUT = 60  # addversion.json runs `scrapy list` from the egg before it answers
START_TIMEOUT = 30
BUILD_TIMEOUT = 120
JOB_TIMEOUT = 120
# What building an egg writes where it runs: none of it may appear in the repository.
BUILD_OUTPUTS = ("setup.py", "setup.cfg", "build/", "dist/", ".egg-info", ".egg")


def git(*args: str) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, timeout=30, check=True
    ).stdout


def git_status() -> set[str]:
    """``git status --porcelain`` lines of the repository, ignored files included."""
    return set(
        git("status", "--porcelain", "--ignored", "--untracked-files=all").decode().splitlines()
    )


def copy_working_tree(dest: Path) -> None:
    """Copy the files git tracks or would track (not .venv, data, caches, build outputs)."""
    for name in git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split(b"\0"):
        source = REPO / os.fsdecode(name)
        if name and source.is_file():  # a tracked file may be deleted in the working tree
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def tail(path: Path, chars: int = 6000) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return path.read_text(errors="replace")[-chars:]


@dataclass
class Scrapyd:
    url: str  # http://127.0.0.1:<port>/
    home: Path  # its cwd: scrapyd.conf, eggs/, logs/, dbs/

    def get(self, endpoint: str, **params: str) -> dict:
        return requests.get(self.url + endpoint, params=params, timeout=HTTP_TIMEOUT).json()

    def post(self, endpoint: str, data: dict, **kwargs) -> dict:
        return requests.post(self.url + endpoint, data=data, timeout=HTTP_TIMEOUT, **kwargs).json()

    def log(self, jobid: str) -> Path:
        return self.home / "logs" / PROJECT / "partners" / f"{jobid}.log"


@pytest.fixture(scope="module")
def egg(tmp_path_factory) -> Path:
    """The project's egg, as ``scrapyd-deploy --build-egg`` builds it from the repository."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("the egg is built from a copy of the working tree made with git; no git here")
    work = tmp_path_factory.mktemp("egg")
    source, egg_path = work / "src", work / f"{PROJECT}.egg"
    before = git_status()
    copy_working_tree(source)
    build = subprocess.run(
        [sys.executable, "-m", "scrapyd_client.deploy", "--build-egg", str(egg_path)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    # Only build outputs count: someone may be editing other files while the tests run.
    appeared = [line for line in git_status() - before if any(o in line for o in BUILD_OUTPUTS)]
    assert not appeared, f"building the egg left files in the repository: {appeared}"
    assert build.returncode == 0, f"scrapyd-deploy --build-egg failed:\n{build.stderr[-4000:]}"
    return egg_path


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory) -> Iterator[Scrapyd]:
    """A real Scrapyd on 127.0.0.1, with its own config and folders in a temporary folder."""
    home = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\n"
        "items_dir =\n"
        f"dbs_dir = {home / 'dbs'}\n"
        "jobs_to_keep = 5\n"
        "max_proc = 1\n"
        "poll_interval = 0.2\n"
    )
    server = Scrapyd(f"http://127.0.0.1:{port}/", home)
    output = home / "scrapyd.out"
    # HOME too, so that no ~/.scrapyd.conf of the user's overrides this configuration.
    env = {**os.environ, "HOME": str(home), "PYTHONWARNINGS": "ignore"}
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd"],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"scrapyd exited with {process.returncode}:\n{tail(output)}")
            try:
                if server.get("daemonstatus.json").get("status") == "ok":
                    break
            except (requests.RequestException, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"scrapyd did not answer in {START_TIMEOUT} s:\n{tail(output)}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def deployed(scrapyd, egg) -> dict:
    """addversion.json's answer for the egg."""
    with egg.open("rb") as f:
        answer = scrapyd.post(
            "addversion.json",
            {"project": PROJECT, "version": VERSION},
            files={"egg": (egg.name, f, "application/octet-stream")},
        )
    assert answer.get("status") == "ok", f"addversion.json refused the egg: {answer}"
    return answer


@dataclass
class Job:
    db: Path
    log: str
    mirror_requests: list[str]


@pytest.fixture(scope="module")
def job(scrapyd, deployed, tmp_path_factory) -> Job:
    """A ``partners`` job scheduled through schedule.json against a loopback mirror."""
    db = tmp_path_factory.mktemp("job") / "scrapyd.db"
    with serve_in_thread(SITE) as mirror:
        arguments = {"db": str(db), "base_url": mirror.base_url}  # spider arguments
        answer = scrapyd.post(
            "schedule.json", {"project": PROJECT, "spider": "partners", **arguments}
        )
        assert answer.get("status") == "ok", f"schedule.json failed: {answer}"
        jobid = answer["jobid"]
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            jobs = scrapyd.get("listjobs.json", project=PROJECT)
            if any(j["id"] == jobid for j in jobs.get("finished", [])):
                break
            if time.monotonic() > deadline:
                log = tail(scrapyd.log(jobid))
                pytest.fail(f"job {jobid} not finished in {JOB_TIMEOUT} s: {jobs}\nits log:\n{log}")
            time.sleep(0.3)
        requested = list(mirror.requests)
    return Job(db, tail(scrapyd.log(jobid), chars=10**7), requested)


def test_the_egg_holds_the_package_and_names_its_scrapy_settings(egg):
    with zipfile.ZipFile(egg) as zf:
        names = set(zf.namelist())
        entry_points = (
            zf.read("EGG-INFO/entry_points.txt").decode()
            if "EGG-INFO/entry_points.txt" in names
            else ""
        )
    assert {"olyscrape/settings.py", "olyscrape/spiders/partners.py"} <= names
    assert not any(name.startswith("tests/") for name in names)
    parser = configparser.ConfigParser()
    parser.read_string(entry_points)
    assert parser.get("scrapy", "settings", fallback=None) == "olyscrape.settings", (
        "the egg has no `scrapy` entry point naming the settings module, without which "
        "Scrapyd cannot run it; pyproject.toml needs\n"
        '[project.entry-points.scrapy]\nsettings = "olyscrape.settings"\n'
        f"the egg's entry_points.txt:\n{entry_points}"
    )


def test_the_deployed_project_lists_the_spiders(scrapyd, deployed):
    assert deployed["spiders"] == 2  # the crawl and the probe
    assert scrapyd.get("listprojects.json")["projects"] == [PROJECT]
    assert scrapyd.get("listversions.json", project=PROJECT)["versions"] == [VERSION]
    assert scrapyd.get("listspiders.json", project=PROJECT)["spiders"] == ["check", "partners"]


def test_the_scheduled_job_archives_the_saved_site(job):
    assert job.db.exists(), f"the job wrote no archive; its log:\n{job.log[-6000:]}"
    counts = dict(query(job.db, "SELECT partner, count(*) FROM article_partners GROUP BY partner"))
    per_partner = {slug: counts.get(slug, 0) for slug in EXPECTED_PER_PARTNER}
    assert per_partner == EXPECTED_PER_PARTNER, job.log[-6000:]
    assert query(job.db, "SELECT count(*) FROM articles") == [(129,)]
    assert query(job.db, "SELECT count(*) FROM articles WHERE body IS NOT NULL") == [(128,)]
    assert query(job.db, "SELECT status FROM crawls") == [("ok",)], job.log[-6000:]


def test_the_job_fetched_from_the_mirror(job):
    assert "/ioc/partners" in job.mirror_requests
    assert any("loadmoreoverviewnews" in path for path in job.mirror_requests)


def test_the_job_log_is_clean(job):
    assert "Traceback" not in job.log, job.log[-6000:]
    assert "Spider closed (finished)" in job.log, job.log[-6000:]
