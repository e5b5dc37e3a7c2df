"""What the model is asked (schema and messages, in the page's language) and how its answer is read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from linkarchive.tagging.base import CATEGORY, KEYWORD, TYPE, PageFacts, Tag, TaggingFailed
from linkarchive.tagging.words import LANGUAGE_NAMES

__all__ = ["DIFFICULTIES", "RESPONSE_FORMAT", "ModelAnswer", "build_messages", "parse_answer"]

MAX_KEYWORDS = 5
DIFFICULTIES = ("beginner", "intermediate", "advanced", "none")
_EXCERPT_CHARS = 1500
_FIELD_CHARS = 500

# Confidence per kind. Fixed rather than asked for: a model's own confidence figures are not
# calibrated, and a stable ranking is all the caller needs.
_CONFIDENCE = {CATEGORY: 0.9, TYPE: 0.85, KEYWORD: 0.8}

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "description": "One broad topic, one or two words."},
        "content_type": {"type": "string",
                         "description": "The form of the content: tutorial, news, review, …"},
        "keywords": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_KEYWORDS,
                     "description": "Up to five specific topics, each one to three words."},
        "mood": {"type": "string", "description": "The tone in one word."},
        # A fixed scale, so links can be filtered by it whatever the page's language.
        "difficulty": {"type": "string", "enum": list(DIFFICULTIES)},
    },
    "required": ["category", "content_type", "keywords", "mood", "difficulty"],
    "additionalProperties": False,
}

RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "link_tags", "strict": True, "schema": _SCHEMA},
}

_KOREAN_SYSTEM = """너는 링크 보관함의 태그 생성기다. 사용자가 저장한 웹 페이지의 정보를 읽고 JSON으로만 답한다.
모든 값은 한국어로 쓴다. 고유명사와 기술 용어(예: React, Python)는 원래 표기를 그대로 쓴다.
- category: 넓은 주제 하나 (예: 기술, 요리, 여행)
- content_type: 콘텐츠 형식 (예: 튜토리얼, 뉴스, 리뷰, 동영상)
- keywords: 구체적인 주제어 최대 5개, 각각 1~3 단어, 일반적인 말은 빼기
- mood: 분위기 한 단어 (예: 실용적, 유쾌한)
- difficulty: beginner, intermediate, advanced, none 중 하나
사용자의 기존 태그 중 맞는 것이 있으면 새로 만들지 말고 그대로 다시 쓴다."""

_ENGLISH_SYSTEM = """You tag links saved to a personal link archive. Read the page's details and \
answer with JSON only.
Write every value in {language}, the page's language; keep proper nouns and technical terms \
(e.g. React, Python) as they are written.
- category: one broad topic (e.g. technology, cooking, travel)
- content_type: the form of the content (e.g. tutorial, news, review, video)
- keywords: up to 5 specific topics, one to three words each, nothing generic
- mood: the tone in one word (e.g. practical, playful)
- difficulty: one of beginner, intermediate, advanced, none
When one of the user's existing tags fits, reuse it exactly instead of inventing a new one."""

# Field labels of the user message, per prompt language.
_LABELS = {
    "ko": ("주소", "제목", "사이트", "설명", "페이지 키워드", "본문 일부", "기존 태그"),
    "en": ("URL", "Title", "Site", "Description", "Page keywords", "Excerpt", "Existing tags"),
}


@dataclass(frozen=True, kw_only=True)
class ModelAnswer:
    """The model's answer, checked for shape."""

    category: str
    content_type: str
    keywords: tuple[str, ...]
    mood: str | None
    difficulty: str | None

    def tags(self) -> tuple[Tag, ...]:
        """Candidate tags with kinds and confidences, not yet normalized."""
        named = [(self.category, CATEGORY), (self.content_type, TYPE)]
        named += [(keyword, KEYWORD) for keyword in self.keywords]
        return tuple(Tag(name, kind, _CONFIDENCE[kind]) for name, kind in named if name.strip())


def _clip(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def build_messages(facts: PageFacts, offered: Sequence[str]) -> list[dict[str, str]]:
    """The system and user messages for one page, in the page's language."""
    language = facts.language or "en"
    if language == "ko":
        system = _KOREAN_SYSTEM
    else:
        system = _ENGLISH_SYSTEM.format(language=LANGUAGE_NAMES.get(language, "the page's language"))
    labels = _LABELS["ko" if language == "ko" else "en"]
    values = (facts.url, facts.title, facts.site_name, facts.description,
              ", ".join(facts.keywords), facts.text, ", ".join(offered))
    limits = (_FIELD_CHARS, _FIELD_CHARS, _FIELD_CHARS, _FIELD_CHARS, _FIELD_CHARS,
              _EXCERPT_CHARS, 4 * _EXCERPT_CHARS)
    lines = [f"{label}: {_clip(value, limit)}"
             for label, value, limit in zip(labels, values, limits, strict=True)
             if value and value.strip()]
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def _text(answer: dict[str, Any], field: str) -> str:
    value = answer.get(field)
    if not isinstance(value, str):
        raise TaggingFailed("invalid_answer", f"{field} is {type(value).__name__}, not a string")
    return value.strip()


def parse_answer(content: str | None) -> ModelAnswer:
    """Read the model's JSON; raise TaggingFailed when it is not the shape asked for."""
    if content is None or not content.strip():
        raise TaggingFailed("empty_answer", "the model answered nothing")
    try:
        answer = json.loads(content)
    except ValueError as exc:
        raise TaggingFailed("invalid_json", str(exc)) from None
    if not isinstance(answer, dict):
        raise TaggingFailed("invalid_answer", f"expected an object, got {type(answer).__name__}")
    keywords = answer.get("keywords")
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise TaggingFailed("invalid_answer", "keywords is not a list of strings")
    difficulty = _text(answer, "difficulty").lower()
    parsed = ModelAnswer(
        category=_text(answer, "category"),
        content_type=_text(answer, "content_type"),
        keywords=tuple(k.strip() for k in keywords if k.strip())[:MAX_KEYWORDS],
        mood=_text(answer, "mood") or None,
        # Off-scale values carry no filterable meaning; "none" means the scale does not apply.
        difficulty=difficulty if difficulty in DIFFICULTIES[:-1] else None,
    )
    if not parsed.category and not parsed.keywords:
        raise TaggingFailed("empty_answer", "no category and no keywords")
    return parsed
