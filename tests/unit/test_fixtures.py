"""Fixture files: what the mock starts with, and what every reset restores."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from substrateinterface import Keypair

from mock_server.fixtures import FixtureError, load_fixture
from mock_server.settings import DEFAULT_FIXTURES
from tests.unit.harness import ALICE, ALICE_ID, BOB, BOB_ID, Mock

CAROL_SEED = "0x" + "42" * 32
CAROL_KEY = "cpk_" + "c" * 32 + ".c0c00000000040008000000000000003." + "K" * 32
FIXTURE = f"""
users:
  - username: carol
    user_id: c0c00000-0000-4000-8000-000000000003
    seed: "{CAROL_SEED}"
    registered_on: [7]
    keys:
      - name: pre-made
        secret_key: {CAROL_KEY}
      - name: scoped
        admin: false
        scopes: [{{object_type: chutes, action: read}}]
  - username: dave
registrations:
  64: [{BOB.ss58_address}]
"""


def test_default_fixture() -> None:
    fixture = load_fixture(DEFAULT_FIXTURES, netuid=64, rng=random.Random(0))
    alice, bob = fixture.users
    assert (alice.username, alice.user_id, alice.hotkey, alice.registered_on) == (
        "alice",
        ALICE_ID,
        ALICE.ss58_address,
        (64,),
    )
    assert (bob.username, bob.user_id, bob.hotkey, bob.registered_on) == (
        "bob",
        BOB_ID,
        BOB.ss58_address,
        (),
    )
    assert [(k.name, k.admin) for k in alice.keys] == [("mock-admin", True)]
    assert [(k.name, k.admin) for k in bob.keys] == [("mock-admin", True)]


def test_a_custom_fixture_is_served(make_mock, tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(FIXTURE)
    mock = make_mock(fixtures=path, netuid=7)
    carol = Keypair.create_from_seed(CAROL_SEED[2:])
    listed = mock.with_key(CAROL_KEY, "GET", "/api_keys/").json()
    assert sorted((i["name"], i["admin"]) for i in listed["items"]) == [
        ("pre-made", True),
        ("scoped", False),
    ]
    assert listed["total"] == 2
    assert mock.signed(carol, "GET", "/registry/auth").status_code == 200
    assert mock.signed(ALICE, "GET", "/api_keys/").status_code == 401
    users = mock.client.get("/_mock/state").json()["users"]
    dave = next(u for u in users if u["username"] == "dave")
    assert dave["hotkey"] is None
    assert mock.client.get("/_mock/state").json()["metagraph"] == {
        "7": [carol.ss58_address],
        "64": [BOB.ss58_address],
    }


def test_reset_keeps_generated_secrets(mock: Mock) -> None:
    """Secrets the fixture did not give are made once, at start."""
    key = mock.admin_key("bob")
    mock.client.post("/_mock/reset")
    assert mock.with_key(key, "GET", "/api_keys/").status_code == 200


def test_seed_makes_ids_and_secrets_reproducible(make_mock) -> None:
    one, two = make_mock(seed=7), make_mock(seed=7)
    assert one.admin_key("alice") == two.admin_key("alice")
    assert one.state.jwt_secret == two.state.jwt_secret
    assert make_mock(seed=8).admin_key("alice") != one.admin_key("alice")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("users: 5", "'users' must be a list"),
        (
            "users:\n  - username: x\n    uri: //X\n    seed: '00'\n",
            "give one of 'uri', 'seed' or 'hotkey'",
        ),
        ("users:\n  - username: x\n    hotkey: nope\n", "'nope' is not an ss58 address"),
        (
            "users:\n  - username: x\n    keys: [{name: a}, {name: a}]\n",
            "key names must be unique per user",
        ),
        ("users:\n  - username: x\n    keys: [{admin: true}]\n", "each key needs a 'name' string"),
        (
            "users:\n  - username: x\n    keys: [{name: a, admin: 'yes'}]\n",
            "'admin' must be true or false",
        ),
        (
            "users:\n  - username: x\n    keys: [{name: a, secret_key: cpk_x}]\n",
            "secret_key must match",
        ),
        (
            "users:\n  - username: x\n    keys:\n      - {name: a, admin: false,"
            " scopes: [{object_type: c, action: fly}]}\n",
            "action must be read, write, delete or invoke",
        ),
        ("registrations: {abc: [x]}\n", "registrations must map a netuid to a list of hotkeys"),
        ("user: []\n", "unknown field 'user' at the top level (did you mean 'users'?)"),
        (
            "users:\n  - username: alice\n    uri: //Alice\n    registred: true\n",
            "users[0]: unknown field 'registred' in user 'alice' (did you mean 'registered'?)",
        ),
        (
            "users:\n  - username: x\n    keys: [{name: a, admn: false}]\n",
            "users[0].keys[0]: unknown field 'admn' in key 'a' (did you mean 'admin'?)",
        ),
        (
            "users:\n  - username: x\n    keys:\n      - {name: a, admin: false,"
            " scopes: [{object_type: chutes, method: read}]}\n",
            "users[0].keys[0].scopes[0]: unknown field 'method' in a scope",
        ),
        (
            "users:\n  - username: x\n    keys:\n      - {name: a,"
            " scopes: [{object_type: chutes, 7: read}]}\n",
            "users[0].keys[0].scopes[0]: unknown field 7 in a scope",
        ),
    ],
)
def test_bad_fixture_is_refused_with_the_reason(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(FixtureError) as caught:
        load_fixture(path, netuid=64, rng=random.Random(0))
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_an_unknown_field_names_every_field_known_there(tmp_path: Path) -> None:
    """Reading: a typo such as `registred: true` was dropped silently and alice
    came up unregistered; it now stops the start, naming file, entry and field."""
    path = tmp_path / "typo.yaml"
    path.write_text("users:\n  - username: alice\n    uri: //Alice\n    registred: true\n")
    with pytest.raises(FixtureError) as caught:
        load_fixture(path, netuid=64, rng=random.Random(0))
    assert str(caught.value) == (
        f"{path}: users[0]: unknown field 'registred' in user 'alice' (did you mean"
        " 'registered'?); known fields: username, user_id, uri, seed, hotkey, registered,"
        " registered_on, keys"
    )
