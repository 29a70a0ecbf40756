"""The in-memory state: users, metagraph registrations and API keys.

Every mutation goes through `Store` under one lock. A user's keys are kept
in a list sorted by (created_at, api_key_id), so a page of the list costs
O(page size) whatever the other users hold. Tokens are kept only as hashes.
Each key also has the place a database table would give its row (`slot`:
the earliest place a deleted key left, else the next), which only
production's unordered list (D13, `quirks.ordering`) reads.
"""

from __future__ import annotations

import bisect
import heapq
import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from mock_server import keys
from mock_server.errors import DUPLICATE_KEY_NAME, Conflict, NotFound


@dataclass(slots=True, frozen=True)
class User:
    user_id: str
    username: str
    hotkey: str | None
    fingerprint: str  # per-user salt of the JWT secret


@dataclass(slots=True, frozen=True)
class Scope:
    scope_id: str
    object_type: str
    object_id: str | None
    action: str | None


@dataclass(slots=True, frozen=True)
class ApiKey:
    api_key_id: str
    user_id: str
    admin: bool
    name: str
    created_at: float
    token_hash: bytes
    scopes: tuple[Scope, ...] = ()

    @property
    def order(self) -> tuple[float, str]:
        return (self.created_at, self.api_key_id)


_ORDER = attrgetter("order")


@dataclass(slots=True)
class _UserKeys:
    ordered: list[ApiKey] = field(default_factory=list)  # by ApiKey.order
    names: set[str] = field(default_factory=set)


class Store:
    """Users, metagraph and keys; `reset()` empties it for a re-seed."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.SystemRandom()
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._users: dict[str, User] = {}
            self._users_by_hotkey: dict[str, User] = {}
            self._users_by_name: dict[str, User] = {}
            self._metagraph: dict[int, set[str]] = {}
            self._keys: dict[str, ApiKey] = {}
            self._user_keys: dict[str, _UserKeys] = {}
            self._slots: dict[str, int] = {}  # api_key_id -> the row's place in the table
            self._free_slots: list[int] = []  # places deleted keys left (a heap)

    # Users --------------------------------------------------------------
    def add_user(
        self,
        username: str,
        hotkey: str | None,
        user_id: str | None = None,
        fingerprint: str | None = None,
    ) -> User:
        """A new user; `user_id` and `fingerprint` (the salt of its JWT secret)
        are random unless given, as a fixture gives them to outlast a reset."""
        with self._lock:
            user_id = user_id or keys.new_uuid(self.rng)
            if user_id in self._users:
                raise Conflict(f"A user with id {user_id} exists already")
            if username in self._users_by_name:  # an index: adding stays O(1) at any size
                raise Conflict(f"A user named {username} exists already")
            if hotkey and hotkey in self._users_by_hotkey:
                raise Conflict(f"A user with hotkey {hotkey} exists already")
            user = User(user_id, username, hotkey, fingerprint or keys.new_secret(self.rng))
            self._users[user_id] = user
            self._users_by_name[username] = user
            if hotkey:
                self._users_by_hotkey[hotkey] = user
            self._user_keys[user_id] = _UserKeys()
            return user

    def user(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def user_by_hotkey(self, hotkey: str) -> User | None:
        return self._users_by_hotkey.get(hotkey)

    def users(self) -> list[User]:
        return list(self._users.values())

    # Metagraph ------------------------------------------------------------
    def register(self, netuid: int, hotkey: str) -> None:
        with self._lock:
            self._metagraph.setdefault(netuid, set()).add(hotkey)

    def unregister(self, netuid: int, hotkey: str) -> None:
        with self._lock:
            self._metagraph.get(netuid, set()).discard(hotkey)

    def is_registered(self, netuid: int, hotkey: str) -> bool:
        return hotkey in self._metagraph.get(netuid, ())

    def metagraph(self) -> dict[int, list[str]]:
        return {netuid: sorted(hks) for netuid, hks in self._metagraph.items()}

    # Keys -----------------------------------------------------------------
    def create_key(
        self,
        user_id: str,
        name: str,
        admin: bool,
        scopes: Iterable[tuple[str, str | None, str | None]],
        created_at: float,
        token: str | None = None,
        scope_ids: Sequence[str] | None = None,
    ) -> tuple[ApiKey, str]:
        """Store a new key; returns it with its token (the only copy in clear).

        `scope_ids` name the scopes (one per scope), random unless given."""
        with self._lock:
            owned = self._user_keys.get(user_id)
            if owned is None:
                raise NotFound(f"No user with id {user_id}")
            if name in owned.names:
                raise Conflict(DUPLICATE_KEY_NAME)
            if token is None:
                api_key_id = keys.new_uuid(self.rng)
                token = keys.make_token(api_key_id, user_id, keys.new_secret(self.rng))
            else:
                parsed = keys.parse_token(token)
                if parsed is None or parsed[1] != user_id:
                    raise ValueError("secret_key must be a cpk_ token naming this user's id")
                api_key_id = parsed[0]
                if api_key_id in self._keys:
                    raise Conflict(f"A key with id {api_key_id} exists already")
            scopes = list(scopes)
            if scope_ids is None:
                scope_ids = [keys.new_uuid(self.rng) for _ in scopes]
            scope_rows = tuple(
                Scope(scope_id, *scope) for scope_id, scope in zip(scope_ids, scopes, strict=True)
            )
            key = ApiKey(
                api_key_id, user_id, admin, name, created_at, keys.hash_token(token), scope_rows
            )
            self._keys[api_key_id] = key
            self._slots[api_key_id] = (
                heapq.heappop(self._free_slots) if self._free_slots else len(self._slots)
            )
            bisect.insort(owned.ordered, key, key=_ORDER)
            owned.names.add(name)
            return key, token

    def key(self, api_key_id: str) -> ApiKey | None:
        return self._keys.get(api_key_id)

    def owned_key(self, user_id: str, api_key_id: str) -> ApiKey | None:
        key = self._keys.get(api_key_id)
        return key if key is not None and key.user_id == user_id else None

    def list_keys(self, user_id: str, offset: int, limit: int) -> tuple[int, list[ApiKey]]:
        """(total, keys[offset:offset+limit]) of one user, in stable order."""
        owned = self._user_keys.get(user_id)
        if owned is None:
            return 0, []
        ordered = owned.ordered
        return len(ordered), ordered[offset : offset + limit]

    def delete_key(self, user_id: str, api_key_id: str) -> bool:
        with self._lock:
            key = self.owned_key(user_id, api_key_id)
            if key is None:
                return False
            owned = self._user_keys[user_id]
            del owned.ordered[bisect.bisect_left(owned.ordered, key.order, key=_ORDER)]
            owned.names.discard(key.name)
            del self._keys[api_key_id]
            heapq.heappush(self._free_slots, self._slots.pop(api_key_id))
            return True

    def slot(self, api_key_id: str) -> int:
        """The key's place in the table: the order an unordered query returns."""
        return self._slots[api_key_id]

    def all_keys(self) -> list[ApiKey]:
        return [key for user_id in self._users for key in self._user_keys[user_id].ordered]

    def key_count(self) -> int:
        return len(self._keys)
