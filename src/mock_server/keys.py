"""API key tokens: format, generation and hash-only storage.

A token is `cpk_{api_key_id hex}.{user_id hex}.{32 alphanumerics}`. The store
keeps only its sha256 digest: the secret part carries 190 bits of entropy, so
a fast hash is as safe as a slow one here and keeps authentication cheap.
Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import string
import uuid

TOKEN_PATTERN = re.compile(r"cpk_([a-f0-9]{32})\.([a-f0-9]{32})\.([a-zA-Z0-9]{32})")
SECRET_ALPHABET = string.ascii_letters + string.digits


def parse_token(token: str) -> tuple[str, str] | None:
    """The (api_key_id, user_id) a well-formed token names, else None."""
    match = TOKEN_PATTERN.fullmatch(token)
    if match is None:
        return None
    return _dashed(match[1]), _dashed(match[2])


def _dashed(hex32: str) -> str:
    """`str(uuid.UUID(hex=hex32))` for 32 lower-case hex digits, without the UUID object
    (this runs on every API-key request)."""
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def make_token(api_key_id: str, user_id: str, secret: str) -> str:
    return f"cpk_{uuid.UUID(api_key_id).hex}.{uuid.UUID(user_id).hex}.{secret}"


def new_secret(rng: random.Random) -> str:
    return "".join(rng.choice(SECRET_ALPHABET) for _ in range(32))


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_matches(token: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


def parse_uuid(value: str) -> str | None:
    """The canonical form of a UUID string, or None."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return None
