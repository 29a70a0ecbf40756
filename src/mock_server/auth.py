"""Who is calling: hotkey signature, API key or JWT (behaviour §2-§5).

`Authenticator.authenticate` turns a request's headers and exact body bytes
into a `Caller`, or raises `Unauthorized` with the contract's detail. The
hotkey path checks, in order: nonce, signature encoding, signature, then the
metagraph (registry) or the user.

Its steps (`check_nonce`, `check_signature`, `jwt_user`, `api_key`) are also
what production's catch-all route (quirk D12, `quirks.catch_all`) checks, in
its own order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from mock_server import hotkeys, jwt_tokens, keys
from mock_server.clock import Clock
from mock_server.errors import (
    API_KEY_REFUSED,
    BAD_SIGNATURE,
    INVALID_NONCE,
    MALFORMED_API_KEY,
    NO_CREDENTIALS,
    NOT_REGISTERED,
    UNKNOWN_HOTKEY,
    UNPARSEABLE_SIGNATURE,
    Unauthorized,
)
from mock_server.quirks import Quirk, crashes, scopes
from mock_server.quirks.caching import KeyCache
from mock_server.settings import Settings
from mock_server.spec import Operation
from mock_server.store import ApiKey, Store, User

MAX_NONCE_DIGITS = 20


class AuthKind(StrEnum):
    """How a caller authenticated (the journal's and the fault rules' `auth_kind`)."""

    HOTKEY = "hotkey"
    API_KEY = "api_key"
    JWT = "jwt"
    CONTROL = "control"  # the control API's token, not a contract way


@dataclass(slots=True)  # not frozen: a frozen dataclass costs 3x to build, per request
class Caller:
    kind: AuthKind
    user: User | None  # None: a registered hotkey without an account
    key: ApiKey | None = None


class Authenticator:
    """Authenticates requests against one store, clock and settings."""

    def __init__(self, store: Store, clock: Clock, settings: Settings, jwt_secret: str) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.jwt_secret = jwt_secret
        self.quirks = settings.quirks
        # D3: production's 60 s key cache, only with that quirk on.
        self.key_cache = (
            KeyCache(settings.key_cache_seconds) if Quirk.D3 in settings.quirks else None
        )

    def reset(self) -> None:
        if self.key_cache is not None:
            self.key_cache.clear()

    def authenticate(
        self,
        operation: Operation,
        headers: Mapping[str, str],
        body: bytes,
        path_params: Mapping[str, str],
    ) -> Caller:
        hotkey = headers.get("x-chutes-hotkey", "")
        signature = headers.get("x-chutes-signature", "")
        if hotkey and signature:
            return self._hotkey(operation, hotkey, signature, headers.get("x-chutes-nonce"), body)
        authorization = headers.get("authorization", "")
        if authorization:
            token = bearer_jwt(authorization)
            if token is not None:
                return Caller(AuthKind.JWT, self.jwt_user(token))
            return self.api_key(
                authorization.split(" ")[-1],
                lambda key: self._contract_scope(key, operation, path_params),
            )
        raise Unauthorized(NO_CREDENTIALS)

    # Hotkey signature ------------------------------------------------------
    def _hotkey(
        self, operation: Operation, hotkey: str, signature: str, nonce: str | None, body: bytes
    ) -> Caller:
        self.check_nonce(nonce)
        purpose = operation.purpose or hashlib.sha256(body).hexdigest()
        self.check_signature(hotkey, signature, f"{hotkey}:{nonce}:{purpose}")
        user = self.store.user_by_hotkey(hotkey)
        if operation.hotkey_requires == "metagraph":
            if not self.store.is_registered(self.settings.netuid, hotkey):
                raise Unauthorized(NOT_REGISTERED.format(netuid=self.settings.netuid))
            return Caller(AuthKind.HOTKEY, user)
        if user is None:
            raise Unauthorized(UNKNOWN_HOTKEY.format(hotkey=hotkey))
        return Caller(AuthKind.HOTKEY, user)

    def check_nonce(self, nonce: str | None) -> None:
        """ASCII digits, inside the window; else 401 (or D6's 500)."""
        if not nonce or not nonce.isascii() or not nonce.isdigit() or len(nonce) > MAX_NONCE_DIGITS:
            crashes.nonce(self.quirks, nonce)
            raise Unauthorized(INVALID_NONCE)
        now = self.clock.now()
        window = self.settings.nonce_window
        if not now - window < int(nonce) < now + window:
            raise Unauthorized(INVALID_NONCE)

    @staticmethod
    def check_signature(hotkey: str, signature: str, message: str) -> None:
        """The signature parses as hex and signs `message` by `hotkey`; else 401."""
        try:
            signature_bytes = bytes.fromhex(signature)
        except ValueError as exc:
            raise Unauthorized(
                UNPARSEABLE_SIGNATURE.format(signature=signature, error=exc)
            ) from None
        if not hotkeys.verify(hotkey, message, signature_bytes):
            raise Unauthorized(BAD_SIGNATURE.format(hotkey=hotkey, message=message))

    # JWT ---------------------------------------------------------------------
    def jwt_user(self, token: str) -> User:
        return jwt_tokens.authenticate(
            token, self.store, self.jwt_secret, self.clock.now(), self.quirks
        )

    # API key -----------------------------------------------------------------
    def api_key(self, token: str, allows: Callable[[ApiKey], bool]) -> Caller:
        """The caller behind an API key token; `allows` judges a non-admin key."""
        parsed = keys.parse_token(token)
        if parsed is None:
            raise Unauthorized(MALFORMED_API_KEY)
        key = self._lookup_key(parsed[0], token)
        user = self.store.user(key.user_id)
        if user is None:
            raise Unauthorized(API_KEY_REFUSED)
        if not key.admin and not allows(key):
            raise Unauthorized(API_KEY_REFUSED)
        return Caller(AuthKind.API_KEY, user, key)

    def _lookup_key(self, api_key_id: str, token: str) -> ApiKey:
        cache = self.key_cache
        if cache is not None:
            cached = cache.get(api_key_id, self.clock.now())
            if cached is not None and keys.token_matches(token, cached.token_hash):
                return cached
        key = self.store.key(api_key_id)
        if key is None or not keys.token_matches(token, key.token_hash):
            raise Unauthorized(API_KEY_REFUSED)
        if cache is not None:
            cache.remember(key, self.clock.now())
        return key

    def _contract_scope(
        self, key: ApiKey, operation: Operation, path_params: Mapping[str, str]
    ) -> bool:
        """No endpoint here is a scoped object, so the contract refuses every
        non-admin key. Production checks the key against the path (D8)."""
        if Quirk.D8 not in self.quirks:
            return False
        path = operation.path.format_map(path_params) if path_params else operation.path
        return scopes.key_allows(key, operation.method, path)


def bearer_jwt(authorization: str) -> str | None:
    """The JWT of an `Authorization` header that names one, else None: the
    header starts with `bearer ` (any case) and its token is not a `cpk_` key."""
    token = authorization.split(" ")[-1]
    if authorization.lstrip().lower().startswith("bearer ") and not token.startswith("cpk_"):
        return token
    return None
