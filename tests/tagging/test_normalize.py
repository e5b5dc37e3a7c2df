"""Tag normalization and folding onto an existing vocabulary."""

from __future__ import annotations

import unicodedata

import pytest

from linkarchive.tagging import Vocabulary, fold_key, fold_tags, normalize_tag


@pytest.mark.parametrize(("raw", "expected"), [
    ("Python", "python"),
    ("  #Machine   Learning\n", "machine learning"),
    ("“Quoted”.", "quoted"),
    ("맛집🔥", "맛집"),
    ("C#", "c#"),
    ("C++", "c++"),
    ("Node.js", "node.js"),
    ("ΟΔΟΣ", "οδος"),
    ("ПРИВЕТ", "привет"),
    ("Ärger", "ärger"),
    ("김치찌개", "김치찌개"),
    ("東京", "東京"),
    ("React 훅", "react 훅"),
    ("zero\u200bwidth", "zerowidth"),
    ("x", "x"),
    ("a" * 40, "a" * 40),
])
def test_normalize_keeps_a_canonical_form(raw: str, expected: str) -> None:
    assert normalize_tag(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "   ", "#", "---", "🔥🔥", "2024", "3.14", "10-12",
    "https://example.com", "http://x.io/a", "www.example.com", "example.com/path",
    "someone@example.com", "the", "The", "und", "그리고", "a" * 41,
])
def test_normalize_rejects_non_tags(raw: str) -> None:
    assert normalize_tag(raw) is None


def test_nfc_decomposed_hangul_equals_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "김치")
    assert decomposed != "김치" and len(decomposed) > 2
    assert normalize_tag(decomposed) == "김치"
    assert fold_tags([decomposed], ["김치"]) == ["김치"]


def test_hangul_is_not_case_folded_or_altered() -> None:
    assert normalize_tag("한국어 태그") == "한국어 태그"
    # Full-width Latin is lowercased; Hangul beside it stays as it is.
    assert normalize_tag("ＡＩ 반도체") == "ａｉ 반도체"


@pytest.mark.parametrize(("candidate", "existing"), [
    ("Python", "python"),
    ("python", "Python"),
    ("machine-learning", "machine learning"),
    ("machine_learning", "Machine Learning"),
    ("MachineLearning", "machine learning"),
    ("node.js", "nodejs"),
    ("웹 개발", "웹개발"),
    ("recipes", "recipe"),
    ("recipe", "recipes"),
    ("libraries", "library"),
    ("library", "libraries"),
    ("movies", "movie"),
    ("boxes", "box"),
    ("classes", "class"),
    ("design patterns", "design-pattern"),
])
def test_fold_onto_existing_spelling(candidate: str, existing: str) -> None:
    assert fold_tags([candidate], ["other", existing]) == [existing]


@pytest.mark.parametrize(("candidate", "existing"), [
    ("news", "new tag"),
    ("c#", "c"),
    ("c++", "c"),
    ("java", "javascript"),
    ("gas", "ga"),
    ("physics", "physic"),
    ("canvas", "canva"),
    ("김치", "김치찌개"),
])
def test_distinct_topics_do_not_fold(candidate: str, existing: str) -> None:
    assert fold_tags([candidate], [existing]) == [normalize_tag(candidate)]


def test_fold_tags_dedupes_keeps_order_and_caps() -> None:
    candidates = ["Rust", "rust", "Go", "tokio", "#Rust!", "async", "recipes", "recipe", "extra",
                  "more"]
    assert fold_tags(candidates, []) == ["rust", "go", "tokio", "async", "recipes"]
    assert fold_tags(candidates, [], max_tags=2) == ["rust", "go"]


def test_fold_tags_skips_rejected_candidates() -> None:
    assert fold_tags(["2024", "the", "https://a.io/b", "kimchi"], []) == ["kimchi"]


def test_most_used_spelling_wins_when_the_vocabulary_has_several() -> None:
    vocabulary = Vocabulary(["Machine Learning", "machine-learning", "ml"])
    assert vocabulary.lookup("machine_learning") == "Machine Learning"
    assert len(vocabulary) == 2


def test_vocabulary_add_takes_new_tags_in() -> None:
    vocabulary = Vocabulary()
    assert vocabulary.add("Recipes") == "recipes"
    assert vocabulary.add("recipe") == "recipes"
    assert vocabulary.add("2024") is None
    assert vocabulary.lookup("RECIPES") == "recipes"


def test_fold_key_drops_spacing_and_punctuation_only() -> None:
    assert fold_key("machine learning") == fold_key("machine-learning") == "machinelearning"
    assert fold_key("c#") == "c#"
