"""``/api/v1/auth/*`` and ``/api/v1/users/me``: accounts, sign-in and rotating refresh tokens.

Sign-in opens a session and answers a short-lived access token (JWT) with an opaque refresh
token. Each refresh spends its token and answers a new pair; a spent token presented again
revokes the whole session. Access tokens name their session, and the auth middleware refuses
those of revoked sessions (``session_check``), so signing out takes effect at once.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from linkarchive.errors import Forbidden, Unauthorized
from linkarchive.http.jsonio import json_response
from linkarchive.http.keys import BODY, CLAIMS, PASSWORDS, SESSION_CHECK, SETTINGS, TOKENS
from linkarchive.http.middlewares import public
from linkarchive.http.openapi import operation
from linkarchive.http.routes.common import rfc3339, services_of, user_id_of
from linkarchive.http.tokens import new_refresh_token, refresh_token_digest
from linkarchive.storage.repositories import auth as sessions
from linkarchive.storage.repositories import users
from linkarchive.storage.repositories.rows import User

__all__ = ["setup"]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_ADDRESS_PART = "[^@\\s\\u0000-\\u001f\\u007f]+"
EMAIL_PATTERN = f"^{_ADDRESS_PART}@{_ADDRESS_PART}\\.{_ADDRESS_PART}$"

_EMAIL = {"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN}
REGISTER_IN = {
    "type": "object", "additionalProperties": False, "required": ["email", "password"],
    "properties": {"email": _EMAIL, "password": {"type": "string", "minLength": MIN_PASSWORD,
                                                 "maxLength": MAX_PASSWORD}},
}
LOGIN_IN = {
    "type": "object", "additionalProperties": False, "required": ["email", "password"],
    "properties": {"email": {"type": "string", "maxLength": 254},
                   "password": {"type": "string", "maxLength": MAX_PASSWORD}},
}
REFRESH_IN = {
    "type": "object", "additionalProperties": False, "required": ["refresh_token"],
    "properties": {"refresh_token": {"type": "string", "maxLength": 256}},
}
USER_SCHEMA = {
    "type": "object", "required": ["id", "email", "is_admin", "created_at"],
    "properties": {"id": {"type": "integer"}, "email": {"type": "string"},
                   "is_admin": {"type": "boolean"},
                   "created_at": {"type": "string", "format": "date-time"}},
}
TOKENS_SCHEMA = {
    "type": "object", "required": ["access_token", "refresh_token", "token_type", "expires_in"],
    "properties": {
        "access_token": {"type": "string"},
        "refresh_token": {"type": "string", "description": "Single use: a refresh answers a"
                                                           " new one."},
        "token_type": {"const": "bearer"},
        "expires_in": {"type": "integer", "description": "Seconds the access token is valid."},
    },
}
# RFC 6749 §5.1: responses carrying tokens must not be cached.
_NO_STORE = {"Cache-Control": "no-store"}


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "is_admin": user.is_admin,
            "created_at": rfc3339(user.created_at)}


def _token_pair(request: web.Request, user_id: int, session_id: str,
                refresh_token: str) -> web.Response:
    tokens = request.app[TOKENS]
    return json_response({
        "access_token": tokens.issue(user_id=str(user_id), session_id=session_id),
        "refresh_token": refresh_token, "token_type": "bearer", "expires_in": tokens.ttl,
    }, headers=_NO_STORE)


def _refresh_expiry(request: web.Request) -> float:
    return time.time() + request.app[SETTINGS].refresh_token_ttl


def _forget(request: web.Request, session_id: str | None) -> None:
    """The session just ended: its access tokens stop working in this process at once."""
    check = request.app.get(SESSION_CHECK)
    if check is not None and session_id is not None:
        check.forget(session_id)


async def _check_registration_open(request: web.Request, conn: Any) -> int:
    """How many users exist; Forbidden when only the first may register and one has."""
    count = await users.count_users(conn)
    if count and not request.app[SETTINGS].open_registration:
        raise Forbidden("Registration is closed on this server; ask its admin for an account.")
    return count


@public
@operation(summary="Create an account", tags=("auth",), body=REGISTER_IN,
           description="Open when the server allows registration, and always for the first"
                       " user, who becomes its admin.",
           responses={201: USER_SCHEMA, 403: None, 409: None, 422: None})
async def register(request: web.Request) -> web.Response:
    body = request[BODY]
    database = services_of(request).database
    async with database.read() as conn:  # refuse before paying for a hash
        await _check_registration_open(request, conn)
    password_hash = await request.app[PASSWORDS].hash(body["password"])
    async with database.write() as tx:
        existing = await _check_registration_open(request, tx)
        user = await users.create_user(tx, body["email"], password_hash, is_admin=not existing)
    return json_response(_user_json(user), status=201, headers={"Location": "/api/v1/users/me"})


@public
@operation(summary="Sign in", tags=("auth",), body=LOGIN_IN,
           responses={200: TOKENS_SCHEMA, 401: None, 403: None, 422: None})
async def login(request: web.Request) -> web.Response:
    body = request[BODY]
    database, passwords = services_of(request).database, request.app[PASSWORDS]
    async with database.read() as conn:
        user = await users.find_user_by_email(conn, body["email"])
    # An unknown address costs the same hash check as a known one: timing tells nothing.
    stored_hash = None if user is None else user.password_hash
    if not await passwords.verify(stored_hash, body["password"]) or user is None:
        raise Unauthorized("Wrong email or password.")
    if user.disabled:
        raise Forbidden("This account is disabled.")
    rehashed = (await passwords.hash(body["password"])
                if passwords.needs_rehash(user.password_hash) else None)
    refresh = new_refresh_token()
    async with database.write() as tx:
        session = await sessions.create_session(tx, user.id)
        await sessions.add_refresh_token(tx, session.id, refresh.digest, _refresh_expiry(request))
        if rehashed is not None:
            await users.set_user_password(tx, user.id, rehashed)
    return _token_pair(request, user.id, session.id, refresh.token)


@public
@operation(summary="Trade a refresh token for a new token pair", tags=("auth",),
           body=REFRESH_IN,
           description="The presented token is spent. Presenting a spent token again revokes"
                       " its session: every token of it stops working.",
           responses={200: TOKENS_SCHEMA, 401: None, 422: None})
async def refresh(request: web.Request) -> web.Response:
    presented = request[BODY]["refresh_token"]
    successor = new_refresh_token()
    # One transaction whatever the outcome: a detected reuse must commit the revocation.
    async with services_of(request).database.write() as tx:
        rotation = await sessions.rotate_refresh_token(
            tx, refresh_token_digest(presented), successor.digest, _refresh_expiry(request))
    if rotation.outcome == "reused":
        _forget(request, rotation.session_id)
        raise Unauthorized("This refresh token was already used, so the session has been"
                           " revoked; sign in again.")
    if rotation.outcome != "rotated" or rotation.user_id is None or rotation.session_id is None:
        raise Unauthorized("The refresh token is invalid or has expired; sign in again.")
    return _token_pair(request, rotation.user_id, rotation.session_id, successor.token)


@operation(summary="Sign out: end this session", tags=("auth",),
           description="Revokes the access token's session with all its tokens.",
           responses={204: None, 401: None})
async def logout(request: web.Request) -> web.Response:
    session_id = request[CLAIMS].session_id
    async with services_of(request).database.write() as tx:
        await sessions.revoke_session(tx, session_id, reason="logout")
    _forget(request, session_id)
    return web.Response(status=204)


@operation(summary="The signed-in user", tags=("auth",), responses={200: USER_SCHEMA, 401: None})
async def me(request: web.Request) -> web.Response:
    async with services_of(request).database.read() as conn:
        user = await users.get_user(conn, user_id_of(request))
    return json_response(_user_json(user))


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/auth/register", register)
    app.router.add_post("/api/v1/auth/login", login)
    app.router.add_post("/api/v1/auth/refresh", refresh)
    app.router.add_post("/api/v1/auth/logout", logout)
    app.router.add_get("/api/v1/users/me", me)
