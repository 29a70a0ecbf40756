"""A test-only proxy that plays the network and gateway in front of a deployment.

    python -m tests.support.faulty_proxy UPSTREAM [--port P] [--latency S]
        [--p503 X] [--p504 X] [--p429 X] [--seed N]

Every request waits `latency` seconds, then, drawn from a seeded generator:
- with probability `p503` it is answered `503` with an HTML body, as a
  gateway does, and not forwarded;
- with `p429`, `429` with `Retry-After: 1`, not forwarded;
- otherwise it is forwarded byte for byte (method, raw path and query,
  headers, body), and with `p504` the upstream's answer is dropped and `504`
  sent instead: the request took effect, the client does not know.
The upstream's answer otherwise comes back unchanged, its `Date` included.
Each forward uses a new upstream connection, so the proxy itself never meets
a connection the upstream closed. `FaultyProxy` runs it in a thread for a
test; `counts` says what it did.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import threading
import time
from collections import Counter
from typing import Any

import httpx

_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length"}
_HTML = {
    503: b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
    504: b"<html><head><title>504 Gateway Time-out</title></head>"
    b"<body><center><h1>504 Gateway Time-out</h1></center></body></html>",
    429: b"<html><body><h1>429 Too Many Requests</h1></body></html>",
}


class ProxyApp:
    """The ASGI app of the proxy (see the module docstring)."""

    def __init__(
        self,
        upstream: str,
        latency: float = 0.0,
        p503: float = 0.0,
        p504: float = 0.0,
        p429: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.latency, self.p503, self.p504, self.p429 = latency, p503, p504, p429
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _draw(self) -> float:
        with self._lock:
            return self.random.random()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self.latency:
            await asyncio.sleep(self.latency)
        draw = self._draw()
        if draw < self.p503:
            await self._gateway(send, 503)
            return
        if draw < self.p503 + self.p429:
            await self._gateway(send, 429, [(b"retry-after", b"1")])
            return
        try:
            status, headers, content = await self._forward(scope, body)
        except httpx.HTTPError:
            await self._gateway(send, 502)
            return
        if self._draw() < self.p504:
            await self._gateway(send, 504)
            return
        self._count(f"forwarded {status}")
        if scope["method"] != "HEAD":
            headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content}
        )

    async def _forward(self, scope: dict, body: bytes) -> tuple[int, list, bytes]:
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        url = httpx.URL(self.upstream).copy_with(raw_path=target)
        # Host as the client sent it (a Location the upstream builds names the proxy).
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP]
        limits = httpx.Limits(max_keepalive_connections=0)  # a new connection each time
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            request = client.build_request(scope["method"], url, headers=headers, content=body)
            response = await client.send(request)
            content = await response.aread()
        kept = [(k, v) for k, v in response.headers.raw if k.lower() not in (_HOP | {b"host"})]
        if scope["method"] == "HEAD":  # no body came: the length is the upstream's
            kept += [(k, v) for k, v in response.headers.raw if k.lower() == b"content-length"]
        return response.status_code, kept, content

    async def _gateway(self, send: Any, status: int, extra: list | None = None) -> None:
        self._count(f"gateway {status}")
        page = _HTML.get(status, b"<html><body>gateway error</body></html>")
        headers = [(b"content-type", b"text/html"), (b"content-length", str(len(page)).encode())]
        await send(
            {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
        )
        await send({"type": "http.response.body", "body": page})

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1


class FaultyProxy:
    """The proxy in a thread on a free loopback port: `with FaultyProxy(url) as p: p.url`."""

    def __init__(self, upstream: str, **faults: Any) -> None:
        self.app = ProxyApp(upstream, **faults)
        self._socket: socket.socket | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._socket is not None
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    @property
    def counts(self) -> Counter[str]:
        return self.app.counts

    def __enter__(self) -> FaultyProxy:
        import uvicorn

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            self.app,
            log_level="error",
            access_log=False,
            lifespan="off",
            date_header=False,  # the upstream's Date comes through
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the faulty proxy did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.should_exit = True
        assert self._thread is not None and self._socket is not None
        self._thread.join(timeout=10)
        self._socket.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--p503", type=float, default=0.0)
    parser.add_argument("--p504", type=float, default=0.0)
    parser.add_argument("--p429", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import uvicorn

    app = ProxyApp(args.upstream, args.latency, args.p503, args.p504, args.p429, args.seed)
    try:
        uvicorn.run(
            app,
            host="127.0.0.1",
            port=args.port,
            log_level="error",
            access_log=False,
            lifespan="off",
            date_header=False,
            server_header=False,
        )
    finally:
        print(dict(app.counts), flush=True)


if __name__ == "__main__":
    main()
