"""A plain-Python model of what the server holds per user, and what it answers.

The model starts from the keys each user already has on the target (they are
only ever read), learns server-made values (ids, timestamps, secrets) from
create responses, and predicts every other answer exactly: status, body and,
for the registry, its `Authorization` header. The rules are written from
docs/behaviour.md, not taken from the mock.

Each prediction is the contract's answer. Where production's known deviations
(behaviour §7) would change it, the prediction also carries `variants`: the
answer production gives with those deviations, worked out by the same rules
in a "world" where they hold. Date-times without an offset (D5) are not a
variant but a way of matching (`matches(..., naive=True)`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

from tests.support.details import (
    API_KEY_REFUSED,
    BAD_KEY_NAME,
    BAD_OBJECT_TYPE,
    BELOW_ZERO,
    DELETE_KEY_NOT_FOUND,
    DUPLICATE_KEY_NAME,
    GET_KEY_NOT_FOUND,
    INVALID_NONCE,
    JWT_INVALID,
    NO_MATCHING_CHUTE,
    NOT_REGISTERED,
)
from tests.support.lax import lax_bool as read_lax_bool
from tests.support.lax import lax_int
from tests.support.secret import Secret, reveal

OBJECT_TYPES = ("images", "chutes", "invocations")
ACTIONS = ("read", "write", "delete", "invoke")
DEFAULT_LIMIT = 25
INT64_MAX = 2**63 - 1  # production's page/limit/offset overflow past this (D7)
D3_WINDOW = 60.0  # production honours a deleted key this long after its first use
NONCE_CRASH_DIGITS = 308  # more digits than this crash production's nonce check (D6)
INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
_NAIVE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?")
TOKEN = re.compile(r"cpk_([a-f0-9]{32})\.([a-f0-9]{32})\.[a-zA-Z0-9]{32}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# Server-made values: a prediction says only what they must look like. ------
class Matcher:
    """A placeholder in an expected body for a value the server makes."""

    def matches(self, value: Any, naive: bool = False) -> bool:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


class AnyUUID(Matcher):
    def matches(self, value: Any, naive: bool = False) -> bool:
        return isinstance(value, str) and bool(_UUID.fullmatch(value))

    def __repr__(self) -> str:
        return "<uuid>"


class AnyTimestamp(Matcher):
    """RFC 3339 with an offset; with `naive`, also production's form without one (D5)."""

    def matches(self, value: Any, naive: bool = False) -> bool:
        try:
            if datetime.fromisoformat(value).tzinfo is not None:
                return True
        except (TypeError, ValueError):
            return False
        return naive and bool(_NAIVE.fullmatch(value))

    def __repr__(self) -> str:
        return "<date-time with offset>"


class AnyToken(Matcher):
    def matches(self, value: Any, naive: bool = False) -> bool:
        return isinstance(value, str) and bool(TOKEN.fullmatch(value))

    def __repr__(self) -> str:
        return "<cpk_ token>"


class InAnyOrder(list):
    """A list the contract gives in no order: a key's `scopes` (production loads
    them with no ORDER BY, so a list answer may give them otherwise than the
    create answer did). Matched as a permutation."""


def with_scopes_in_any_order(view: dict[str, Any]) -> dict[str, Any]:
    scopes = view.get("scopes")
    return {**view, "scopes": InAnyOrder(scopes)} if isinstance(scopes, list) else view


def matches(expected: Any, actual: Any, naive: bool = False) -> bool:
    """Deep equality where `Matcher`s accept any value they describe; with
    `naive`, a server-made date-time may lack its offset (D5)."""
    if isinstance(expected, Matcher):
        return expected.matches(actual, naive)
    if isinstance(expected, InAnyOrder):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return False
        left = list(actual)
        for wanted in expected:
            found = next((i for i, got in enumerate(left) if matches(wanted, got, naive)), None)
            if found is None:
                return False
            left.pop(found)
        return True
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(expected[k], actual[k], naive) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a, naive) for e, a in zip(expected, actual, strict=True))
        )
    return type(expected) is type(actual) and expected == actual


