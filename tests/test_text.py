from __future__ import annotations

import pytest

from olyscrape.site.dates import clean_text, parse_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 Mar 2019", "2019-03-12"),
        ("09 JUL 2019", "2019-07-09"),
        ("2019-07-09", "2019-07-09"),
        ("9 July 2019", "2019-07-09"),
        (" 22 Jul\n 2021 ", "2021-07-22"),
        ("03/04/2019", "2019-04-03"),  # the site writes day first
        ("2021-07-22T10:00:00Z", "2021-07-22"),
    ],
)
def test_parse_date_accepts_the_sites_and_common_forms(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["TBC", "", "   ", None, "Mar 2019", "2019", "32 Jan 2020", "soon"])
def test_parse_date_gives_none_for_what_is_not_a_full_date(raw):
    assert parse_date(raw) is None


def test_clean_text_collapses_white_space_and_decodes_entities():
    assert clean_text(" Tokyo\n\t\t\t2020 ") == "Tokyo 2020"
    assert clean_text("&#8220;Much more&#8221; &amp; P&amp;G") == "“Much more” & P&G"


def test_clean_text_keeps_typographic_quotes_and_turns_blank_into_none():
    assert clean_text("Alibaba’s “plan”") == "Alibaba’s “plan”"
    assert clean_text(" \n ") is None
    assert clean_text(None) is None
