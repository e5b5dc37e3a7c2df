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

A term thus matches where its words occur in a field's words joined by single spaces
(``word_text``), punctuation between words aside. SQLite's FTS5 checks that with phrase queries
inside the index; PostgreSQL's GIN index only finds rows holding every key, and the row's word
text decides. User text only ever becomes quoted tokens of letters and digits or a parameter;
it is never parsed as query syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "FIELDS",
    "Phrase",
    "compile_query",
    "document_tokens",
    "fts5_document",
    "fts5_match",
    "index_keys",
    "normalize",
    "tsquery_literal",
    "word_text",
]

# Searchable fields, most telling first; the databases weight them in this order.
FIELDS = ("title", "tags", "description", "note", "url")
SEPARATOR = "_"
MAX_QUERY_CHARS = 256
MAX_TERMS = 8
MAX_TERM_TOKENS = 64
MAX_FIELD_CHARS = 4000

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Phrase:
    """One search term: tokens that must appear consecutively (``prefix`` makes the last one
    a prefix), and its words as ``word_text`` spells them."""

    tokens: tuple[str, ...]
    prefix: bool
    text: str


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


def word_text(text: str | None) -> str:
    """A field's words, normalized and joined by single spaces: what terms are matched in."""
    return " ".join(_WORD.findall(normalize(text or "")[:MAX_FIELD_CHARS]))


def _term_phrase(term: str) -> Phrase | None:
    words = _WORD.findall(term)
    if not words:
        return None
    tokens: list[str] = []
    for word in words[:-1]:
        tokens.extend(_word_tokens(word, tail=True))
        tokens.append(SEPARATOR)
    last = words[-1]
    tokens.extend(_word_tokens(last, tail=False))
    prefix = len(last) == 1
    if len(tokens) > MAX_TERM_TOKENS:  # the term's start still only occurs where it does
        tokens, prefix = tokens[:MAX_TERM_TOKENS], False
    return Phrase(tuple(tokens), prefix, " ".join(words))


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


def index_keys(texts: Iterable[str | None]) -> list[str]:
    """Every token of these fields once, for an index that only answers "has all these keys"."""
    return sorted({token for text in texts for token in document_tokens(text)} - {SEPARATOR})


def tsquery_literal(phrases: list[Phrase]) -> str:
    """A PostgreSQL ``tsquery`` requiring every key of every phrase (prefix keys as ``:*``)."""
    keys = set()
    for phrase in phrases:
        for index, token in enumerate(phrase.tokens):
            if token != SEPARATOR:
                last = index == len(phrase.tokens) - 1
                keys.add(f"'{token}':*" if phrase.prefix and last else f"'{token}'")
    return " & ".join(sorted(keys))
