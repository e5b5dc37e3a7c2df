"""The built-in tagger: tags from the page itself, so every link completes without a model."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from linkarchive.tagging.base import KEYWORD, SITE, TYPE, PageFacts, Tag
from linkarchive.tagging.normalize import Vocabulary, normalize_tag
from linkarchive.tagging.words import (
    KIND_NAMES,
    PARTICLE_EXCEPTIONS,
    PARTICLES,
    STOP_WORDS,
    TITLE_FILLER,
    VERBAL_ENDINGS,
)

__all__ = ["OfflineTagger"]

# Below the model's 0.8–0.9: these are read off the page, not understood from it.
KEYWORD_CONFIDENCE = 0.6
TYPE_CONFIDENCE = 0.6
SITE_CONFIDENCE = 0.5
TITLE_CONFIDENCE = 0.5

_KEYWORD_SPLIT = re.compile(r"[,;，、|\n]")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»/]+\s+|\s*[|｜]\s*")
# Square-bracketed asides are labels ([속보], [Video]); parentheses often carry the topic.
_BRACKETED = re.compile(r"\[[^\]]*\]|【[^】]*】")
_TOKEN = re.compile(r"[^\W_](?:[\w'’.+#-]*[^\W_])?[+#]*")
_POSSESSIVE = re.compile(r"['’]s$")
# Second-level labels under which sites register (co.kr, co.uk, com.au, …).
_SECOND_LEVEL = frozenset("co com or ne go ac org net gov edu re pe".split())
_HOST_NOISE = frozenset("www m mobile amp".split())
_DOMAIN = re.compile(r"(?:[\w-]+\.)+[a-z]{2,}", re.I)
_MAX_KEYWORD_WORDS = 4
_TEXT_CHARS = 4000
# Topical tags (keywords and title words) per link, besides its type and site.
_TOPICS = 3


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def _is_cjk(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff"


def _has_final_consonant(syllable: str) -> bool:
    return (ord(syllable) - 0xAC00) % 28 != 0


def strip_particle(word: str) -> str:
    """``word`` without a trailing Korean particle (``김치찌개를`` → ``김치찌개``)."""
    if word in PARTICLE_EXCEPTIONS:
        return word
    for particle, after_consonant in PARTICLES:
        stem = word[: -len(particle)]
        # The stem must stay a word (two syllables), and the particle must fit the sound
        # before it: 을 follows a consonant, 를 a vowel; so 사과 (apple) keeps its 과.
        if (word.endswith(particle) and len(stem) >= 2 and _is_hangul(stem[-1])
                and after_consonant in (None, _has_final_consonant(stem[-1]))):
            return stem
    return word


def _title_words(facts: PageFacts) -> list[str]:
    """Candidate words of the title, site name and bracketed asides removed, in order."""
    site = (normalize_tag(facts.site_name or "") or "").replace(" ", "")
    segments = _TITLE_SEPARATORS.split(_BRACKETED.sub(" ", facts.title or ""))
    kept = [s for s in segments
            if not site or (normalize_tag(s) or "").replace(" ", "") not in (site, "")]
    words: list[str] = []
    for token in _TOKEN.findall(" ".join(kept)):
        word = _POSSESSIVE.sub("", token)
        if any(_is_hangul(ch) for ch in word):
            if len(word) >= 3 and word.endswith(VERBAL_ENDINGS):
                continue
            word = strip_particle(word)
            if len(word) < 2:
                continue
        elif any(_is_cjk(ch) for ch in word):
            continue  # Chinese and Japanese have no spaces to cut words at
        elif len(word) < 3 and not (word.isupper() and word.isalpha()):
            continue  # short words are noise, short acronyms (AI, UX) are not
        if word.lower() not in STOP_WORDS and word.lower() not in TITLE_FILLER:
            words.append(word)
    return words


def _site_from_host(url: str) -> str | None:
    host = (urlsplit(url).hostname or "").rstrip(".")
    labels = [label for label in host.split(".") if label and label not in _HOST_NOISE]
    if len(labels) < 2 or labels[-1].isdigit():
        return None
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2]


def _site_name(facts: PageFacts) -> str | None:
    """The site's name, its first part when it has a tagline; else its host's main label."""
    name = _TITLE_SEPARATORS.split(facts.site_name or "")[0].strip()
    if _DOMAIN.fullmatch(name):
        return _site_from_host(f"http://{name}")  # "Express.de" names the site "express"
    return name if normalize_tag(name) else _site_from_host(facts.url)


def _declared_keywords(facts: PageFacts) -> list[Tag]:
    """The page's own keywords, one per tag; phrases and the title itself are not keywords."""
    title = normalize_tag(facts.title or "")
    keywords: list[Tag] = []
    for entry in facts.keywords:
        for keyword in _KEYWORD_SPLIT.split(entry):
            # Chinese and Japanese keyword lists are often separated by spaces alone.
            parts = keyword.split() if any(_is_cjk(ch) for ch in keyword) else [keyword]
            keywords += [Tag(part.strip(), KEYWORD, KEYWORD_CONFIDENCE) for part in parts
                         if part.strip() and len(part.split()) <= _MAX_KEYWORD_WORDS
                         and normalize_tag(part) != title]
    return keywords


def _corroborated_title_words(facts: PageFacts, vocabulary: Vocabulary) -> list[Tag]:
    """Title words the user's vocabulary or the page's own text backs up, best first."""
    # Descriptions often repeat the title, which then backs up nothing.
    description = (facts.description or "").lower().replace((facts.title or "").lower(), " ")
    text = " ".join([*facts.keywords, (facts.text or "")[:_TEXT_CHARS]]).lower()
    scored: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for position, word in enumerate(_title_words(facts)):
        lowered = word.lower()
        if lowered in seen:
            continue
        seen.add(lowered)
        # A prefix match, so "kimchi" counts "kimchis" and 김치찌개 counts 김치찌개를.
        mention = re.compile(r"(?<!\w)" + re.escape(lowered))
        score = (2 if vocabulary.lookup(word) else 0) + bool(mention.search(description)) + (
            len(mention.findall(text)) >= 2)
        if score:
            scored.append((score, position, word))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [Tag(word, KEYWORD, TITLE_CONFIDENCE) for _, _, word in scored]


class OfflineTagger:
    """Derives tags from a page's kind, site, declared keywords and corroborated title words."""

    def tag(self, facts: PageFacts, *, vocabulary: Vocabulary) -> tuple[Tag, ...]:
        """Candidate tags, best first; names are raw and still to be normalized and folded."""
        tags: list[Tag] = []
        if facts.kind and facts.kind.lower() in KIND_NAMES:
            korean = facts.language == "ko"
            tags.append(Tag(KIND_NAMES[facts.kind.lower()][korean], TYPE, TYPE_CONFIDENCE))
        site = _site_name(facts)
        if site:
            tags.append(Tag(site, SITE, SITE_CONFIDENCE))
        topics = _declared_keywords(facts) + _corroborated_title_words(facts, vocabulary)
        # Topics the user already has come first: reuse keeps the vocabulary small. The sort is
        # stable, so declared keywords otherwise stay ahead of title words, in page order.
        topics.sort(key=lambda tag: vocabulary.lookup(tag.name) is None)
        # Repeats and non-tags are dropped here, so that they do not take a topic's place.
        picked = Vocabulary(tag.name for tag in tags)
        chosen = [tag for tag in topics
                  if picked.lookup(tag.name) is None and picked.add(tag.name) is not None]
        return tuple(tags + chosen[:_TOPICS])
