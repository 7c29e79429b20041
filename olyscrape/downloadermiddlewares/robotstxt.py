"""Scrapy's robots.txt middleware, saying a robots.txt lost to the network in one line.

Scrapy logs a robots.txt it could not download as an ERROR with the whole traceback
(about 40 lines, twice for an unreachable site: in cron's mail, for a network outage).
A network failure (:data:`olyscrape.crawlstats.NETWORK_ERRORS`) is expected: here it is one
WARNING line naming the host and the cause, counted in ``olyscrape/robots_txt_failed``.
Any other failure (a bug) keeps Scrapy's traceback.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares import robotstxt
from scrapy.utils.python import global_object_name

from olyscrape import crawlstats

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def is_network_failure(exc: BaseException | None) -> bool:
    """True for a download that got no answer (a name not resolved, a connection refused...)."""
    return exc is not None and global_object_name(type(exc)) in crawlstats.NETWORK_ERRORS


class _QuietNetworkFailures(logging.Filter):
    """Drop Scrapy's robots.txt ERROR (with its traceback) for a network failure: the
    middleware says it in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not is_network_failure(exc)


_FILTER = _QuietNetworkFailures()


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    """Scrapy's, with a robots.txt lost to the network said in one warning line."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)  # NotConfigured unless ROBOTSTXT_OBEY
        source = logging.getLogger(robotstxt.__name__)
        if _FILTER not in source.filters:
            source.addFilter(_FILTER)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if is_network_failure(exc):
            self._stats.inc_value(crawlstats.ROBOTS_TXT_FAILED)
            logger.warning("robots.txt of %s could not be fetched (%s): its pages are asked"
                           " for as if it had none", netloc, exc)  # fmt: skip
        super()._robots_error(exc, netloc)
