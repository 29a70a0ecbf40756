"""Who is calling: hotkey signature, API key or JWT (SEMANTICS §2-§5).

`Authenticator.authenticate` turns a request's headers and exact body bytes
into a `Caller`, or raises `Unauthorized` with the contract's detail. The
hotkey path checks, in order: nonce, signature encoding, signature, then the
metagraph (registry) or the user.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

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
    ProductionDefect,
    Unauthorized,
)
from mock_server.settings import Settings
from mock_server.spec import Operation
from mock_server.store import ApiKey, Store, User

MAX_NONCE_DIGITS = 20
SCOPED_OBJECT_TYPES = ("images", "chutes", "invocations")
METHOD_ACTIONS = {"GET": "read", "POST": "write", "DELETE": "delete"}


@dataclass(slots=True)  # not frozen: a frozen dataclass costs 3x to build, per request
class Caller:
    kind: str  # "hotkey", "api_key" or "jwt"
    user: User | None  # None: a registered hotkey without an account
    key: ApiKey | None = None


class Authenticator:
    """Authenticates requests against one store, clock and settings."""

    def __init__(self, store: Store, clock: Clock, settings: Settings, jwt_secret: str) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.jwt_secret = jwt_secret
        # Quirk D3: production caches an authenticated key for 60 s after its
        # first use and keeps honouring it after deletion.
        self._key_cache: dict[str, tuple[ApiKey, float]] = {}

    def reset(self) -> None:
        self._key_cache.clear()

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
            token = authorization.split(" ")[-1]
            if authorization.lstrip().lower().startswith("bearer ") and not token.startswith(
                "cpk_"
            ):
                user = jwt_tokens.authenticate(
                    token, self.store, self.jwt_secret, self.clock.now(), self.settings.quirks
                )
                return Caller("jwt", user)
            return self._api_key(operation, token, path_params)
        raise Unauthorized(NO_CREDENTIALS)

    # Hotkey signature ------------------------------------------------------
    def _hotkey(
        self, operation: Operation, hotkey: str, signature: str, nonce: str | None, body: bytes
    ) -> Caller:
        self._check_nonce(nonce)
        try:
            signature_bytes = bytes.fromhex(signature)
        except ValueError as exc:
            raise Unauthorized(
                UNPARSEABLE_SIGNATURE.format(signature=signature, error=exc)
            ) from None
        purpose = operation.purpose or hashlib.sha256(body).hexdigest()
        message = f"{hotkey}:{nonce}:{purpose}"
        if not hotkeys.verify(hotkey, message, signature_bytes):
            raise Unauthorized(BAD_SIGNATURE.format(hotkey=hotkey, message=message))
        user = self.store.user_by_hotkey(hotkey)
        if operation.hotkey_requires == "metagraph":
            if not self.store.is_registered(self.settings.netuid, hotkey):
                raise Unauthorized(NOT_REGISTERED.format(netuid=self.settings.netuid))
            return Caller("hotkey", user)
        if user is None:
            raise Unauthorized(UNKNOWN_HOTKEY.format(hotkey=hotkey))
        return Caller("hotkey", user)

    def _check_nonce(self, nonce: str | None) -> None:
        """Where the nonce is checked: ASCII digits, inside the window."""
        if not nonce or not nonce.isascii() or not nonce.isdigit() or len(nonce) > MAX_NONCE_DIGITS:
            # Production runs int(nonce) after str.isdigit(): '²' or hundreds
            # of digits blow up there (D6).
            crashes_production = (
                bool(nonce) and nonce.isdigit() and (not nonce.isascii() or len(nonce) > 308)
            )
            if crashes_production and self.settings.quirk("D6"):
                raise ProductionDefect("D6")
            raise Unauthorized(INVALID_NONCE)
        now = self.clock.now()
        window = self.settings.nonce_window
        if not now - window < int(nonce) < now + window:
            raise Unauthorized(INVALID_NONCE)

    # API key -----------------------------------------------------------------
    def _api_key(self, operation: Operation, token: str, path_params: Mapping[str, str]) -> Caller:
        parsed = keys.parse_token(token)
        if parsed is None:
            raise Unauthorized(MALFORMED_API_KEY)
        key = self._lookup_key(parsed[0], token)
        user = self.store.user(key.user_id)
        if user is None:
            raise Unauthorized(API_KEY_REFUSED)
        if not key.admin and not self._scope_allows(key, operation, path_params):
            raise Unauthorized(API_KEY_REFUSED)
        return Caller("api_key", user, key)

    def _lookup_key(self, api_key_id: str, token: str) -> ApiKey:
        cache = "D3" in self.settings.quirks
        if cache:
            now = self.clock.now()
            cached = self._key_cache.get(api_key_id)
            if cached and cached[1] > now and keys.token_matches(token, cached[0].token_hash):
                return cached[0]
        key = self.store.key(api_key_id)
        if key is None or not keys.token_matches(token, key.token_hash):
            raise Unauthorized(API_KEY_REFUSED)
        if cache and api_key_id not in self._key_cache:
            self._key_cache[api_key_id] = (key, now + self.settings.key_cache_seconds)
        return key

    def _scope_allows(
        self, key: ApiKey, operation: Operation, path_params: Mapping[str, str]
    ) -> bool:
        """No endpoint here is a scoped object, so the contract refuses every
        non-admin key. Production reads `/api_keys/chutes` as the object type
        `chutes` and lets a matching scope through (D8)."""
        if not self.settings.quirk("D8"):
            return False
        object_type = path_params.get("api_key_id")
        action = METHOD_ACTIONS.get(operation.method)
        return object_type in SCOPED_OBJECT_TYPES and any(
            scope.object_type == object_type and scope.action in (None, action)
            for scope in key.scopes
        )
