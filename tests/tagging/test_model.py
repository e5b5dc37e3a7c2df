"""The Tagger over the real openai client against a local stub server."""

from __future__ import annotations

import json
import time

import pytest

from linkarchive.tagging import PageFacts, RetryPolicy, Tagger
from tests.tagging.conftest import ModelStub, answer, completion, error, stall

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(15)]

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)

REACT = PageFacts(url="https://example.com/react-hooks", title="A guide to React hooks",
                  description="useState and useEffect explained.", site_name="Example Dev",
                  lang="en", kind="article", keywords=("react", "hooks"))
KIMCHI = PageFacts(url="https://m.blog.naver.com/cook/1",
                   title="김치찌개를 맛있게 끓이는 방법", description="집에서 만드는 김치찌개 레시피",
                   site_name="네이버 블로그", lang="ko", kind="video")
GOOD = answer(category="Technology", content_type="Tutorial",
              keywords=["React", "React Hooks", "JavaScript"], mood="practical",
              difficulty="intermediate")


def kinds(result) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for tag in result.tags:
        grouped.setdefault(tag.kind, []).append(tag.name)
    return grouped


async def test_structured_answer_becomes_tags_with_kinds(model_stub: ModelStub) -> None:
    model_stub.script(GOOD)
    async with Tagger(model_stub.settings(), retry=FAST) as tagger:
        result = await tagger.tag(REACT, vocabulary=["javascript", "cooking"])
    assert result.source == "model" and result.fallback_reason is None
    assert kinds(result) == {"category": ["technology"], "type": ["tutorial"],
                             "keyword": ["react", "react hooks", "javascript"]}
    assert (result.mood, result.difficulty) == ("practical", "intermediate")
    confidence = {tag.kind: tag.confidence for tag in result.tags}
    assert confidence["category"] > confidence["keyword"] > 0.5


async def test_request_sends_strict_schema_and_offers_vocabulary(model_stub: ModelStub) -> None:
    model_stub.script(GOOD)
    vocabulary = [f"tag{i:02d}" for i in range(60)]
    async with Tagger(model_stub.settings(), retry=FAST) as tagger:
        await tagger.tag(REACT, vocabulary=vocabulary)
    [request] = model_stub.requests
    assert request.headers["Authorization"] == "Bearer test-key"
    assert request.body["model"] == "test-model"
    response_format = request.body["response_format"]
    assert response_format["type"] == "json_schema"
    schema = response_format["json_schema"]["schema"]
    assert response_format["json_schema"]["strict"] is True
    assert sorted(schema["required"]) == sorted(
        ["category", "content_type", "keywords", "mood", "difficulty"])
    assert schema["additionalProperties"] is False
    assert schema["properties"]["keywords"]["items"] == {"type": "string"}
    assert "English" in request.system and "reuse" in request.system
    assert "A guide to React hooks" in request.user
    # The 50 most used tags are offered, no more.
    assert "tag00" in request.user and "tag49" in request.user and "tag50" not in request.user


async def test_generated_tags_fold_onto_the_users_spelling(model_stub: ModelStub) -> None:
    model_stub.script(answer(category="cooking", content_type="recipe",
                             keywords=["Recipes", "kimchi-stew", "Korean Food", "recipe"],
                             mood="cozy", difficulty="beginner"))
    async with Tagger(model_stub.settings(), retry=FAST) as tagger:
        result = await tagger.tag(REACT, vocabulary=["Kimchi Stew", "korean_food", "recipes"])
    # "recipe" as type and keyword both fold onto the existing "recipes"; it is kept once.
    assert result.names == ("cooking", "recipes", "Kimchi Stew", "korean_food")


async def test_korean_page_is_asked_in_korean_and_gets_korean_tags(model_stub: ModelStub) -> None:
    model_stub.script(answer(category="요리", content_type="레시피",
                             keywords=["김치찌개", "한식", "집밥"], mood="실용적", difficulty="beginner"))
    async with Tagger(model_stub.settings(), retry=FAST) as tagger:
        result = await tagger.tag(KIMCHI, vocabulary=["한식", "여행"])
    [request] = model_stub.requests
    assert "한국어" in request.system
    assert "제목: 김치찌개를 맛있게 끓이는 방법" in request.user
    assert "기존 태그: 한식, 여행" in request.user
    assert result.source == "model"
    assert result.names == ("요리", "레시피", "김치찌개", "한식", "집밥")


async def test_other_languages_are_asked_to_answer_in_their_language(model_stub: ModelStub) -> None:
    model_stub.script(GOOD)
    german = PageFacts(url="https://example.de/a", title="Wie man Brot backt", lang="de-DE")
    async with Tagger(model_stub.settings(), retry=FAST) as tagger:
        await tagger.tag(german, vocabulary=[])
    assert "German" in model_stub.requests[0].system


