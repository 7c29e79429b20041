"""Scrapy settings for olyscrape: the olyscrape add-on, and politeness towards the site.

https://docs.scrapy.org/en/latest/topics/settings.html
"""

from __future__ import annotations

from olyscrape import __version__

BOT_NAME = "olyscrape"
SPIDER_MODULES = ["olyscrape.spiders"]
NEWSPIDER_MODULE = "olyscrape.spiders"
# `scrapy crawl` as Scrapy has it, but a busy archive is one line and exit 3.
COMMANDS_MODULE = "olyscrape.commands"

# olyscrape's components and the defaults of its own settings (OLYSCRAPE_*, listed in
# olyscrape/addon.py); spider arguments and `olyscrape crawl`'s options override them.
ADDONS = {"olyscrape.addon.Olyscrape": 0}

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

# Retries: transient server trouble (olyscrape's retry middleware honours Retry-After).
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]

LOGSTATS_INTERVAL = 30.0
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no control port on a crawl left running
FEED_EXPORT_ENCODING = "utf-8"
