"""Figures for the served mock under hostile input (prints them; asserts nothing).

    .venv/bin/python bench/bench_hostile.py        # about a minute

- RSS growth of `chutes-mock serve` over 1,000 requests with 60 KB paths;
- with the journal full (100,000 entries, its maximum): how long
  `GET /_mock/requests` takes (a full page, and a filter that matches
  nothing), and the longest another client waited meanwhile;
- how soon a 100 MiB header is answered;
- how soon SIGTERM ends the server while a client is stalled mid-body.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

JOURNAL = 100_000


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def serve(*options: str) -> tuple[subprocess.Popen, str]:
    folder = Path(tempfile.mkdtemp())
    written = folder / "c.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_server",
            "serve",
            "--port",
            "0",
            "--log-level",
            "warning",
            "--credentials-file",
            str(written),
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not written.exists():
        time.sleep(0.05)
    return process, json.loads(written.read_text())["url"]


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def pipelined(url: str, count: int, path: bytes = b"/nothing") -> None:
    """`count` small requests, pipelined on one connection."""
    request = b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(address(url)) as sock:
        sent = 0
        received = 0
        buffer = b""
        while received < count:
            if sent < count:
                batch = min(200, count - sent)
                sock.sendall(request * batch)
                sent += batch
            buffer += sock.recv(1 << 20)
            received += buffer.count(b"HTTP/1.1 ")
            buffer = buffer[buffer.rfind(b"HTTP/1.1 ") + 1 :] if b"HTTP/1.1 " in buffer else buffer


def longest_wait_while(url: str, action) -> tuple[float, float]:
    """(seconds `action` took, the longest another client waited meanwhile)."""
    waits: list[float] = []
    done = threading.Event()

    def ping() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while not done.is_set():
                started = time.perf_counter()
                client.get("/openapi.json")
                waits.append(time.perf_counter() - started)

    pinger = threading.Thread(target=ping)
    pinger.start()
    time.sleep(0.3)
    started = time.perf_counter()
    action()
    took = time.perf_counter() - started
    done.set()
    pinger.join()
    return took, max(waits)


def main() -> None:
    process, url = serve("--journal-size", str(JOURNAL))
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            client.get("/openapi.json")
            before = rss_kib(process.pid)
            for i in range(1000):
                client.get("/" + f"{i:05d}" + "p" * 60_000)
            after = rss_kib(process.pid)
        print(
            f"1,000 requests with 60 KB paths: RSS {before / 1024:.1f} -> {after / 1024:.1f}"
            f" MiB (+{(after - before) / 1024:.1f} MiB)"
        )

        workers = [threading.Thread(target=pipelined, args=(url, JOURNAL // 4)) for _ in range(4)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        with httpx.Client(base_url=url, timeout=60) as client:
            size = client.get("/_mock/requests", params={"limit": 1}).json()
        print(
            f"journal filled with {JOURNAL:,} requests in {time.perf_counter() - started:.1f} s;"
            f" RSS {rss_kib(process.pid) / 1024:.1f} MiB"
        )
        for name, params in [
            ("a full page (limit=5000, the most)", {"limit": 5000}),
            ("a filter that matches nothing", {"path": "/matches-nothing*"}),
            ("the default page", {}),
        ]:
            took, waited = longest_wait_while(
                url, lambda p=params: httpx.get(f"{url}/_mock/requests", params=p, timeout=60)
            )
            print(
                f"GET /_mock/requests, {name}: {took * 1000:.0f} ms;"
                f" another client waited at most {waited * 1000:.0f} ms"
            )
        del size

        with socket.create_connection(address(url)) as sock:
            started = time.perf_counter()
            sock.sendall(b"GET /api_keys/ HTTP/1.1\r\nHost: x\r\nX-Big: ")
            try:
                for _ in range(1600):
                    sock.sendall(b"y" * 65536)
            except OSError:
                pass
            sock.settimeout(30)
            try:
                answer = sock.recv(200)
            except OSError:
                answer = b"(reset)"
            status_line = answer.split(b"\r\n")[0].decode(errors="replace")
            print(
                f"100 MiB header: {status_line}"
                f" after {(time.perf_counter() - started) * 1000:.0f} ms"
            )
    finally:
        process.terminate()
        process.wait(timeout=30)

    process, url = serve()
    with socket.create_connection(address(url)) as stalled:
        stalled.sendall(b"POST /api_keys/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.3)
        started = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
        print(
            f"SIGTERM with a client stalled mid-body: exit {code}"
            f" after {(time.perf_counter() - started) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
