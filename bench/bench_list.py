"""Benchmark of `GET /api_keys/?limit=1`: the mock against a bare Starlette endpoint.

One run measures, on this machine, and prints:
1. requests/s of the list with an API key and with a hotkey signature, each
   against a bare Starlette endpoint returning the same JSON bytes on the same
   server (uvicorn, uvloop, httptools, one worker), and the ratios;
2. the same with 100 and with 100,000 keys in the store (1,000 other users
   hold them; the measuring user, alice, holds a handful);
3. the resident memory of a fresh mock process holding 100,000 keys;
4. what the apps alone cost per request in-process (no server), a steady
   figure when other processes share the cores.

The servers run in subprocesses pinned to one core, the load comes from this
process pinned to another, over raw keep-alive connections to 127.0.0.1.
The cases are measured in interleaved slices, so that a neighbour's burst of
load hits them alike. Exit status 0 whatever the figures: a benchmark.

    .venv/bin/python bench/bench_list.py [--seconds 3] [--rounds 6] [--connections 16] [--aslr]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_load import Slice, fetch_once, request_bytes, run_load
from bench_servers import ALICE_URI, OTHER_USERS, PATH, QUERY, pin

SERVERS = str(Path(__file__).with_name("bench_servers.py"))
TARGET = f"{PATH}?{QUERY.decode()}"
SMALL, LARGE = 100, 100_000
RATIO_TARGETS = {"api_key": 0.5, "hotkey": 0.35}
FLAT_TARGET = 0.9  # "same rate": the 100k-key rate at least 90 % of the 100-key rate
RSS_TARGET_MIB = 250
SLICE_WARMUP = 0.2  # seconds of load before each measured slice, on fresh connections
START_TIMEOUT = 120.0  # seconds for a child to populate its store and report
SIGNATURE_POOL = 64


ADDR_NO_RANDOMIZE = 0x0040000  # personality(2) flag: no address-space randomisation


_LIBC: Any = None


def fixed_layout() -> None:
    """In a child, between fork and exec: lay its address space out the same
    way every run. With randomisation, where code and heap land moves one
    process's rate by up to 5 % on this machine (identical servers measured
    side by side), a spread as large as the margins being judged. Where the
    call is refused (some container seccomp profiles), the child runs as it
    is; `layout_of` tells."""
    current = _LIBC.personality(0xFFFFFFFF)  # query
    if current != -1:
        _LIBC.personality(current | ADDR_NO_RANDOMIZE)


def preexec() -> Callable[[], None] | None:
    """`fixed_layout` where it applies (Linux, not `--aslr`), libc loaded
    here rather than in the forked child."""
    global _LIBC
    if not Server.fixed_layout or sys.platform != "linux":
        return None
    if _LIBC is None:
        import ctypes

        _LIBC = ctypes.CDLL(None, use_errno=True)
    return fixed_layout


def layout_of(pid: int) -> str:
    """'fixed' or 'randomised', as the kernel says of process `pid`."""
    try:
        flags = int(Path(f"/proc/{pid}/personality").read_text(), 16)
    except (OSError, ValueError):
        return "unknown"
    return "fixed" if flags & ADDR_NO_RANDOMIZE else "randomised"


class Server:
    """A server subprocess serving a listening socket of 127.0.0.1 it inherits."""

    fixed_layout = True  # `--aslr` turns it off

    def __init__(self, argv: list[str], core: int | None) -> None:
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port: int = self.sock.getsockname()[1]
        command = [sys.executable, SERVERS, "serve", *argv, "--fd", str(self.sock.fileno())]
        if core is not None:
            command += ["--core", str(core)]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            pass_fds=[self.sock.fileno()],
            preexec_fn=preexec(),
        )
        self.info: dict[str, Any] = {}

    def wait_ready(self) -> Server:
        """Wait, bounded, for the child's JSON line (readiness and credentials)."""
        assert self.process.stdout is not None
        deadline, line = time.monotonic() + START_TIMEOUT, b""
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            if select.select([self.process.stdout], [], [], 1.0)[0]:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
        if not line.endswith(b"\n"):
            raise RuntimeError(f"{self.process.args[2:4]} did not become ready")
        self.info = json.loads(line)
        return self

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(s for s in status.splitlines() if s.startswith("VmRSS:")).split()[1]) / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.sock.close()


@dataclass
class Case:
    label: str
    kind: str  # "api_key" or "hotkey": the credentials its requests carry
    server: Server
    requests: Callable[[], list[bytes]]  # built afresh for each slice: fresh nonces
    total: Slice = field(default_factory=Slice)
    slices: list[Slice] = field(default_factory=list)


