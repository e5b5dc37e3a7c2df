"""Metadata extraction from tricky documents, without the network."""

from __future__ import annotations

import pytest

from linkarchive.scraping.extract import FIELDS, extract_metadata, media_metadata
from linkarchive.scraping.extract.dates import date_from_url, parse_date
from linkarchive.scraping.extract.lang import language_from_script, normalize_lang
from tests.scraping import pages

URL = "https://news.example.com/2024/01/02/story"


def test_as_dict_has_exactly_the_json_keys() -> None:
    data = extract_metadata(pages.OPEN_GRAPH, URL).as_dict()
    assert tuple(data) == FIELDS == ("url", "title", "description", "image", "author", "publisher",
                                     "lang", "date", "logo", "kind", "keywords")
    assert isinstance(data["keywords"], list)


def test_empty_document_gives_nulls() -> None:
    data = extract_metadata("", "https://example.com/x").as_dict()
    assert data["url"] == "https://example.com/x"
    assert all(data[k] is None for k in FIELDS if k not in ("url", "kind", "keywords"))
    assert data["kind"] == "website" and data["keywords"] == []


def test_not_html_at_all() -> None:
    data = extract_metadata("%PDF-1.4 \x00\x01 garbage", "https://example.com/f").as_dict()
    assert data["title"] is None and data["url"] == "https://example.com/f"


def test_open_graph_beats_title_and_title_loses_site_suffix() -> None:
    html = """<title>Real Headline | Example News</title>
    <meta property="og:site_name" content="Example News">"""
    assert extract_metadata(html, URL).title == "Real Headline"
    html = '<title>Real Headline – Example News</title><meta property="og:title" content="OG">'
    assert extract_metadata(html, URL).title == "OG"


@pytest.mark.parametrize(("title", "expected"), [
    ("Story :: example", "Story"),  # the host names the site
    ("Story - Example.com", "Story"),
    ("Example | Story about things", "Story about things"),
    ("Cats - Dogs", "Cats - Dogs"),  # nothing says which part is the site
    ("Review: Foo | Bar", "Review: Foo | Bar"),
])
def test_title_suffix_only_trimmed_when_it_is_the_site(title: str, expected: str) -> None:
    assert extract_metadata(f"<title>{title}</title>", "https://www.example.com/a").title == expected


def test_og_title_that_is_only_the_site_name_is_skipped() -> None:
    html = """<meta property="og:title" content="Example News">
    <meta property="og:site_name" content="Example News"><title>Useful title | Example News</title>"""
    assert extract_metadata(html, URL).title == "Useful title"


def test_entities_and_whitespace() -> None:
    html = """<meta property="og:title" content="  Fish &amp;amp;\n\t Chips&#8217;  ">
    <meta name="description" content="a&nbsp;b   c">"""
    meta = extract_metadata(html, URL)
    assert meta.title == "Fish & Chips’"
    assert meta.description == "a b c"


def test_malformed_jsonld_is_tolerated() -> None:
    html = """<script type="application/ld+json">{"@type": "Article", "headline": "Broken",
    "author": {"name": "Someone"},}</script>
    <script type="application/ld+json">{not json at all</script>
    <script type="application/ld+json">[{"@type": "VideoObject", "name": "Clip",
    "uploadDate": "2020-05-06"}]</script>"""
    meta = extract_metadata(html, URL)
    assert (meta.title, meta.author, meta.kind) == ("Broken", "Someone", "article")


def test_jsonld_video_and_product_kinds() -> None:
    video = '<script type="application/ld+json">{"@type":"VideoObject","name":"V"}</script>'
    product = '<script type="application/ld+json">{"@type":["Product"],"name":"P"}</script>'
    assert extract_metadata(video, URL).kind == "video"
    assert extract_metadata(product, URL).kind == "product"


def test_jsonld_author_as_plain_string_and_urls_skipped() -> None:
    html = """<script type="application/ld+json">{"@type":"BlogPosting","headline":"H",
    "author":"By Jane Roe"}</script><meta property="article:author"
    content="https://facebook.com/someone">"""
    assert extract_metadata(html, URL).author == "Jane Roe"


def test_author_from_meta_ignores_profile_urls() -> None:
    html = """<meta property="article:author" content="https://www.facebook.com/janeroe">
    <meta name="author" content="Jane Roe">"""
    assert extract_metadata(html, URL).author == "Jane Roe"


def test_author_from_visible_byline() -> None:
    html = """<h1>Story</h1><div class="byline">By John Smith | March 3, 2021</div>
    <span class="author">홍길동 기자 hong@example.kr</span>"""
    assert extract_metadata(html, URL).author == "John Smith"
    assert extract_metadata('<p class="article-author">홍길동 기자</p>', URL).author == "홍길동"


def test_keywords_merge_and_dedupe() -> None:
    html = """<meta name="keywords" content="Python, asyncio ,python,  ">
    <meta property="article:tag" content="Web">
    <script type="application/ld+json">{"@type":"Article","keywords":"web, Scraping"}</script>"""
    assert extract_metadata(html, URL).keywords == ("Python", "asyncio", "Web", "Scraping")


