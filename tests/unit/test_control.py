"""The /_mock/ control API (openapi/control.yaml) and its exposure guard."""

from __future__ import annotations

import pytest
from substrateinterface import Keypair

from mock_server.app import create_app
from mock_server.clock import Clock
from mock_server.settings import Settings
from tests.unit.harness import ALICE, ALICE_ID, BASE, BOB, NOW, Mock, TestClient

TOKEN_REQUIRED = {"detail": "Missing or wrong X-Mock-Control-Token"}


def test_reset_restores_the_seeded_state(mock: Mock) -> None:
    before = mock.client.get("/_mock/state").json()
    alice_key, bob_key = mock.admin_key("alice"), mock.admin_key("bob")
    mock.created(ALICE, "temporary")
    mock.add_user("carol", uri="//Charlie")
    mock.register(BOB.ss58_address)
    response = mock.client.post("/_mock/reset")
    assert response.status_code == 200
    after = response.json()
    assert after["users"] == before["users"]
    assert after["metagraph"] == before["metagraph"]
    assert [k["api_key_id"] for k in after["keys"]] == [k["api_key_id"] for k in before["keys"]]
    assert mock.client.get("/_mock/clock").json()["frozen"] is False
    assert mock.with_key(alice_key, "GET", "/api_keys/").json()["total"] == 1
    assert mock.with_key(bob_key, "GET", "/registry/auth").status_code == 200
    assert mock.signed(BOB, "GET", "/registry/auth").status_code == 401


def test_add_user_by_uri_and_sign_as_them(mock: Mock) -> None:
    user = mock.add_user("carol", uri="//Charlie", registered_on=[64])
    carol = Keypair.create_from_uri("//Charlie")
    assert user["username"] == "carol" and user["hotkey"] == carol.ss58_address
    assert mock.signed(carol, "GET", "/api_keys/").json()["total"] == 0
    assert mock.signed(carol, "GET", "/registry/auth").status_code == 200


def test_add_user_with_a_chosen_id(mock: Mock) -> None:
    user_id = "c0c00000-0000-4000-8000-000000000003"
    assert (
        mock.add_user("carol", user_id=user_id, hotkey=Keypair.create_from_uri("//C").ss58_address)[
            "user_id"
        ]
        == user_id
    )


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"username": "alice"}, 409),
        ({"username": "x", "hotkey": ALICE.ss58_address}, 409),
        ({"username": "x", "hotkey": "nope"}, 400),
        ({"username": "x", "uri": "//X", "hotkey": ALICE.ss58_address}, 400),
        ({"username": "x", "user_id": "not-a-uuid"}, 400),
        ({"username": "x", "user_id": ALICE_ID}, 409),
        ({"hotkey": "x"}, 422),
    ],
)
def test_add_user_refusals(mock: Mock, fields: dict, status: int) -> None:
    response = mock.client.post("/_mock/users", json=fields)
    assert response.status_code == status
    assert response.json()["detail"]


def test_register_and_unregister(mock: Mock) -> None:
    hotkey = BOB.ss58_address
    put = mock.client.put(f"/_mock/metagraph/64/{hotkey}")
    assert put.json() == {"netuid": 64, "hotkey": hotkey, "registered": True}
    assert mock.signed(BOB, "GET", "/registry/auth").status_code == 200
    gone = mock.client.delete(f"/_mock/metagraph/64/{hotkey}")
    assert gone.json() == {"netuid": 64, "hotkey": hotkey, "registered": False}
    assert mock.signed(BOB, "GET", "/registry/auth").status_code == 401
    assert mock.client.get("/_mock/state").json()["metagraph"]["64"] == [ALICE.ss58_address]


