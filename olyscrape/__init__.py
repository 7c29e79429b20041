"""olyscrape: archive the IOC's news about its worldwide TOP partners."""

from __future__ import annotations

__version__ = "0.4.0"