async def test_rate_limit_honours_retry_after_then_succeeds(model_stub: ModelStub) -> None:
    model_stub.script(error(429, headers={"Retry-After": "0.1"}), GOOD)
    async with Tagger(model_stub.settings(), retry=RetryPolicy(base_delay=5.0)) as tagger:
        started = time.monotonic()
        result = await tagger.tag(REACT, vocabulary=[])
        elapsed = time.monotonic() - started
        statistics = tagger.statistics()
    assert result.source == "model"
    assert len(model_stub.requests) == 2
    # Waited what the server asked for, not the policy's 5 s backoff.
    assert 0.1 <= elapsed < 2.0
    assert (statistics.model_requests, statistics.model_retries) == (2, 1)


async def test_long_retry_after_is_not_waited_out(model_stub: ModelStub) -> None:
    model_stub.script(error(429, headers={"Retry-After": "3600"}))
    async with Tagger(model_stub.settings(), retry=FAST) as tagger:
        result = await tagger.tag(REACT, vocabulary=[])
    assert (result.source, result.fallback_reason) == ("offline", "rate_limited")
    assert len(model_stub.requests) == 1


async def test_server_error_is_retried_a_bounded_number_of_times_then_falls_back(
        model_stub: ModelStub) -> None:
    model_stub.script(error(500))
    async with Tagger(model_stub.settings(), retry=FAST) as tagger:
        result = await tagger.tag(REACT, vocabulary=[])
        statistics = tagger.statistics()
    assert (result.source, result.fallback_reason) == ("offline", "server_error")
    assert len(model_stub.requests) == FAST.attempts
    assert "react" in result.names  # the offline tagger still tagged the link
    assert statistics.fallbacks == {"server_error": 1}
    assert (statistics.model_calls, statistics.model_tagged, statistics.offline_tagged) == (1, 0, 1)


async def test_timeout_falls_back_without_retrying(model_stub: ModelStub) -> None:
    model_stub.script(stall(10.0, GOOD))
    async with Tagger(model_stub.settings(timeout=0.5), retry=FAST) as tagger:
        started = time.monotonic()
        result = await tagger.tag(REACT, vocabulary=[])
        elapsed = time.monotonic() - started
    assert (result.source, result.fallback_reason) == ("offline", "timeout")
    assert 0.4 <= elapsed < 3.0
    assert len(model_stub.requests) == 1


@pytest.mark.parametrize(("reply", "reason"), [
    (completion("this is not json"), "invalid_json"),
    (completion('{"category": "tech", "content_type": "news"'), "invalid_json"),
    (completion(json.dumps(["tech"])), "invalid_answer"),
    (answer(category="tech", content_type="news", keywords="react", mood="x",
            difficulty="none"), "invalid_answer"),
    (answer(category=7, content_type="news", keywords=[], mood="x", difficulty="none"),
     "invalid_answer"),
    (answer(content_type="news", keywords=["react"], mood="x", difficulty="none"),
     "invalid_answer"),
    (answer(category="", content_type="news", keywords=[], mood="", difficulty="none"),
     "empty_answer"),
    (answer(category="2024", content_type="...", keywords=["https://x.io/a", "the"], mood="",
            difficulty="none"), "empty_answer"),
    (completion(""), "empty_answer"),
    (completion(None, refusal="I can't help with that."), "refusal"),
    (completion('{"category": "te', finish_reason="length"), "truncated"),
    (error(401), "unauthorized"),
    (error(400), "rejected"),
], ids=["prose", "cut-json", "array", "keywords-string", "category-number", "missing-field",
        "empty", "all-rejected", "blank", "refusal", "length", "401", "400"])
async def test_unusable_answers_fall_back_with_a_reason(model_stub: ModelStub, reply,
                                                        reason: str) -> None:
    model_stub.script(reply)
    async with Tagger(model_stub.settings(), retry=FAST) as tagger:
        result = await tagger.tag(REACT, vocabulary=[])
        statistics = tagger.statistics()
    assert (result.source, result.fallback_reason) == ("offline", reason)
    assert result.tags, "the offline tagger must still tag the link"
    assert len(model_stub.requests) == 1, "a bad answer or a 4xx is not retried"
    assert statistics.fallbacks == {reason: 1}


async def test_no_api_key_means_offline_and_no_request(model_stub: ModelStub) -> None:
    model_stub.script(GOOD)
    async with Tagger(model_stub.settings(api_key=""), retry=FAST) as tagger:
        result = await tagger.tag(KIMCHI, vocabulary=[])
        statistics = tagger.statistics()
    assert not tagger.uses_model
    assert (result.source, result.fallback_reason) == ("offline", None)
    assert model_stub.requests == []
    assert (statistics.model_calls, statistics.offline_tagged, dict(statistics.fallbacks)) == (
        0, 1, {})


async def test_tag_count_is_capped(model_stub: ModelStub) -> None:
    model_stub.script(answer(category="tech", content_type="news",
                             keywords=["alpha", "beta", "gamma", "delta", "epsilon", "zeta"],
                             mood="calm", difficulty="advanced"))
    async with Tagger(model_stub.settings(), retry=FAST, max_tags=3) as tagger:
        result = await tagger.tag(REACT, vocabulary=[])
    assert result.names == ("tech", "news", "alpha", "beta", "gamma")