def test_canonical_to_home_page_is_ignored() -> None:
    html = '<link rel="canonical" href="https://news.example.com/">'
    assert extract_metadata(html, URL).url == URL
    html = '<link rel="canonical" href="/2024/01/02/story-amp-free">'
    assert extract_metadata(html, URL).url == "https://news.example.com/2024/01/02/story-amp-free"


def test_image_falls_back_to_article_picture() -> None:
    html = """<article><img src="/logo.png" class="site-logo"><img src="tiny.jpg" width="20">
    <img src="/photos/big.jpg" width="1200"></article>"""
    assert extract_metadata(html, URL).image == "https://news.example.com/photos/big.jpg"


def test_logo_prefers_the_largest_icon() -> None:
    html = """<link rel="shortcut icon" href="/favicon.ico">
    <link rel="icon" sizes="192x192" href="/icon-192.png"><link rel="icon" sizes="32x32" href="/i32.png">"""
    assert extract_metadata(html, URL).logo == "https://news.example.com/icon-192.png"


def test_language_from_declarations_and_script() -> None:
    assert extract_metadata('<html lang="pt-BR"><title>x</title>', URL).lang == "pt"
    korean = "<html lang='en'><title>서울의 봄</title><p>" + "한국어 문장입니다. " * 20
    assert extract_metadata(korean, URL).lang == "ko"  # a template's lang="en" is overridden
    japanese = "<title>日本語</title><p>" + "これは日本語の文章です。" * 10
    assert extract_metadata(japanese, URL).lang == "ja"
    english = "<p>" + "The cat sat on the mat and this is what they have from the web. " * 6
    assert extract_metadata(english, URL).lang == "en"


def test_date_sources() -> None:
    assert extract_metadata('<meta name="pubdate" content="20200512">', URL).date == "2020-05-12"
    html = '<time datetime="2019-12-24T18:00:00+09:00">Dec 24</time>'
    assert extract_metadata(html, "https://e.com/a").date == "2019-12-24T18:00:00+09:00"
    assert extract_metadata("<p>no date</p>", URL).date == "2024-01-02"  # from the URL
    html = '<h1>Title</h1><div class="post-meta">Posted on 5. März 2021</div>'
    assert extract_metadata(html, "https://e.com/a").date == "2021-03-05"
    html = '<meta property="article:modified_time" content="2018-01-01T00:00:00Z">'
    assert extract_metadata(html, "https://e.com/a").date == "2018-01-01T00:00:00+00:00"


@pytest.mark.parametrize(("value", "expected"), [
    ("2020-05-12", "2020-05-12"),
    ("2020-05-12T08:09:10Z", "2020-05-12T08:09:10+00:00"),
    ("2020-05-12T08:09:10.123+0200", "2020-05-12T08:09:10+02:00"),
    ("2020-05-12 00:00:00", "2020-05-12"),
    ("Tue, 12 May 2020 08:00:00 GMT", "2020-05-12T08:00:00+00:00"),
    ("May 12, 2020", "2020-05-12"),
    ("12 May 2020", "2020-05-12"),
    ("12. Mai 2020", "2020-05-12"),
    ("12 de mayo de 2020", "2020-05-12"),
    ("2020.05.12", "2020-05-12"),
    ("2020년 5월 12일", "2020-05-12"),
    ("2020年5月12日", "2020-05-12"),
    ("12.05.2020", "2020-05-12"),
    ("05/13/2020", "2020-05-13"),
    ("1589270400", "2020-05-12T08:00:00+00:00"),
    ("1066-10-14", None),
    ("not a date", None),
    ("2020-13-45", None),
])
def test_parse_date(value: str, expected: str | None) -> None:
    assert parse_date(value) == expected


def test_date_from_url() -> None:
    assert date_from_url("https://e.com/2021/3/9/slug") == "2021-03-09"
    assert date_from_url("https://e.com/2021/03/slug") is None
    assert date_from_url("https://e.com/id/20210309") is None


@pytest.mark.parametrize(("tag", "expected"), [
    ("en-US", "en"), ("ko_KR", "ko"), ("zh-Hant-TW", "zh"), ("iw", "he"), ("deu", "de"),
    ("English", "en"), ("und", None), ("", None), ("x-default", None),
])
def test_normalize_lang(tag: str, expected: str | None) -> None:
    assert normalize_lang(tag) == expected


def test_language_from_script_needs_enough_text() -> None:
    assert language_from_script("한국") is None
    assert language_from_script("中文的句子很长。" * 10) == "zh"
    assert language_from_script("Привет, как дела? " * 10) is None  # several languages use it


def test_media_metadata() -> None:
    meta = media_metadata("https://e.com/pics/My%20Cat.jpg", "image/jpeg")
    assert (meta.kind, meta.image, meta.title) == ("image", "https://e.com/pics/My%20Cat.jpg",
                                                   "My Cat.jpg")
    assert media_metadata("https://e.com/a.pdf", "application/pdf").kind == "file"
