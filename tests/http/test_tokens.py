"""Access tokens are verified strictly; every bad one is a 401 problem saying why."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable

import jwt
import pytest
from aiohttp import web

from linkarchive.errors import ConfigError, Unauthorized
from linkarchive.http.jsonio import json_response
from linkarchive.http.keys import CLAIMS
from linkarchive.http.tokens import AccessTokens, new_refresh_token, refresh_token_digest
from tests.http.support import SECRET, Services, bearer, make_app, serve

pytestmark = pytest.mark.anyio

routes = web.RouteTableDef()


@routes.get("/api/v1/whoami")
async def whoami(request: web.Request) -> web.Response:
    claims = request[CLAIMS]
    return json_response({"user": claims.user_id, "session": claims.session_id})


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    values: dict[str, object] = {"sub": "user-1", "sid": "session-1", "iat": now,
                                 "exp": now + 600, "jti": "token-1", "iss": "linkarchive",
                                 "aud": "linkarchive-api"}
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def signed(payload: dict[str, object], *, key: str = SECRET, algorithm: str = "HS256",
           typ: str = "at+jwt") -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers={"typ": typ})


def tampered() -> str:
    header, payload, signature = signed(claims()).split(".")
    forged = base64.urlsafe_b64encode(
        jwt.utils.base64url_decode(payload).replace(b"user-1", b"user-2")).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def unsigned() -> str:
    return jwt.encode(claims(), None, algorithm="none", headers={"typ": "at+jwt"})


BAD_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "expired": (lambda: signed(claims(iat=int(time.time()) - 4000, exp=int(time.time()) - 3000)),
                "has expired"),
    "tampered": (tampered, "signature is invalid"),
    "alg-none": (unsigned, "algorithm is not allowed"),
    "wrong-key": (lambda: signed(claims(), key="another-secret-" + "z" * 49),
                  "signature is invalid"),
    "hs512-right-key": (lambda: signed(claims(), algorithm="HS512"), "algorithm is not allowed"),
    "missing-sub": (lambda: signed(claims(sub=None)), "'sub' claim is missing"),
    "missing-exp": (lambda: signed(claims(exp=None)), "'exp' claim is missing"),
    "wrong-typ": (lambda: signed(claims(), typ="JWT"), "not an access token"),
    "wrong-aud": (lambda: signed(claims(aud="someone-else")), "another audience"),
    "wrong-iss": (lambda: signed(claims(iss="evil")), "another issuer"),
    "sub-not-a-string": (lambda: signed(claims(sub=42)), "'sub' claim is not a string"),
    "garbage": (lambda: "not.a.token", "malformed"),
}


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
async def test_a_bad_token_is_a_401_problem_with_the_reason(name: str) -> None:
    make_token, reason = BAD_TOKENS[name]
    async with serve(make_app(routes=routes)) as client:
        response = await client.get("/api/v1/whoami", headers=bearer(make_token()))
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
        body = await response.json(content_type="application/problem+json")
    assert reason in body["detail"]


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwdw==", "Bearer", "Bearer   "])
async def test_a_missing_token_is_a_401_problem(header: str | None) -> None:
    async with serve(make_app(routes=routes)) as client:
        response = await client.get("/api/v1/whoami",
                                    headers={"Authorization": header} if header else {})
        assert response.status == 401
        body = await response.json(content_type="application/problem+json")
    assert "access token is required" in body["detail"]


async def test_a_valid_token_reaches_the_handler_with_its_claims() -> None:
    app = make_app(routes=routes)
    token = AccessTokens(secret=SECRET).issue(user_id="user-7", session_id="session-9")
    async with serve(app) as client:
        response = await client.get("/api/v1/whoami", headers=bearer(token))
        assert response.status == 200
        assert await response.json() == {"user": "user-7", "session": "session-9"}


def test_issued_tokens_carry_the_claims_and_expire_after_the_ttl() -> None:
    tokens = AccessTokens(secret=SECRET, ttl=60)
    token = tokens.issue(user_id="u", session_id="s", now=1_000_000)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "at+jwt"}
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["exp"] - payload["iat"] == 60
    assert {"sub", "sid", "iat", "exp", "jti", "iss", "aud"} <= payload.keys()
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(token)
    fresh = tokens.verify(tokens.issue(user_id="u", session_id="s"))
    assert (fresh.user_id, fresh.session_id) == ("u", "s")
    assert fresh.token_id != tokens.verify(tokens.issue(user_id="u", session_id="s")).token_id


async def test_the_containers_generated_secret_signs_when_the_setting_is_empty() -> None:
    generated = b"generated-into-the-data-dir-" + b"g" * 40
    app = make_app(routes=routes, services=Services(secret_key=generated), secret_key="")
    token = AccessTokens(secret=generated).issue(user_id="user-3", session_id="s")
    async with serve(app) as client:
        assert (await client.get("/api/v1/whoami", headers=bearer(token))).status == 200
    with pytest.raises(ConfigError):
        make_app(secret_key="")


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        AccessTokens(secret="short")
    assert SECRET not in repr(AccessTokens(secret=SECRET))


def test_refresh_tokens_are_random_and_stored_as_their_sha256() -> None:
    first, second = new_refresh_token(), new_refresh_token()
    assert first.token != second.token
    assert len(first.token) >= 43 and "=" not in first.token
    assert first.digest == hashlib.sha256(first.token.encode()).hexdigest()
    assert refresh_token_digest(first.token) == first.digest
    assert first.token not in repr(first)
