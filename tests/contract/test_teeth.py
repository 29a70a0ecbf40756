"""The suite's own teeth: it runs the contract suite in a subprocess against
mocks that are wrong on purpose and checks that it fails, and how; and that
known deviations are tolerated exactly, never more.

In-process, against `--mock-quirks production --known-deviations production`:
- as is: passes, and reports D1–D14 observed;
- with each `--mock-breakage`: fails with a new (untagged) failure, by the
  expected check. Among them the three bugs that resemble a deviation: a
  non-admin key accepted (D8), a registry value without the ':' (D2), a
  deleted key valid for good (D3). No breakage is hidden by a listed
  deviation: each is caught by a request whose contract answer production
  gives too (a probe, or a check re-run on the contract's answer for D2/D5).
`--mock-quirks D3 --known-deviations D3` passes, `--mock-quirks D3` alone
fails tagged [D3]; `--mock-quirks none --known-deviations production
--strict-known` fails naming D1–D14 as not observed.
By URL against `chutes-mock serve --quirks production`: `--known-deviations
production` passes and leaves the mock's keys as it found them; with D2 left
off the list the run fails, every failure tagged [D2].
Runs use few examples and no coverage phase (CONTRACT_MAX_EXAMPLES,
CONTRACT_COVERAGE) and run three at a time, all started by the first test
that needs one, to stay fast.
"""

from __future__ import annotations

import base64
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

from tests.support import details as D

# Its module fixture serves mocks and runs suites once: under xdist the
# module stays on one worker (make test runs --dist loadgroup).
pytestmark = [pytest.mark.in_process, pytest.mark.xdist_group("contract-teeth")]

ROOT = Path(__file__).resolve().parents[2]
DEVIATIONS = [f"D{n}" for n in range(1, 15)]
EXAMPLES = "3"
PRODUCTION = ("--mock-quirks", "production", "--known-deviations", "production")
SUITE = ("tests/contract",)
PROBES = ("tests/contract/test_deviations.py", "tests/contract/test_isolation.py")
# Each breakage, planted in a production mock: a check that catches it, and
# what to run. The two caught by generated cases run the whole suite: there
# the checks carry on past D5 on the contract's answer. The rest need only
# the probes, which keeps these runs short.
FUZZ = ("tests/contract/test_fuzz.py",)
# breakage: (the test or check that catches it, what to run, what its reason says)
BREAKAGES = {
    "any_signature": (
        "test_signature_by_another_hotkey_is_401",
        PROBES,
        "A's hotkey, B's signature: status 200, expected 401",
    ),
    "shows_other_users_keys": (
        "Custom check failed: `keys_belong_to_caller`",
        SUITE,
        "to user ",
    ),
    "secret_in_get_key": (
        "Custom check failed: `secret_only_in_create`",
        SUITE,
        "answered 200 with a `secret_key` field",
    ),
    "deleted_key_authenticates": (
        "test_d3_deleted_key_is_refused_after_its_window",
        PROBES,
        "status 200, expected 401",
    ),
    "nonce_off_by_one": ("test_nonce_window_is_open", PROBES, "status 200, expected 401"),
    "non_admin_key_accepted": (
        "test_d8_non_admin_key_is_refused[list]",
        PROBES,
        "status 200, expected 401",
    ),
    "registry_header_no_colon": (
        "test_d2_registry_header_is_basic_base64",
        PROBES,
        "registry header is",
    ),
    # The fuzz holds details and the create rules' statuses, not only "accepted".
    "get_answers_delete_detail": (
        "Custom check failed: `details_are_the_contracts`",
        FUZZ,
        f'with detail "{D.DELETE_KEY_NOT_FOUND}", not one the contract',
    ),
    "object_type_checked_for_admin": (
        "Custom check failed: `create_follows_the_rules`",
        FUZZ,
        # an admin key's scopes checked (400 for 200), or a non-admin's not (200 for 400)
        D.BAD_OBJECT_TYPE,
    ),
}
KNOWN_ALL = {"CHUTES_KNOWN_DEVIATIONS": "production"}
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
    properties: dict[str, str]

    @property
    def checks(self) -> set[str]:
        return {f["check"] for f in self.report["failures"]} | self.failed_tests

    @property
    def new_failures(self) -> list[dict]:
        """Failures that show no deviation at all."""
        return [f for f in self.report["failures"] if not f["deviations"]]