def hotkey_requests(port: int) -> list[bytes]:
    """A pool of list requests signed by //Alice with a nonce of now.

    sr25519 signatures are randomised, so each one differs; the signature covers
    neither path nor query, and the contract allows replays inside the window.
    """
    from mock_server import hotkeys

    keypair = hotkeys.keypair_from(uri=ALICE_URI)
    nonce = str(int(time.time()))
    message = f"{keypair.ss58_address}:{nonce}:api_keys"
    headers = {"X-Chutes-Hotkey": keypair.ss58_address, "X-Chutes-Nonce": nonce}
    return [
        request_bytes(
            port, TARGET, {**headers, "X-Chutes-Signature": hotkeys.sign(keypair, message)}
        )
        for _ in range(SIGNATURE_POOL)
    ]


def child_json(argv: list[str]) -> dict[str, Any]:
    command = [sys.executable, SERVERS, *argv]
    done = subprocess.run(
        command, capture_output=True, check=True, timeout=START_TIMEOUT, preexec_fn=preexec()
    )
    return json.loads(done.stdout)


def cores() -> tuple[int | None, int | None]:
    """(server core, client core); (None, None) with fewer than two cores."""
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return (available[0], available[1]) if len(available) >= 2 else (None, None)


def measure(cases: list[Case], args: argparse.Namespace) -> None:
    """Warm each case up, then `--rounds` rounds of one slice per case, in rotating order."""
    for case in cases:
        pid = case.server.process.pid
        run_load(case.server.port, case.requests(), args.connections, args.warmup, 0.05, pid)
    seconds = args.seconds / args.rounds
    for round_ in range(args.rounds):
        shift = round_ % len(cases)
        for case in cases[shift:] + cases[:shift]:
            pid = case.server.process.pid
            part = run_load(
                case.server.port, case.requests(), args.connections, SLICE_WARMUP, seconds, pid
            )
            case.total.add(part)
            case.slices.append(part)


def round_ratios(case: Case, base: Case) -> tuple[float, float, float]:
    """(median, min, max) over the rounds of case's rate / base's rate in the same round."""
    ratios = [a.rate / b.rate for a, b in zip(case.slices, base.slices, strict=True) if b.rate]
    return statistics.median(ratios), min(ratios), max(ratios)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(cases: list[Case], app: dict[str, float], rss: dict[int, dict], serving: float) -> None:
    bare = {case.kind: case for case in cases if case.server is cases[0].server}
    print(
        f"\n  {'case':<26} {'req/s':>7} {'vs bare':>7} {'(rounds)':>11}"
        f" {'srv us/req':>10} {'srv busy':>8} {'client':>6}"
    )
    for case in cases:
        got = case.total
        median, low, high = round_ratios(case, bare[case.kind])
        busy, client = got.server_cpu / got.wall, got.client_cpu / got.wall
        print(
            f"  {case.label:<26} {got.rate:7.0f} {median:6.2f}x {low:5.2f}-{high:<5.2f}"
            f" {got.server_us:10.1f} {busy:8.0%} {client:6.0%}"
        )
        if got.statuses:
            print(f"    !! non-200 responses: {got.statuses}")
    print(
        "  req/s: all slices together. vs bare: median over the rounds of the case's req/s over\n"
        "  the bare endpoint's in the same round, fed the same request bytes (min-max).\n"
        "  srv us/req: server CPU per request.\n"
        "  srv busy / client: share of a core each side used; srv busy well under 100 % means\n"
        "  other processes shared the server's core and the figures are noisy."
    )
    print(
        f"\n  the apps alone, in-process, no server (fastest of 5): bare {app['bare']:.1f} us,"
        f" mock api_key {app['api_key']:.1f} us, mock hotkey {app['hotkey']:.1f} us"
        f"\n  per request; one sr25519 verification {app['verify']:.1f} us"
    )

    print("\ntargets")
    labels = {case.label: case for case in cases}
    for kind, target in RATIO_TARGETS.items():
        for total in (SMALL, LARGE):
            median, _, _ = round_ratios(labels[f"mock {kind}, {total:,} keys"], bare[kind])
            print(
                f"  {kind:<7} {total:>7,} keys: {median:5.3f}x bare  target >= {target}x"
                f"  {verdict(median >= target)}"
            )
    for kind in RATIO_TARGETS:
        small, large = (
            labels[f"mock {kind}, {SMALL:,} keys"],
            labels[f"mock {kind}, {LARGE:,} keys"],
        )
        median, low, high = round_ratios(large, small)
        print(
            f"  {kind:<7} rate with 100,000 keys / with 100: {median:5.3f} ({low:.2f}-{high:.2f})"
            f"  target >= {FLAT_TARGET}  {verdict(median >= FLAT_TARGET)}"
        )
    large = rss[LARGE]
    mib = large["VmRSS"] / 1024
    print(
        f"  memory, fresh mock process, {large['keys']:,} keys / {OTHER_USERS:,} users: "
        f"{mib:.1f} MiB RSS  target < {RSS_TARGET_MIB}  {verdict(mib < RSS_TARGET_MIB)}\n"
        f"    (with {rss[SMALL]['keys']} keys: {rss[SMALL]['VmRSS'] / 1024:.1f} MiB;"
        f" the 100,000-key server after its load: {serving:.1f} MiB)"
    )


