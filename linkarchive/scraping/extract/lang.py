"""Language codes: declared tags reduced to ISO 639-1, and guesses for undeclared pages: by script
for CJK and other scripts that identify their language, by common words for major Latin-script
languages."""

from __future__ import annotations

import re

__all__ = ["language_from_script", "language_from_words", "normalize_lang"]

_TAG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]{1,8})*$")
_RENAMED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
# ISO 639-2 codes pages use where a 639-1 code exists.
_THREE_TO_TWO = {"eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es",
                 "ita": "it", "por": "pt", "rus": "ru", "jpn": "ja", "kor": "ko", "zho": "zh",
                 "chi": "zh", "nld": "nl", "dut": "nl", "pol": "pl", "ara": "ar"}
_NAMES = {"english": "en", "german": "de", "deutsch": "de", "french": "fr", "spanish": "es",
          "korean": "ko", "japanese": "ja", "chinese": "zh", "italian": "it", "russian": "ru",
          "portuguese": "pt", "dutch": "nl", "polish": "pl", "español": "es", "français": "fr"}

# (first code point, last code point, bucket)
_RANGES = (
    (0xAC00, 0xD7A3, "ko"), (0x1100, 0x11FF, "ko"), (0x3130, 0x318F, "ko"),
    (0x3040, 0x30FF, "kana"), (0x4E00, 0x9FFF, "han"), (0x3400, 0x4DBF, "han"),
    (0x0E00, 0x0E7F, "th"), (0x0370, 0x03FF, "el"), (0x0590, 0x05FF, "he"),
    (0x0980, 0x09FF, "bn"), (0x0530, 0x058F, "hy"), (0x10A0, 0x10FF, "ka"),
    (0x0600, 0x06FF, "arabic"), (0x0400, 0x04FF, "cyrillic"),
)

# The most frequent short words of each language; few are shared between two of them.
_STOPWORDS = {
    "en": "the and of to is that for with was are this have from not but they which you",
    "de": "der die und das ist nicht ein eine mit den sich auf für dem des auch wird",
    "fr": "le la les et des est une pour que dans qui pas sur au avec sont du",
    "es": "el la los las que del por una para con como pero más sus fue este",
    "pt": "os as que do da não uma para com por mais dos das foi como ao",
    "it": "il che di della per non una sono del gli con come anche alla più",
    "nl": "de het een van en dat niet zijn voor met op ook maar bij wordt",
}
_WORDS = {word: lang for lang, words in _STOPWORDS.items() for word in words.split()
          if sum(word in other.split() for other in _STOPWORDS.values()) == 1}
_WORD = re.compile(r"[^\W\d_]+")


def normalize_lang(value: object) -> str | None:
    """"en-US" → "en", "ko_KR" → "ko", "English" → "en"; None for empty or unusable tags."""
    if not isinstance(value, str):
        return None
    text = value.strip().split(",", 1)[0].strip().lower()
    if text in _NAMES:
        return _NAMES[text]
    match = _TAG.match(text)
    if not match:
        return None
    primary = match.group(1).lower()
    if primary in ("und", "mul", "zxx", "xx"):
        return None
    primary = _RENAMED.get(primary, primary)
    return _THREE_TO_TWO.get(primary, primary)


def _bucket(code: int) -> str | None:
    for first, last, bucket in _RANGES:
        if first <= code <= last:
            return bucket
    return None


def language_from_script(text: str, *, sample: int = 4000) -> str | None:
    """The language a text's script gives away (ko, ja, zh, th, el, he, …), or None.

    Japanese is told from Chinese by its kana; Arabic and Cyrillic scripts serve several
    languages and are left undecided.
    """
    counts: dict[str, int] = {}
    letters = 0
    for char in text[:sample]:
        if not char.isalpha():
            continue
        letters += 1
        code = ord(char)
        if code < 0x0370:
            continue
        bucket = _bucket(code)
        if bucket:
            counts[bucket] = counts.get(bucket, 0) + 1
    if letters < 20:
        return None
    if counts.get("kana", 0) > letters * 0.05:
        return "ja"
    best = max(counts, key=counts.__getitem__, default=None)
    if best is None or counts[best] < letters * 0.3:
        return None
    if best == "han":
        return "zh"
    return None if best in ("kana", "arabic", "cyrillic") else best


def language_from_words(text: str, *, sample: int = 4000) -> str | None:
    """The Latin-script language whose common words dominate ``text``, or None when unsure."""
    words = _WORD.findall(text[:sample].lower())
    if len(words) < 30:
        return None
    counts: dict[str, int] = {}
    for word in words:
        if word in _WORDS:
            counts[_WORDS[word]] = counts.get(_WORDS[word], 0) + 1
    ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
    if not ranked or ranked[0][1] < len(words) * 0.08:
        return None
    if len(ranked) > 1 and ranked[0][1] < ranked[1][1] * 2:
        return None
    return ranked[0][0]
