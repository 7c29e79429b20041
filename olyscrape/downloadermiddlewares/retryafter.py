"""Retries that honour ``Retry-After`` on 429 and 503 answers."""

from __future__ import annotations

import email.utils
import time
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message

from olyscrape import crawlstats
from olyscrape.addon import setting

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retry middleware, waiting as long as the server asks before retrying.

    A wait longer than ``RETRY_AFTER_MAX`` seconds is not honoured: the request gives
    up at once and the answer goes to the spider as a failure, rather than stalling the
    crawl for hours.
    """

    # A coroutine where the parent's is a plain method: Scrapy runs either kind.
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        delay = retry_after_seconds(response.headers.get("Retry-After"))
        if delay is not None:
            if delay > setting(self.crawler.settings, "RETRY_AFTER_MAX"):
                self.crawler.stats.inc_value(crawlstats.RETRY_AFTER_TOO_LONG)
                return response
            self.crawler.stats.inc_value(crawlstats.RETRY_AFTER_WAITED)
            await sleep(delay)
        return self._retry(request, response_status_message(response.status)) or response