@dataclass(frozen=True)
class Variant:
    """Production's answer where the known deviations `deviations` hold."""

    deviations: frozenset[str]
    expected: Expected


@dataclass(frozen=True)
class Expected:
    """A predicted answer: status, JSON body (with matchers) and headers; the
    answers production's deviations would give instead in `variants`."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    variants: tuple[Variant, ...] = field(default=(), compare=False)


def error(status: int, detail: Any) -> Expected:
    return Expected(status, {"detail": detail})


# Where production crashes (D1, D4, D6, D7, D11): Starlette's plain-text 500.
PRODUCTION_500 = Expected(
    500, "Internal Server Error", {"content-type": "text/plain; charset=utf-8"}
)

World = frozenset[str]  # the deviations a prediction assumes; empty: the contract
CONTRACT: World = frozenset()


def code_order(code: str) -> int:
    """D2 before D10."""
    return int(code[1:]) if code[1:].isdigit() else 0


def with_variants(predict: Callable[[World], Expected], relevant: Iterable[str]) -> Expected:
    """The contract's answer, carrying each different answer production gives
    under a set of the `relevant` deviations (the smallest set that gives it)."""
    contract = predict(CONTRACT)
    codes = sorted(set(relevant), key=code_order)
    seen = [contract]
    variants = []
    for size in range(1, len(codes) + 1):
        for chosen in combinations(codes, size):
            answer = predict(frozenset(chosen))
            if all(answer != other for other in seen):
                seen.append(answer)
                variants.append(Variant(frozenset(chosen), answer))
    return replace(contract, variants=tuple(variants))


# The rules, from behaviour §4. ------------------------------------------------
def name_char_allowed(char: str) -> bool:
    """A word character, $ . -, whitespace, or in U+0080..U+FFFF."""
    return char.isalnum() or char in "_$.-" or char.isspace() or 0x80 <= ord(char) <= 0xFFFF


def name_allowed(name: str) -> bool:
    return 1 <= len(name) <= 24 and all(name_char_allowed(c) for c in name)


def token_parts(token: str) -> tuple[str, str] | None:
    """The (key id hex, user id hex) of a well-formed token, else None."""
    match = TOKEN.fullmatch(token)
    return (match[1], match[2]) if match else None


def name_allowed_by_production(name: str) -> bool:
    """Production anchors its pattern with `$`, which also matches before a
    final newline: 24 characters and a trailing newline pass (D9)."""
    return name_allowed(name) or (name.endswith("\n") and name_allowed(name[:-1]))


def lax_bool(value: Any) -> Any:
    """What production's lax validation makes of a boolean field (D10): the
    boolean it reads (`lax.lax_bool`), else the value as it is."""
    read = read_lax_bool(value)
    return value if read is None else read


Param = int | str | None  # a query parameter: a whole number, raw text, or absent


def param_entries(
    params: dict[str, Param], world: World
) -> tuple[dict[str, int | None], list[dict[str, Any]]]:
    """page and limit as the server reads them, and FastAPI's 422 entries for those
    it refuses, in parameter order: text that is no integer (`1.0` passes under
    D10), a negative value (no bound under D1)."""
    values: dict[str, int | None] = {}
    entries: list[dict[str, Any]] = []
    for name, value in params.items():
        if isinstance(value, str):
            if "D10" in world and (read := lax_int(value)) is not None:
                value = read
            else:
                entries.append(
                    {
                        "type": "int_parsing",
                        "loc": ["query", name],
                        "msg": INT_PARSING,
                        "input": value,
                    }
                )
                continue
        values[name] = value
        if value is not None and value < 0 and "D1" not in world:
            entries.append(
                {
                    "type": "greater_than_equal",
                    "loc": ["query", name],
                    "msg": BELOW_ZERO,
                    "input": str(value),
                    "ctx": {"ge": 0},
                }
            )
    return values, entries


def bool_entry(value: Any, lax: bool = False) -> dict[str, Any]:
    """The 422 entry for `admin`. Lax (D10), text and whole numbers it cannot
    read as booleans are `bool_parsing`; anything else is `bool_type`."""
    whole = type(value) is int or (type(value) is float and value.is_integer())
    if lax and (isinstance(value, str) or whole):
        kind, msg = "bool_parsing", "Input should be a valid boolean, unable to interpret input"
    else:
        kind, msg = "bool_type", "Input should be a valid boolean"
    return {"type": kind, "loc": ["body", "admin"], "msg": msg, "input": value}


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


def last_segment(path: str) -> str:
    """What production reads as the object type and id of a path (D8)."""
    return path.split("?")[0].rstrip("/").rsplit("/", 1)[-1] if path.rstrip("/") else ""


Grant = tuple[str, str | None, str | None]  # object_type, object_id, action
METHOD_ACTIONS = {"GET": "read", "HEAD": "read", "POST": "write", "PUT": "write", "PATCH": "write"}
METHOD_ACTIONS["DELETE"] = "delete"
# §1's routing of a request no operation takes: the slash variants redirect.
REDIRECTS = {"/api_keys": "/api_keys/", "/registry/auth/": "/registry/auth"}
_OPERATION_PATH = re.compile(r"/registry/auth|/api_keys/|/api_keys/[^/]+")


# The state. -----------------------------------------------------------------------
@dataclass
class Key:
    """One key as the model knows it."""

    view: dict[str, Any]  # the APIKey body (no secret)
    owner: str  # "A" or "B"
    secret: str | None = field(default=None, repr=False)  # None: there before the run
    alive: bool = True
    grants: tuple[Grant, ...] = ()  # the scopes asked for, with their actions (not shown)
    cached_at: float | None = None  # latest start of production's cache entry for it (D3)
    cached_from: float | None = None  # ... and its earliest: the use was sent then

    @property
    def api_key_id(self) -> str:
        return self.view["api_key_id"]

    @property
    def admin(self) -> bool:
        return self.view["admin"]

    @property
    def existing(self) -> bool:
        return self.secret is None

    def honoured(self, now: float) -> bool:
        """Production still accepts it at `now` (D3): deleted inside the window
        that a use, made while it was alive, opened."""
        return self.alive or (self.cached_at is not None and now < self.cached_at + D3_WINDOW)

    def d3_edge_wait(self, now: float, margin: float) -> float:
        """Seconds until `now` is `margin` clear of the end of D3's window (0:
        clear already). The entry started between a use's send and its answer,
        so its end is known only to that span; a request sent inside it (or
        within `margin`, its own way to the server) could be honoured or not,
        and a use there could open a new window or not."""
        if self.cached_at is None:
            return 0.0
        end_lo = (self.cached_from or self.cached_at) + D3_WINDOW
        end_hi = self.cached_at + D3_WINDOW
        if end_lo - margin <= now <= end_hi + margin:
            return end_hi + margin - now
        return 0.0

    def scoped_for(self, method: str, path: str) -> bool:
        """A scope lets production pass it on `path`, read as object type and id
        `/a/b` -> `b` (D8): that type, id null or that, action null or the method's."""
        segment = last_segment(path)
        action = METHOD_ACTIONS.get(method)
        return any(
            kind == segment and oid in (None, segment) and act in (None, action)
            for kind, oid, act in self.grants
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a drawn key: never with its secret (reports reach CI logs)."""
        printer.text(repr(self))


@dataclass
class Model:
    """What the server should hold for users A and B."""

    netuid: int = 64
    registry_password: Secret | str | None = None
    user_ids: dict[str, str | None] = field(default_factory=lambda: {"A": None, "B": None})
    registered: dict[str, bool | None] = field(default_factory=lambda: {"A": True, "B": None})
    keys: dict[str, Key] = field(default_factory=dict)  # every key seen, alive or deleted

    # Learning -------------------------------------------------------------
    def add_existing(self, owner: str, view: dict[str, Any]) -> None:
        self.keys[view["api_key_id"]] = Key(with_scopes_in_any_order(view), owner)
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
        """The contract's answer; production's where a 24-character name with a
        newline passes (D9), scopes null crashes (D4), `admin` is coerced (D10)."""
        return with_variants(lambda world: self._create(owner, payload, world), ("D4", "D9", "D10"))

    def _create(self, owner: str, payload: dict[str, Any], world: World) -> Expected:
        scopes = payload.get("scopes", [])
        admin = lax_bool(payload["admin"]) if "D10" in world else payload["admin"]
        lax = "D10" in world
        entries = ([] if isinstance(admin, bool) else [bool_entry(admin, lax)]) + action_entries(
            scopes
        )
        if entries:
            return error(422, entries)
        allowed = name_allowed_by_production if "D9" in world else name_allowed
        if not allowed(payload["name"]):
            return error(400, BAD_KEY_NAME)
        if not admin and scopes is None and "D4" in world:
            return PRODUCTION_500
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

    def created(self, owner: str, body: dict[str, Any], payload: dict[str, Any]) -> Key:
        """Record a 200 create answer to `payload`; returns the new key."""
        view = with_scopes_in_any_order({k: v for k, v in body.items() if k != "secret_key"})
        asked = payload.get("scopes") if not view["admin"] else None
        grants = tuple((s["object_type"], s.get("object_id"), s.get("action")) for s in asked or [])
        key = Key(view, owner, secret=body["secret_key"], grants=grants)
        self.keys[key.api_key_id] = key
        self.learn_user(owner, view["user_id"])
        return key

    def list(self, owner: str, page: Param, limit: Param) -> Expected:
        """The contract's answer; production's where negative values crash (D1),
        values past 64 bits crash (D7), `1.0` is read as 1 (D10)."""
        return with_variants(
            lambda world: self._list(owner, page, limit, world), ("D1", "D7", "D10")
        )

    def _list(self, owner: str, page: Param, limit: Param, world: World) -> Expected:
        values, entries = param_entries({"page": page, "limit": limit}, world)
        if entries:
            return error(422, entries)
        page = 0 if values["page"] is None else values["page"]
        limit = DEFAULT_LIMIT if values["limit"] is None else values["limit"]
        size = limit or DEFAULT_LIMIT
        if "D1" in world and min(page, limit) < 0:
            return PRODUCTION_500
        if "D7" in world and max(page, limit, page * size) > INT64_MAX:
            return PRODUCTION_500
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
        """The contract's header; production writes the bytes object, `b'...'` (D2)."""
        return with_variants(self._registry, ("D2",))

    def _registry(self, world: World) -> Expected:
        headers = {}
        if self.registry_password is not None:
            encoded = base64.b64encode(f":{reveal(self.registry_password)}".encode())
            shown = str(encoded) if "D2" in world else encoded.decode()
            headers["authorization"] = f"Basic {shown}"
        return Expected(200, {"authenticated": True}, headers)

    def registry_by_hotkey(self, owner: str) -> Expected | None:
        """None while it is unknown whether `owner`'s hotkey is on the metagraph."""
        known = self.registered[owner]
        if known is None:
            return None
        return self.registry() if known else error(401, NOT_REGISTERED.format(netuid=self.netuid))

    def with_key(
        self,
        key: Key,
        path: str,
        now: float,
        method: str = "GET",
        payload: dict[str, Any] | None = None,
    ) -> Expected:
        """`method path` (any of the five operations; `payload` for a create)
        authenticated by `key` at `now`: refused unless alive and admin (no path
        here is a scoped object, §4), else the operation's own answer for the
        key's owner. Production honours a deleted key for its window (D3) and
        lets a non-admin key through on `/api_keys/<its scope's type>` (D8)."""
        relevant = ("D2", "D3", "D8") + (("D4", "D9", "D10") if method == "POST" else ())
        return with_variants(
            lambda world: self._with_key(key, path, now, world, method, payload), relevant
        )

    def _with_key(
        self,
        key: Key,
        path: str,
        now: float,
        world: World,
        method: str = "GET",
        payload: dict[str, Any] | None = None,
    ) -> Expected:
        accepted = key.alive or ("D3" in world and key.honoured(now))
        passes = key.admin or ("D8" in world and key.scoped_for(method, path))
        if not accepted or not passes:
            return error(401, API_KEY_REFUSED)
        if path == "/registry/auth":
            return self._registry(world)
        if path == "/api_keys/" and method == "POST":
            return self._create(key.owner, payload or {}, world)
        if path == "/api_keys/":
            return self._list(key.owner, None, None, world)
        if method == "DELETE":
            return self.delete(key.owner, path.removeprefix("/api_keys/"))
        return self.get(key.owner, path.removeprefix("/api_keys/"))

    def off_route(self, key: Key, method: str, path: str, now: float, base_url: str) -> Expected:
        """A request no operation takes, authenticated by `key` at `now`. The
        contract routes it before reading any credential (307 to the slash
        variant, 405, 404). Production's catch-all (D12) reads the key and
        answers its owner 404 (no matching chute), anyone else 401; a
        non-admin key passes where a scope matches the last path segment (D8),
        a deleted key within its window (D3)."""
        return with_variants(
            lambda world: self._off_route(key, method, path, now, base_url, world),
            ("D3", "D8", "D12"),
        )

    def _off_route(
        self, key: Key, method: str, path: str, now: float, base_url: str, world: World
    ) -> Expected:
        if "D12" not in world:
            if path in REDIRECTS:
                return Expected(307, "", {"location": base_url + REDIRECTS[path]})
            if _OPERATION_PATH.fullmatch(path):
                return error(405, "Method Not Allowed")
            return error(404, "Not Found")
        accepted = key.alive or ("D3" in world and key.honoured(now))
        passes = key.admin or ("D8" in world and key.scoped_for(method, path))
        return error(404, NO_MATCHING_CHUTE) if accepted and passes else error(401, API_KEY_REFUSED)

    def used(self, key: Key, sent_at: float, answered_at: float) -> None:
        """`key` was presented while alive: production caches it for 60 s from its
        first use, and again from the first use after that window has surely
        ended (D3); the entry starts by the time the answer came."""
        if not key.alive:
            return
        if key.cached_at is None or sent_at >= key.cached_at + D3_WINDOW:
            key.cached_from, key.cached_at = sent_at, answered_at


def nonce_refusal(nonce: str) -> Expected:
    """The refusal of a nonce that is not ASCII digits. Production runs `int()`
    after `str.isdigit()`: a non-ASCII digit (`²`) or hundreds of digits crash it (D6)."""
    crashes = nonce.isdigit() and (not nonce.isascii() or len(nonce) > NONCE_CRASH_DIGITS)

    def predict(world: World) -> Expected:
        return PRODUCTION_500 if crashes and "D6" in world else error(401, INVALID_NONCE)

    return with_variants(predict, ("D6",))


def jwt_refusal(sub: Any) -> Expected:
    """The refusal of a well-signed JWT whose `sub` names no user (§5). Production
    crashes on a `sub` that is there but not a string (D11)."""

    def predict(world: World) -> Expected:
        crashes = sub is not None and not isinstance(sub, str)
        return PRODUCTION_500 if crashes and "D11" in world else error(401, JWT_INVALID)

    return with_variants(predict, ("D11",))
