"""The real API for end-to-end tests: ``open_services`` on a temporary SQLite data directory,
the app on a real socket at 127.0.0.1, and a client that signs users up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from linkarchive.config import load_settings
from linkarchive.http.app import create_app
from linkarchive.services import Services, open_services
from tests.http.support import serve

PASSWORD = "correct horse battery staple"


@dataclass
class Api:
    client: TestClient
    services: Services

    async def signup(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        """Register ``email`` and sign in; answer the bearer header."""
        tokens = await self.login_after_signup(email, password)
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    async def login_after_signup(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        """Register ``email`` and sign in; answer the token pair."""
        response = await self.client.post("/api/v1/auth/register",
                                          json={"email": email, "password": password})
        assert response.status == 201, await response.text()
        return await self.login(email, password)

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post("/api/v1/auth/login",
                                          json={"email": email, "password": password})
        assert response.status == 200, await response.text()
        return await response.json()


def api_settings(data_dir: Path, **environ: str) -> Any:
    return load_settings(environ={
        "LINKARCHIVE_DATA_DIR": str(data_dir),
        "LINKARCHIVE_RATE_LIMIT": "100000",
        "LINKARCHIVE_OPEN_REGISTRATION": "true",
        **environ,
    })


@asynccontextmanager
async def running_api(data_dir: Path, **environ: str) -> AsyncIterator[Api]:
    """The app over real services; ``environ`` adds ``LINKARCHIVE_*`` settings."""
    settings = api_settings(data_dir, **environ)
    async with open_services(settings) as services:
        async with serve(create_app(settings.server, services=services)) as client:
            yield Api(client=client, services=services)
