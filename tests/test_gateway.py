"""The gate's verdict through a faulty gateway is its verdict without one.

Between the suites and `chutes-mock serve --quirks production` the faulty
proxy (`support.faulty_proxy`) adds latency and answers some requests
itself: 503 before forwarding, 429 with `Retry-After: 1`, and 504 after
forwarding (the request took effect). Through it, the gate gives the
verdict it gives straight to such a mock (green with production's list,
make test's gate step; red with part of it, the suites' teeth): the same
exit status, no new (untagged) failure, and only unlisted deviations
tagged; the proxy's answers show in the report's infrastructure line, never
as a conformance failure; every key a create behind a 504 made is found and
deleted, so the mock holds what it held.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.support import served as S
from tests.support.faulty_proxy import FaultyProxy

pytestmark = pytest.mark.in_process

SUITES = (
    "tests/contract",
    "tests/property",
    "--ignore=tests/contract/test_teeth.py",
    "--ignore=tests/contract/test_rule_teeth.py",
    "--ignore=tests/contract/test_slow_target.py",
    "--ignore=tests/property/test_teeth.py",
    "--ignore=tests/property/test_known_deviations.py",
)
USERS = {
    "CHUTES_HOTKEY_URI": "//Alice",
    "CHUTES_HOTKEY2_URI": "//Bob",
    "CHUTES_REGISTRY_PASSWORD": "chutes-mock-registry",
}
FAULTS = {"latency": 0.005, "p503": 0.02, "p504": 0.01, "p429": 0.005, "seed": 15}


def _gate(tmp_path: Path, name: str, url: str, listed: str) -> tuple[int, dict, str]:
    report = tmp_path / f"{name}.json"
    env = S.suite_env({**USERS, "CONTRACT_REPORT": str(report)})
    done = S.run(["--base-url", url, *SUITES, "--known-deviations", listed], env)
    output = done.stdout + done.stderr
    assert report.exists(), output[-3000:]
    return done.returncode, json.loads(report.read_text()), output


ALL = {f"D{n}" for n in range(1, 15)}


def _verdict(code: int, report: dict, unlisted: set[str]) -> tuple[int, bool]:
    """(exit status, a failure that no unlisted deviation explains: a new one)."""
    return code, any(not set(f["deviations"]) & unlisted for f in report["failures"])


@pytest.mark.parametrize(
    ("listed", "code"),
    [("production", 0), ("D1,D2,D5,D12,D14", 1)],
    ids=["production-listed", "production-partly-listed"],
)
def test_the_verdict_through_a_faulty_gateway_is_the_direct_one(
    tmp_path: Path, listed: str, code: int
) -> None:
    """The mock behind the proxy is checked for keys left behind."""
    with (
        S.served(tmp_path, "--quirks", "production") as mock,
        FaultyProxy(mock.url, **FAULTS) as proxy,
    ):
        before = mock.key_ids()
        proxied_code, proxied, output = _gate(tmp_path, "proxied", proxy.url, listed)
        unlisted = ALL - set(listed.split(",")) if listed != "production" else set()
        assert _verdict(proxied_code, proxied, unlisted) == (code, False), output[-4000:]
        # The gateway's answers were retried and counted, not judged.
        gateway = proxied["transport"]["gateway"]
        assert {"503", "504"} <= set(gateway), proxied["transport"]
        assert proxy.counts["gateway 504"] > 0 and proxy.counts["gateway 503"] > 0
        line = next(ln for ln in output.splitlines() if ln.startswith("infrastructure:"))
        assert re.search(r"gateway answers retried: .*×503", line), line
        # Creates behind a 504 made keys: each was found and deleted.
        assert mock.key_ids() == before, output[-3000:]
        assert "0 left behind" in output, output[-3000:]


def test_a_deployment_that_stops_answering_ends_the_run_with_status_6(tmp_path: Path) -> None:
    """Midway the gateway answers every request 503: the run stops with exit
    status 6 and a message naming the request and the problem, not as a
    conformance failure; once it answers again, --sweep restores the keys."""
    with S.served(tmp_path, "--quirks", "production") as mock, FaultyProxy(mock.url) as proxy:
        before = mock.key_ids()
        env = S.suite_env(USERS)
        output_file = tmp_path / "stopped.out"
        args = ["--base-url", proxy.url, "tests/property/test_lifecycle.py"]
        run = S.start([*args, "--known-deviations", "production"], env, output_file)
        deadline = time.monotonic() + 120
        while len(mock.key_ids() - before) < 2:
            assert run.poll() is None, output_file.read_text()
            assert time.monotonic() < deadline, "the run made no keys"
            time.sleep(0.2)
        proxy.app.p503 = 1.0
        assert run.wait(timeout=300) == 6, output_file.read_text()[-3000:]
        output = output_file.read_text()
        assert "chutes transport problem: no answer from the API to " in output, output[-3000:]
        assert "503 from what stands in front of the API" in output, output[-3000:]
        assert not re.search(r"\bFAILED\b|\d+ failed", output), output[-3000:]
        proxy.app.p503 = 0.0
        swept = S.run(["--base-url", proxy.url, "--sweep", "--sweep-age", "0"], env)
        assert swept.returncode == 0, swept.stdout + swept.stderr
        assert mock.key_ids() == before
