"""Log lines for dropped cards that fit on one line (Scrapy's default dumps the item)."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


class OlyscrapeLogFormatter(LogFormatter):
    def dropped(
        self, item: Any, exception: BaseException, response: Any, spider: Any = None
    ) -> LogFormatterResult:
        return {
            "level": logging.WARNING,
            "msg": "Dropped card: %(exception)s",
            "args": {"exception": exception},
        }
