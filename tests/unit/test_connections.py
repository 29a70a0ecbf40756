"""After a 500 the served mock closes the connection, as production's server
does (`mock_server.connections`); other answers keep it open."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from mock_server import MockServer


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one request; read its answer's head and body (by content-length)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed before answering"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def _closed(sock: socket.socket) -> bool:
    """The server closed the connection (EOF within half a second)."""
    sock.settimeout(0.5)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


@pytest.fixture(scope="module")
def crashing() -> MockServer:
    with MockServer(quirks="D1") as mock:
        yield mock


def _request(mock: MockServer, page: int) -> bytes:
    headers = mock.sign("alice", "GET", "/api_keys/")
    lines = [f"GET /api_keys/?page={page} HTTP/1.1", "Host: mock"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_500_is_sent_whole_then_the_connection_is_closed(crashing: MockServer, caplog) -> None:
    host, port = crashing.url.removeprefix("http://").split(":")
    with caplog.at_level(logging.INFO), socket.create_connection((host, int(port))) as sock:
        head = _exchange(sock, _request(crashing, -1))
        assert head.startswith(b"HTTP/1.1 500 ")
        assert b"connection: close" not in head.lower()  # production does not say so either
        assert _closed(sock)
    assert "Traceback" not in caplog.text and "Exception in ASGI" not in caplog.text


def test_other_answers_keep_the_connection_open(crashing: MockServer) -> None:
    host, port = crashing.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        for _ in range(3):
            assert _exchange(sock, _request(crashing, 0)).startswith(b"HTTP/1.1 200 ")
        assert not _closed(sock)


def test_a_plain_httpx_client_cannot_reuse_the_connection(crashing: MockServer) -> None:
    """The next request after a 500 either fails on the closed connection or
    opens a new one: it never goes out on the connection the 500 came on."""
    outcomes = []
    with httpx.Client(base_url=crashing.url) as client:
        for _ in range(20):
            headers = crashing.sign("alice", "GET", "/api_keys/")
            assert client.get("/api_keys/?page=-1", headers=headers).status_code == 500
            events: list[str] = []
            try:
                answer = client.get(
                    "/api_keys/",
                    headers=crashing.sign("alice", "GET", "/api_keys/"),
                    extensions={"trace": lambda name, info, seen=events: seen.append(name)},
                )
            except httpx.TransportError as exc:
                outcomes.append(type(exc).__name__)
                continue
            assert answer.status_code == 200
            assert "connection.connect_tcp.started" in events, "reused the closed connection"
            outcomes.append("new connection")
    assert len(outcomes) == 20
