"""olyscrape as a Scrapy add-on: its defaults and its components, in any Scrapy project.

    ADDONS = {"olyscrape.addon.Olyscrape": 0}

The add-on sets every ``OLYSCRAPE_*`` default and the engine settings olyscrape relies on at
add-on priority, below a project's own settings, and enables olyscrape's middlewares,
pipelines and extensions (and Spidermon's, which runs the closing checks). The project's
``olyscrape.settings`` is this add-on plus politeness towards olympics.com. Each component
also reads its settings with these defaults, so one built by hand (``get_crawler``) without
the add-on behaves the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object

#: olyscrape's own settings and their defaults (spider arguments of the same name and
#: ``olyscrape crawl``'s options override them).
DEFAULTS: dict[str, Any] = {
    "OLYSCRAPE_DB": "data/olyscrape.db",  # the archive
    "OLYSCRAPE_BASE_URL": None,  # fetch the canonical origin from this mirror instead
    "OLYSCRAPE_REPLAY_DIR": None,  # answer every request from this saved copy of the site
    "OLYSCRAPE_MAX_PAGES": 300,  # listing pages + load-more answers per partner, at most
    "OLYSCRAPE_BATCH_SIZE": 200,  # cards written per transaction
    "OLYSCRAPE_ARTICLES": True,  # fetch the page of each article not archived yet
    "OLYSCRAPE_REFRESH_ARTICLES": False,  # fetch every article's page again
    # An article page that failed this many crawls in a row is reported, no longer asked for
    "OLYSCRAPE_PAGE_MAX_FAILURES": 3,
    "OLYSCRAPE_CAPTURE": True,  # keep every response in the captures table
    "OLYSCRAPE_WARC": None,  # also write requests and responses to this WARC file
    "OLYSCRAPE_REPLAY_WARC": None,  # answer every request from this WARC file
    "OLYSCRAPE_REPLAY_ARCHIVE": None,  # answer every request from this archive's captures
    "OLYSCRAPE_REPARSE": False,  # a re-parse: keep last_seen, record no crawl
    "OLYSCRAPE_FULL": False,  # walk every listing to its end, even past cards archived before
    # Deprecated, does nothing (a warning says so): the archive keeper takes the archive's
    # lock however a crawl runs. Kept so that old `-s OLYSCRAPE_LOCK_HELD=1` lines still run.
    "OLYSCRAPE_LOCK_HELD": False,
    # SQLite's check of the archive before a crawl writes: "full" (integrity_check, which
    # also sees an index that lost rows) or "quick" (quick_check: faster start on a large
    # archive, blind to that damage)
    "OLYSCRAPE_ARCHIVE_CHECK": "full",
    "OLYSCRAPE_MAX_PAGE_COUNT": 0,  # tests only: cap the archive's size (pages): a full disk
    "OLYSCRAPE_RECORD_CRAWL": True,  # write the crawl's row in the crawls table
    "OLYSCRAPE_CHECK_KEEP": None,  # olyscrape check: keep what it fetched in this archive
    # Closing checks (olyscrape.monitors, run by Spidermon when the crawl closes)
    "OLYSCRAPE_MONITOR_MAX_DROP": 0.5,  # fail when listing cards fall by more than this share
    "OLYSCRAPE_MONITOR_MIN_PUBLISHED": 0.5,  # fail when fewer linked cards carry a date
    "OLYSCRAPE_ALERT_COMMAND": None,  # run with the failure report on stdin
    "OLYSCRAPE_ALERT_WEBHOOK": None,  # POST the failure report as JSON to this URL
    # Retry-After is honoured up to this many seconds (olyscrape's retry middleware).
    "RETRY_AFTER_MAX": 120.0,
    # The pipelines are synchronous, so items gain nothing from running concurrently,
    # while Scrapy starts CONCURRENT_ITEMS tasks for every response's output (100 by
    # default, a fifth of a crawl's CPU time on a loopback mirror).
    "CONCURRENT_ITEMS": 1,
    # Scrapy re-reads a callback's source (inspect + ast) for almost every response to warn
    # about generators returning values: its cache is keyed by bound methods, which die at
    # once. Our callbacks are covered by tests; the check cost a tenth of a crawl's CPU.
    "WARN_ON_GENERATOR_RETURN_VALUE": False,
    # Spidermon runs the closing checks before the archive keeper (a later extension)
    # writes the crawl's row with their verdict.
    "SPIDERMON_ENABLED": True,
    "SPIDERMON_SPIDER_CLOSE_MONITORS": ("olyscrape.monitors.CloseChecks",),
    "LOG_FORMATTER": "olyscrape.logformatter.OlyscrapeLogFormatter",
    # The live progress on stderr (olyscrape.extensions.progress): `olyscrape crawl` and
    # `reparse` turn it on; a plain line every this many seconds when stderr is no terminal;
    # each kind of warning shown this many times, the rest counted.
    "OLYSCRAPE_PROGRESS": False,
    "OLYSCRAPE_PROGRESS_INTERVAL": 30.0,
    "OLYSCRAPE_REPEATS_SHOWN": 5,
}


@dataclass(frozen=True)
class Domain:
    """The values a setting takes where its default's type says too little: a count that
    must be positive, a share between 0 and 1, seconds Scrapy reads as a float although its
    default is a whole number, a choice among words. ``-s NAME=VALUE`` is checked against
    it before anything starts (:class:`olyscrape.cli.types.SettingOverride`); a setting
    with no domain here is checked against its default's type (Scrapy's default, or the
    project's)."""

    kind: Literal["whole", "number", "choice"]
    low: float | None = None  # inclusive bounds
    high: float | None = None
    choices: tuple[str, ...] = ()
    words: str = ""  # what it takes, in the error message ("a share from 0 to 1")


