"""JWTs: HS256, signed with sha256_hex(user fingerprint + server secret)."""

from __future__ import annotations

import hashlib
from collections.abc import Set
from typing import Any

import jwt

from mock_server.errors import JWT_EXPIRED, JWT_INVALID, Unauthorized
from mock_server.quirks import Quirk, crashes
from mock_server.store import Store, User

_MISSING: Any = object()


def user_secret(user: User, server_secret: str) -> str:
    return hashlib.sha256((user.fingerprint + server_secret).encode()).hexdigest()


def mint(user: User, server_secret: str, now: float, ttl: float, sub: Any = _MISSING) -> str:
    """A token for `user`; `sub` overrides the subject claim (for tests)."""
    claims = {
        "sub": user.user_id if sub is _MISSING else sub,
        "iat": int(now),
        "exp": int(now + ttl),
        "salted": True,
    }
    return jwt.encode(claims, user_secret(user, server_secret), algorithm="HS256")


def authenticate(
    token: str, store: Store, server_secret: str, now: float, quirks: Set[Quirk] = frozenset()
) -> User:
    """The user a token names; raises Unauthorized with the contract's detail."""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthorized(JWT_INVALID) from None
    sub = unverified.get("sub")
    if not isinstance(sub, str):
        crashes.jwt_subject(quirks, sub)
        raise Unauthorized(JWT_INVALID)
    user = store.user(sub)
    if user is None:
        raise Unauthorized(JWT_INVALID)
    try:
        claims = jwt.decode(
            token,
            user_secret(user, server_secret),
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_sub": False},
        )
    except jwt.PyJWTError:
        raise Unauthorized(JWT_INVALID) from None
    exp = claims.get("exp")
    if claims.get("salted") is not True or type(exp) not in (int, float):
        raise Unauthorized(JWT_INVALID)
    if exp <= now:
        raise Unauthorized(JWT_EXPIRED)
    return user
