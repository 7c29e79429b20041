"""URLs and slugs (``docs/site.md`` §6): where the site lives, how a mirror maps onto it,
and the partner's slug.

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
_DEFAULT_PORTS = {"http": 80, "https": 443}

#: An origin (RFC 6454): scheme, host and port, the port spelled out.
Origin = tuple[str, str, int]

#: The site's origins: either host spelling, over https (and http, which the site
#: redirects to https), each on its scheme's default port only.
CANONICAL_ORIGINS: frozenset[Origin] = frozenset(
    (scheme, host, port) for host in CANONICAL_HOSTS for scheme, port in _DEFAULT_PORTS.items()
)


def origin(url: str) -> Origin | None:
    """The origin of an http(s) URL: ``("http", "127.0.0.1", 19040)``; None for another
    scheme, no host, or a port that is not a number from 0 to 65535."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return scheme, parts.hostname, _DEFAULT_PORTS[scheme] if port is None else port


def origin_text(value: Origin) -> str:
    """An origin as a URL prefix, its port left out where it is the scheme's default."""
    scheme, host, port = value
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port == _DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"


def allowed_origins(base_url: str | None) -> frozenset[Origin]:
    """The origins a crawl may fetch from: the site's, and the mirror's (``--base-url``)
    when one stands in for it. Scheme, host and port: another service on the mirror's
    host, on another port, is not the mirror."""
    mirror = origin(base_url) if base_url else None
    return CANONICAL_ORIGINS | ({mirror} if mirror else set())


def partner_slug(url: str) -> str:
    """A partner's slug: the last segment of its listing URL (``/ioc/<slug>``), lower-cased."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return segments[-1].lower() if segments else ""


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
    """True when ``url`` is on the canonical site (either host spelling, default port)."""
    return url.startswith(_ORIGIN_SLASH) or origin(url) in CANONICAL_ORIGINS


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
    if origin(url) is None or origin(url) != origin(base_url):
        return None  # scheme, host and port: another port of the mirror's host is not it
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


#: A URL longer than this is shortened where a person reads it (the summary table, the
#: log); ``--format json`` and the archive keep it whole: a hostile page may link a
#: 100,000-character one.
URL_SHOWN = 300


def shown(url: str) -> str:
    """A URL for a person to read: whole, or its start and its length when very long."""
    if len(url) <= URL_SHOWN:
        return url
    return f"{url[: URL_SHOWN // 2]}… ({len(url)} characters)"
