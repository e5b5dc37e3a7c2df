"""Tagging with an OpenAI-compatible chat model: one structured request, bounded retries."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType

import anyio
import openai

from linkarchive.config.settings import ModelSettings
from linkarchive.tagging.base import PageFacts, TaggingFailed
from linkarchive.tagging.prompt import RESPONSE_FORMAT, ModelAnswer, build_messages, parse_answer

__all__ = ["ModelStatistics", "ModelTagger", "RetryPolicy"]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how long to retry a rate-limited, failing or unreachable model."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 4.0
    # A longer Retry-After than this is not waited out: the offline tagger answers now.
    max_retry_after: float = 10.0

    def delay(self, retry: int) -> float:
        """Exponential backoff for the ``retry``-th retry (1-based), capped, with jitter."""
        return min(self.max_delay, self.base_delay * 2 ** (retry - 1)) * random.uniform(0.75, 1.0)


@dataclass(frozen=True)
class ModelStatistics:
    """Requests sent to the model, and how many of them were retries."""

    requests: int
    retries: int


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait (Retry-After-Ms, Retry-After seconds or date)."""
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    return None


def _translate(exc: openai.OpenAIError) -> TaggingFailed:
    """The client's error as ours: a reason code, and whether trying again could help."""
    if isinstance(exc, openai.APITimeoutError):
        return TaggingFailed("timeout", "the model did not answer in time", transient=True)
    if isinstance(exc, openai.RateLimitError):
        return TaggingFailed("rate_limited", exc.message, transient=True,
                             retry_after=_retry_after(exc.response.headers))
    if isinstance(exc, openai.InternalServerError):
        return TaggingFailed("server_error", f"HTTP {exc.status_code}", transient=True)
    if isinstance(exc, openai.APIConnectionError):
        return TaggingFailed("unreachable", exc.message, transient=True)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return TaggingFailed("unauthorized", f"HTTP {exc.status_code}")
    if isinstance(exc, openai.APIStatusError):
        return TaggingFailed("rejected", f"HTTP {exc.status_code}: {exc.message}")
    if isinstance(exc, openai.APIResponseValidationError):
        return TaggingFailed("invalid_answer", exc.message)
    return TaggingFailed("model_error", f"{type(exc).__name__}: {exc}")


class ModelTagger:
    """Asks an OpenAI-compatible model for {category, content_type, keywords, mood, difficulty}."""

    def __init__(self, settings: ModelSettings, *, retry: RetryPolicy | None = None) -> None:
        self._model = settings.openai_model
        self._timeout = settings.openai_timeout
        self._retry = retry or RetryPolicy()
        # The client's own retries are off so that one policy, ours, decides every retry.
        self._client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key, base_url=settings.openai_base_url or None,
            timeout=settings.openai_timeout, max_retries=0)
        self._requests = 0
        self._retries = 0

    async def __aenter__(self) -> ModelTagger:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.close()

    def statistics(self) -> ModelStatistics:
        return ModelStatistics(requests=self._requests, retries=self._retries)

    async def tag(self, facts: PageFacts, *, offered: Sequence[str] = ()) -> ModelAnswer:
        """The model's answer for one page; raise TaggingFailed with a reason when there is none."""
        messages = build_messages(facts, offered)
        attempt = 1
        while True:
            try:
                return parse_answer(await self._complete(messages))
            except TaggingFailed as exc:
                wait = self._wait_before_retry(exc, attempt)
                if wait is None:
                    raise
            self._retries += 1
            attempt += 1
            await anyio.sleep(wait)

    def _wait_before_retry(self, exc: TaggingFailed, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None to give up."""
        # A timeout already used the whole budget; a bad answer is unlikely to improve.
        if attempt >= self._retry.attempts or not exc.transient or exc.reason == "timeout":
            return None
        if exc.retry_after is None:
            return self._retry.delay(attempt)
        return exc.retry_after if exc.retry_after <= self._retry.max_retry_after else None

    async def _complete(self, messages: list[dict[str, str]]) -> str | None:
        self._requests += 1
        try:
            # The client's timeout bounds each read; this bounds the whole request.
            with anyio.fail_after(self._timeout):
                completion = await self._client.chat.completions.create(
                    model=self._model, messages=messages, response_format=RESPONSE_FORMAT)
        except TimeoutError:
            raise TaggingFailed("timeout", "the model did not answer in time",
                                transient=True) from None
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        if not completion.choices:
            raise TaggingFailed("empty_answer", "no choices in the completion")
        choice = completion.choices[0]
        if choice.message.refusal:
            raise TaggingFailed("refusal", choice.message.refusal[:200])
        if choice.finish_reason == "length":
            raise TaggingFailed("truncated", "the answer hit the length limit")
        if choice.finish_reason == "content_filter":
            raise TaggingFailed("refusal", "the content filter stopped the answer")
        return choice.message.content
