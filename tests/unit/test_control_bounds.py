"""Every /_mock/ input is bounded (openapi/control.yaml), so that no control
call holds the event loop up: past a bound is a 422 naming the field and the
limit, checked before anything is derived or stored."""

from __future__ import annotations

import pytest
from substrateinterface import Keypair

from mock_server import hotkeys
from tests.unit.harness import ALICE_ID, Mock

CONTROL_LIMIT = 64 * 1024
EVE = Keypair.create_from_uri("//Eve")


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every hotkey derivation the mock asks for (each answers Eve)."""
    asked: list[str] = []

    def derive(*, uri: str | None = None, seed: str | None = None) -> Keypair:
        asked.append(uri or seed or "")
        return EVE

    monkeypatch.setattr(hotkeys, "keypair_from", derive)
    return asked


def test_a_1_mb_uri_is_refused_before_any_derivation(mock: Mock, derivations: list[str]) -> None:
    """Reading: a ~1 MB derivation URI held the loop for ~19 s (derivation
    costs time per path element); now the body's size or the field's length
    refuses it first."""
    huge = mock.client.post("/_mock/users", json={"username": "big", "uri": "//a" * 350_000})
    assert (huge.status_code, huge.json()) == (
        413,
        {"detail": f"Request body too large (limit {CONTROL_LIMIT} bytes)"},
    )
    long = mock.client.post("/_mock/users", json={"username": "big", "uri": "//a" * 86})
    assert long.status_code == 422
    assert long.json()["detail"] == [
        {
            "type": "string_too_long",
            "loc": ["body", "uri"],
            "msg": "String should have at most 256 characters",
            "input": "//a" * 86,
            "ctx": {"max_length": 256},
        }
    ]
    assert derivations == []
    fits = mock.client.post("/_mock/users", json={"username": "fits", "uri": "/a" * 128})
    assert fits.status_code == 200
    assert derivations == ["/a" * 128]


TOO_LONG = "string_too_long"
USER = {"username": "u"}
KEY = {"user_id": ALICE_ID, "name": "k"}
SCOPED = {**KEY, "admin": False}


@pytest.mark.parametrize(
    ("method", "path", "body", "loc", "kind", "limit"),
    [
        ("POST", "/_mock/users", {"username": "u" * 65}, ["username"], TOO_LONG, 64),
        ("POST", "/_mock/users", {**USER, "user_id": "1" * 65}, ["user_id"], TOO_LONG, 64),
        ("POST", "/_mock/users", {**USER, "hotkey": "5" * 65}, ["hotkey"], TOO_LONG, 64),
        ("POST", "/_mock/users", {**USER, "uri": "/" * 257}, ["uri"], TOO_LONG, 256),
        ("POST", "/_mock/users", {**USER, "seed": "0" * 67}, ["seed"], TOO_LONG, 66),
        ("POST", "/_mock/users", {**USER, "registered_on": [1] * 65}, ["registered_on"],
         "too_long", 64),
        ("POST", "/_mock/users", {**USER, "registered_on": [65536]}, ["registered_on", 0],
         "less_than_equal", 65535),
        ("PUT", "/_mock/metagraph/65536/5Grw", None, ["netuid"], "less_than_equal", 65535),
        ("DELETE", "/_mock/metagraph/64/" + "5" * 65, None, ["hotkey"], TOO_LONG, 64),
        ("POST", "/_mock/jwt", {"user_id": "1" * 65}, ["user_id"], TOO_LONG, 64),
        ("POST", "/_mock/jwt", {"user_id": ALICE_ID, "ttl": 1e300}, ["ttl"], "less_than_equal",
         253402300799),
        ("PUT", "/_mock/clock", {"now": 1e300}, ["now"], "less_than_equal", 253402300799),
        ("POST", "/_mock/keys", {**KEY, "user_id": "1" * 65}, ["user_id"], TOO_LONG, 64),
        ("POST", "/_mock/keys", {**KEY, "name": "n" * 129}, ["name"], TOO_LONG, 128),
        ("POST", "/_mock/keys", {**KEY, "secret_key": "c" * 129}, ["secret_key"], TOO_LONG, 128),
        ("POST", "/_mock/keys", {**SCOPED, "scopes": [{"object_type": "chutes"}] * 65},
         ["scopes"], "too_long", 64),
        ("POST", "/_mock/keys", {**SCOPED, "scopes": [{"object_type": "c" * 65}]},
         ["scopes", 0, "object_type"], TOO_LONG, 64),
        ("POST", "/_mock/keys", {**SCOPED, "scopes": [{"object_type": "chutes",
         "object_id": "i" * 257}]}, ["scopes", 0, "object_id"], TOO_LONG, 256),
    ],
)  # fmt: skip
def test_each_control_input_is_bounded(
    mock: Mock, method: str, path: str, body: dict | None, loc: list, kind: str, limit: int
) -> None:
    before = mock.client.get("/_mock/state").json()
    response = mock.request(method, path, json=body)
    assert response.status_code == 422, response.text
    [entry] = response.json()["detail"]
    where = "path" if body is None else "body"
    assert (entry["type"], entry["loc"]) == (kind, [where, *loc])
    assert limit in entry["ctx"].values()
    assert str(limit) in entry["msg"]
    after = mock.client.get("/_mock/state").json()
    assert after["users"] == before["users"] and after["keys"] == before["keys"]


def test_values_at_the_bounds_are_taken(mock: Mock) -> None:
    user = mock.add_user("u" * 64, registered_on=[65535] * 64)
    assert user["username"] == "u" * 64
    mock.register("5" * 64, netuid=65535)
    scopes = [{"object_type": "c" * 64, "object_id": "i" * 256}] * 64
    key = mock.add_key(ALICE_ID, "n" * 128, admin=False, scopes=scopes)
    assert len(key["scopes"]) == 64


def test_a_control_body_is_at_most_64_kib(mock: Mock) -> None:
    padding = {"username": "p", "note": "x" * CONTROL_LIMIT}
    bodied = [("POST", "/_mock/users"), ("POST", "/_mock/keys"), ("PUT", "/_mock/clock")]
    for method, path in bodied:
        response = mock.request(method, path, json=padding)
        assert (response.status_code, response.json()) == (
            413,
            {"detail": f"Request body too large (limit {CONTROL_LIMIT} bytes)"},
        )
    fits = {"username": "p", "note": "x" * (CONTROL_LIMIT - 40)}
    assert mock.request("POST", "/_mock/users", json=fits).status_code == 200


SUB_TOO_LONG = {"detail": "sub must be at most 1024 characters as JSON"}


@pytest.mark.parametrize("sub", ["x" * 1023, [[0] * 10] * 100, "y" * 5000])
def test_a_chosen_sub_is_bounded(mock: Mock, sub: object) -> None:
    response = mock.client.post("/_mock/jwt", json={"user_id": ALICE_ID, "sub": sub})
    assert (response.status_code, response.json()) == (400, SUB_TOO_LONG)


def test_a_deep_sub_is_refused_not_crashed(mock: Mock) -> None:
    deep = b'{"user_id": "' + ALICE_ID.encode() + b'", "sub": ' + b"[" * 900 + b"]" * 900 + b"}"
    response = mock.request("POST", "/_mock/jwt", content=deep)
    assert (response.status_code, response.json()) == (400, SUB_TOO_LONG)
    fits = mock.client.post("/_mock/jwt", json={"user_id": ALICE_ID, "sub": "x" * 1022})
    assert fits.status_code == 200
