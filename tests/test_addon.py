"""The olyscrape add-on: its components work in any Scrapy project, built by Scrapy's own
test helper (``get_crawler``) with the add-on alone, as they do in a crawl."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.utils.test import get_crawler

from olyscrape.addon import DEFAULTS, Olyscrape
from olyscrape.extensions.archive import ArchiveKeeper
from olyscrape.extensions.capture import CaptureRecorder
from olyscrape.items import ArticleCard, PageCards, Partner
from olyscrape.pipelines.normalize import NormalizePipeline
from olyscrape.pipelines.store import StorePipeline
from olyscrape.pipelines.validate import ValidatePipeline
from olyscrape.spiders.partners import PartnersSpider
from tests.helpers import SITE, query

ADDON = {"ADDONS": {Olyscrape: 0}}


def test_the_addon_sets_olyscrape_defaults_and_enables_its_components(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # "x.db" and the default archive path, away from the repository
    crawler = get_crawler(PartnersSpider, settings_dict={**ADDON, "OLYSCRAPE_DB": "x.db"})
    settings = crawler.settings
    assert settings.getint("OLYSCRAPE_BATCH_SIZE") == 200
    assert settings.getint("OLYSCRAPE_MAX_PAGES") == 300
    assert settings.getbool("OLYSCRAPE_CAPTURE") is True
    assert settings.getint("CONCURRENT_ITEMS") == 1
    pipelines = settings.getdict("ITEM_PIPELINES")
    assert {NormalizePipeline, ValidatePipeline, StorePipeline} <= set(pipelines)
    assert settings.getdict("DOWNLOADER_MIDDLEWARES")[OffsiteMiddleware] is None
    assert crawler.get_extension(ArchiveKeeper) is not None
    assert crawler.get_extension(CaptureRecorder) is not None
    assert ArchiveKeeper.of(crawler).path == "x.db"


def test_a_project_setting_beats_the_addon_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default archive, data/olyscrape.db, is opened here
    crawler = get_crawler(PartnersSpider, settings_dict={**ADDON, "OLYSCRAPE_BATCH_SIZE": 5})
    assert crawler.settings.getint("OLYSCRAPE_BATCH_SIZE") == 5
    assert crawler.settings.getint("OLYSCRAPE_MAX_PAGES") == DEFAULTS["OLYSCRAPE_MAX_PAGES"]


def test_the_store_pipeline_built_with_the_addon_alone_writes_batches_of_200(tmp_path):
    db = tmp_path / "a.db"
    crawler = get_crawler(PartnersSpider, settings_dict={**ADDON, "OLYSCRAPE_DB": str(db)})
    normalize = NormalizePipeline.from_crawler(crawler)
    validate = ValidatePipeline.from_crawler(crawler)
    store = StorePipeline.from_crawler(crawler)
    assert store.batch_size == 200
    cards = [
        ArticleCard(url=f"/ioc/news/story-{n}", title=f"Story {n}", partner="visa",
                    page_url="https://olympics.com/ioc/visa", position=n + 1)
        for n in range(3)
    ]  # fmt: skip
    store.process_item(Partner("visa", "Visa", "https://olympics.com/ioc/visa"))  # at once
    page = PageCards("visa", "https://olympics.com/ioc/visa", cards)
    store.process_item(validate.process_item(normalize.process_item(page)))
    assert query(db, "SELECT count(*) FROM articles") == [(0,)]  # less than a batch
    store.close_spider()
    ArchiveKeeper.of(crawler).close()  # the writer, then the lock
    assert query(db, "SELECT url FROM articles ORDER BY url") == [
        (f"https://olympics.com/ioc/news/story-{n}",) for n in range(3)
    ]


def test_components_without_the_addon_fall_back_to_its_defaults(tmp_path):
    crawler = get_crawler(PartnersSpider, settings_dict={"OLYSCRAPE_DB": str(tmp_path / "a.db")})
    keeper = ArchiveKeeper(crawler)
    assert keeper.path == str(tmp_path / "a.db")
    store = StorePipeline(keeper, 0, crawler.stats, touch_seen=True)
    assert store.batch_size == 1  # the constructor's floor, not a setting
    crawler.extensions.middlewares = (*crawler.extensions.middlewares, keeper)
    assert StorePipeline.from_crawler(crawler).batch_size == DEFAULTS["OLYSCRAPE_BATCH_SIZE"]
    assert CaptureRecorder.from_crawler(crawler) is not None  # captures on by default


@pytest.mark.slow
def test_another_scrapy_project_crawls_with_the_addon_alone(tmp_path):
    """A project of its own (its own settings module, no olyscrape settings) that names
    the add-on and olyscrape's spider crawls the saved site into an archive."""
    project = tmp_path / "project"
    (project / "otherproject").mkdir(parents=True)
    (project / "otherproject" / "__init__.py").write_text("")
    (project / "otherproject" / "settings.py").write_text(
        textwrap.dedent("""
        BOT_NAME = "otherproject"
        SPIDER_MODULES = ["olyscrape.spiders"]
        ADDONS = {"olyscrape.addon.Olyscrape": 0}
        LOG_LEVEL = "INFO"
    """)
    )
    (project / "scrapy.cfg").write_text("[settings]\ndefault = otherproject.settings\n")
    db = tmp_path / "other.db"
    env = {**os.environ, "PYTHONPATH": str(project), "PYTHONWARNINGS": "ignore"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "partners",
         "-a", f"replay={SITE}", "-a", f"db={db}"],
        cwd=project, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert query(db, "SELECT count(*) FROM articles") == [(129,)]
    assert query(db, "SELECT status FROM crawls") == [("ok",)]
    assert query(db, "SELECT count(*) FROM captures")[0][0] > 0
