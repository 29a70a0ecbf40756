"""Fixture files: the users, registrations and keys the mock starts with.

A fixture is resolved once (hotkeys derived; key secrets, scope ids and the
users' JWT fingerprints generated where the file gives none) and then applied
to an empty store at start and at every reset, so a reset gives back the very
same users, keys, secrets and scope ids, and JWTs minted before it stay valid.
"""

from __future__ import annotations

import difflib
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mock_server import hotkeys, keys
from mock_server.store import Store

ACTIONS = {"read", "write", "delete", "invoke", None}

# The fields each level of a fixture file knows; any other is refused, so a
# typo (`registred: true`) stops the start instead of being silently dropped.
TOP_FIELDS = ("users", "registrations")
USER_FIELDS = (
    "username",
    "user_id",
    "uri",
    "seed",
    "hotkey",
    "registered",
    "registered_on",
    "keys",
)
KEY_FIELDS = ("name", "admin", "scopes", "secret_key")
SCOPE_FIELDS = ("object_type", "object_id", "action")


class FixtureError(ValueError):
    """The fixture file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class FixtureKey:
    name: str
    admin: bool
    scopes: tuple[tuple[str, str | None, str | None], ...]
    secret_key: str
    scope_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FixtureUser:
    username: str
    user_id: str
    hotkey: str | None
    uri: str | None
    seed: str | None
    registered_on: tuple[int, ...]
    keys: tuple[FixtureKey, ...] = ()
    fingerprint: str | None = field(default=None, repr=False)  # the salt of its JWT secret


@dataclass(frozen=True)
class Fixture:
    users: tuple[FixtureUser, ...]
    registrations: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def apply(self, store: Store, now: float) -> None:
        """Seed an empty store with this fixture."""
        for netuid, hotkey_list in self.registrations.items():
            for hotkey in hotkey_list:
                store.register(netuid, hotkey)
        for user in self.users:
            store.add_user(user.username, user.hotkey, user.user_id, user.fingerprint)
            for netuid in user.registered_on:
                if user.hotkey:
                    store.register(netuid, user.hotkey)
            for key in user.keys:
                store.create_key(
                    user.user_id,
                    key.name,
                    key.admin,
                    key.scopes,
                    now,
                    token=key.secret_key,
                    scope_ids=key.scope_ids,
                )


def load_fixture(path: Path, *, netuid: int, rng: random.Random) -> Fixture:
    """Read and resolve a fixture file; raises FixtureError with the reason."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise FixtureError(f"{path}: not valid YAML: {exc}") from None
    return resolve_fixture(raw or {}, netuid=netuid, rng=rng, where=str(path))


def resolve_fixture(raw: Any, *, netuid: int, rng: random.Random, where: str) -> Fixture:
    if not isinstance(raw, dict):
        raise FixtureError(f"{where}: the top level must be a mapping with 'users'")
    _refuse_unknown(raw, TOP_FIELDS, where, "at the top level")
    users_raw = raw.get("users") or []
    if not isinstance(users_raw, list):
        raise FixtureError(f"{where}: 'users' must be a list")
    users = tuple(
        _resolve_user(item, netuid, rng, f"{where}: users[{i}]") for i, item in enumerate(users_raw)
    )
    registrations: dict[int, tuple[str, ...]] = {}
    for key, value in (raw.get("registrations") or {}).items():
        try:
            registrations[int(key)] = tuple(str(h) for h in value)
        except (TypeError, ValueError):
            raise FixtureError(
                f"{where}: registrations must map a netuid to a list of hotkeys"
            ) from None
    return Fixture(users, registrations)


# Fixture users without a `user_id` get one derived from their username, the
# same on every start and for `chutes-mock client-config`, which has no server
# to ask.
USER_ID_NAMESPACE = uuid.UUID("5e1f0c4e-1d7a-4c39-9f3b-6d0a8c2b7e51")


def default_user_id(username: str) -> str:
    return str(uuid.uuid5(USER_ID_NAMESPACE, username))


