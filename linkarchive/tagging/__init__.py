"""Tagging: the model (any OpenAI-compatible endpoint) or the built-in offline tagger.

``Tagger`` is what the tag actor calls; ``normalize_tag`` and ``fold_tags`` keep a user's tag
vocabulary small by folding generated tags onto the spellings the user already has.
"""

from __future__ import annotations

from linkarchive.tagging.base import (
    CATEGORY,
    KEYWORD,
    SITE,
    TYPE,
    PageFacts,
    Tag,
    TaggingFailed,
    TagResult,
)
from linkarchive.tagging.model import ModelStatistics, ModelTagger, RetryPolicy
from linkarchive.tagging.normalize import Vocabulary, fold_key, fold_tags, normalize_tag
from linkarchive.tagging.offline import OfflineTagger
from linkarchive.tagging.tagger import Tagger, TaggerStatistics

__all__ = [
    "CATEGORY",
    "KEYWORD",
    "SITE",
    "TYPE",
    "ModelStatistics",
    "ModelTagger",
    "OfflineTagger",
    "PageFacts",
    "RetryPolicy",
    "Tag",
    "TagResult",
    "Tagger",
    "TaggerStatistics",
    "TaggingFailed",
    "Vocabulary",
    "fold_key",
    "fold_tags",
    "normalize_tag",
]
