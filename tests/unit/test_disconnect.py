"""A client gone before its body is complete gets no answer and no 500.

It hung up mid-body, or the server dropped a body it could not parse
(malformed chunked encoding): Starlette then raises `ClientDisconnect`, which
used to surface as a traceback and a 500 access line. The access line now
says `disconnected` where the status would be.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from mock_server import spec
from mock_server.app import create_app
from mock_server.settings import DEFAULT_CONTROL_SPEC, DEFAULT_SPEC, Settings
from tests.unit.harness import ALICE_ID, Mock

ACCESS = "mock_server.access"
PATH_VALUES = {"api_key_id": ALICE_ID, "netuid": "64", "hotkey": "5Grw", "fault_id": "1"}


def every_operation() -> list[tuple[str, str]]:
    ops = spec.operations(spec.load_document(DEFAULT_SPEC), "auth")
    ops += spec.operations(spec.load_document(DEFAULT_CONTROL_SPEC), "control")
    return [(op.method, op.path.format(**PATH_VALUES)) for op in ops]


def hang_up_mid_body(app, method: str, path: str, headers: list) -> list[dict]:
    """One request whose client sends part of the body, then disconnects."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    pending = [{"type": "http.request", "body": b'{"name": "ha', "more_body": True}]
    sent: list[dict] = []

    async def receive() -> dict:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ACCESS]


@pytest.mark.parametrize(("method", "path"), every_operation())
@pytest.mark.parametrize(
    "framing",
    [[(b"content-length", b"40")], [(b"transfer-encoding", b"chunked")]],
    ids=["content-length", "chunked"],
)
def test_a_client_gone_mid_body_gets_no_answer_and_no_500(
    mock: Mock, caplog: pytest.LogCaptureFixture, method: str, path: str, framing: list
) -> None:
    caplog.set_level(logging.INFO)
    sent = hang_up_mid_body(mock.app, method, path, framing)
    assert sent == []
    [line] = access_lines(caplog)
    assert line.split(" ")[:4] == [method, path, "disconnected", "-"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


# Against a real uvicorn ---------------------------------------------------------------


@pytest.fixture(params=["httptools", "h11"])
def served(request: pytest.FixtureRequest) -> Iterator[int]:
    """The mock under uvicorn (each HTTP parser) in a thread, on a free
    loopback port; yields the port."""
    app = create_app(Settings())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http=request.param, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def wait_for(condition, limit: float = 10.0) -> None:
    """Poll until `condition()` (a readiness wait, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the server did not get there"
        time.sleep(0.01)


def send_raw(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(data)


HEAD = b"POST /api_keys/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    "data",
    [
        HEAD + b"Content-Length: 40\r\n\r\n" + b'{"name": "half',
        HEAD + b'Transfer-Encoding: chunked\r\n\r\n6\r\n{"name\r\nzz\r\n',
    ],
    ids=["half-body", "malformed-chunked"],
)
def test_a_real_server_logs_no_traceback_and_no_500(
    served: int, caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    caplog.set_level(logging.INFO)
    send_raw(served, data)
    wait_for(lambda: access_lines(caplog))
    [line] = access_lines(caplog)
    assert line.split(" ")[:3] == ["POST", "/api_keys/", "disconnected"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
