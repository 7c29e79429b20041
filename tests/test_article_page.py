"""Article page parsing (docs/site.md §5, article pages): body, tags, date; what is not
body stays out."""

from __future__ import annotations

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from olyscrape import site as pages
from tests.helpers import CHRIS_TUNG, SITE, file_response, needs_depth_limit

CHRIS_TUNG_FILE = SITE / "ioc" / "news" / (CHRIS_TUNG.rsplit("/", 1)[1] + ".html")


@pytest.fixture(scope="module")
def article():
    page = pages.ArticlePage(file_response(CHRIS_TUNG_FILE, CHRIS_TUNG), CHRIS_TUNG)
    return page.to_item()


def test_body_holds_paragraphs_headings_and_quotes_in_order(article):
    blocks = article.body.split("\n\n")
    assert blocks[0].startswith("“Much more than a sponsorship”: Alibaba’s Chris Tung")
    assert "zephyrquillb68613" in blocks[1]
    assert blocks[2] == "A long-term commitment"
    assert blocks[3].startswith("“The commitment of Alibaba")
    assert (
        blocks[-1]
        == "Further stories about Alibaba can be found in the Tokyo 2020 section of IOC News."
    )
    assert len(blocks) == 7


def test_body_leaves_out_title_captions_share_links_and_dates(article):
    assert "Photo: IOC/Greg Martin" not in article.body
    assert "Share on Facebook" not in article.body
    assert "20 SEP 2019" not in article.body
    assert not article.body.startswith(
        "“Much more than a sponsorship”: Alibaba’s Chris Tung hails TOP Partnership as company looks ahead to Tokyo 2020\n"
    )


def test_tags(article):
    assert article.tags == ["Alibaba", "Tokyo 2020"]


def test_date_as_the_page_gives_it(article):
    assert article.published_raw.strip() == "20 SEP 2019"


def test_title_and_category(article):
    assert "Chris Tung hails TOP Partnership" in article.title
    assert article.category.strip() == "Tokyo 2020"


def test_info_column_is_read_by_label_not_position():
    html = """<section class="post-box text-content"><div class="info-col"><dl>
      <dt>Tags</dt><dd><a href="#">Visa</a><a href="#">Visa</a></dd><dt> Date </dt><dd>9 July 2019</dd>
      </dl></div><h1>T</h1><p>Body.</p></section>"""
    page = pages.ArticlePage(Selector(html), "https://olympics.com/ioc/news/t")
    assert page.published_raw == "9 July 2019"
    assert page.tags == ["Visa"]


def test_a_quote_without_paragraphs_is_one_block():
    html = """<section class="post-box text-content"><h1>T</h1><p>One.</p>
      <blockquote>Quoted   words</blockquote><figure><p>Not body</p></figure><p>Two.</p></section>"""
    item = pages.ArticlePage(Selector(html), "u").to_item()
    assert item.body == "One.\n\nQuoted words\n\nTwo."
    assert item.tags == [] and item.published_raw is None


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><p>Not an article page</p></body></html>",
        '<section class="post-box text-content"><h1>Only a title</h1></section>',
    ],
)
def test_a_page_without_article_body_is_an_error(html):
    with pytest.raises(pages.PageFormatError):
        pages.ArticlePage(Selector(html), "u").to_item()


@needs_depth_limit
def test_an_article_page_nested_past_the_parsers_limit_is_too_deep_not_cut_short():
    """libxml2 stops reading at its depth limit and drops the rest of the page silently:
    such a page is a failed page with its own name, never a body that lost its end."""
    limit = pages.html_depth_limit()
    body = (
        "<html><body><section class='post-box text-content'><h1>Deep</h1><p>Start.</p>"
        + "<div>" * (limit + 10) + "<p>End.</p>" + "</div>" * (limit + 10)
        + "</section></body></html>"
    )  # fmt: skip
    url = "https://olympics.com/ioc/news/deep"
    response = HtmlResponse(url=url, body=body.encode(), encoding="utf-8")
    with pytest.raises(pages.TooDeepError, match="page too deep to parse"):
        pages.ArticlePage(response, url).to_item()
