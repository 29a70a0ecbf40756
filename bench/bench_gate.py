"""The gate's wall time over a slow network: figures, no assertion.

    python bench/bench_gate.py [--latency-ms 0,10,100] [--workers N] [-- extra gate options]

For each latency it serves `chutes-mock serve --quirks production`, puts
`latency_proxy.py` in front of it (every request waits that long, as across
a network to a remote deployment) and runs the gate as a pipeline does:

    chutes-conformance --base-url PROXY --known-deviations production

(`--workers N` adds `-n N`; 0 runs serially). It prints, per latency, the
wall time, the exit status, the tests' outcomes and the requests the report
counted (per suite), read from the run's JSON report.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVE = ("--quirks", "production", "--no-control", "--log-level", "warning")
ENV = {
    "CHUTES_HOTKEY_URI": "//Alice",
    "CHUTES_HOTKEY2_URI": "//Bob",
    "CHUTES_REGISTRY_PASSWORD": "chutes-mock-registry",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def started(stack: ExitStack, command: list[str], log: Path) -> subprocess.Popen:
    handle = stack.enter_context(open(log, "w"))  # noqa: SIM115 - closed by the stack
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    stack.callback(process.wait)
    stack.callback(process.terminate)
    return process


def one_run(latency_ms: float, workers: int | None, extra: list[str], scratch: Path) -> dict:
    """Serve, relay with latency, run the gate; what it measured."""
    with ExitStack() as stack:
        mock, proxy = free_port(), free_port()
        started(
            stack,
            [str(BIN / "chutes-mock"), "serve", "--port", str(mock), *SERVE],
            scratch / "serve.log",
        )
        wait_for(mock)
        relay = [str(mock), "--port", str(proxy), "--latency-ms", str(latency_ms)]
        started(
            stack,
            [sys.executable, str(ROOT / "bench" / "latency_proxy.py"), *relay],
            scratch / "proxy.log",
        )
        wait_for(proxy)
        report = scratch / f"report-{latency_ms:g}.json"
        command = [str(BIN / "chutes-conformance"), "--base-url", f"http://127.0.0.1:{proxy}"]
        command += ["--known-deviations", "production"]
        command += [] if workers is None else ["-n", str(workers)]
        environ = {**os.environ, **ENV, "CONTRACT_REPORT": str(report)}
        began = time.monotonic()
        run = subprocess.run(command + extra, env=environ, capture_output=True, text=True)
        wall = time.monotonic() - began
        (scratch / f"gate-{latency_ms:g}.log").write_text(run.stdout + run.stderr)
    facts = json.loads(report.read_text()) if report.is_file() else {}
    summary = re.findall(r"^coverage: .*$", run.stdout, flags=re.M)
    return {
        "latency_ms": latency_ms,
        "wall_s": round(wall, 1),
        "exit": run.returncode,
        "counts": {k: v for k, v in facts.get("counts", {}).items() if v},
        "requests": facts.get("coverage", {}).get("requests"),
        "coverage_line": summary[0] if summary else "",
        "new_failures": len(facts.get("defects", [])),
        "tail": run.stdout.strip().splitlines()[-1:] if run.returncode not in (0, 1) else [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", default="0,10,100")
    parser.add_argument("--workers", type=int, default=None, help="-n N (default: the gate's)")
    parser.add_argument("--keep", type=Path, help="keep each run's output and report here")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    with tempfile.TemporaryDirectory() as scratch:
        where = args.keep or Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        for latency in (float(x) for x in args.latency_ms.split(",")):
            figures = one_run(latency, args.workers, extra, where)
            print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
