"""What the suites know about each API key they met: how it was created,
when it was accepted, when it was deleted. The D3 and D8 recognisers read it.

`KeyJournal.saw(exchange)` learns from any exchange: a 200 create (admin
flag, the requested scopes with their actions, which the response does not
show), a request authenticated by a key whose answer shows it passed
authentication, a 200 delete. Tokens are kept only as sha256 digests.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field

from tests.support.exchange import Exchange

D3_WINDOW = 60.0  # production honours a deleted key this long after its cached use
_TOKEN = re.compile(r"^cpk_([a-f0-9]{32})\.([a-f0-9]{32})\.[a-zA-Z0-9]{32}$")
# Answers that come only after the credential passed authentication.
_AUTHENTICATED = {200, 400, 404, 409}

Scope = tuple[str, str | None, str | None]  # object_type, object_id, action


def key_id_of(token: str | None) -> str | None:
    """The api_key_id an API key token names, if it has the key format."""
    match = _TOKEN.match(token or "")
    return str(uuid.UUID(hex=match[1])) if match else None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class KeyFacts:
    api_key_id: str
    token_digest: str | None = None
    admin: bool | None = None
    scopes: tuple[Scope, ...] = ()
    cached_at: float | None = None  # start of production's 60 s cache entry (D3)
    deleted_at: float | None = None  # when the delete was answered


def describe(facts: KeyFacts) -> str | None:
    """The kind of key, for a person who must make one like it: `an admin
    key`, or `a non-admin key scoped to chutes object_id null action null`."""
    if facts.admin is None:
        return None
    if facts.admin:
        return "an admin key"
    if not facts.scopes:
        return "a non-admin key with no scopes"
    shown = [
        f"{kind} object_id {object_id or 'null'} action {action or 'null'}"
        for kind, object_id, action in facts.scopes
    ]
    return "a non-admin key scoped to " + " and ".join(shown)


def _scopes(body: object) -> tuple[Scope, ...]:
    raw = body.get("scopes") if isinstance(body, dict) else None
    if not isinstance(raw, list):
        return ()
    return tuple(
        (s.get("object_type"), s.get("object_id"), s.get("action"))
        for s in raw
        if isinstance(s, dict)
    )


@dataclass
class KeyJournal:
    keys: dict[str, KeyFacts] = field(default_factory=dict)

    def facts(self, token: str | None) -> KeyFacts | None:
        """The facts of the key `token` is, when its secret is the one created."""
        key_id = key_id_of(token)
        facts = self.keys.get(key_id or "")
        if facts is None or token is None:
            return None
        if facts.token_digest is not None and facts.token_digest != digest(token):
            return None  # the right id with a wrong secret is another credential
        return facts

    def wrong_secret(self, token: str | None) -> bool:
        """True when `token` names a key this run created, with another secret."""
        facts = self.keys.get(key_id_of(token) or "")
        return (
            token is not None
            and facts is not None
            and facts.token_digest is not None
            and facts.token_digest != digest(token)
        )

    def saw(self, exchange: Exchange) -> None:
        if exchange.method == "POST" and exchange.path == "/api_keys/":
            self._created(exchange)
        token = exchange.api_key  # used before the delete it made (a key deleting itself)
        if token and exchange.status in _AUTHENTICATED:
            self._used(token, exchange)
        if exchange.method == "DELETE" and exchange.status == 200:
            self._deleted(exchange)

    def _created(self, exchange: Exchange) -> None:
        payload = exchange.json()
        if exchange.status != 200 or not isinstance(payload, dict):
            return
        key_id, secret = payload.get("api_key_id"), payload.get("secret_key")
        if not isinstance(key_id, str):
            return
        self.keys[key_id] = KeyFacts(
            key_id,
            digest(secret) if isinstance(secret, str) else None,
            payload.get("admin") if isinstance(payload.get("admin"), bool) else None,
            _scopes(exchange.request_json()),
        )

    def _deleted(self, exchange: Exchange) -> None:
        payload = exchange.json()
        key_id = payload.get("api_key_id") if isinstance(payload, dict) else None
        facts = self.keys.setdefault(key_id, KeyFacts(key_id)) if isinstance(key_id, str) else None
        if facts is not None and facts.deleted_at is None:
            facts.deleted_at = exchange.received_at

    def _used(self, token: str, exchange: Exchange) -> None:
        key_id = key_id_of(token)
        if key_id is None:
            return
        facts = self.keys.setdefault(key_id, KeyFacts(key_id, digest(token)))
        if facts.token_digest is None:
            facts.token_digest = digest(token)
        if facts.token_digest != digest(token) or facts.deleted_at is not None:
            return
        sent, received = exchange.sent_at, exchange.received_at
        if sent is None or received is None:
            return
        # Production caches a key at its first accepted use and does not
        # refresh the entry; once it has surely expired, the next use starts
        # a new one. `cached_at` is the latest time the entry can have started.
        if facts.cached_at is None or sent >= facts.cached_at + D3_WINDOW:
            facts.cached_at = received
