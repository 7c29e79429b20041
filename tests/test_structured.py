"""An article page's structured data (JSON-LD, OpenGraph) as a second source of its
metadata: read, combined with the visible markup (which wins), counted and recorded."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from parsel import Selector

from olyscrape.site import structured
from olyscrape.site.article import ArticlePage
from tests.helpers import CHRIS_TUNG, SITE, query, run_olyscrape

NEWS = SITE / "ioc" / "news"
CHRIS_TUNG_FILE = NEWS / (CHRIS_TUNG.rsplit("/", 1)[1] + ".html")
# An article of the saved site whose page shows a date and tags, to strip them.
SUSTAINABLE = "alibaba-and-the-ioc-explore-cloud-solutions-for-sustainable-games"

JSON_LD = """<script type="application/ld+json">{json}</script>"""
NEWS_ARTICLE = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebSite", "name": "Olympics.com"},
        {
            "@type": ["NewsArticle"],
            "headline": "A headline of its own",
            "datePublished": "2019-09-21T08:00:00Z",
            "dateModified": "2020-01-05T10:30:00+01:00",
            "image": [{"@type": "ImageObject", "url": "https://stillmed.olympic.org/x.jpg"}],
            "articleSection": "Tokyo 2020",
            "keywords": "Alibaba, Tokyo 2020, Cloud",
        },
    ],
}
OPENGRAPH = """
<meta property="og:title" content="Alibaba and the IOC explore cloud solutions">
<meta property="article:published_time" content="2020-02-03T09:00:00Z">
<meta property="article:modified_time" content="2020-02-04T09:00:00Z">
<meta property="og:image" content="/images/cloud.jpg">
<meta property="article:section" content="Sustainability">
<meta property="article:tag" content="Alibaba">
<meta property="article:tag" content="Cloud">
"""


def page(head: str = "", body: str = "") -> Selector:
    return Selector(f"<html><head>{head}</head><body>{body}</body></html>")


# --- reading ------------------------------------------------------------------------------


def test_json_ld_news_article_in_a_graph_is_read():
    data = structured.read(page(JSON_LD.format(json=json.dumps(NEWS_ARTICLE))))
    assert (data.title, data.published, data.modified) == (
        "A headline of its own",
        "2019-09-21T08:00:00Z",
        "2020-01-05T10:30:00+01:00",
    )
    assert data.image == "https://stillmed.olympic.org/x.jpg"
    assert data.section == "Tokyo 2020"
    assert data.keywords == ["Alibaba", "Tokyo 2020", "Cloud"]
    assert set(data.sources.values()) == {structured.JSON_LD}


def test_opengraph_fills_what_json_ld_lacks_and_json_ld_comes_first():
    only_title = {"@type": "Article", "headline": "From JSON-LD"}
    data = structured.read(page(JSON_LD.format(json=json.dumps(only_title)) + OPENGRAPH))
    assert data.title == "From JSON-LD" and data.sources["title"] == structured.JSON_LD
    assert data.section == "Sustainability" and data.sources["section"] == structured.OPENGRAPH
    assert data.keywords == ["Alibaba", "Cloud"]


@pytest.mark.parametrize(
    "head",
    [
        "",
        JSON_LD.format(json="{not json"),
        JSON_LD.format(json=json.dumps({"@type": "Organization", "name": "IOC"})),
        JSON_LD.format(json="[1, null, true]"),
    ],
    ids=["none", "broken JSON", "not an article", "no objects"],
)
def test_no_usable_structured_data_reads_as_empty(head):
    data = structured.read(page(head))
    assert not data and data.title is None and data.keywords == []


# --- combining ----------------------------------------------------------------------------


def test_visible_values_win_and_disagreements_are_named():
    declared = structured.read(page(JSON_LD.format(json=json.dumps(NEWS_ARTICLE))))
    visible = {"title": "The visible title", "published": "21 SEP 2019",
               "section": "tokyo  2020", "keywords": ["Alibaba"]}  # fmt: skip
    combined = structured.combine(visible, declared)
    assert combined.values["title"] == "The visible title"
    assert combined.values["published"] == "21 SEP 2019"
    # The same day written two ways, the same label in another case: no disagreement.
    assert combined.disagreements == ["title", "keywords"]
    assert combined.values["modified"] == "2020-01-05T10:30:00+01:00"
    assert combined.sources == {"title": "page", "published": "page", "section": "page",
                                "keywords": "page", "modified": "json-ld", "image": "json-ld"}  # fmt: skip


def test_an_article_page_with_only_structured_data():
    html = CHRIS_TUNG_FILE.read_text()
    html = re.sub(r'<div class="info-col">.*?</div>', "", html, flags=re.S)  # date and tags
    html = html.replace('<span class="news-topic-label tokyo2020">Tokyo 2020</span>', "")
    html = html.replace("</head>", OPENGRAPH + "</head>")
    item = ArticlePage(Selector(html), CHRIS_TUNG).to_item()
    assert item.body  # the visible body is still read
    assert item.published_raw == "2020-02-03T09:00:00Z"
    assert item.modified_raw == "2020-02-04T09:00:00Z"
    assert item.tags == ["Alibaba", "Cloud"]
    assert item.category == "Sustainability"
    assert item.sources["published"] == item.sources["keywords"] == structured.OPENGRAPH
    assert item.sources["title"] == structured.PAGE  # its h1 is still there
    assert item.disagreements == ["title"]  # og:title is not the h1


# --- end to end: a crawl of the saved site with two pages changed ---------------------------


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    site = tmp_path_factory.mktemp("structured") / "site"
    shutil.copytree(SITE, site)
    tung = site / CHRIS_TUNG_FILE.relative_to(SITE)
    tung.write_text(
        tung.read_text().replace(
            "</head>", JSON_LD.format(json=json.dumps(NEWS_ARTICLE)) + "</head>"
        )
    )
    cloud = site / "ioc" / "news" / f"{SUSTAINABLE}.html"
    text = cloud.read_text()
    assert '<div class="info-col">' in text
    text = re.sub(r'<div class="info-col">.*?</div>', "", text, flags=re.S)
    cloud.write_text(text.replace("</head>", OPENGRAPH + "</head>"))
    db = site.parent / "a.db"
    result = run_olyscrape("crawl", "--replay", str(site), "--db", str(db), "--format", "json")
    return db, result


def _row(db, url):
    sql = "SELECT title, page_published, modified, image_url, field_sources FROM articles"
    (row,) = query(db, sql + " WHERE url = ?", url)
    return (*row[:4], json.loads(row[4]))


@pytest.mark.slow
def test_a_page_contradicting_its_markup_keeps_the_visible_values(crawled):
    db, result = crawled
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    title, page_published, modified, _, sources = _row(db, CHRIS_TUNG)
    assert title.startswith("“Much more than a sponsorship”")  # the card's, not the headline
    assert page_published == "2019-09-20"  # the visible 20 SEP 2019, not JSON-LD's 21st
    assert modified == "2020-01-05"  # only the structured data has it
    assert sources["modified"] == "json-ld" and sources["page_published"] == "page"
    assert sources["title"] == "listing" and sources["tags"] == "page"
    summary = json.loads(result.stdout)
    assert summary["structured"]["pages"] == 2
    # Chris Tung's page: title, date and keywords; the cloud page: its og:title.
    assert summary["structured"]["disagreed"] == {"title": 2, "published": 1, "keywords": 1}
    assert "structured data disagrees with the page on title, published, keywords" in (
        result.stderr
    )


@pytest.mark.slow
def test_a_page_with_only_structured_data_fills_what_the_markup_lacks(crawled):
    db, result = crawled
    url = f"https://olympics.com/ioc/news/{SUSTAINABLE}"
    _, page_published, modified, _, sources = _row(db, url)
    assert (page_published, modified) == ("2020-02-03", "2020-02-04")
    assert sources["page_published"] == sources["tags"] == "opengraph"
    assert query(db, "SELECT tag FROM article_tags WHERE article_url = ? ORDER BY tag", url) == [
        ("Alibaba",),
        ("Cloud",),
    ]
    summary = json.loads(result.stdout)
    assert summary["structured"]["filled"]["published"] == 1
    assert summary["structured"]["filled"]["keywords"] == 1


@pytest.mark.slow
def test_a_field_with_no_value_has_no_source(crawled):
    db, _ = crawled
    url = (
        "https://olympics.com/ioc/news/samsung-to-launch-beijing-2022-athlete-smartphone-programme"
    )
    _, page_published, _, _, sources = _row(db, url)  # its page's date reads "TBC"
    assert page_published is None and "page_published" not in sources
    assert sources["tags"] == "page"