def _resolve_user(item: Any, netuid: int, rng: random.Random, where: str) -> FixtureUser:
    if not isinstance(item, dict) or not isinstance(item.get("username"), str):
        raise FixtureError(f"{where}: each user needs a 'username' string")
    _refuse_unknown(item, USER_FIELDS, where, f"in user {item['username']!r}")
    uri, seed, hotkey = item.get("uri"), item.get("seed"), item.get("hotkey")
    if sum(v is not None for v in (uri, seed, hotkey)) > 1:
        raise FixtureError(f"{where}: give one of 'uri', 'seed' or 'hotkey'")
    for name, value in (("uri", uri), ("seed", seed), ("hotkey", hotkey)):
        if value is not None and not isinstance(value, str):
            # Never the value: a seed is a secret (YAML reads 0x... as an int).
            raise FixtureError(
                f"{where}: '{name}' must be a string, YAML read a {type(value).__name__}: quote it"
            )
    try:
        if uri or seed:
            hotkey = hotkeys.keypair_from(uri=uri, seed=seed).ss58_address
    except Exception as exc:
        raise FixtureError(f"{where}: cannot derive a hotkey: {exc}") from None
    if hotkey is not None and not hotkeys.is_valid_address(str(hotkey)):
        raise FixtureError(f"{where}: {hotkey!r} is not an ss58 address")
    if uri and not seed:
        seed = hotkeys.DEV_SEEDS.get(uri)
    user_id = str(item.get("user_id") or default_user_id(item["username"]))
    try:
        user_id = str(uuid.UUID(user_id))
    except ValueError:
        raise FixtureError(f"{where}: user_id {user_id!r} is not a UUID") from None
    registered_on = [int(n) for n in item.get("registered_on") or []]
    if item.get("registered"):
        registered_on.append(netuid)
    fixture_keys = tuple(
        _resolve_key(k, user_id, rng, f"{where}.keys[{i}]")
        for i, k in enumerate(item.get("keys") or [])
    )
    names = [k.name for k in fixture_keys]
    if len(names) != len(set(names)):
        raise FixtureError(f"{where}: key names must be unique per user")
    return FixtureUser(
        item["username"],
        user_id,
        hotkey,
        uri,
        seed,
        tuple(dict.fromkeys(registered_on)),
        fixture_keys,
        keys.new_secret(rng),
    )


def _resolve_key(item: Any, user_id: str, rng: random.Random, where: str) -> FixtureKey:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise FixtureError(f"{where}: each key needs a 'name' string")
    _refuse_unknown(item, KEY_FIELDS, where, f"in key {item['name']!r}")
    admin = item.get("admin", True)
    if not isinstance(admin, bool):
        raise FixtureError(f"{where}: 'admin' must be true or false")
    scopes = []
    for j, scope in enumerate(item.get("scopes") or []):
        if not isinstance(scope, dict) or not isinstance(scope.get("object_type"), str):
            raise FixtureError(f"{where}.scopes[{j}]: needs an 'object_type' string")
        _refuse_unknown(scope, SCOPE_FIELDS, f"{where}.scopes[{j}]", "in a scope")
        if scope.get("action") not in ACTIONS:
            raise FixtureError(f"{where}.scopes[{j}]: action must be read, write, delete or invoke")
        scopes.append((scope["object_type"], scope.get("object_id"), scope.get("action")))
    secret = item.get("secret_key")
    if secret is None:
        secret = keys.make_token(keys.new_uuid(rng), user_id, keys.new_secret(rng))
    parsed = keys.parse_token(str(secret))
    if parsed is None or parsed[1] != user_id:
        raise FixtureError(
            f"{where}: secret_key must match cpk_<key id hex>.<user id hex>.<32 alphanumerics> "
            f"with this user's id ({uuid.UUID(user_id).hex})"
        )
    kept = () if admin else tuple(scopes)
    scope_ids = tuple(keys.new_uuid(rng) for _ in kept)
    return FixtureKey(item["name"], admin, kept, str(secret), scope_ids)


def _refuse_unknown(item: dict, known: tuple[str, ...], where: str, entry: str) -> None:
    """Refuse the first field of `item` that `known` lacks, naming it, the entry and the file."""
    for name in item:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise FixtureError(
                f"{where}: unknown field {name!r} {entry}{hint}; known fields: {', '.join(known)}"
            )
