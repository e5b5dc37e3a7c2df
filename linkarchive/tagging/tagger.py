"""The tagging façade the tag actor calls: the model when one is configured, else the page alone."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType, TracebackType

from linkarchive.config.settings import ModelSettings
from linkarchive.tagging.base import CATEGORY, TYPE, PageFacts, Tag, TaggingFailed, TagResult
from linkarchive.tagging.model import ModelTagger, RetryPolicy
from linkarchive.tagging.normalize import Vocabulary
from linkarchive.tagging.offline import OfflineTagger

__all__ = ["Tagger", "TaggerStatistics"]

log = logging.getLogger("linkarchive.tagging")

# Kinds a link carries at most one of, on top of the max_tags others.
_SINGLE_KINDS = (CATEGORY, TYPE)


@dataclass(frozen=True, kw_only=True)
class TaggerStatistics:
    """Counters for metrics: pages sent to the model, requests, results by source, fallbacks."""

    model_calls: int
    model_requests: int
    model_retries: int
    model_tagged: int
    offline_tagged: int
    fallbacks: Mapping[str, int]


class Tagger:
    """Tags a page: asks the model when an API key is set and falls back to the offline tagger."""

    def __init__(self, settings: ModelSettings, *, max_tags: int = 5, offered: int = 50,
                 retry: RetryPolicy | None = None) -> None:
        self._model = (ModelTagger(settings, retry=retry)
                       if settings.openai_api_key.strip() else None)
        self._offline = OfflineTagger()
        self._max_tags = max_tags
        self._offered = offered
        self._model_calls = 0
        self._model_tagged = 0
        self._offline_tagged = 0
        self._fallbacks: Counter[str] = Counter()

    async def __aenter__(self) -> Tagger:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._model is not None:
            await self._model.aclose()

    @property
    def uses_model(self) -> bool:
        return self._model is not None

    def statistics(self) -> TaggerStatistics:
        model = self._model.statistics() if self._model is not None else None
        return TaggerStatistics(
            model_calls=self._model_calls,
            model_requests=model.requests if model else 0,
            model_retries=model.retries if model else 0,
            model_tagged=self._model_tagged,
            offline_tagged=self._offline_tagged,
            fallbacks=MappingProxyType(dict(self._fallbacks)),
        )

    async def tag(self, facts: PageFacts, *, vocabulary: Sequence[str]) -> TagResult:
        """Tags for one page, folded onto ``vocabulary`` (the user's tags, most used first)."""
        known = Vocabulary(vocabulary)
        reason: str | None = None
        if self._model is not None:
            self._model_calls += 1
            try:
                answer = await self._model.tag(facts, offered=vocabulary[: self._offered])
            except TaggingFailed as exc:
                reason = exc.reason
                log.warning("model tagging failed, using the offline tagger: %s", exc,
                            extra={"action": "tag", "url": facts.url, "reason": reason})
            else:
                tags = self._finish(answer.tags(), known)
                if tags:
                    self._model_tagged += 1
                    return TagResult(tags=tags, source="model", mood=answer.mood,
                                     difficulty=answer.difficulty)
                reason = "empty_answer"  # every tag it gave was rejected by normalization
            self._fallbacks[reason] += 1
        self._offline_tagged += 1
        tags = self._finish(self._offline.tag(facts, vocabulary=known), known)
        return TagResult(tags=tags, source="offline", fallback_reason=reason)

    def _finish(self, candidates: Iterable[Tag], known: Vocabulary) -> tuple[Tag, ...]:
        """Normalize and fold each candidate, drop repeats, and cap the count."""
        finished: list[Tag] = []
        names: set[str] = set()
        others = 0
        for tag in candidates:
            single = tag.kind in _SINGLE_KINDS
            if (single and any(t.kind == tag.kind for t in finished)) or (
                    not single and others == self._max_tags):
                continue
            name = known.add(tag.name)
            if name is None or name in names:
                continue
            names.add(name)
            others += not single
            finished.append(Tag(name, tag.kind, tag.confidence))
        return tuple(finished)
