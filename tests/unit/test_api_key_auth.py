"""API keys (behaviour §2, §4): format, lookup, schemes, admin only, revocation."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.support import details as D
from tests.unit.harness import ALICE, ALICE_ID, ENDPOINTS, Mock

MALFORMED = {"detail": D.MALFORMED_API_KEY}
REFUSED = {"detail": D.API_KEY_REFUSED}
TOKEN = re.compile(r"^cpk_[a-f0-9]{32}\.[a-f0-9]{32}\.[a-zA-Z0-9]{32}$")


def mutate(token: str, index: int, char: str) -> str:
    return token[:index] + char + token[index + 1 :]


def test_created_token_format(mock: Mock) -> None:
    created = mock.created(ALICE, "k")
    token = created["secret_key"]
    assert len(token) == 102
    assert TOKEN.fullmatch(token)
    key_hex, user_hex = token[4:].split(".")[:2]
    assert key_hex == created["api_key_id"].replace("-", "")
    assert user_hex == ALICE_ID.replace("-", "")


@pytest.mark.parametrize("scheme", ["Basic", "Bearer", "", "basic", "Token", "Basic  "])
def test_schemes_all_take_the_last_word(mock: Mock, scheme: str) -> None:
    response = mock.with_key(mock.admin_key(), "GET", "/api_keys/", scheme=scheme)
    assert response.status_code == 200
    assert response.json()["items"][0]["user_id"] == ALICE_ID


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-1],  # 101 characters
        lambda t: t + "a",  # 103
        lambda t: t + "\n",  # trailing newline
        lambda t: t.upper(),  # upper-case hex
        lambda t: mutate(t, 101, "-"),  # non-alphanumeric secret
        lambda t: mutate(t, 36, ":"),  # separator
        lambda t: "cpk-" + t[4:],
        lambda t: "junk",
    ],
    ids=["101", "103", "newline", "upper", "secret-char", "separator", "prefix", "junk"],
)
def test_malformed_token(mock: Mock, change) -> None:
    response = mock.with_key(change(mock.admin_key()), "GET", "/api_keys/")
    assert (response.status_code, response.json()) == (401, MALFORMED)


def test_unknown_key_id(mock: Mock) -> None:
    token = mock.admin_key()
    response = mock.with_key("cpk_" + "0" * 32 + token[36:], "GET", "/api_keys/")
    assert (response.status_code, response.json()) == (401, REFUSED)


@pytest.mark.parametrize("index", [70, 101])
def test_wrong_secret(mock: Mock, index: int) -> None:
    token = mock.admin_key()
    wrong = mutate(token, index, "A" if token[index] != "A" else "B")
    response = mock.with_key(wrong, "GET", "/api_keys/")
    assert (response.status_code, response.json()) == (401, REFUSED)


def test_token_naming_another_user_is_refused(mock: Mock) -> None:
    """The whole token must match the stored hash, user part included."""
    token = mock.admin_key("alice")
    bob_hex = "b0b00000000040008000000000000002"
    response = mock.with_key(token[:37] + bob_hex + token[69:], "GET", "/api_keys/")
    assert (response.status_code, response.json()) == (401, REFUSED)


def paths(key_id: str) -> list[tuple[str, str]]:
    return [(method, path.replace("{id}", key_id)) for method, path in ENDPOINTS]


def test_non_admin_key_is_refused_everywhere(mock: Mock) -> None:
    scoped = mock.created(
        ALICE, "scoped", admin=False, scopes=[{"object_type": "chutes", "action": None}]
    )
    token = scoped["secret_key"]
    for method, path in [
        *paths(scoped["api_key_id"]),
        ("GET", "/api_keys/chutes"),
        ("GET", "/api_keys/images"),
        ("DELETE", "/api_keys/invocations"),
    ]:
        kwargs = {"json": {"name": "x", "admin": True}} if method == "POST" else {}
        response = mock.with_key(token, method, path, **kwargs)
        assert (response.status_code, response.json()) == (401, REFUSED), (method, path)


def test_admin_key_works_on_all_five(mock: Mock) -> None:
    key = mock.created(ALICE, "target")
    token = mock.admin_key()
    statuses = {}
    for method, path in paths(key["api_key_id"]):
        kwargs = {"json": {"name": "made-by-key", "admin": True}} if method == "POST" else {}
        statuses[method, path] = mock.with_key(token, method, path, **kwargs).status_code
    assert set(statuses.values()) == {200}


def test_admin_key_on_the_registry_skips_the_metagraph(mock: Mock) -> None:
    """Bob is not registered, his admin key is accepted anyway."""
    response = mock.with_key(mock.admin_key("bob"), "GET", "/registry/auth")
    assert (response.status_code, response.json()) == (200, {"authenticated": True})


def test_deleted_key_is_refused_at_once(mock: Mock) -> None:
    key = mock.created(ALICE, "short-lived")
    assert mock.with_key(key["secret_key"], "GET", "/api_keys/").status_code == 200
    assert mock.signed(ALICE, "DELETE", f"/api_keys/{key['api_key_id']}").status_code == 200
    response = mock.with_key(key["secret_key"], "GET", "/api_keys/")
    assert (response.status_code, response.json()) == (401, REFUSED)


def test_key_can_delete_itself_and_is_then_refused(mock: Mock) -> None:
    key = mock.created(ALICE, "self")
    path = f"/api_keys/{key['api_key_id']}"
    assert mock.with_key(key["secret_key"], "DELETE", path).status_code == 200
    assert mock.with_key(key["secret_key"], "GET", "/api_keys/").json() == REFUSED


def walk(value, seen: set[int]):
    """Every string reachable from `value`: attributes, slots, containers."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, bytes):
        yield value.decode("latin-1")
    elif isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk(k, seen)
            yield from walk(v, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from walk(v, seen)
    elif (
        dataclasses.is_dataclass(value) or hasattr(value, "__dict__") or hasattr(value, "__slots__")
    ):
        names = list(getattr(value, "__dict__", {}))
        for cls in type(value).__mro__:
            names += list(getattr(cls, "__slots__", ()))
        for name in names:
            if not name.startswith("__"):
                yield from walk(getattr(value, name, None), seen)


def test_store_never_holds_a_secret_in_clear(mock: Mock) -> None:
    created = mock.created(ALICE, "secret-check")
    token = created["secret_key"]
    secret_part = token.rsplit(".", 1)[1]
    assert mock.with_key(token, "GET", "/api_keys/").status_code == 200
    strings = list(walk(mock.state.store, set()))
    assert len(strings) > 10  # the walk does reach the store's contents
    assert created["api_key_id"] in strings
    fixture_tokens = [mock.admin_key("alice"), mock.admin_key("bob")]
    for string in strings:
        assert token not in string and secret_part not in string
        assert all(t not in string for t in fixture_tokens)


def test_a_created_secret_is_nowhere_in_the_state(mock: Mock) -> None:
    """Not in the store, the authenticator, the fixture or the settings."""
    token = mock.created(ALICE, "secret-check")["secret_key"]
    assert all(token.rsplit(".", 1)[1] not in s for s in walk(mock.state, set()))
