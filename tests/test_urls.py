from __future__ import annotations

import pytest

from olyscrape import urls

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
