"""The subprocesses of `bench_list.py`: servers, the memory probe, the app-cost probe.

    python bench/bench_servers.py serve mock --keys N --fd FD [--core C]
    python bench/bench_servers.py serve bare --body BASE64 --fd FD [--core C]
    python bench/bench_servers.py rss --keys N
    python bench/bench_servers.py app-cost [--core C]

`serve` serves an inherited listening socket with uvicorn (uvloop, httptools,
one worker) after printing one JSON line (readiness and credentials) on
stdout; the others print one JSON line of figures and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

ALICE_ID = "a11ce000-0000-4000-8000-000000000001"
ALICE_URI = "//Alice"
PATH, QUERY = "/api_keys/", b"limit=1"
OTHER_USERS = 1_000
ALICE_KEYS = 5  # the measuring user's handful, the fixture's admin key included
SEED = 20240601  # seeded ids and secrets: populating is fast and runs are alike


def pin(core: int | None) -> None:
    """Pin this process to one core (when told one)."""
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def populate(state: Any, total_keys: int) -> str:
    """Fill the store up to `total_keys` keys; returns an admin token of alice.

    Alice ends with `ALICE_KEYS` keys; the rest are spread round-robin over
    `OTHER_USERS` other users, every other one scoped (one scope each).
    """
    store, now = state.store, state.clock.now()
    token = ""
    held = store.list_keys(ALICE_ID, 0, 1)[0]
    for i in range(ALICE_KEYS - held):
        _, token = store.create_key(ALICE_ID, f"bench-alice-{i}", True, (), now)
    others = [store.add_user(f"bench-user-{i:04d}", None) for i in range(OTHER_USERS)]
    for i in range(max(0, total_keys - store.key_count())):
        user, scoped = others[i % OTHER_USERS], i % 2 == 1
        scopes = [("chutes", None, "read")] if scoped else []
        store.create_key(user.user_id, f"bench-{i // OTHER_USERS}", not scoped, scopes, now)
    return token


def build_mock(total_keys: int) -> tuple[Any, str]:
    """The mock as `chutes-mock serve` builds it, holding `total_keys` keys."""
    from mock_server.app import create_app
    from mock_server.settings import Settings

    # CHUTES_BENCH_FAULT_RULE: a fault rule (JSON) in force, to measure what a rule costs.
    rule = os.environ.get("CHUTES_BENCH_FAULT_RULE")
    rules = (json.loads(rule),) if rule else ()
    app = create_app(Settings(seed=SEED, log_level="warning", fault_rules=rules))
    return app, populate(app.state.mock, total_keys)


def build_bare(body: bytes) -> Any:
    """A bare Starlette app whose list endpoint returns `body`."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def list_keys(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route(PATH, list_keys)])


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    pin(args.core)
    sock = socket.socket(fileno=args.fd)
    if args.app == "mock":
        app, token = build_mock(args.keys)
        info = {"api_key": token, "keys": app.state.mock.store.key_count()}
    else:
        app, info = build_bare(base64.b64decode(args.body)), {}
    gc.collect()
    config = uvicorn.Config(
        app, loop="uvloop", http="httptools", access_log=False, log_level="warning"
    )
    print(json.dumps({"ready": True, **info}), flush=True)
    uvicorn.Server(config).run(sockets=[sock])


def rss(args: argparse.Namespace) -> None:
    """A fresh mock process with `--keys` keys: its resident memory."""
    import httptools  # noqa: F401  (loaded as when serving)
    import uvicorn  # noqa: F401
    import uvloop  # noqa: F401

    app, _ = build_mock(args.keys)
    gc.collect()
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    kib = {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}
    print(json.dumps({"keys": app.state.mock.store.key_count(), **kib}), flush=True)


def _scope(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": QUERY,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _best_us(app: Any, headers: dict[str, str], calls: int, repeats: int = 5) -> float:
    """The fastest of `repeats` runs of `calls` requests, in microseconds per request."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    best = float("inf")
    for _ in range(repeats):
        sent.clear()
        started = time.perf_counter()
        for _ in range(calls):
            await app(_scope(headers), receive, send)
        best = min(best, (time.perf_counter() - started) / calls * 1e6)
        statuses = {m["status"] for m in sent if m["type"] == "http.response.start"}
        if statuses != {200}:
            raise RuntimeError(f"the app answered {statuses}")
    return best


def app_cost(args: argparse.Namespace) -> None:
    """The apps alone, called in-process (no server, no sockets): us per request."""
    from mock_server import hotkeys

    pin(args.core)
    app, token = build_mock(100)
    keypair = hotkeys.keypair_from(uri=ALICE_URI)
    nonce = str(int(time.time()))
    message = f"{keypair.ss58_address}:{nonce}:api_keys"
    signature = hotkeys.sign(keypair, message)
    api = {"Authorization": f"Basic {token}"}
    signed = {
        "X-Chutes-Hotkey": keypair.ss58_address,
        "X-Chutes-Nonce": nonce,
        "X-Chutes-Signature": signature,
    }
    body: list[bytes] = []

    async def grab(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.append(message["body"])

    async def run() -> dict[str, float]:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        await app(_scope(api), receive, grab)
        bare = build_bare(body[0])
        return {
            "bare": await _best_us(bare, api, 1000),
            "api_key": await _best_us(app, api, 1000),
            "hotkey": await _best_us(app, signed, 300),
        }

    figures = asyncio.run(run())
    raw = bytes.fromhex(signature)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(300):
            hotkeys.verify(keypair.ss58_address, message, raw)
        best = min(best, (time.perf_counter() - started) / 300 * 1e6)
    print(json.dumps({**figures, "verify": best}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve")
    serving.add_argument("app", choices=["mock", "bare"])
    serving.add_argument("--keys", type=int, default=100)
    serving.add_argument("--body", default="")
    serving.add_argument("--fd", type=int, required=True)
    serving.add_argument("--core", type=int)
    memory = commands.add_parser("rss")
    memory.add_argument("--keys", type=int, required=True)
    cost = commands.add_parser("app-cost")
    cost.add_argument("--core", type=int)
    args = parser.parse_args()
    {"serve": serve, "rss": rss, "app-cost": app_cost}[args.command](args)


if __name__ == "__main__":
    main()