COUNT = Domain("whole", low=1, words="a whole number, 1 or more")
SHARE = Domain("number", low=0, high=1, words="a share from 0 to 1 (0.3 for 30%)")
SECONDS = Domain("number", low=0, words="a number (of seconds), 0 or more")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")

#: The real domains of olyscrape's settings (their defaults are in :data:`DEFAULTS`) and
#: of the Scrapy settings whose defaults misdescribe them (Scrapy reads ``DOWNLOAD_TIMEOUT``
#: with ``getfloat`` though its default is ``180``). docs/crawling.md lists them.
DOMAINS: dict[str, Domain] = {
    "OLYSCRAPE_MAX_PAGES": COUNT,
    "OLYSCRAPE_BATCH_SIZE": COUNT,
    "OLYSCRAPE_PAGE_MAX_FAILURES": COUNT,
    "OLYSCRAPE_MAX_PAGE_COUNT": Domain("whole", low=0, words="a whole number, 0 (no cap) or more"),
    "OLYSCRAPE_MONITOR_MAX_DROP": SHARE,
    "OLYSCRAPE_MONITOR_MIN_PUBLISHED": SHARE,
    "OLYSCRAPE_ARCHIVE_CHECK": Domain("choice", choices=("full", "quick", "always")),
    "RETRY_AFTER_MAX": SECONDS,
    # Scrapy's, read as floats
    "DOWNLOAD_TIMEOUT": SECONDS,
    "DNS_TIMEOUT": SECONDS,
    "DOWNLOAD_DELAY": SECONDS,
    "DOWNLOAD_DELAY_JITTER": Domain("number", low=0),
    "CLOSESPIDER_TIMEOUT": SECONDS,
    "AUTOTHROTTLE_START_DELAY": SECONDS,
    "AUTOTHROTTLE_MAX_DELAY": SECONDS,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": Domain("number", low=0),
    "LOGSTATS_INTERVAL": SECONDS,
    # Scrapy's, with bounds its defaults do not say (0 requests at a time never ends)
    "CONCURRENT_REQUESTS": COUNT,
    "CONCURRENT_REQUESTS_PER_DOMAIN": COUNT,
    "CONCURRENT_ITEMS": COUNT,
    "RETRY_TIMES": Domain("whole", low=0, words="a whole number, 0 or more"),
    "DOWNLOAD_MAXSIZE": Domain(
        "whole", low=0, words="a whole number of bytes, 0 (no limit) or more"
    ),
    "DOWNLOAD_WARNSIZE": Domain(
        "whole", low=0, words="a whole number of bytes, 0 (no limit) or more"
    ),
    "LOG_LEVEL": Domain("choice", choices=LOG_LEVELS),
}


