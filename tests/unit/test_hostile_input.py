"""The served mock under hostile input: a bounded head, read and idle
timeouts, a stop that never waits on a stalled client, log lines that
cannot be forged, and no secret from a path in the log or the journal."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from mock_server import MockServer
from mock_server.guards import MAX_HEAD_BYTES

ACCESS = "mock_server.access"
SIGNATURE = "ab" * 64
SEED = "0x" + "cd" * 32
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
API_KEY = "cpk_0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef.secretpart"


@pytest.fixture(scope="module")
def served() -> Iterator[MockServer]:
    with MockServer(read_timeout=1.0, keep_alive_timeout=0.5) as mock:
        yield mock


def address(mock: MockServer) -> tuple[str, int]:
    host, port = mock.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def server_log(caplog: pytest.LogCaptureFixture, line: str) -> str:
    """What the mock and uvicorn logged (not the test's own httpx client),
    once `line` is in it: the server's thread writes its access line after
    the answer has left, so the client may read the answer first."""
    deadline = time.monotonic() + 10
    while True:
        records = [r for r in caplog.records if r.name.startswith(("mock_server", "uvicorn"))]
        logged = "\n".join(r.getMessage() for r in records)
        if line in logged or time.monotonic() > deadline:
            return logged
        time.sleep(0.02)


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (None: still open)."""
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_a_head_over_64_kib_is_answered_431_at_once(served: MockServer) -> None:
    big = "x" * (MAX_HEAD_BYTES + 1)
    started = time.monotonic()
    response = httpx.get(f"{served.url}/api_keys/", headers={"X-Big": big}, timeout=30)
    assert (response.status_code, response.json()) == (
        431,
        {"detail": "Request header fields too large (limit 65536 bytes)"},
    )
    assert time.monotonic() - started < 5
    under = httpx.get(f"{served.url}/api_keys/", headers={"X-Big": "x" * 60_000}, timeout=30)
    assert under.status_code == 401  # read whole, refused by auth as any request


def test_a_huge_header_is_not_read_to_its_end(served: MockServer) -> None:
    """100 MiB announced and sent in pieces: the answer comes after the first 64 KiB."""
    with socket.create_connection(address(served)) as sock:
        sock.sendall(b"GET /api_keys/ HTTP/1.1\r\nHost: x\r\nX-Big: ")
        answer = b""
        started = time.monotonic()
        try:
            for _ in range(100 * 16):  # up to 100 MiB in 64 KiB pieces
                sock.sendall(b"y" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            answer = sock.recv(65536)
        assert time.monotonic() - started < 10
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b""


def test_a_request_that_trickles_in_is_cut_off(served: MockServer, caplog) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    with socket.create_connection(address(served)) as sock:
        sock.sendall(b"POST /api_keys/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        took = closed_within(sock, 10)
    assert took is not None and took < 5
    assert any("POST /api_keys/ timeout" in r.getMessage() for r in caplog.records)
    [entry] = [e for e in served.requests() if e.reason == "timeout"][-1:]
    assert (entry.status, entry.path) == (None, "/api_keys/")


def test_a_connection_that_sends_nothing_is_closed(served: MockServer) -> None:
    with socket.create_connection(address(served)) as sock:
        took = closed_within(sock, 10)
    assert took is not None and took < 5


def test_an_idle_keep_alive_connection_is_closed(served: MockServer) -> None:
    with socket.create_connection(address(served)) as sock:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        took = closed_within(sock, 10)
    assert took is not None and took < 5


def test_a_client_gone_mid_body_is_disconnected_not_500(served: MockServer) -> None:
    served.clear_requests()
    with socket.create_connection(address(served)) as sock:
        sock.sendall(b"POST /api_keys/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.2)
    deadline = time.monotonic() + 10
    while not served.requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    [entry] = served.requests()
    assert (entry.status, entry.reason) == (None, "disconnected")


@pytest.mark.parametrize(
    "secret", [API_KEY, JWT, SIGNATURE, SEED], ids=["api_key", "jwt", "signature", "seed"]
)
def test_a_secret_in_the_path_is_masked_in_log_and_journal(
    served: MockServer, caplog, secret: str
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=ACCESS)
    served.clear_requests()
    httpx.get(f"{served.url}/api_keys/{secret}", timeout=30)
    [entry] = served.requests()
    assert secret not in entry.path and "***" in entry.path
    assert entry.path_length == len(f"/api_keys/{secret}")
    logged = server_log(caplog, "/api_keys/*** 401")
    assert "/api_keys/*** 401" in logged
    assert secret not in logged and secret[:24] not in logged


def test_control_characters_in_the_path_cannot_forge_a_log_line(served: MockServer, caplog) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    forged = "%0d%0aPOST%20/_mock/reset%20200"
    httpx.get(f"{served.url}/api_keys/x{forged}", timeout=30)
    lines = [r.getMessage() for r in caplog.records if r.name == ACCESS]
    assert lines and all("\n" not in line and "\r" not in line for line in lines)
    assert any("\\x0d\\x0aPOST /_mock/reset 200" in line for line in lines)


def test_a_websocket_upgrade_does_not_log_its_query(served: MockServer, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for name in (ACCESS, "uvicorn.error"):
        caplog.set_level(logging.DEBUG, logger=name)
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    httpx.get(f"{served.url}/api_keys/?token={JWT}", headers=headers, timeout=30)
    logged = server_log(caplog, "/api_keys/ 401")
    assert "/api_keys/ 401" in logged  # answered as plain HTTP
    assert JWT not in logged and "token=" not in logged


def test_a_long_path_is_kept_cut(served: MockServer) -> None:
    served.clear_requests()
    httpx.get(f"{served.url}/{'p' * 60_000}", timeout=30)
    [entry] = served.requests()
    assert (len(entry.path), entry.path_length) == (512, 60_001)


def test_stop_with_a_client_mid_body_is_quick_and_quiet(capfd) -> None:
    mock = MockServer().start()
    with socket.create_connection(address(mock)) as sock:
        sock.sendall(b"POST /api_keys/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.2)
        started = time.monotonic()
        mock.stop()
        took = time.monotonic() - started
        sock.settimeout(5)
        answer = sock.recv(65536)
    assert took < 1.0
    assert not answer.startswith(b"HTTP/1.1 500")
    assert "Traceback" not in capfd.readouterr().err


def test_stop_with_an_answer_in_the_making_cuts_it_quietly(capfd) -> None:
    """A request held by a 5 s latency rule: stop() ends within about its 1 s
    grace, and the client is cut off, not answered 500, with no traceback."""
    import threading

    mock = MockServer().start()
    mock.fault(latency_ms=5000)
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(httpx.get(f"{mock.url}/api_keys/", timeout=30).status_code)
        except httpx.TransportError as error:
            outcome.append(type(error))

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.3)
    started = time.monotonic()
    mock.stop()
    took = time.monotonic() - started
    caller.join(timeout=30)
    assert took < 2.0
    assert outcome == [httpx.RemoteProtocolError]
    assert "Traceback" not in capfd.readouterr().err
