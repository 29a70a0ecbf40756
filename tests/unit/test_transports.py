"""`MockServer.transport()` and `async_transport()`: httpx clients that call
the app in-process. Every operation answers on them as over the wire, with
each way to authenticate, and a signature over the body holds byte for byte."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest

from mock_server import MockServer

AUTH_KINDS = ["hotkey", "api_key", "jwt"]
Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture(scope="module")
def served() -> Iterator[MockServer]:
    with MockServer(seed=3) as mock:
        yield mock


@pytest.fixture
def mock(served: MockServer) -> MockServer:
    served.reset()
    return served


def auth(mock: MockServer, kind: str) -> Callable[..., dict[str, str]]:
    """Headers for one request as alice, by `kind`."""
    alice = mock.user("alice")

    def headers(method: str, path: str, body: bytes = b"") -> dict[str, str]:
        if kind == "hotkey":
            return mock.sign("alice", method, path, body)
        if kind == "api_key":
            return {"Authorization": f"Basic {alice.api_key}"}
        return {"Authorization": f"Bearer {alice.jwt}"}

    return headers


async def walk(send: Send, headers: Callable[..., dict[str, str]]) -> list[tuple]:
    """The five operations over one key's life: what each answered, ids left out."""
    body = json.dumps({"name": "on-a-transport", "admin": True}).encode()
    created = await send(
        "POST",
        "/api_keys/",
        content=body,
        headers={**headers("POST", "/api_keys/", body), "Content-Type": "application/json"},
    )
    key_id = created.json()["api_key_id"]
    path = f"/api_keys/{key_id}"
    got = await send("GET", path, headers=headers("GET", path))
    listed = await send("GET", "/api_keys/", headers=headers("GET", "/api_keys/"))
    deleted = await send("DELETE", path, headers=headers("DELETE", path))
    gone = await send("GET", path, headers=headers("GET", path))
    registry = await send("GET", "/registry/auth", headers=headers("GET", "/registry/auth"))
    return [
        (created.status_code, sorted(created.json()), created.headers["content-type"]),
        (got.status_code, got.json()["name"], got.json()["api_key_id"] == key_id),
        (listed.status_code, key_id in [k["api_key_id"] for k in listed.json()["items"]]),
        (deleted.status_code, deleted.json() == {"api_key_id": key_id, "deleted": True}),
        (gone.status_code, gone.json()),
        (registry.status_code, registry.json(), registry.headers.get("authorization")),
    ]


def over_the_wire(mock: MockServer, kind: str) -> list[tuple]:
    with httpx.Client(base_url=mock.url) as client:

        async def send(method: str, path: str, **kwargs) -> httpx.Response:
            return client.request(method, path, **kwargs)

        return asyncio.run(walk(send, auth(mock, kind)))


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_the_sync_transport_answers_as_the_wire_does(mock: MockServer, kind: str) -> None:
    expected = over_the_wire(mock, kind)
    assert [step[0] for step in expected[:5]] == [200, 200, 200, 200, 404]
    mock.reset()
    with httpx.Client(transport=mock.transport(), base_url=mock.url) as client:

        async def send(method: str, path: str, **kwargs) -> httpx.Response:
            return client.request(method, path, **kwargs)

        assert asyncio.run(walk(send, auth(mock, kind))) == expected


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_the_async_transport_answers_as_the_wire_does(mock: MockServer, kind: str) -> None:
    expected = over_the_wire(mock, kind)
    mock.reset()

    async def run() -> list[tuple]:
        transport = mock.async_transport()
        async with httpx.AsyncClient(transport=transport, base_url=mock.url) as client:
            return await walk(client.request, auth(mock, kind))

    assert asyncio.run(run()) == expected


def test_the_signature_covers_exactly_the_bytes_sent(mock: MockServer) -> None:
    """Whitespace and a trailing newline are part of what is signed."""
    body = b' {"name": "spaced",  "admin": true}\n'
    headers = {**mock.sign("alice", "POST", "/api_keys/", body), "Content-Type": "application/json"}
    with httpx.Client(transport=mock.transport(), base_url=mock.url) as client:
        assert client.post("/api_keys/", content=body.strip(), headers=headers).status_code == 401
        created = client.post("/api_keys/", content=body, headers=headers)
        assert created.status_code == 200, created.text


def test_head_and_non_ascii_headers_as_the_wire_has_them(mock: MockServer) -> None:
    """A HEAD answer has no body, and a header's bytes reach the app as sent
    (a nonce of '1²' is the same text on both)."""
    nonce = "1\u00b2".encode("latin-1")
    headers = {**mock.sign("alice", "GET", "/api_keys/"), "X-Chutes-Nonce": nonce}
    answers = []
    for client in (
        httpx.Client(base_url=mock.url),
        httpx.Client(transport=mock.transport(), base_url=mock.url),
    ):
        with client:
            head = client.head("/api_keys/")
            odd = client.get("/api_keys/", headers=headers)
            answers.append((head.status_code, head.content, odd.status_code, odd.json()))
    assert answers[0] == answers[1]
    assert answers[0][:2] == (405, b"")


def test_transport_and_wire_share_one_state(mock: MockServer) -> None:
    auth_header = {"Authorization": f"Basic {mock.user('alice').api_key}"}
    with httpx.Client(transport=mock.transport(), base_url=mock.url) as client:
        created = client.post(
            "/api_keys/", json={"name": "both", "admin": True}, headers=auth_header
        )
    key_id = created.json()["api_key_id"]
    assert httpx.get(f"{mock.url}/api_keys/{key_id}", headers=auth_header).status_code == 200
    assert [r.path for r in mock.requests()][-2:] == ["/api_keys/", f"/api_keys/{key_id}"]


def test_without_serving_there_is_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def tripwire(*args, **kwargs):
        raise AssertionError("a socket was bound")

    monkeypatch.setattr(socket.socket, "bind", tripwire)
    with MockServer(serve=False) as mock:
        monkeypatch.undo()
        assert mock.url == "http://chutes-mock.invalid"
        alice = mock.user("alice")
        with httpx.Client(transport=mock.transport(), base_url=mock.url) as client:
            response = client.get("/api_keys/", headers={"Authorization": f"Bearer {alice.jwt}"})
        assert response.status_code == 200
        assert response.json()["total"] == 1
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{mock.url}/api_keys/", timeout=5)
    with pytest.raises(RuntimeError, match="not running"):
        mock.transport()


def test_a_crash_quirk_answers_500_on_the_transport() -> None:
    with MockServer(quirks="D1", serve=False) as mock:
        alice = mock.user("alice")
        with httpx.Client(transport=mock.transport(), base_url=mock.url) as client:
            response = client.get(
                "/api_keys/?page=-1", headers={"Authorization": f"Basic {alice.api_key}"}
            )
            assert (response.status_code, response.text) == (500, "Internal Server Error")
            # The same client goes on: there is no connection to lose.
            again = client.get("/api_keys/", headers={"Authorization": f"Basic {alice.api_key}"})
            assert again.status_code == 200
