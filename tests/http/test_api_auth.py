"""Accounts, sign-in and tokens through the API, over real services and HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import anyio
import jwt
import pytest

from linkarchive.http.tokens import AccessTokens
from linkarchive.storage.repositories import users
from tests.http.api import PASSWORD, Api, running_api

pytestmark = pytest.mark.anyio

ME = "/api/v1/users/me"


@pytest.fixture
async def api(tmp_path: Path):
    async with running_api(tmp_path) as api:
        yield api


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _status(api: Api, token: str, path: str = ME) -> int:
    return (await api.client.get(path, headers=bearer(token))).status


async def _refresh(api: Api, refresh_token: str):
    return await api.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def test_registration_is_open_to_the_first_user_only_unless_configured(
        tmp_path: Path) -> None:
    async with running_api(tmp_path, LINKARCHIVE_OPEN_REGISTRATION="false") as api:
        first = await api.client.post("/api/v1/auth/register",
                                      json={"email": "Root@Example.com", "password": PASSWORD})
        assert first.status == 201
        body = await first.json()
        assert (body["email"], body["is_admin"]) == ("Root@Example.com", True)
        second = await api.client.post("/api/v1/auth/register",
                                       json={"email": "eve@example.com", "password": PASSWORD})
        assert second.status == 403
        assert second.content_type == "application/problem+json"


async def test_open_registration_validates_and_refuses_a_taken_address(api: Api) -> None:
    await api.signup("ada@example.com")
    second = await api.client.post("/api/v1/auth/register",
                                   json={"email": "bob@example.com", "password": PASSWORD})
    assert second.status == 201 and (await second.json())["is_admin"] is False
    taken = await api.client.post("/api/v1/auth/register",
                                  json={"email": "ADA@example.com", "password": PASSWORD})
    assert taken.status == 409
    for body in ({"email": "not-an-address", "password": PASSWORD},
                 {"email": "a@b.c", "password": "short"},
                 {"email": "a@b.c"}, {"email": "a\x00@b.c", "password": PASSWORD}):
        response = await api.client.post("/api/v1/auth/register", json=body)
        assert response.status == 422, body


async def test_login_answers_a_token_pair_and_me_the_user(api: Api) -> None:
    await api.signup("ada@example.com")
    response = await api.client.post("/api/v1/auth/login",
                                     json={"email": "Ada@Example.com", "password": PASSWORD})
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    tokens = await response.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    me = await api.client.get(ME, headers=bearer(tokens["access_token"]))
    assert (await me.json())["email"] == "ada@example.com"


@pytest.mark.parametrize(("email", "password"), [("ada@example.com", "wrong password"),
                                                 ("nobody@example.com", PASSWORD)])
async def test_wrong_credentials_are_a_401(api: Api, email: str, password: str) -> None:
    await api.signup("ada@example.com")
    response = await api.client.post("/api/v1/auth/login",
                                     json={"email": email, "password": password})
    assert response.status == 401 and "WWW-Authenticate" in response.headers
    assert (await response.json())["detail"] == "Wrong email or password."


async def test_bad_access_tokens_are_401(api: Api) -> None:
    tokens = await api.login_after_signup("ada@example.com")
    good = tokens["access_token"]
    claims = jwt.decode(good, options={"verify_signature": False})
    secret = api.services.secret_key
    mine = AccessTokens(secret=secret)
    expired = mine.issue(user_id=claims["sub"], session_id=claims["sid"],
                         now=time.time() - 3600)
    head, _, signature = good.split(".")
    forged = dict(claims, sub="999")
    tampered = ".".join([head, base64.urlsafe_b64encode(
        json.dumps(forged).encode()).decode().rstrip("="), signature])
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"typ": "at+jwt"})
    wrong_key = AccessTokens(secret="another-secret-" + "x" * 40).issue(
        user_id=claims["sub"], session_id=claims["sid"])
    assert await _status(api, good) == 200
    for token in (expired, tampered, unsigned, wrong_key, "garbage", good + "x"):
        assert await _status(api, token) == 401, token
    assert (await api.client.get(ME)).status == 401


async def test_a_refresh_token_rotates_once_and_reuse_revokes_the_session(api: Api) -> None:
    tokens = await api.login_after_signup("ada@example.com")
    rotated = await _refresh(api, tokens["refresh_token"])
    assert rotated.status == 200
    second = await rotated.json()
    assert second["refresh_token"] != tokens["refresh_token"]
    assert await _status(api, second["access_token"]) == 200

    reused = await _refresh(api, tokens["refresh_token"])
    assert reused.status == 401 and "already used" in (await reused.json())["detail"]
    assert (await _refresh(api, second["refresh_token"])).status == 401
    for token in (tokens["access_token"], second["access_token"]):
        assert await _status(api, token) == 401
    # Another session of the same user is untouched.
    other = await api.login("ada@example.com")
    assert await _status(api, other["access_token"]) == 200
    assert (await _refresh(api, other["refresh_token"])).status == 200


async def test_unknown_refresh_tokens_are_401(api: Api) -> None:
    for token in ("", "x" * 43, "not-a-token"):
        assert (await _refresh(api, token)).status == 401
    assert (await api.client.post("/api/v1/auth/refresh", json={})).status == 422


async def test_logout_ends_the_session_at_once(api: Api) -> None:
    tokens = await api.login_after_signup("ada@example.com")
    other = await api.login("ada@example.com")
    out = await api.client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert out.status == 204
    assert await _status(api, tokens["access_token"]) == 401
    assert (await _refresh(api, tokens["refresh_token"])).status == 401
    assert await _status(api, other["access_token"]) == 200
    assert (await api.client.post("/api/v1/auth/logout")).status == 401


async def test_a_disabled_user_cannot_sign_in_refresh_or_use_tokens(api: Api) -> None:
    tokens = await api.login_after_signup("ada@example.com")
    assert await _status(api, tokens["access_token"]) == 200
    # Disabled from outside the API (as the CLI does): the token stops working within the
    # session check's memory, a second.
    async with api.services.database.write() as tx:
        user = await users.find_user_by_email(tx, "ada@example.com")
        assert user is not None
        await users.set_user_disabled(tx, user.id, True)
    with anyio.fail_after(5):
        while await _status(api, tokens["access_token"]) != 401:
            await anyio.sleep(0.05)
    assert (await _refresh(api, tokens["refresh_token"])).status == 401
    login = await api.client.post("/api/v1/auth/login",
                                  json={"email": "ada@example.com", "password": PASSWORD})
    assert login.status == 403
