"""Canonical URLs: where the site lives, and how a mirror maps onto it.

Every URL olyscrape stores is on the canonical origin, whatever origin the page was
fetched from (a mirror given with ``--base-url``, or a replay of saved pages).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

CANONICAL_ORIGIN = "https://olympics.com"
CANONICAL_HOSTS = frozenset({"olympics.com", "www.olympics.com"})
PARTNERS_PATH = "/ioc/partners"
_ORIGIN_SLASH = CANONICAL_ORIGIN + "/"


def canonical(path_or_url: str) -> str:
    """Resolve a path (or URL) against the canonical origin."""
    return urljoin(CANONICAL_ORIGIN + "/", path_or_url)


def join(page_url: str, href: str) -> str:
    """``urljoin(page_url, href)``, with a shortcut for a root-relative link (``/ioc/...``,
    no dot segment) on a page of the canonical origin: the site's usual link."""
    if (
        href.startswith("/")
        and not href.startswith("//")
        and page_url.startswith(_ORIGIN_SLASH)
        and "/." not in href
    ):
        return CANONICAL_ORIGIN + href
    return urljoin(page_url, href)


def is_canonical(url: str) -> bool:
    """True when ``url`` is on the canonical site (either host spelling)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in CANONICAL_HOSTS


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path or "/", parts.query, ""))


def normalize_base_url(base_url: str) -> str:
    """Check a ``--base-url`` value and return it without a trailing slash.

    Raises ``ValueError`` with a readable message for anything that is not an
    http(s) URL with a host.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"a base URL takes no query or fragment: {base_url!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def to_mirror(url: str, base_url: str) -> str | None:
    """The URL to fetch on the mirror for a canonical ``url`` (None if not canonical)."""
    if not is_canonical(url):
        return None
    return base_url + _path_and_query(url)


def from_mirror(url: str, base_url: str) -> str | None:
    """The canonical URL for a URL on the mirror (None if ``url`` is not on it)."""
    base = urlsplit(base_url)
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    if base.path and not (parts.path == base.path or parts.path.startswith(base.path + "/")):
        return None
    path = parts.path[len(base.path) :] or "/"
    return urlunsplit(("https", "olympics.com", path, parts.query, ""))


def canonical_url(href: str | None, page_url: str, base_url: str | None = None) -> str | None:
    """The URL to store for a link found on a page.

    ``href`` is resolved against ``page_url``; a link onto the mirror becomes canonical,
    the fragment goes, and the result is percent-encoded the way browsers send it, so
    that one article has one spelling whichever page (or JSON answer) linked it.
    """
    if href is None:
        return None
    href = href.strip()
    fast = _fast_canonical(href, page_url)
    if fast is not None:
        return fast
    if not href or href.startswith(("javascript:", "mailto:", "#")):
        return None
    url = href if href.startswith(("https://", "http://")) else urljoin(page_url, href)
    if base_url:
        url = from_mirror(url, base_url) or url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.hostname in CANONICAL_HOSTS:
        parts = parts._replace(scheme="https", netloc="olympics.com")
    url = urlunsplit(parts._replace(fragment=""))
    return url if _is_safe(url) else safe_url_string(url)


_UNSAFE = frozenset(" \"#'<>[\\]^`{|}")  # what safe_url_string would escape


def _fast_canonical(href: str, page_url: str) -> str | None:
    """The canonical URL of the site's own links in one step, or None to take the long
    way: an absolute link onto ``https://olympics.com/``, or a root-relative one
    (``/ioc/news/...``) on a page of the canonical origin, with no dot segments, no
    fragment and nothing ``safe_url_string`` would escape. Nearly every card's link."""
    if href.startswith(_ORIGIN_SLASH):
        url = href
    elif href.startswith("/") and not href.startswith("//") and page_url.startswith(_ORIGIN_SLASH):
        url = CANONICAL_ORIGIN + href
    else:
        return None
    if "/." in url or not _is_safe(url):
        return None
    return url


def _is_safe(url: str) -> bool:
    """True when ``safe_url_string`` would return ``url`` unchanged (the common case)."""
    return url.isascii() and url.isprintable() and not _UNSAFE.intersection(url)
