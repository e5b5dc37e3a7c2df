"""Access tokens (short-lived HS256 JWTs) and refresh tokens (opaque, stored as SHA-256).

An access token's header is ``{"alg": "HS256", "typ": "at+jwt"}`` (RFC 9068) and its claims are
``sub`` (user id), ``sid`` (session id), ``iat``, ``exp``, ``jti``, ``iss`` and ``aud``. The
algorithm is pinned on decode, so ``alg: none`` and every other algorithm are refused.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field

import jwt
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

from linkarchive.errors import ConfigError, Unauthorized

__all__ = [
    "AccessClaims",
    "AccessTokens",
    "RefreshToken",
    "new_refresh_token",
    "refresh_token_digest",
]

ALGORITHM = "HS256"
TOKEN_TYPE = "at+jwt"
MIN_SECRET_BYTES = 32  # an HS256 key shorter than its digest weakens it (RFC 7518 §3.2)
REQUIRED_CLAIMS = ("sub", "sid", "iat", "exp", "jti", "iss", "aud")

# Most specific first: several of these subclass one another.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidIssuedAtError, "the token's 'iat' claim is invalid"),
    (jwt.InvalidAlgorithmError, "the token's signing algorithm is not allowed"),
    (jwt.InvalidSignatureError, "the token's signature is invalid"),
    (jwt.InvalidAudienceError, "the token is meant for another audience"),
    (jwt.InvalidIssuerError, "the token comes from another issuer"),
    (InvalidSubjectError, "the 'sub' claim is not a string"),
    (InvalidJTIError, "the 'jti' claim is not a string"),
    (jwt.DecodeError, "the token is malformed"),
)


@dataclass(frozen=True, kw_only=True)
class AccessClaims:
    """What a verified access token says."""

    user_id: str
    session_id: str
    token_id: str
    issued_at: int
    expires_at: int


@dataclass(frozen=True, kw_only=True)
class AccessTokens:
    """Issues and verifies access tokens with one secret."""

    secret: str | bytes = field(repr=False)
    ttl: int = 900
    issuer: str = "linkarchive"
    audience: str = "linkarchive-api"
    leeway: float = 5.0
    """Seconds of clock skew tolerated between the processes that issue and verify."""

    def __post_init__(self) -> None:
        secret = self.secret if isinstance(self.secret, bytes) else self.secret.encode()
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(f"LINKARCHIVE_SECRET_KEY must be at least {MIN_SECRET_BYTES} "
                              "bytes long to sign tokens")

    def issue(self, *, user_id: str, session_id: str, now: float | None = None) -> str:
        """A signed access token for ``user_id`` in session ``session_id``."""
        issued = int(time.time() if now is None else now)
        claims = {"sub": user_id, "sid": session_id, "iat": issued, "exp": issued + self.ttl,
                  "jti": uuid.uuid4().hex, "iss": self.issuer, "aud": self.audience}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE})

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid access token; Unauthorized saying why it is not valid."""
        try:
            decoded = jwt.decode_complete(
                token, self.secret, algorithms=[ALGORITHM], audience=self.audience,
                issuer=self.issuer, leeway=self.leeway, options={"require": list(REQUIRED_CLAIMS)})
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"Invalid access token: the {exc.claim!r} claim is missing.") from None
        except jwt.PyJWTError as exc:
            reason = next((text for kind, text in _REASONS if isinstance(exc, kind)),
                          "the token is invalid")
            raise Unauthorized(f"Invalid access token: {reason}.") from None
        if decoded["header"].get("typ") != TOKEN_TYPE:
            raise Unauthorized("Invalid access token: the token is not an access token.")
        claims = decoded["payload"]
        for name in ("sub", "sid"):
            if not isinstance(claims[name], str) or not claims[name]:
                raise Unauthorized(f"Invalid access token: the {name!r} claim is not a string.")
        return AccessClaims(user_id=claims["sub"], session_id=claims["sid"],
                            token_id=claims["jti"], issued_at=int(claims["iat"]),
                            expires_at=int(claims["exp"]))


@dataclass(frozen=True)
class RefreshToken:
    """A new refresh token: ``token`` goes to the client once, ``digest`` is what is stored."""

    token: str = field(repr=False)
    digest: str


def refresh_token_digest(token: str) -> str:
    """The SHA-256 (hex) under which a refresh token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> RefreshToken:
    """A random, URL-safe refresh token (256 bits) and its digest."""
    token = secrets.token_urlsafe(32)
    return RefreshToken(token=token, digest=refresh_token_digest(token))
