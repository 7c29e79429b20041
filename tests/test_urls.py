from __future__ import annotations

import pytest

from olyscrape.site import urls

MIRROR = "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("href", "page", "expected"),
    [
        ("/ioc/news/a", "https://olympics.com/ioc/alibaba", "https://olympics.com/ioc/news/a"),
        (
            "https://olympics.com/ioc/news/a",
            "https://olympics.com/ioc/visa",
            "https://olympics.com/ioc/news/a",
        ),
        (
            "http://www.olympics.com/ioc/news/a#top",
            "https://olympics.com/ioc/x",
            "https://olympics.com/ioc/news/a",
        ),
        (f"{MIRROR}/ioc/news/a", "https://olympics.com/ioc/x", "https://olympics.com/ioc/news/a"),
        (
            "https://www.bridgestone.com/n/1",
            "https://olympics.com/ioc/x",
            "https://www.bridgestone.com/n/1",
        ),
        (
            "/ioc/news/caf\u00e9",
            "https://olympics.com/ioc/x",
            "https://olympics.com/ioc/news/caf%C3%A9",
        ),
    ],
)
def test_canonical_url_resolves_every_link_against_the_canonical_origin(href, page, expected):
    assert urls.canonical_url(href, page, MIRROR) == expected


@pytest.mark.parametrize("href", [None, "", "  ", "#", "javascript:void(0)", "mailto:a@b.c"])
def test_canonical_url_ignores_what_is_no_link(href):
    assert urls.canonical_url(href, "https://olympics.com/ioc/x") is None


def test_mirror_round_trip_keeps_path_and_query():
    mirrored = urls.to_mirror("https://olympics.com/ioc/ajaxscript/x/%7BAB%7D/9/0/?a=1", MIRROR)
    assert mirrored == f"{MIRROR}/ioc/ajaxscript/x/%7BAB%7D/9/0/?a=1"
    assert (
        urls.from_mirror(mirrored, MIRROR)
        == "https://olympics.com/ioc/ajaxscript/x/%7BAB%7D/9/0/?a=1"
    )


def test_mirror_with_a_path_prefix():
    base = "http://localhost:9000/site"
    assert (
        urls.to_mirror("https://olympics.com/ioc/visa", base)
        == "http://localhost:9000/site/ioc/visa"
    )
    assert (
        urls.from_mirror("http://localhost:9000/site/ioc/visa", base)
        == "https://olympics.com/ioc/visa"
    )
    assert urls.from_mirror("http://localhost:9000/other/ioc/visa", base) is None


def test_other_hosts_are_not_mirrored():
    assert urls.to_mirror("https://www.olympic.org/tokyo-2020/0", MIRROR) is None
    assert urls.from_mirror("https://www.olympic.org/x", MIRROR) is None


@pytest.mark.parametrize("bad", ["127.0.0.1:8000", "ftp://x", "http://", "http://h/?q=1"])
def test_normalize_base_url_refuses_what_is_not_a_base_url(bad):
    with pytest.raises(ValueError):
        urls.normalize_base_url(bad)


def test_normalize_base_url_drops_the_trailing_slash():
    assert urls.normalize_base_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://olympics.com/ioc/x", ("https", "olympics.com", 443)),
        ("HTTP://127.0.0.1:19040/x", ("http", "127.0.0.1", 19040)),
        ("http://[::1]:8080/", ("http", "::1", 8080)),
        ("ftp://olympics.com/", None),
        ("http://127.0.0.1:99999/", None),
        ("http:///nohost", None),
    ],
)
def test_an_origin_is_scheme_host_and_port(url, expected):
    assert urls.origin(url) == expected


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://olympics.com/ioc/x", True),
        ("https://www.olympics.com:443/ioc/x", True),
        ("http://olympics.com/ioc/x", True),
        ("https://olympics.com:8443/ioc/x", False),
        ("http://olympics.com:443/ioc/x", False),
        ("https://olympics.com.evil.example/ioc/x", False),
    ],
)
def test_the_canonical_site_is_its_hosts_on_their_default_ports(url, canonical):
    assert urls.is_canonical(url) is canonical


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8124/ioc/visa",  # another port of the mirror's host
        "https://127.0.0.1:8123/ioc/visa",  # another scheme
        "http://127.0.0.1/ioc/visa",  # the default port
    ],
)
def test_only_the_mirrors_own_origin_is_the_mirror(url):
    assert urls.from_mirror(url, MIRROR) is None
    assert urls.origin(url) not in urls.allowed_origins(MIRROR)


def test_the_allowed_origins_are_the_sites_and_the_mirrors():
    allowed = urls.allowed_origins(MIRROR)
    assert ("http", "127.0.0.1", 8123) in allowed
    assert allowed >= urls.CANONICAL_ORIGINS
    assert urls.allowed_origins(None) == urls.CANONICAL_ORIGINS
    assert urls.from_mirror(MIRROR + "/ioc/visa", MIRROR) == "https://olympics.com/ioc/visa"
    assert urls.origin_text(("http", "127.0.0.1", 8123)) == MIRROR
    assert urls.origin_text(("https", "olympics.com", 443)) == "https://olympics.com"
