"""The offline tagger, on its own and through the Tagger with no API key."""

from __future__ import annotations

import pytest

from linkarchive.config.settings import ModelSettings
from linkarchive.tagging import OfflineTagger, PageFacts, Tagger, Vocabulary
from linkarchive.tagging.offline import strip_particle

pytestmark = pytest.mark.anyio

NO_MODEL = ModelSettings(openai_base_url="", openai_api_key="", openai_model="m",
                         openai_timeout=1.0)


async def tag(facts: PageFacts, vocabulary: list[str] | None = None):
    async with Tagger(NO_MODEL) as tagger:
        return await tagger.tag(facts, vocabulary=vocabulary or [])


@pytest.mark.parametrize(("word", "stem"), [
    ("김치찌개를", "김치찌개"), ("파이썬으로", "파이썬"), ("서울에서", "서울"), ("요리의", "요리"),
    ("맛집은", "맛집"), ("자바로", "자바"), ("여행과", "여행"), ("부산도", "부산"),
    ("사과", "사과"), ("평가", "평가"), ("고양이", "고양이"), ("오이", "오이"), ("차를", "차를"),
])
def test_korean_particles_are_stripped_only_where_they_fit(word: str, stem: str) -> None:
    assert strip_particle(word) == stem


async def test_korean_page_gets_korean_tags() -> None:
    facts = PageFacts(url="https://m.blog.naver.com/cook/1",
                      title="백종원 김치찌개를 맛있게 끓이는 방법 : 네이버 블로그",
                      description="집에서 김치찌개 만드는 법", site_name="네이버 블로그",
                      lang="ko", kind="video")
    result = await tag(facts)
    assert result.source == "offline"
    assert [(t.name, t.kind) for t in result.tags] == [
        ("동영상", "type"), ("네이버 블로그", "site"), ("김치찌개", "keyword")]


async def test_korean_is_detected_from_the_text_when_undeclared() -> None:
    facts = PageFacts(url="https://example.kr/a", title="서울 여행 코스 추천", kind="article",
                      description="서울 여행 코스를 정리했습니다")
    result = await tag(facts)
    assert result.tags[0].name == "글"
    assert "서울" in result.names and "여행" in result.names


async def test_page_keywords_site_and_corroborated_title_words() -> None:
    facts = PageFacts(url="https://www.seriouseats.com/kimchi-jjigae",
                      title="How to Make Kimchi Jjigae (Kimchi Stew) | Serious Eats",
                      description="A hearty kimchi stew with pork belly and tofu.",
                      site_name="Serious Eats", lang="en", kind="article", keywords=("Korean",))
    result = await tag(facts)
    # "Jjigae" is in the title only, nothing on the page backs it up.
    assert [(t.name, t.kind) for t in result.tags] == [
        ("article", "type"), ("serious eats", "site"), ("korean", "keyword"),
        ("kimchi", "keyword"), ("stew", "keyword")]
    assert all(t.confidence < 0.8 for t in result.tags)


async def test_title_words_repeated_in_the_text_count_as_corroborated() -> None:
    facts = PageFacts(url="https://example.com/a", title="Notes on Zig comptime", lang="en",
                      text="Zig has comptime. With comptime, Zig code can run at compile time.")
    result = await tag(facts)
    assert result.names == ("example", "zig", "comptime")


async def test_uncorroborated_title_words_are_not_tags() -> None:
    facts = PageFacts(url="https://example.com/a", title="The Surprising Biology of Octopuses",
                      lang="en", kind="article")
    result = await tag(facts)
    assert result.names == ("article", "example")


async def test_site_comes_from_the_host_when_the_page_names_none() -> None:
    for url, site_name, site in [("https://www.bbc.co.uk/news/x", None, "bbc"),
                                 ("https://youtube.com/watch?v=1", None, "youtube"),
                                 ("https://www.express.de/a", "Express.de", "express"),
                                 ("https://a.example/b", "Kulu Media | News daily", "kulu media")]:
        result = await tag(PageFacts(url=url, title="Something", site_name=site_name))
        assert [(t.name, t.kind) for t in result.tags] == [(site, "site")]


async def test_tags_the_user_already_has_are_preferred() -> None:
    facts = PageFacts(url="https://example.com/a", title="Benchmarking Postgres Indexes Quickly",
                      lang="en", keywords=("databases", "performance", "sql", "btree"))
    result = await tag(facts, vocabulary=["PostgreSQL", "postgres", "index", "sql"])
    assert result.names == ("example", "sql", "postgres", "index")


async def test_at_most_three_topics_besides_type_and_site() -> None:
    facts = PageFacts(url="https://example.com/a", title="Rust async runtimes compared",
                      site_name="Example", kind="article",
                      keywords=("rust", "Rust", "2024", "async", "tokio", "smol", "glommio"))
    result = await tag(facts)
    assert result.names == ("article", "example", "rust", "async", "tokio")


async def test_duplicate_and_junk_keywords_are_dropped() -> None:
    facts = PageFacts(url="https://blog.example.com/a", title="x",
                      keywords=("News", "news", "2024", "https://example.com", "Example",
                                "a very long keyword phrase that nobody would tag"))
    result = await tag(facts)
    assert result.names == ("example", "news")


def test_chinese_and_japanese_titles_are_not_cut_into_words() -> None:
    facts = PageFacts(url="https://example.jp/a", title="東京の天気予報と週末の見通し", lang="ja")
    tags = OfflineTagger().tag(facts, vocabulary=Vocabulary())
    assert [t.kind for t in tags] == ["site"]


def test_space_separated_cjk_keywords_are_split_and_the_title_is_not_a_keyword() -> None:
    facts = PageFacts(url="https://example.cn/a", title="宇航员在太空中喝酒会怎么样", lang="zh",
                      keywords=("宇航员 太空 国际空间站", "宇航员在太空中喝酒会怎么样"))
    tags = OfflineTagger().tag(facts, vocabulary=Vocabulary())
    assert [t.name for t in tags if t.kind == "keyword"] == ["宇航员", "太空", "国际空间站"]


async def test_a_description_repeating_the_title_backs_up_nothing() -> None:
    facts = PageFacts(url="https://example.com/a", title="Quiet harbours of Brittany",
                      description="Quiet harbours of Brittany. A photo essay.", lang="en")
    result = await tag(facts)
    assert result.names == ("example",)


async def test_an_unusable_site_name_gives_way_to_the_host() -> None:
    facts = PageFacts(url="https://carnegieendowment.org/a", title="x",
                      site_name="Carnegie Endowment for International Peace and Prosperity")
    result = await tag(facts)
    assert result.names == ("carnegieendowment",)
