"""A plain-Python model of what the server holds per user, and what it answers.

The model starts from the keys each user already has on the target (they are
only ever read), learns server-made values (ids, timestamps, secrets) from
create responses, and predicts every other answer exactly: status, body and,
for the registry, its `Authorization` header. The rules are written from
SEMANTICS.md, not taken from the mock.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Detail strings, word for word (SEMANTICS §2-§4).
NO_CREDENTIALS = "Can't find a user with that api key in our db :("
INVALID_NONCE = "Invalid nonce!"
UNPARSEABLE_SIGNATURE = "Invalid signature: {signature}, with error: {error}"
BAD_SIGNATURE = "Invalid request signature for hotkey {hotkey}. Message: {message}"
NOT_REGISTERED = "Hotkey is not registered on netuid {netuid}"
MALFORMED_API_KEY = "Missing or invalid authorization header(s)"
API_KEY_REFUSED = "Invalid token or user not found"
JWT_INVALID = "Invalid token."
BAD_KEY_NAME = (
    "Invalid request: API key name should start with alphanumeric character and contain "
    "up to 32 total allowed characters (letters, numbers, dashes, underscores, or spaces)"
)
BAD_OBJECT_TYPE = "Invalid request: Invalid object_type, must be one of images, chutes, invocations"
DUPLICATE_KEY_NAME = "An API key already exists with this name"
GET_KEY_NOT_FOUND = "API key with id {api_key_id} not found or doesn't belong to you"
DELETE_KEY_NOT_FOUND = "API key not found, or does not belong to you"

OBJECT_TYPES = ("images", "chutes", "invocations")
ACTIONS = ("read", "write", "delete", "invoke")
DEFAULT_LIMIT = 25
TOKEN = re.compile(r"cpk_([a-f0-9]{32})\.([a-f0-9]{32})\.[a-zA-Z0-9]{32}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# Server-made values: a prediction says only what they must look like. ------
class Matcher:
    """A placeholder in an expected body for a value the server makes."""

    def matches(self, value: Any) -> bool:
        raise NotImplementedError


class AnyUUID(Matcher):
    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and bool(_UUID.fullmatch(value))

    def __repr__(self) -> str:
        return "<uuid>"


class AnyTimestamp(Matcher):
    """RFC 3339 with an offset (a naive date-time is production's D5)."""

    def matches(self, value: Any) -> bool:
        try:
            return datetime.fromisoformat(value).tzinfo is not None
        except (TypeError, ValueError):
            return False

    def __repr__(self) -> str:
        return "<date-time with offset>"


class AnyToken(Matcher):
    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and bool(TOKEN.fullmatch(value))

    def __repr__(self) -> str:
        return "<cpk_ token>"


def matches(expected: Any, actual: Any) -> bool:
    """Deep equality where `Matcher`s accept any value they describe."""
    if isinstance(expected, Matcher):
        return expected.matches(actual)
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(expected[k], actual[k]) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return type(expected) is type(actual) and expected == actual


@dataclass(frozen=True)
class Expected:
    """A predicted answer: status, JSON body (with matchers) and headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, detail: Any) -> Expected:
    return Expected(status, {"detail": detail})


# The rules, from SEMANTICS §4. ------------------------------------------------
def name_char_allowed(char: str) -> bool:
    """A word character, $ . -, whitespace, or in U+0080..U+FFFF."""
    return char.isalnum() or char in "_$.-" or char.isspace() or 0x80 <= ord(char) <= 0xFFFF


def name_allowed(name: str) -> bool:
    return 1 <= len(name) <= 24 and all(name_char_allowed(c) for c in name)


def token_parts(token: str) -> tuple[str, str] | None:
    """The (key id hex, user id hex) of a well-formed token, else None."""
    match = TOKEN.fullmatch(token)
    return (match[1], match[2]) if match else None


def negative_entries(page: int | None, limit: int | None) -> list[dict[str, Any]]:
    """FastAPI's 422 entries for negative page/limit, in parameter order."""
    return [
        {
            "type": "greater_than_equal",
            "loc": ["query", name],
            "msg": "Input should be greater than or equal to 0",
            "input": str(value),
            "ctx": {"ge": 0},
        }
        for name, value in (("page", page), ("limit", limit))
        if value is not None and value < 0
    ]


def action_entries(scopes: Any) -> list[dict[str, Any]]:
    """422 entries for scope actions outside the enum, in index order."""
    if not isinstance(scopes, list):
        return []
    text = "'read', 'write', 'delete' or 'invoke'"
    return [
        {
            "type": "enum",
            "loc": ["body", "scopes", i, "action"],
            "msg": f"Input should be {text}",
            "input": scope["action"],
            "ctx": {"expected": text},
        }
        for i, scope in enumerate(scopes)
        if scope.get("action") is not None and scope["action"] not in ACTIONS
    ]


def order_of(view: dict[str, Any]) -> tuple[datetime, str]:
    """The contract's list order: created_at, then api_key_id."""
    moment = datetime.fromisoformat(view["created_at"])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, view["api_key_id"]


# The state. -----------------------------------------------------------------------
@dataclass
class Key:
    """One key as the model knows it."""

    view: dict[str, Any]  # the APIKey body (no secret)
    owner: str  # "A" or "B"
    secret: str | None = field(default=None, repr=False)  # None: there before the run
    alive: bool = True

    @property
    def api_key_id(self) -> str:
        return self.view["api_key_id"]

    @property
    def admin(self) -> bool:
        return self.view["admin"]

    @property
    def existing(self) -> bool:
        return self.secret is None

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a drawn key: never with its secret (reports reach CI logs)."""
        printer.text(repr(self))


@dataclass
class Model:
    """What the server should hold for users A and B."""

    netuid: int = 64
    registry_password: str | None = None
    user_ids: dict[str, str | None] = field(default_factory=lambda: {"A": None, "B": None})
    registered: dict[str, bool | None] = field(default_factory=lambda: {"A": True, "B": None})
    keys: dict[str, Key] = field(default_factory=dict)  # every key seen, alive or deleted

    # Learning -------------------------------------------------------------
    def add_existing(self, owner: str, view: dict[str, Any]) -> None:
        self.keys[view["api_key_id"]] = Key(dict(view), owner)
        self.learn_user(owner, view["user_id"])

    def learn_user(self, owner: str, user_id: str) -> None:
        if self.user_ids[owner] is None:
            self.user_ids[owner] = user_id

    def alive(self, owner: str) -> list[Key]:
        mine = [k for k in self.keys.values() if k.alive and k.owner == owner]
        return sorted(mine, key=lambda k: order_of(k.view))

    def created_alive(self) -> list[Key]:
        """Live keys the run created (in creation order): the only ones it deletes."""
        return [k for k in self.keys.values() if k.alive and not k.existing]

    def names(self, owner: str) -> set[str]:
        return {k.view["name"] for k in self.alive(owner)}

    # Predictions ----------------------------------------------------------------
    def create(self, owner: str, payload: dict[str, Any]) -> Expected:
        scopes = payload.get("scopes", [])
        entries = action_entries(scopes)
        if entries:
            return error(422, entries)
        if not name_allowed(payload["name"]):
            return error(400, BAD_KEY_NAME)
        admin = payload["admin"]
        if not admin and scopes and any(s["object_type"] not in OBJECT_TYPES for s in scopes):
            return error(400, BAD_OBJECT_TYPE)
        if payload["name"] in self.names(owner):
            return error(409, DUPLICATE_KEY_NAME)
        kept = [] if admin or not scopes else scopes
        return Expected(
            200,
            {
                "api_key_id": AnyUUID(),
                "user_id": self.user_ids[owner] or AnyUUID(),
                "admin": admin,
                "name": payload["name"],
                "created_at": AnyTimestamp(),
                "last_used_at": None,
                "scopes": [
                    {
                        "scope_id": AnyUUID(),
                        "object_type": s["object_type"],
                        "object_id": s.get("object_id"),
                        "method": None,
                    }
                    for s in kept
                ],
                "secret_key": AnyToken(),
            },
        )

    def created(self, owner: str, body: dict[str, Any]) -> Key:
        """Record a 200 create answer; returns the new key."""
        view = {k: v for k, v in body.items() if k != "secret_key"}
        key = Key(view, owner, secret=body["secret_key"])
        self.keys[key.api_key_id] = key
        self.learn_user(owner, view["user_id"])
        return key

    def list(self, owner: str, page: int | None, limit: int | None) -> Expected:
        entries = negative_entries(page, limit)
        if entries:
            return error(422, entries)
        page = 0 if page is None else page
        limit = DEFAULT_LIMIT if limit is None else limit
        size = limit or DEFAULT_LIMIT
        mine = self.alive(owner)
        start = page * size
        items = [k.view for k in mine[start : start + size]] if start < len(mine) else []
        return Expected(
            200,
            {"total": len(mine), "page": page, "limit": limit, "items": items, "cord_refs": None},
        )

    def owned(self, owner: str, api_key_id: str) -> Key | None:
        key = self.keys.get(api_key_id)
        return key if key is not None and key.alive and key.owner == owner else None

    def get(self, owner: str, api_key_id: str) -> Expected:
        key = self.owned(owner, api_key_id)
        if key is None:
            return error(404, GET_KEY_NOT_FOUND.format(api_key_id=api_key_id))
        return Expected(200, key.view)

    def delete(self, owner: str, api_key_id: str) -> Expected:
        if self.owned(owner, api_key_id) is None:
            return error(404, DELETE_KEY_NOT_FOUND)
        return Expected(200, {"api_key_id": api_key_id, "deleted": True})

    def deleted(self, api_key_id: str) -> None:
        self.keys[api_key_id].alive = False

    def registry(self) -> Expected:
        headers = {}
        if self.registry_password is not None:
            encoded = base64.b64encode(f":{self.registry_password}".encode()).decode()
            headers["authorization"] = f"Basic {encoded}"
        return Expected(200, {"authenticated": True}, headers)

    def registry_by_hotkey(self, owner: str) -> Expected | None:
        """None while it is unknown whether `owner`'s hotkey is on the metagraph."""
        known = self.registered[owner]
        if known is None:
            return None
        return self.registry() if known else error(401, NOT_REGISTERED.format(netuid=self.netuid))

    def with_key(self, key: Key, path: str) -> Expected:
        """A GET of `path` (the registry, the list or one key) authenticated by `key`:
        refused unless alive and admin (no path here is a scoped object, §4)."""
        if not key.alive or not key.admin:
            return error(401, API_KEY_REFUSED)
        if path == "/registry/auth":
            return self.registry()
        if path == "/api_keys/":
            return self.list(key.owner, None, None)
        return self.get(key.owner, path.removeprefix("/api_keys/"))
