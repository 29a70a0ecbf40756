"""Calling the mock's ASGI app in-process, as one HTTP request, no socket.

The one way both the httpx transports (`transports.py`) and `MockServer`'s
helpers reach the app without the wire; run it on the mock's own loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from mock_server.faults import ConnectionFault

HOST = "chutes-mock.invalid"  # the Host of a request with none
CLIENT = ("127.0.0.1", 50000)  # what the app sees as the client's address


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


async def call_app(
    app: Any,
    method: str,
    raw_path: bytes,
    headers: Sequence[tuple[bytes, bytes]] = (),
    body: bytes = b"",
    *,
    scheme: str = "http",
) -> Answer:
    """The app's whole answer to one request. `raw_path` is the path and
    query as sent (percent-encoded); `body` reaches the app byte for byte.
    A crash after the 500 was sent (a crash quirk) is the 500, as served."""
    path_bytes, _, query = raw_path.partition(b"?")
    headers = list(headers)
    names = {name.lower() for name, _ in headers}
    if b"host" not in names:
        headers.insert(0, (b"host", HOST.encode()))
    if body and not names & {b"content-length", b"transfer-encoding"}:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": scheme,
        "path": unquote_to_bytes(path_bytes).decode("utf-8", "surrogateescape"),
        "raw_path": path_bytes,
        "query_string": query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in headers],
        "client": CLIENT,
        "server": (HOST, 80),
    }
    body_sent = False
    complete = asyncio.Event()
    status: int | None = None
    answer_headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await complete.wait()  # the client stays until the answer is whole
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            answer_headers.extend(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                complete.set()

    try:
        await app(scope, receive, send)
    except ConnectionFault:
        raise  # a fault rule cut the connection: the client gets no answer
    except Exception:
        if status is None:
            raise
    finally:
        complete.set()
    if status is None:
        raise RuntimeError(f"the app sent no answer to {method} {raw_path!r}")
    return Answer(status, answer_headers, b"".join(chunks))
