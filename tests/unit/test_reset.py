"""`/_mock/reset` brings back the start state: users, keys, secrets, scope
ids and their `created_at`, so credentials made before a reset keep working."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server import jwt_tokens
from tests.unit.harness import ALICE_ID, BOB_ID, NOW, Mock
from tests.unit.test_fixtures import FIXTURE


def state_without_now(mock: Mock) -> dict:
    state = mock.client.get("/_mock/state").json()
    del state["now"]
    return state


def test_jwts_minted_before_a_reset_stay_valid(mock: Mock) -> None:
    """Reading: the JWT secret is the user's fingerprint plus the server's
    secret (behaviour §5); a reset must keep both, the banner's token included."""
    minted = [mock.jwt(ALICE_ID), mock.jwt(BOB_ID, ttl=60)]
    state = mock.state
    alice = state.store.user(ALICE_ID)
    banner = jwt_tokens.mint(alice, state.jwt_secret, state.clock.now(), 86400)  # as cli.py
    minted.append(banner)
    for token in minted:
        assert mock.with_key(token, "GET", "/api_keys/", scheme="Bearer").status_code == 200
    assert mock.client.post("/_mock/reset").status_code == 200
    mock.client.put("/_mock/clock", json={"now": NOW})
    for token in minted:
        response = mock.with_key(token, "GET", "/api_keys/", scheme="Bearer")
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("seed", [None, 7])
def test_a_reset_restores_the_state_at_start(make_mock, tmp_path: Path, seed: int | None) -> None:
    path = tmp_path / "fixtures.yaml"
    path.write_text(FIXTURE)
    mock = make_mock(fixtures=path, seed=seed)
    start = state_without_now(mock)
    [scoped] = [k for k in start["keys"] if k["name"] == "scoped"]
    assert len(scoped["scopes"]) == 1
    carol = next(u["user_id"] for u in start["users"] if u["username"] == "carol")
    mock.add_key(carol, "later", admin=False, scopes=[{"object_type": "images"}])
    mock.client.post("/_mock/clock/advance", json={"seconds": 3600})
    for _ in range(2):
        assert mock.client.post("/_mock/reset").status_code == 200
        assert state_without_now(mock) == start


def test_without_a_seed_ids_are_random_at_start(make_mock, tmp_path: Path) -> None:
    path = tmp_path / "fixtures.yaml"
    path.write_text(FIXTURE)
    one, two = make_mock(fixtures=path), make_mock(fixtures=path)
    assert state_without_now(one)["keys"] != state_without_now(two)["keys"]
    assert one.state.store.user(ALICE_ID) is None  # the file's users only
    with_seed = [make_mock(fixtures=path, seed=3), make_mock(fixtures=path, seed=3)]
    assert state_without_now(with_seed[0]) == state_without_now(with_seed[1])


def test_a_seeded_mock_repeats_its_ids_after_a_reset(make_mock) -> None:
    """With a seed, what a run makes after a reset is what it made after start."""
    mock = make_mock(seed=11)

    def run() -> tuple:
        user = mock.add_user("carol")["user_id"]
        key = mock.add_key(ALICE_ID, "made", admin=False, scopes=[{"object_type": "chutes"}])
        return user, key["api_key_id"], key["secret_key"], key["scopes"][0]["scope_id"]

    first = run()
    mock.client.post("/_mock/reset")
    assert run() == first