#: Component priority dictionaries: what the add-on enables (None disables Scrapy's own).
COMPONENTS: dict[str, dict[str, int | None]] = {
    "DOWNLOADER_MIDDLEWARES": {
        # Over-long URLs refused by name (not dropped unseen by Scrapy's spider
        # middleware), measured as on the site (a mirror's URL as its canonical one);
        # oversize answers named.
        "olyscrape.downloadermiddlewares.limits.LimitsMiddleware": 30,
        # Before offsite filtering and robots.txt, so both apply to the mirror's URL.
        "olyscrape.downloadermiddlewares.mirror.MirrorMiddleware": 40,
        # Instead of Scrapy's offsite filter, which drops redirects silently and lets
        # retried (dont_filter) requests through: refuse them all, each to its errback.
        "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
        "olyscrape.downloadermiddlewares.allowedhosts.AllowedHostsMiddleware": 45,
        # Scrapy's, with a robots.txt lost to the network in one line (no traceback).
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "olyscrape.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": 100,
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "olyscrape.downloadermiddlewares.retryafter.RetryAfterMiddleware": 550,
        # Last before the download handler: nothing replayed reaches the network.
        "olyscrape.downloadermiddlewares.replay.ReplayMiddleware": 950,
    },
    "SPIDER_MIDDLEWARES": {
        "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    },
    "ITEM_PIPELINES": {
        "olyscrape.pipelines.normalize.NormalizePipeline": 100,
        "olyscrape.pipelines.validate.ValidatePipeline": 200,
        "olyscrape.pipelines.store.StorePipeline": 300,
    },
    "EXTENSIONS": {
        "spidermon.contrib.scrapy.extensions.Spidermon": 400,
        # The archive's one owner: every other component writes and reads through it.
        "olyscrape.extensions.archive.ArchiveKeeper": 500,
        "olyscrape.extensions.capture.CaptureRecorder": 510,
        "olyscrape.extensions.warcrecord.WarcRecorder": 520,
        "olyscrape.extensions.progress.ProgressDisplay": 530,
        # Scrapy's feed exports with one item per article, not one per listing page.
        "scrapy.extensions.feedexport.FeedExporter": None,
        "olyscrape.extensions.feeds.ArticleFeedExporter": 0,
    },
}


def setting(settings: BaseSettings, name: str) -> Any:
    """``settings[name]``, typed as its default is, or the default when it is not set: how
    every olyscrape component reads its settings, with the add-on or without it."""
    fallback = DEFAULTS[name]
    if isinstance(fallback, bool):
        return settings.getbool(name, fallback)
    if isinstance(fallback, int):
        return settings.getint(name, fallback)
    if isinstance(fallback, float):
        return settings.getfloat(name, fallback)
    value = settings.get(name, fallback)
    return fallback if value is None else value


class Olyscrape:
    """The add-on: olyscrape's defaults at add-on priority, and its components wherever the
    project has not placed them itself."""

    def update_settings(self, settings: BaseSettings) -> None:
        for name, value in DEFAULTS.items():
            settings.set(name, value, priority="addon")
        for name, components in COMPONENTS.items():
            for path, order in components.items():
                settings.setdefault_in_component_priority_dict(name, load_object(path), order)
