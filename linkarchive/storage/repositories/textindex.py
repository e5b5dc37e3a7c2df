"""Character-bigram full-text keys, the same for both databases.

Korean has no spaces inside words (``김치찌개를``) and users search for any part of one, so
words are indexed as overlapping character pairs, the scheme CJK search engines use. A word
``abcd`` becomes ``ab bc cd d``: its bigrams and then its last character (the *tail*), and
words are separated by ``_``. A search term becomes a phrase of the same tokens:

- one word of two or more characters: its bigrams, matching anywhere inside a word;
- one character: the prefix ``x*``, which meets a bigram starting with it, a tail or a
  one-character word, so a single syllable is found anywhere too;
- several words (``node.js``): the first must end a word (bigrams + tail), the middle ones are
  whole words, the last must start one; ``_`` stands between them.

Phrases only match consecutive tokens, so the index answers exactly "the term occurs as a
substring" (punctuation between words aside) without reading the text back. User text only ever
becomes quoted tokens of letters and digits; it is never parsed as query syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "FIELDS",
    "Phrase",
    "compile_query",
    "document_tokens",
    "fts5_document",
    "fts5_match",
    "normalize",
    "tsquery_literal",
    "tsvector_literal",
]

# Searchable fields, most telling first; the databases weight them in this order.
FIELDS = ("title", "tags", "description", "note", "url")
SEPARATOR = "_"
MAX_QUERY_CHARS = 256
MAX_TERMS = 8
MAX_TERM_TOKENS = 64
MAX_FIELD_CHARS = 4000
# PostgreSQL keeps at most 256 positions per lexeme and positions up to 16383.
_PG_MAX_POSITIONS = 256
_PG_MAX_POSITION = 16383
_PG_WEIGHTS = {"title": "A", "tags": "B", "description": "C", "note": "C", "url": "D"}

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Phrase:
    """Tokens that must appear consecutively; ``prefix`` makes the last one a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


def normalize(text: str) -> str:
    """Compatibility-composed and case-folded: ``Ｒｅａｃｔ`` and ``react`` index alike."""
    return unicodedata.normalize("NFKC", text).casefold()


def _word_tokens(word: str, *, tail: bool) -> list[str]:
    if len(word) == 1:
        return [word]
    tokens = [word[i:i + 2] for i in range(len(word) - 1)]
    if tail:
        tokens.append(word[-1])
    return tokens


@lru_cache(maxsize=65536)
def _indexed_word(word: str) -> tuple[str, ...]:
    # Words repeat (a language's are Zipf-distributed): indexing a page mostly hits this cache.
    return tuple(_word_tokens(word, tail=True))


def document_tokens(text: str | None) -> list[str]:
    """The token stream for one field, ``_`` between words."""
    tokens: list[str] = []
    for word in _WORD.findall(normalize(text or "")[:MAX_FIELD_CHARS]):
        if tokens:
            tokens.append(SEPARATOR)
        tokens.extend(_indexed_word(word))
    return tokens


def _term_phrase(term: str) -> Phrase | None:
    words = _WORD.findall(term)
    if not words:
        return None
    if len(words) == 1:
        word = words[0]
        phrase = Phrase((word,), prefix=True) if len(word) == 1 else \
            Phrase(tuple(_word_tokens(word, tail=False)))
        return Phrase(phrase.tokens[:MAX_TERM_TOKENS], phrase.prefix)
    tokens: list[str] = []
    for word in words[:-1]:
        tokens.extend(_word_tokens(word, tail=True))
        tokens.append(SEPARATOR)
    last = words[-1]
    tokens.extend(_word_tokens(last, tail=False))
    if len(tokens) > MAX_TERM_TOKENS:  # a shorter phrase still only matches true hits' prefix
        return Phrase(tuple(tokens[:MAX_TERM_TOKENS]))
    return Phrase(tuple(tokens), prefix=len(last) == 1)


def compile_query(query: str) -> list[Phrase]:
    """One phrase per whitespace-separated term, all required; [] when nothing is searchable."""
    phrases: list[Phrase] = []
    for term in normalize(query[:MAX_QUERY_CHARS]).split():
        phrase = _term_phrase(term)
        if phrase is not None and phrase not in phrases:
            phrases.append(phrase)
    return phrases[:MAX_TERMS]


def fts5_document(text: str | None) -> str:
    """A field's tokens as text for an FTS5 ``unicode61`` column (``_`` declared a token char)."""
    return " ".join(document_tokens(text))


def fts5_match(phrases: list[Phrase], columns: tuple[str, ...] = FIELDS) -> str:
    """An FTS5 MATCH expression requiring every phrase in any of ``columns``."""
    parts = []
    for phrase in phrases:
        quoted = '"' + " ".join(phrase.tokens) + '"'
        parts.append(quoted + " *" if phrase.prefix else quoted)
    return "{" + " ".join(columns) + "} : (" + " AND ".join(parts) + ")"


def tsvector_literal(fields: Mapping[str, str | None]) -> str:
    """A PostgreSQL ``tsvector`` input string with positions and per-field weights.

    Separators are not stored; they leave a one-position gap, which ``tsquery_literal`` expects.
    """
    positions: dict[str, list[str]] = {}
    position = 0
    for name in FIELDS:
        weight = _PG_WEIGHTS[name]
        position += 1  # fields never run into each other
        for token in document_tokens(fields.get(name)):
            position += 1
            if position > _PG_MAX_POSITION:
                break
            if token != SEPARATOR:
                slots = positions.setdefault(token, [])
                if len(slots) < _PG_MAX_POSITIONS:
                    slots.append(f"{position}{weight}")
    return " ".join(f"'{token}':{','.join(slots)}" for token, slots in positions.items())


def tsquery_literal(phrases: list[Phrase]) -> str:
    """A PostgreSQL ``tsquery`` input string requiring every phrase."""
    parts = []
    for phrase in phrases:
        out: list[str] = []
        gap = 1
        for index, token in enumerate(phrase.tokens):
            if token == SEPARATOR:
                gap += 1
                continue
            quoted = f"'{token}'" + (":*" if phrase.prefix and index == len(phrase.tokens) - 1
                                     else "")
            if out:
                out.append(f"<{gap}>" if gap > 1 else "<->")
            out.append(quoted)
            gap = 1
        parts.append("(" + " ".join(out) + ")")
    return " & ".join(parts)
