"""The suite's own teeth: it runs the contract suite in a subprocess against
mocks that are wrong on purpose and checks that it fails, and how.

- `--mock-quirks production`: fails, and the report names every D1–D11;
- `--mock-breakage NAME`: fails on each breakage, with the expected check;
- URL mode against `chutes-mock serve`: passes, and leaves the mock's keys
  exactly as it found them.
Runs use few examples and no coverage phase (CONTRACT_MAX_EXAMPLES,
CONTRACT_COVERAGE) and run three at a time, all
started by the first test that needs one, to stay fast.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.in_process

ROOT = Path(__file__).resolve().parents[2]
DEVIATIONS = [f"D{n}" for n in range(1, 12)]
EXAMPLES = "3"
BREAKAGES = {
    "any_signature": "test_signature_by_another_hotkey_is_401",
    "shows_other_users_keys": "Custom check failed: `keys_belong_to_caller`",
    "secret_in_get_key": "Custom check failed: `secret_only_in_create`",
    "deleted_key_authenticates": "test_d3_deleted_key_is_refused_at_once",
    "nonce_off_by_one": "test_nonce_window_is_open",
}
URL_ENV = {
    "CHUTES_HOTKEY_URI": "//Alice",
    "CHUTES_HOTKEY2_URI": "//Bob",
    "CHUTES_REGISTRY_PASSWORD": "chutes-mock-registry",
}


@dataclass
class Run:
    returncode: int
    report: dict
    failed_tests: set[str]
    output: str

    @property
    def checks(self) -> set[str]:
        return {f["check"] for f in self.report["failures"]} | self.failed_tests


def run_suite(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """`pytest tests/contract` (without this file) in a subprocess."""
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_")}
    environ.update(
        CONTRACT_MAX_EXAMPLES=EXAMPLES, CONTRACT_COVERAGE="0", CONTRACT_REPORT=str(report)
    )
    environ.update(env or {})
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/contract",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--ignore={Path(__file__).relative_to(ROOT)}",
        f"--junitxml={junit}",
        *args,
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
    )
    failed = set()
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.add(case.get("name", ""))
    return Run(done.returncode, json.loads(report.read_text()), failed, done.stdout)


@dataclass
class UrlRun:
    run: Run
    keys_before: list[dict]
    keys_after: list[dict]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keys(url: str) -> list[dict]:
    return httpx.get(f"{url}/_mock/state", timeout=10).json()["keys"]


def run_against_served_mock(tmp_path: Path) -> UrlRun:
    """`chutes-mock serve` on a free port, the suite in URL mode, then stop it."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                before = _keys(url)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        run = run_suite(tmp_path, "--base-url", url, env=URL_ENV)
        return UrlRun(run, before, _keys(url))
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """Every teeth run, started together (three at a time)."""
    jobs = {"production": ("--mock-quirks", "production")}
    jobs.update({name: ("--mock-breakage", name) for name in BREAKAGES})
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures: dict[str, Future] = {
            "url": pool.submit(run_against_served_mock, tmp_path_factory.mktemp("url"))
        }
        for name, args in jobs.items():
            futures[name] = pool.submit(run_suite, tmp_path_factory.mktemp(name), *args)
        yield futures
        for future in futures.values():
            future.cancel()


def test_production_quirks_fail_naming_every_deviation(runs):
    run = runs["production"].result()
    assert run.returncode == 1, run.output[-2000:]
    assert run.report["deviations"] == DEVIATIONS, run.output[-3000:]
    for number in range(1, 12):
        assert any(name.startswith(f"test_d{number}_") for name in run.failed_tests), number
    # The generated part has teeth too: schema and registry header violations.
    fuzz = {f["check"] for f in run.report["failures"] if "test_fuzz" in f["test"]}
    assert {"Response violates schema", "Custom check failed: `registry_header_basic`"} <= fuzz


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_broken_mock_fails(runs, breakage: str):
    run = runs[breakage].result()
    assert run.returncode == 1, run.output[-2000:]
    assert BREAKAGES[breakage] in run.checks, sorted(run.checks)


def test_url_mode_passes_and_leaves_no_trace(runs):
    url_run = runs["url"].result()
    assert url_run.run.returncode == 0, url_run.run.output[-3000:]
    assert "created 0 key(s)" not in url_run.run.output  # the run did create keys...
    assert url_run.keys_after == url_run.keys_before  # ...and no other key was touched
