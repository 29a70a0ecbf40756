"""The example client against the mock: the `chutes_mock` fixture gives a
fresh mock per test (one server per session), and its journal shows what
the client actually sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keys_client import ApiError, KeysClient

from mock_server import MockServer


@pytest.fixture
def alice(chutes_mock: MockServer) -> Iterator[KeysClient]:
    """A client with alice's admin API key."""
    client = KeysClient(chutes_mock.url, api_key=chutes_mock.user("alice").api_key)
    yield client
    client.close()


def test_create_then_list(alice: KeysClient, chutes_mock: MockServer) -> None:
    created = alice.create("laptop")
    assert created["secret_key"].startswith("cpk_")
    names = [key["name"] for key in alice.list()["items"]]
    assert "laptop" in names
    sent = [(r.method, r.path, r.auth_kind, r.status) for r in chutes_mock.requests()]
    assert sent == [
        ("POST", "/api_keys/", "api_key", 200),
        ("GET", "/api_keys/", "api_key", 200),
    ]


def test_each_test_starts_from_the_seeded_state(alice: KeysClient, chutes_mock) -> None:
    assert chutes_mock.requests() == []
    assert "laptop" not in [key["name"] for key in alice.list()["items"]]


def test_paging_goes_in_the_query_once(alice: KeysClient, chutes_mock: MockServer) -> None:
    alice.list(page=1, limit=5)
    [request] = chutes_mock.requests(path="/api_keys/")
    assert request.query == {"page": "1", "limit": "5"}


def test_hotkey_signing(chutes_mock: MockServer) -> None:
    def alice_signs(method: str, path: str, body: bytes) -> dict[str, str]:
        return chutes_mock.sign("alice", method, path, body)

    client = KeysClient(chutes_mock.url, signer=alice_signs)
    created = client.create("signed", admin=False)
    assert client.get(created["api_key_id"])["name"] == "signed"
    client.delete(created["api_key_id"])
    assert {r.auth_kind for r in chutes_mock.requests()} == {"hotkey"}
    client.close()


def test_errors_carry_the_servers_detail(alice: KeysClient, chutes_mock: MockServer) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ApiError) as raised:
        alice.get(missing)
    assert raised.value.status == 404
    assert missing in raised.value.detail
    assert [r.path for r in chutes_mock.requests(status=404)] == [f"/api_keys/{missing}"]


def test_an_expired_token_is_refused(chutes_mock: MockServer) -> None:
    client = KeysClient(chutes_mock.url, jwt=chutes_mock.user("alice").jwt)
    assert client.list()["total"] >= 1
    chutes_mock.advance_clock(2 * 86400)  # the fixture's JWTs last a day
    with pytest.raises(ApiError) as raised:
        client.list()
    assert raised.value.status == 401
    client.close()


def test_on_the_mocks_transport_no_socket(chutes_mock: MockServer) -> None:
    """The same client, calling the mock in-process: faster, no port."""
    key = chutes_mock.add_key("alice", "sdk-tests")  # a helper: no signing needed
    client = KeysClient(chutes_mock.url, api_key=key.secret_key, transport=chutes_mock.transport())
    created = client.create("via-transport")
    assert created["name"] == "via-transport"
    assert [r.auth_kind for r in chutes_mock.requests()] == ["api_key"]
    client.close()


def test_signing_holds_on_the_transport(chutes_mock: MockServer) -> None:
    def alice_signs(method: str, path: str, body: bytes) -> dict[str, str]:
        return chutes_mock.sign("alice", method, path, body)

    client = KeysClient(chutes_mock.url, signer=alice_signs, transport=chutes_mock.transport())
    assert client.create("signed-in-process")["name"] == "signed-in-process"
    client.close()


@pytest.mark.chutes_mock(quirks="D3")
def test_production_keeps_a_deleted_key_for_a_while(chutes_mock: MockServer) -> None:
    """A test of its own server, with production's D3: a deleted key that was
    used keeps working up to 60 s, so a client must not count on a revoke
    taking effect at once."""
    key = chutes_mock.add_key("alice", "soon-revoked")
    client = KeysClient(chutes_mock.url, api_key=key.secret_key, transport=chutes_mock.transport())
    client.list()  # the first use opens production's 60 s cache window
    client.delete(key.api_key_id)
    assert client.list()["total"] >= 1  # still accepted
    chutes_mock.advance_clock(61)
    with pytest.raises(ApiError) as raised:
        client.list()
    assert raised.value.status == 401
    client.close()