def main_bench(args: argparse.Namespace) -> None:
    server_core, client_core = cores()
    pin(client_core)
    Server.fixed_layout = not args.aslr
    print(
        f"GET {TARGET}: uvicorn (uvloop, httptools, 1 worker) on core {server_core}, load from"
        f" core {client_core}, {args.connections} keep-alive connections; per case a"
        f" {args.warmup:g} s warm-up, then {args.seconds:g} s in {args.rounds} interleaved slices"
    )
    started = time.monotonic()
    servers: dict[str, Server] = {}
    try:
        for total in (SMALL, LARGE):
            servers[f"mock{total}"] = Server(["mock", "--keys", str(total)], server_core)
        for server in servers.values():
            server.wait_ready()
        api = {
            total: request_bytes(
                servers[f"mock{total}"].port,
                TARGET,
                {"Authorization": f"Basic {servers[f'mock{total}'].info['api_key']}"},
            )
            for total in (SMALL, LARGE)
        }
        status, body = fetch_once(servers[f"mock{SMALL}"].port, api[SMALL])
        if status != b"200":
            raise RuntimeError(f"the mock answered {status!r}: {body!r}")
        encoded = base64.b64encode(body).decode()
        bare = servers["bare"] = Server(["bare", "--body", encoded], server_core).wait_ready()
        # The bare endpoint reads the same request bytes as the mock case it is
        # compared with (only the Host port differs), and ignores them.
        plain = request_bytes(
            bare.port, TARGET, {"Authorization": f"Basic {servers[f'mock{SMALL}'].info['api_key']}"}
        )
        if fetch_once(bare.port, plain) != (b"200", body):
            raise RuntimeError("the bare endpoint does not answer the mock's bytes")
        cases = [
            Case("bare, API-key request", "api_key", bare, lambda: [plain]),
            Case("bare, hotkey request", "hotkey", bare, lambda: hotkey_requests(bare.port)),
        ]
        for total in (SMALL, LARGE):
            mock = servers[f"mock{total}"]
            cases.append(
                Case(f"mock api_key, {total:,} keys", "api_key", mock, lambda t=total: [api[t]])
            )
            cases.append(
                Case(
                    f"mock hotkey, {total:,} keys",
                    "hotkey",
                    mock,
                    lambda p=mock.port: hotkey_requests(p),
                )
            )
        layouts = {layout_of(server.process.pid) for server in servers.values()}
        print(f"server address layout: {', '.join(sorted(layouts))}", flush=True)
        measure(cases, args)
        serving = servers[f"mock{LARGE}"].rss_mib()
    finally:
        for server in servers.values():
            server.stop()
    rss = {total: child_json(["rss", "--keys", str(total)]) for total in (SMALL, LARGE)}
    app = child_json(
        ["app-cost"] + (["--core", str(server_core)] if server_core is not None else [])
    )
    print(f"response body ({len(body)} bytes): {body[:64].decode()}...")
    report(cases, app, rss, serving)
    print(f"\ndone in {time.monotonic() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per case")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved slices per case")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per case")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument(
        "--aslr",
        action="store_true",
        help="keep address-space randomisation on for the servers (runs vary more)",
    )
    args = parser.parse_args()
    if not (0 < args.seconds <= 60 and 0 <= args.warmup <= 30):
        parser.error("--seconds must be in (0, 60] and --warmup in [0, 30]")
    if not (1 <= args.rounds <= 30 and 1 <= args.connections <= 256):
        parser.error("--rounds must be in [1, 30] and --connections in [1, 256]")
    main_bench(args)


if __name__ == "__main__":
    main()
