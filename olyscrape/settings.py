"""Scrapy settings for olyscrape: politeness lives here, not in the spiders.

https://docs.scrapy.org/en/latest/topics/settings.html
"""

from __future__ import annotations

from olyscrape import __version__

BOT_NAME = "olyscrape"
SPIDER_MODULES = ["olyscrape.spiders"]
NEWSPIDER_MODULE = "olyscrape.spiders"

# --- olyscrape's own settings (spider arguments of the same name override them) ---
OLYSCRAPE_DB = "data/olyscrape.db"  # the archive
OLYSCRAPE_BASE_URL = None  # fetch the canonical origin from this mirror instead
OLYSCRAPE_REPLAY_DIR = None  # answer every request from this saved copy of the site
OLYSCRAPE_MAX_PAGES = 300  # listing pages + load-more answers per partner, at most
OLYSCRAPE_BATCH_SIZE = 200  # cards written per transaction
OLYSCRAPE_ARTICLES = True  # fetch the page of each article not archived yet
OLYSCRAPE_REFRESH_ARTICLES = False  # fetch every article's page again
OLYSCRAPE_CAPTURE = True  # keep every response in the captures table
OLYSCRAPE_WARC = None  # also write requests and responses to this WARC file
OLYSCRAPE_REPLAY_WARC = None  # answer every request from this WARC file
OLYSCRAPE_REPLAY_ARCHIVE = None  # answer every request from this archive's captures
OLYSCRAPE_REPARSE = False  # a re-parse: keep last_seen, record no crawl
OLYSCRAPE_FULL = False  # walk every listing to its end, even past cards archived before
OLYSCRAPE_LOCK_HELD = False  # the caller (the CLI) holds the archive's lock already
OLYSCRAPE_MAX_PAGE_COUNT = 0  # tests only: cap the archive's size (pages) to make a full disk
# Monitoring (olyscrape.monitors, run by Spidermon when the crawl closes)
OLYSCRAPE_MONITOR_MAX_DROP = 0.5  # fail when listing cards fall by more than this share
OLYSCRAPE_MONITOR_MIN_PUBLISHED = 0.5  # fail when fewer linked cards than this carry a date
OLYSCRAPE_ALERT_COMMAND = None  # run with the failure report on stdin (e.g. "mail -s ...")
OLYSCRAPE_ALERT_WEBHOOK = None  # POST the failure report as JSON to this URL

# --- Politeness towards olympics.com ---
USER_AGENT = (
    f"olyscrape/{__version__}"
    " (+https://github.com/olyscrape/olyscrape; news archive of IOC TOP partners)"
)
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
COOKIES_ENABLED = False
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
}

# Retries: transient server trouble, with Retry-After honoured up to RETRY_AFTER_MAX.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_AFTER_MAX = 120

# A loopback mirror or a replay is ours, not olympics.com: crawl it at full speed, and
# crawl what the contract names whatever a copied robots.txt says (see olyscrape.spiders).
LOCAL_ORIGIN_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "ROBOTSTXT_OBEY": False,
}

DOWNLOADER_MIDDLEWARES = {
    # Before offsite filtering and robots.txt, so both apply to the mirror's URL.
    "olyscrape.downloadermiddlewares.mirror.MirrorMiddleware": 40,
    # Instead of Scrapy's offsite filter, which drops redirects silently and lets retried
    # (dont_filter) requests through: refuse them all, and report each to its errback.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "olyscrape.downloadermiddlewares.allowedhosts.AllowedHostsMiddleware": 45,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "olyscrape.downloadermiddlewares.retryafter.RetryAfterMiddleware": 550,
    # Last before the download handler: nothing replayed reaches the network.
    "olyscrape.downloadermiddlewares.replay.ReplayMiddleware": 950,
}

# Scrapy re-reads a callback's source (inspect + ast) for almost every response to warn
# about generators returning values: its cache is keyed by bound methods, which die at
# once. Our callbacks are covered by tests; the check cost a tenth of a crawl's CPU.
WARN_ON_GENERATOR_RETURN_VALUE = False

# The pipelines are synchronous, so items gain nothing from running concurrently, while
# Scrapy starts CONCURRENT_ITEMS worker tasks for every response's output (100 by default,
# a fifth of a crawl's CPU time on a loopback mirror).
CONCURRENT_ITEMS = 1

ITEM_PIPELINES = {
    "olyscrape.pipelines.normalize.NormalizePipeline": 100,
    "olyscrape.pipelines.validate.ValidatePipeline": 200,
    "olyscrape.pipelines.store.StorePipeline": 300,
}

# Spidermon runs olyscrape.monitors.CloseChecks when a crawl closes, before the archive
# keeper (a later extension) writes the crawl's row with the checks' verdict.
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ("olyscrape.monitors.CloseChecks",)

EXTENSIONS = {
    "spidermon.contrib.scrapy.extensions.Spidermon": 400,
    # The archive's one owner: every other component writes and reads through it.
    "olyscrape.extensions.archive.ArchiveKeeper": 500,
    "olyscrape.extensions.capture.CaptureRecorder": 510,
    "olyscrape.extensions.warcrecord.WarcRecorder": 520,
}

LOGSTATS_INTERVAL = 30.0
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no control port on a crawl left running
FEED_EXPORT_ENCODING = "utf-8"
LOG_FORMATTER = "olyscrape.logformatter.OlyscrapeLogFormatter"
