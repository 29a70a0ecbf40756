"""`chutes-mock serve` on a free loopback port, and the suites run against it
in a subprocess: for the tests of the suites' own safety (tests/test_safety.py).

Every server and run is bounded: a served mock lives for one `with` block,
a run has a timeout, and each is stopped by its own process id.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RUN_TIMEOUT = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    url: str
    process: subprocess.Popen
    log: Path

    def keys(self) -> list[dict]:
        """Every key the mock holds (needs the control API)."""
        return httpx.get(f"{self.url}/_mock/state", timeout=10).json()["keys"]

    def key_ids(self) -> set[str]:
        return {key["api_key_id"] for key in self.keys()}


@contextmanager
def served(tmp_path: Path, *options: str) -> Iterator[Served]:
    """`chutes-mock serve OPTIONS` until the block ends."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "serve", "--port", str(port), *options],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/registry/auth", timeout=5)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    failed = f"chutes-mock serve did not come up: {log.read_text()}"
                    raise RuntimeError(failed) from None
                time.sleep(0.2)
        yield Served(url, process, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def suite_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without any CHUTES_ setting, with `extra`; the venv's
    scripts (chutes-mock) first on PATH; small example counts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHUTES_", "CONTRACT_"))}
    env.update(CONTRACT_MAX_EXAMPLES="3", CONTRACT_COVERAGE="0")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]


def run(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`pytest ARGS` in a subprocess, bounded."""
    return subprocess.run(
        pytest_command(*args),
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def start(args: Sequence[str], env: Mapping[str, str], output: Path) -> subprocess.Popen:
    """`pytest ARGS` in the background, its output to `output`."""
    with output.open("w") as out:
        return subprocess.Popen(
            pytest_command(*args), cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
