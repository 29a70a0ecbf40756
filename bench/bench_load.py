"""A keep-alive HTTP/1.1 load generator for 127.0.0.1, fast enough not to be the bottleneck.

Raw asyncio protocols write pre-built request bytes and read each response
by its Content-Length; each connection keeps one request in flight and sends
the next on each reply. Every run is bounded in time and in count.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_REQUESTS = 5_000_000  # per run, whatever its duration
CLOSE_TIMEOUT = 5.0


@dataclass
class Slice:
    """What one measured stretch of load got, and the CPU both sides spent."""

    served: int = 0
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    statuses: dict[bytes, int] = field(default_factory=dict)  # non-200 answers

    def add(self, other: Slice) -> None:
        self.served += other.served
        self.wall += other.wall
        self.server_cpu += other.server_cpu
        self.client_cpu += other.client_cpu
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    @property
    def rate(self) -> float:
        return self.served / self.wall if self.wall else 0.0

    @property
    def server_us(self) -> float:
        """Server CPU time per request."""
        return self.server_cpu / max(self.served, 1) * 1e6


@dataclass
class _Counters:
    done: int = 0
    statuses: dict[bytes, int] = field(default_factory=dict)
    stop: bool = False


class _KeepAlive(asyncio.Protocol):
    """One connection: one request in flight, the next one sent on each reply."""

    def __init__(self, requests: list[bytes], counters: _Counters, offset: int) -> None:
        self.requests, self.counters, self.index = requests, counters, offset
        self.buffer = b""
        self.need: int | None = None  # bytes of the current response, once its head is in
        self.closed = asyncio.get_running_loop().create_future()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self._send()

    def _send(self) -> None:
        self.index += 1
        self.transport.write(self.requests[self.index % len(self.requests)])

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.need is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buffer[:end].lower()
                at = head.find(b"\r\ncontent-length:")
                length = int(head[at + 17 : head.find(b"\r\n", at + 2)]) if at >= 0 else 0
                self.need = end + 4 + length
                status = head[9:12]
                if status != b"200":
                    self.counters.statuses[status] = self.counters.statuses.get(status, 0) + 1
            if len(self.buffer) < self.need:
                return
            self.buffer, self.need = self.buffer[self.need :], None
            self.counters.done += 1
            if self.counters.stop or self.counters.done >= MAX_REQUESTS:
                self.counters.stop = True
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _drive(
    port: int, requests: list[bytes], connections: int, warmup: float, seconds: float, pid: int
) -> Slice:
    loop = asyncio.get_running_loop()
    counters = _Counters()
    protocols: list[_KeepAlive] = []
    try:
        for i in range(connections):
            _, protocol = await loop.create_connection(
                lambda i=i: _KeepAlive(requests, counters, i * 7), "127.0.0.1", port
            )
            protocols.append(protocol)
        await asyncio.sleep(warmup)
        done0, wall0, statuses0 = counters.done, time.perf_counter(), dict(counters.statuses)
        cpu0, own0 = cpu_seconds(pid), time.process_time()
        await asyncio.sleep(seconds)
        done1, wall1 = counters.done, time.perf_counter()
        cpu1, own1 = cpu_seconds(pid), time.process_time()
        counters.stop = True
        await asyncio.wait([p.closed for p in protocols], timeout=CLOSE_TIMEOUT)
    finally:
        for protocol in protocols:
            if protocol.transport is not None:
                protocol.transport.abort()
    statuses = {k: v - statuses0.get(k, 0) for k, v in counters.statuses.items()}
    return Slice(
        done1 - done0,
        wall1 - wall0,
        cpu1 - cpu0,
        own1 - own0,
        {k: v for k, v in statuses.items() if v},
    )


def run_load(
    port: int, requests: list[bytes], connections: int, warmup: float, seconds: float, pid: int
) -> Slice:
    """Load 127.0.0.1:`port` for `warmup` + `seconds`; measure the last `seconds`,
    with the server CPU of process `pid`."""
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    return runner(_drive(port, requests, connections, warmup, seconds, pid))


def request_bytes(port: int, target: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def fetch_once(port: int, request: bytes) -> tuple[bytes, bytes]:
    """(status, body) of one request: a blocking exchange with a timeout."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 1 << 20:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.lower().split(b"\r\n")
        length = next(
            (int(line.split(b":", 1)[1]) for line in lines if line.startswith(b"content-length:")),
            0,
        )
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head[9:12], body
