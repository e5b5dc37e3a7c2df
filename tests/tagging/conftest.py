"""A local stand-in for an OpenAI-compatible server: POST /v1/chat/completions on 127.0.0.1.

Tests script its replies in order (the last one repeats) and read back every request it got.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linkarchive.config.settings import ModelSettings

Reply = Callable[["ModelStub"], Awaitable[web.Response]]


@dataclass(frozen=True)
class Received:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def system(self) -> str:
        return self.body["messages"][0]["content"]

    @property
    def user(self) -> str:
        return self.body["messages"][1]["content"]


@dataclass
class ModelStub:
    base_url: str = ""
    requests: list[Received] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    released: anyio.Event = field(default_factory=anyio.Event)

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def settings(self, *, timeout: float = 5.0, api_key: str = "test-key") -> ModelSettings:
        return ModelSettings(openai_base_url=self.base_url, openai_api_key=api_key,
                             openai_model="test-model", openai_timeout=timeout)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(Received(await request.json(), dict(request.headers)))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return await reply(self)


def completion(content: str | None, *, refusal: str | None = None,
               finish_reason: str = "stop") -> Reply:
    """A chat completion whose message carries ``content``."""
    async def reply(stub: ModelStub) -> web.Response:
        return web.json_response({
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": "test-model",
            "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": None,
                         "message": {"role": "assistant", "content": content, "refusal": refusal}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        })
    return reply


def answer(**fields: Any) -> Reply:
    """A completion whose content is the JSON of ``fields``."""
    return completion(json.dumps(fields, ensure_ascii=False))


def error(status: int, *, headers: dict[str, str] | None = None) -> Reply:
    """An error in the OpenAI wire format."""
    async def reply(stub: ModelStub) -> web.Response:
        return web.json_response({"error": {"message": f"stub says {status}", "type": "stub",
                                            "param": None, "code": None}},
                                 status=status, headers=headers)
    return reply


def stall(seconds: float, then: Reply) -> Reply:
    """Answer ``then`` after ``seconds``, or as soon as the test ends."""
    async def reply(stub: ModelStub) -> web.Response:
        with anyio.move_on_after(seconds):
            await stub.released.wait()
        return await then(stub)
    return reply


@pytest.fixture
async def model_stub() -> AsyncIterator[ModelStub]:
    stub = ModelStub()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", stub.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    stub.base_url = f"http://127.0.0.1:{server.port}/v1"
    try:
        yield stub
    finally:
        stub.released.set()
        await server.close()
