"""`MockServer`'s helpers do what the control API does, typed: add a user,
register and unregister a hotkey, give a key or a JWT, read the state."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from mock_server import MockControlError, MockKey, MockServer
from tests.unit.harness import ALICE_ID

CHARLIE = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y"  # //Charlie


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(seed=5) as running:
        yield running


@pytest.fixture
def mock(server: MockServer) -> MockServer:
    server.reset()
    return server


def get(mock: MockServer, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{mock.url}{path}", headers=headers, timeout=30)


def test_add_user_with_a_uri_can_sign_and_register(mock: MockServer) -> None:
    carol = mock.add_user("carol", uri="//Charlie")
    assert (carol.username, carol.hotkey) == ("carol", CHARLIE)
    assert get(mock, "/api_keys/", {"Authorization": f"Bearer {carol.jwt}"}).status_code == 200
    signed = mock.sign("carol", "GET", "/registry/auth")
    assert get(mock, "/registry/auth", signed).status_code == 401  # not on the metagraph
    mock.register(CHARLIE)
    assert CHARLIE in mock.state()["metagraph"]["64"]
    assert get(mock, "/registry/auth", mock.sign("carol", "GET", "/registry/auth")).is_success
    mock.unregister(CHARLIE)
    assert CHARLIE not in mock.state()["metagraph"]["64"]
    assert (
        get(mock, "/registry/auth", mock.sign("carol", "GET", "/registry/auth")).status_code == 401
    )


def test_add_user_registered_on_a_subnet(mock: MockServer) -> None:
    mock.add_user("dave", hotkey=CHARLIE, registered_on=[7])
    assert mock.state()["metagraph"]["7"] == [CHARLIE]
    with pytest.raises(ValueError, match="cannot sign as 'dave'"):
        mock.sign("dave", "GET", "/api_keys/")  # a bare hotkey: no seed to sign with


def test_refusals_are_the_control_apis(mock: MockServer) -> None:
    with pytest.raises(MockControlError, match="409") as refused:
        mock.add_user("alice")
    assert refused.value.status == 409
    with pytest.raises(MockControlError, match="not an ss58 address"):
        mock.add_user("erin", hotkey="not-a-hotkey")
    with pytest.raises(MockControlError) as bounded:
        mock.register(CHARLIE, netuid=70000)
    assert bounded.value.status == 422
    with pytest.raises(KeyError, match="no user 'mallory'"):
        mock.add_key("mallory", "k")


def test_add_key_returns_the_secret_and_it_works(mock: MockServer) -> None:
    key = mock.add_key("alice", "ci")
    assert isinstance(key, MockKey)
    assert (key.user_id, key.name, key.admin) == (ALICE_ID, "ci", True)
    assert key.secret_key not in repr(key)
    assert get(mock, "/api_keys/", {"Authorization": f"Basic {key.secret_key}"}).is_success
    scoped = mock.add_key(
        "alice", "reader", admin=False, scopes=[{"object_type": "chutes", "action": "read"}]
    )
    assert not scoped.admin and scoped.scopes[0]["object_type"] == "chutes"
    listed = get(mock, "/api_keys/", {"Authorization": f"Basic {key.secret_key}"}).json()
    assert {scoped.api_key_id, key.api_key_id} <= {k["api_key_id"] for k in listed["items"]}
    with pytest.raises(MockControlError, match="secret_key must be a cpk_ token"):
        mock.add_key("bob", "fixed", secret_key=key.secret_key)  # alice's, not bob's


def test_jwt_with_a_ttl_expires_on_the_mocks_clock(mock: MockServer) -> None:
    token = mock.jwt("alice", ttl=60)
    assert get(mock, "/api_keys/", {"Authorization": f"Bearer {token}"}).status_code == 200
    mock.advance_clock(61)
    assert get(mock, "/api_keys/", {"Authorization": f"Bearer {token}"}).status_code == 401
    mock.freeze_clock(None)
    expired = mock.jwt("bob", ttl=-1)
    assert get(mock, "/api_keys/", {"Authorization": f"Bearer {expired}"}).status_code == 401


def test_jwt_with_a_chosen_subject(mock: MockServer) -> None:
    token = mock.jwt("alice", sub=12345)
    payload = token.split(".")[1]
    decoded = json.loads(
        __import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    assert decoded["sub"] == 12345
    assert get(mock, "/api_keys/", {"Authorization": f"Bearer {token}"}).status_code == 401


def test_state_never_shows_a_secret(mock: MockServer) -> None:
    key = mock.add_key("alice", "hidden")
    text = json.dumps(mock.state())
    assert key.api_key_id in text and key.secret_key not in text


def test_helpers_work_without_a_socket() -> None:
    with MockServer(serve=False) as mock:
        mock.add_user("carol", uri="//Charlie", registered_on=[64])
        key = mock.add_key("carol", "ci")
        with httpx.Client(transport=mock.transport(), base_url=mock.url) as client:
            headers = {"Authorization": f"Basic {key.secret_key}"}
            assert client.get("/api_keys/", headers=headers).json()["total"] == 1
            signed = mock.sign("carol", "GET", "/registry/auth")
            assert client.get("/registry/auth", headers=signed).status_code == 200