def run_suite(
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    tests: tuple[str, ...] = SUITE,
    known: str | None = None,
    examples: str = EXAMPLES,
) -> Run:
    """`pytest tests/contract` (without this file) in a subprocess; `known`
    goes in by the environment variable (CHUTES_KNOWN_DEVIATIONS)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_")}
    environ.update(
        CONTRACT_MAX_EXAMPLES=examples, CONTRACT_COVERAGE="0", CONTRACT_REPORT=str(report)
    )
    environ.update(env or {})
    if known is not None:
        environ["CHUTES_KNOWN_DEVIATIONS"] = known
    command = [
        sys.executable,
        "-m",
        "pytest",
        *tests,
        "-p",
        "no:cacheprovider",
        "-q",
        f"--ignore={Path(__file__).relative_to(ROOT)}",
        "--ignore=tests/contract/test_rule_teeth.py",
        f"--junitxml={junit}",
        *args,
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
    )
    failed = set()
    root = ET.parse(junit).getroot()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.add(case.get("name", ""))
    properties = {p.get("name", ""): p.get("value", "") for p in root.iter("property")}
    return Run(done.returncode, json.loads(report.read_text()), failed, done.stdout, properties)


@dataclass
class UrlRuns:
    listed: Run  # --known-deviations production
    one_off: Run  # the same list without D2
    keys_before: list[dict]
    keys_after: list[dict]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keys(url: str) -> list[dict]:
    return httpx.get(f"{url}/_mock/state", timeout=10).json()["keys"]


def run_against_served_mock(tmp_path: Path) -> UrlRuns:
    """`chutes-mock serve --quirks production` on a free port, the suite in URL
    mode twice (the full list, then without D2), then stop it."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", str(port), "--quirks=production"],
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
        listed = run_suite(tmp_path / "listed", "--base-url", url, env=URL_ENV | KNOWN_ALL)
        after = _keys(url)
        without_d2 = ",".join(d for d in DEVIATIONS if d != "D2")
        one_off = run_suite(tmp_path / "one-off", "--base-url", url, env=URL_ENV, known=without_d2)
        return UrlRuns(listed, one_off, before, after)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """Every teeth run, started together (three at a time)."""
    jobs: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {"production": (PRODUCTION, SUITE)}
    for name, (_, tests, _) in BREAKAGES.items():
        jobs[name] = ((*PRODUCTION, "--mock-breakage", name), tests)
    jobs["d3-listed"] = (("--mock-quirks", "D3", "--known-deviations", "D3"), SUITE)
    jobs["d3-unlisted"] = (("--mock-quirks", "D3"), SUITE)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures: dict[str, Future] = {
            "url": pool.submit(run_against_served_mock, tmp_path_factory.mktemp("url"))
        }
        futures["strict"] = pool.submit(
            run_suite,
            tmp_path_factory.mktemp("strict"),
            "--known-deviations",
            "production",
            "--strict-known",
            tests=("tests/contract/test_deviations.py",),
        )
        for name, (args, tests) in jobs.items():
            futures[name] = pool.submit(
                run_suite,
                tmp_path_factory.mktemp(name),
                *args,
                tests=tests,
                # The fuzz alone: as many examples as a `ci` run gives it.
                examples="25" if tests == FUZZ else EXAMPLES,
            )
        yield futures
        for future in futures.values():
            future.cancel()


def test_production_with_its_deviations_listed_passes(runs):
    run = runs["production"].result()
    assert run.returncode == 0, run.output[-3000:]
    assert run.report["failures"] == []
    assert list(run.report["observed"]) == DEVIATIONS, run.output[-3000:]
    assert run.report["not_observed"] == []
    for name, seen in run.report["observed"].items():
        assert " curl " in f" {seen['curl']}" and "$CHUTES_BASE_URL" in seen["curl"], name
    assert "known deviations observed: " + ", ".join(DEVIATIONS) in run.output
    assert run.properties["chutes.known_observed"] == ",".join(DEVIATIONS)
    assert run.properties["chutes.new_failures"] == "0"


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_broken_production_mock_fails_as_a_new_failure(runs, breakage: str):
    run = runs[breakage].result()
    assert run.returncode == 1, run.output[-2000:]
    expected, _, says = BREAKAGES[breakage]
    caught = [
        f
        for f in run.new_failures
        if expected in (f["test"].split("::")[-1], f["check"]) and says in f["reason"]
    ]
    assert caught, run.report["failures"]


def test_a_listed_deviation_passes_and_unlisted_fails_tagged(runs):
    listed, unlisted = runs["d3-listed"].result(), runs["d3-unlisted"].result()
    assert listed.returncode == 0, listed.output[-3000:]
    assert list(listed.report["observed"]) == ["D3"]
    assert unlisted.returncode == 1, unlisted.output[-2000:]
    assert unlisted.report["failures"]
    assert all(f["deviations"] == ["D3"] for f in unlisted.report["failures"]), unlisted.output
    assert unlisted.report["deviations"] == ["D3"]


def test_strict_known_fails_naming_what_was_not_observed(runs):
    run = runs["strict"].result()
    assert run.returncode == 1, run.output[-2000:]
    assert run.report["failures"] == [] and run.report["observed"] == {}
    assert run.report["not_observed"] == DEVIATIONS
    assert "known deviations not observed: " + ", ".join(DEVIATIONS) in run.output
    assert "fixed? take them off the list" in run.output
    assert run.properties["chutes.known_not_observed"] == ",".join(DEVIATIONS)


def test_url_mode_passes_on_production_with_its_list(runs):
    url = runs["url"].result()
    assert url.listed.returncode == 0, url.listed.output[-3000:]
    assert url.listed.report["failures"] == []
    assert "D2" in url.listed.report["observed"]
    assert "created 0 key(s)" not in url.listed.output  # the run did create keys...
    assert url.keys_after == url.keys_before  # ...and no other key was touched


def test_url_mode_fails_naming_a_deviation_left_off(runs):
    run = runs["url"].result().one_off
    assert run.returncode == 1, run.output[-2000:]
    assert run.report["failures"]
    assert all(f["deviations"] == ["D2"] for f in run.report["failures"]), run.output[-3000:]
    assert "[D2]" in run.output
    # The registry value carries the password: no report shows it.
    value = base64.b64encode(f":{URL_ENV['CHUTES_REGISTRY_PASSWORD']}".encode()).decode()
    assert value not in run.output and value not in json.dumps(run.report)
