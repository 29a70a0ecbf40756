"""What fault rules cost, and that a latency rule never holds the loop
(prints figures; asserts nothing).

    .venv/bin/python bench/bench_faults.py          # about 30 s

1. The mock's cost per request in-process (`GET /api_keys/?limit=1` with an
   API key, the fastest of 5 runs, as `bench_servers.py app-cost` measures
   it): with no rule, with a rule that matches nothing, and with a matching
   rule that does nothing (`latency_ms: 0`).
2. 100 concurrent requests to a served mock under a 200 ms latency rule:
   the wall time of all of them (one after another would be 20 s).

For req/s over a server, run `bench_list.py` with and without
`CHUTES_BENCH_FAULT_RULE='{"latency_ms": 0}'` in the environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

SERVERS = str(Path(__file__).with_name("bench_servers.py"))
RULES = {
    "no rule": None,
    "a rule that matches nothing": {"match": {"path": "/nothing"}, "error": {"status": 503}},
    "a matching rule that does nothing": {"latency_ms": 0},
}


def app_cost(rule: dict | None) -> dict[str, float]:
    environ = dict(os.environ)
    environ.pop("CHUTES_BENCH_FAULT_RULE", None)
    if rule is not None:
        environ["CHUTES_BENCH_FAULT_RULE"] = json.dumps(rule)
    done = subprocess.run(
        [sys.executable, SERVERS, "app-cost"],
        capture_output=True,
        text=True,
        env=environ,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def concurrent_under_latency(count: int = 100, latency_ms: int = 200) -> float:
    from mock_server import MockServer

    with MockServer() as mock:
        mock.fault(latency_ms=latency_ms)
        headers = {"Authorization": f"Bearer {mock.user('alice').jwt}"}

        async def burst() -> float:
            limits = httpx.Limits(max_connections=count)
            async with httpx.AsyncClient(base_url=mock.url, limits=limits, timeout=60) as client:
                await client.get("/openapi.json")
                started = time.perf_counter()
                answers = await asyncio.gather(
                    *(client.get("/api_keys/", headers=headers) for _ in range(count))
                )
                assert {r.status_code for r in answers} == {200}
                return time.perf_counter() - started

        return asyncio.run(burst())


def main() -> None:
    for name, rule in RULES.items():
        cost = app_cost(rule)
        print(
            f"in-process, {name}: {cost['api_key']:.1f} us per request (bare: {cost['bare']:.1f})"
        )
    took = concurrent_under_latency()
    print(f"100 concurrent requests under a 200 ms latency rule: all answered in {took:.2f} s")


if __name__ == "__main__":
    main()
