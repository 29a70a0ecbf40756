"""`MockServer`: the mock in a background thread on a free loopback port."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from mock_server import MockServer
from tests.unit.harness import ALICE, ALICE_ID, BOB, NOW


def serving_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "chutes-mock"]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(seed=1) as running:
        yield running


@pytest.fixture
def mock(server: MockServer) -> MockServer:
    server.reset()
    server.clear_requests()
    return server


def test_with_serves_on_a_free_port_and_frees_it_on_exit() -> None:
    with MockServer() as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{server.url}/openapi.json").status_code == 200
        port = port_of(server.url)
        assert len(serving_threads()) == 1
    assert serving_threads() == []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # raises if the port were still held
    with pytest.raises(RuntimeError, match="not running"):
        server.url  # noqa: B018


def test_start_and_stop_without_with() -> None:
    server = MockServer().start()
    try:
        assert httpx.get(f"{server.url}/openapi.json").status_code == 200
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
    finally:
        server.stop()
    server.stop()  # idempotent
    assert not server.running and serving_threads() == []


def test_a_busy_port_fails_at_start() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = MockServer(port=busy.getsockname()[1])
        with pytest.raises(OSError):
            server.start()
    assert serving_threads() == []


def test_user_credentials_authenticate(mock: MockServer) -> None:
    alice = mock.user("alice")
    assert (alice.username, alice.user_id, alice.hotkey, alice.uri) == (
        "alice",
        ALICE_ID,
        ALICE.ss58_address,
        "//Alice",
    )
    for authorization in (f"Basic {alice.api_key}", f"Bearer {alice.jwt}"):
        response = httpx.get(f"{mock.url}/api_keys/", headers={"Authorization": authorization})
        assert response.status_code == 200, response.text
    assert alice.api_key not in repr(alice) and alice.jwt not in repr(alice)
    with pytest.raises(KeyError, match="no user 'mallory'"):
        mock.user("mallory")


def test_sign_gives_the_headers_for_exactly_that_request(mock: MockServer) -> None:
    url = mock.url
    assert httpx.get(f"{url}/api_keys/", headers=mock.sign("alice", "GET", "/api_keys/")).is_success
    assert httpx.get(
        f"{url}/registry/auth", headers=mock.sign("alice", "get", "/registry/auth")
    ).is_success
    body = json.dumps({"name": "signed", "admin": True}).encode()
    headers = {**mock.sign("alice", "POST", "/api_keys/", body), "Content-Type": "application/json"}
    created = httpx.post(f"{url}/api_keys/", content=body, headers=headers)
    assert created.status_code == 200, created.text
    other = body.replace(b"signed", b"sigged")
    assert httpx.post(f"{url}/api_keys/", content=other, headers=headers).status_code == 401
    path = f"/api_keys/{created.json()['api_key_id']}"
    assert httpx.delete(f"{url}{path}", headers=mock.sign("alice", "DELETE", path)).is_success
    signed_by_bob = mock.sign("bob", "GET", "/api_keys/")
    assert signed_by_bob["X-Chutes-Hotkey"] == BOB.ss58_address
    with pytest.raises(ValueError, match="not an operation of the contract"):
        mock.sign("alice", "GET", "/nope")


def test_the_clock_moves_and_sign_follows_it(mock: MockServer) -> None:
    mock.freeze_clock(NOW)
    assert httpx.get(f"{mock.url}/_mock/clock").json() == {"now": NOW, "frozen": True}
    mock.advance_clock(3600)
    assert mock.now() == NOW + 3600
    headers = mock.sign("alice", "GET", "/api_keys/")
    assert headers["X-Chutes-Nonce"] == str(NOW + 3600)
    assert httpx.get(f"{mock.url}/api_keys/", headers=headers).status_code == 200
    with pytest.raises(ValueError, match="the clock goes from 0"):
        mock.freeze_clock(-1)
    with pytest.raises(ValueError, match="the clock goes from 0"):
        mock.advance_clock(-2 * NOW)
    mock.freeze_clock(None)
    assert httpx.get(f"{mock.url}/_mock/clock").json()["frozen"] is False


def test_requests_and_reset(mock: MockServer) -> None:
    alice = mock.user("alice")
    auth = {"Authorization": f"Basic {alice.api_key}"}
    body = json.dumps({"name": "gone-after-reset", "admin": True}).encode()
    created = httpx.post(f"{mock.url}/api_keys/", content=body, headers=auth)
    assert created.status_code == 200
    httpx.get(f"{mock.url}/api_keys/", params={"limit": 1}, headers=auth)
    [listed] = mock.requests(method="GET")
    assert (listed.path, listed.query, listed.auth_kind, listed.user_id, listed.status) == (
        "/api_keys/",
        {"limit": "1"},
        "api_key",
        ALICE_ID,
        200,
    )
    assert [r.method for r in mock.requests()] == ["POST", "GET"]
    mock.reset()
    assert httpx.get(f"{mock.url}/api_keys/", headers=auth).json()["total"] == 1
    assert len(mock.requests()) == 3  # reset keeps the journal
    mock.clear_requests()
    assert mock.requests() == []


def test_quirks_and_journal_size() -> None:
    with MockServer(quirks=["D1"], journal_size=1) as server:
        auth = {"Authorization": f"Basic {server.user('alice').api_key}"}
        response = httpx.get(f"{server.url}/api_keys/", params={"page": -1}, headers=auth)
        assert (response.status_code, response.text) == (500, "Internal Server Error")
        httpx.get(f"{server.url}/api_keys/", headers=auth)
        assert [r.status for r in server.requests()] == [200]


def test_an_unknown_quirk_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown quirk"):
        MockServer(quirks="D99")


def test_fixtures_netuid_and_registry_password(tmp_path) -> None:
    import base64

    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(
        "users:\n  - username: carol\n    uri: //Charlie\n    registered: true\n"
        "    keys: [{name: ci}]\n"
    )
    with MockServer(fixtures=fixtures, netuid=12, registry_password="s3cret") as server:
        carol = server.user("carol")
        assert carol.api_key is not None
        headers = server.sign("carol", "GET", "/registry/auth")
        response = httpx.get(f"{server.url}/registry/auth", headers=headers)
        assert response.status_code == 200
        expected = "Basic " + base64.b64encode(b":s3cret").decode()
        assert response.headers["authorization"] == expected
        assert httpx.get(f"{server.url}/_mock/state").json()["metagraph"] == {"12": [carol.hotkey]}


def test_a_public_host_needs_a_control_token_or_no_control() -> None:
    refusal = r"non-loopback host '0\.0\.0\.0'.*control_token="
    with pytest.raises(ValueError, match=refusal) as refused:
        MockServer(host="0.0.0.0")
    assert "control=False" in str(refused.value)
    MockServer(host="0.0.0.0", control=False)  # may be built (not started here)
    MockServer(host="0.0.0.0", control_token="s3cret")


def test_a_control_token_guards_the_control_api_and_the_helpers_send_it() -> None:
    with MockServer(control_token="s3cret") as server:
        assert httpx.get(f"{server.url}/_mock/state").status_code == 401
        token = {"X-Mock-Control-Token": "s3cret"}
        assert httpx.get(f"{server.url}/_mock/state", headers=token).status_code == 200
        assert server.add_key("alice", "with-token").name == "with-token"


def test_without_the_control_api() -> None:
    with MockServer(control=False) as server:
        assert httpx.get(f"{server.url}/_mock/state").status_code == 404
        alice = server.user("alice")  # what needs no control API still works
        headers = {"Authorization": f"Bearer {alice.jwt}"}
        assert httpx.get(f"{server.url}/api_keys/", headers=headers).status_code == 200
        with pytest.raises(RuntimeError, match="control=False"):
            server.state()