def test_metagraph_netuid_must_be_an_integer(mock: Mock) -> None:
    response = mock.client.put(f"/_mock/metagraph/abc/{BOB.ss58_address}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "netuid"]


def test_clock_get_set_advance(mock: Mock) -> None:
    assert mock.client.get("/_mock/clock").json() == {"now": NOW, "frozen": True}
    assert mock.client.put("/_mock/clock", json={"now": 1000.5}).json() == {
        "now": 1000.5,
        "frozen": True,
    }
    assert mock.client.post("/_mock/clock/advance", json={"seconds": 10}).json() == {
        "now": 1010.5,
        "frozen": True,
    }
    assert mock.client.post("/_mock/clock/advance", json={"seconds": -0.5}).json()["now"] == 1010.0
    real = mock.client.put("/_mock/clock", json={"now": None}).json()
    assert real["frozen"] is False and real["now"] > NOW - 10**9


def test_clock_bad_bodies_are_422(mock: Mock) -> None:
    assert mock.client.put("/_mock/clock", json={"now": "soon"}).status_code == 422
    assert mock.client.post("/_mock/clock/advance", json={}).status_code == 422


LATEST = 253402300799  # 9999-12-31T23:59:59Z


@pytest.mark.parametrize(
    ("now", "kind"), [(-1, "greater_than_equal"), (LATEST + 1, "less_than_equal")]
)
def test_clock_is_set_only_to_a_time_a_timestamp_can_show(mock: Mock, now: int, kind: str) -> None:
    response = mock.client.put("/_mock/clock", json={"now": now})
    assert response.status_code == 422
    [entry] = response.json()["detail"]
    assert (entry["type"], entry["loc"], entry["input"]) == (kind, ["body", "now"], now)
    assert mock.client.get("/_mock/clock").json()["now"] == NOW


@pytest.mark.parametrize("seconds", [1e12, 1e308, -(NOW + 1)])
def test_clock_is_not_moved_out_of_range(mock: Mock, seconds: float) -> None:
    """Reading: past year 9999 no `created_at` can be written; a key created
    then would get a 500, so the move is refused and the clock stays."""
    response = mock.client.post("/_mock/clock/advance", json={"seconds": seconds})
    assert (response.status_code, response.json()) == (
        400,
        {
            "detail": f"Moving the clock by {seconds} seconds would take it out of"
            " 0 to 253402300799 (9999-12-31T23:59:59Z)"
        },
    )
    assert mock.client.get("/_mock/clock").json()["now"] == NOW
    assert mock.created(ALICE, "still-datable")["created_at"].startswith("20")


def test_clock_at_the_edge_of_its_range_still_dates_keys(mock: Mock) -> None:
    mock.client.put("/_mock/clock", json={"now": LATEST})
    response = mock.client.post("/_mock/keys", json={"user_id": ALICE_ID, "name": "last"})
    assert response.status_code == 200
    assert response.json()["created_at"] == "9999-12-31T23:59:59+00:00"
    assert mock.client.post("/_mock/clock/advance", json={"seconds": 1}).status_code == 400


def test_clock_moves_the_nonce_window(mock: Mock) -> None:
    mock.client.post("/_mock/clock/advance", json={"seconds": 600})
    assert mock.signed(ALICE, "GET", "/api_keys/", nonce=NOW).status_code == 401
    assert mock.signed(ALICE, "GET", "/api_keys/", nonce=NOW + 1).status_code == 200


def test_state_has_no_secrets(mock: Mock) -> None:
    created = mock.created(ALICE, "visible")
    jwt = mock.jwt()
    text = mock.client.get("/_mock/state").text
    assert created["api_key_id"] in text and "visible" in text
    for secret in (created["secret_key"], mock.admin_key("alice"), mock.admin_key("bob")):
        assert secret not in text and secret.rsplit(".", 1)[1] not in text
    assert "secret_key" not in text
    assert mock.state.jwt_secret not in text and jwt not in text
    assert "fingerprint" not in text


def test_mint_jwt_for_an_unknown_user_is_404(mock: Mock) -> None:
    response = mock.client.post("/_mock/jwt", json={"user_id": "nobody"})
    assert response.status_code == 404


def test_add_key_with_a_chosen_secret(mock: Mock) -> None:
    secret = "cpk_" + "1" * 32 + "." + ALICE_ID.replace("-", "") + "." + "S" * 32
    made = mock.add_key(ALICE_ID, "chosen", secret_key=secret)
    assert made["secret_key"] == secret
    assert mock.with_key(secret, "GET", "/api_keys/").status_code == 200


def test_add_key_with_a_secret_of_another_user_is_400(mock: Mock) -> None:
    secret = "cpk_" + "1" * 32 + "." + "b" * 32 + "." + "S" * 32
    response = mock.client.post(
        "/_mock/keys", json={"user_id": ALICE_ID, "name": "x", "secret_key": secret}
    )
    assert response.status_code == 400


def test_control_token_is_required_on_every_call(make_mock) -> None:
    mock = make_mock(control_token="tok3n")
    calls = [("GET", "/_mock/state"), ("POST", "/_mock/reset"), ("GET", "/_mock/clock")]
    for method, path in calls:
        missing = mock.request(method, path)
        assert (missing.status_code, missing.json()) == (401, TOKEN_REQUIRED)
        wrong = mock.request(method, path, headers={"X-Mock-Control-Token": "tok3"})
        assert (wrong.status_code, wrong.json()) == (401, TOKEN_REQUIRED)
        right = mock.request(method, path, headers={"X-Mock-Control-Token": "tok3n"})
        assert right.status_code == 200


def test_control_token_does_not_touch_the_contract(make_mock) -> None:
    mock = make_mock(control_token="tok3n")
    assert mock.signed(ALICE, "GET", "/api_keys/").status_code == 200


@pytest.mark.parametrize(("method", "path"), [("GET", "/_mock/state"), ("POST", "/_mock/reset")])
def test_control_off_is_404(make_mock, method: str, path: str) -> None:
    mock = make_mock(control=False)
    response = mock.request(method, path)
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    assert mock.signed(ALICE, "GET", "/api_keys/").status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_non_loopback_host_is_refused_without_token(host: str) -> None:
    refusal = Settings(host=host).unsafe_exposure()
    assert refusal is not None
    assert host in refusal and "--control-token" in refusal and "--no-control" in refusal
    assert Settings(host=host, control_token="t").unsafe_exposure() is None
    assert Settings(host=host, control=False).unsafe_exposure() is None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_host_is_fine(host: str) -> None:
    assert Settings(host=host).unsafe_exposure() is None


def test_huge_integer_moves_are_refused_not_overflowed(mock: Mock) -> None:
    """Reading: a running clock is a float; adding an integer past 1.8e308 to
    it overflows, so the bounds are checked before the sum."""
    mock.client.put("/_mock/clock", json={"now": None})
    moved = mock.client.post("/_mock/clock/advance", json={"seconds": 10**309})
    assert moved.status_code == 400
    assert moved.json()["detail"].startswith(f"Moving the clock by {10**309} seconds")
    minted = mock.client.post("/_mock/jwt", json={"user_id": ALICE_ID, "ttl": 10**309})
    assert minted.status_code == 422
    [entry] = minted.json()["detail"]
    assert (entry["type"], entry["loc"]) == ("less_than_equal", ["body", "ttl"])


def test_a_running_clock_stops_at_the_end_of_its_range() -> None:
    """Reading: an advance checked at the call could drift past 9999 with real
    time, and every key view would fail; the running clock stops there."""
    real = [float(NOW)]
    app = create_app(clock=Clock(source=lambda: real[0]))
    client = TestClient(app, base_url=BASE)
    assert client.post("/_mock/clock/advance", json={"seconds": LATEST - NOW - 0.5}).is_success
    real[0] += 10
    assert client.get("/_mock/clock").json() == {"now": LATEST, "frozen": False}
    created = client.post("/_mock/keys", json={"user_id": ALICE_ID, "name": "late"})
    assert created.json()["created_at"] == "9999-12-31T23:59:59+00:00"
    assert client.get("/_mock/state").status_code == 200
    real[0] += 86400 * 365
    back = client.post("/_mock/clock/advance", json={"seconds": -3600})
    assert back.json() == {"now": LATEST - 3600, "frozen": False}


def test_user_registrations_are_whole_netuids(mock: Mock) -> None:
    body = {"username": "dave", "uri": "//Dave", "registered_on": [65.0]}
    assert mock.client.post("/_mock/users", json=body).status_code == 200
    assert "65" in mock.client.get("/_mock/state").json()["metagraph"]
    refused = mock.client.post(
        "/_mock/users", json={**body, "username": "e", "registered_on": [-1]}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "greater_than_equal"


def test_an_empty_hotkey_is_no_hotkey(mock: Mock) -> None:
    added = mock.client.post("/_mock/users", json={"username": "nokey", "hotkey": ""})
    assert added.json()["hotkey"] is None


UNREADABLE_URI = "the uri is neither a dev URI such as //Alice nor a mnemonic"


def test_an_unparseable_uri_gets_a_clear_detail(mock: Mock) -> None:
    added = mock.client.post("/_mock/users", json={"username": "u", "uri": "//"})
    assert (added.status_code, added.json()) == (
        400,
        {"detail": f"Cannot derive a hotkey: {UNREADABLE_URI}"},
    )
