"""The suites are safe and clear against a shared deployment (issue 11).

Each test serves `chutes-mock serve` on a free loopback port and runs the
suites against it by URL, in subprocesses, with small example counts:
- no secret, in any form, in stdout, JUnit XML or the JSON report;
- a misconfigured run stops at the preflight: exit 4, a few lines, no traceback;
- SIGTERM midway leaves the keys as they were; after SIGKILL, `--sweep` does;
- two runs at once (one of them under xdist, `-n 2`) both pass and leave the
  keys as they were;
- reproductions, pasted into a shell with the run's variables, get the
  status the report states;
- drift: no secret in its report, and SIGTERM midway leaves the keys as they were.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import signal
import string
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support import served as S

pytestmark = pytest.mark.in_process

SUITES = (
    "tests/contract",
    "tests/property",
    "--ignore=tests/contract/test_teeth.py",
    "--ignore=tests/property/test_teeth.py",
)
ALL_LISTED = ("--known-deviations", "production")
DEV_USERS = {"CHUTES_HOTKEY_URI": "//Alice", "CHUTES_HOTKEY2_URI": "//Bob"}
ALNUM = string.ascii_letters + string.digits


# Secrets ----------------------------------------------------------------------------------
def _fixtures(tmp_path: Path, seed_a: str, seed_b: str, key_a: str) -> Path:
    path = tmp_path / "users.yaml"
    path.write_text(
        "users:\n"
        f"  - {{username: ann, user_id: {USER_A}, seed: '{seed_a}', registered: true,\n"
        f"     keys: [{{name: ann-admin, admin: true, secret_key: '{key_a}'}}]}}\n"
        f"  - {{username: ben, user_id: {USER_B}, seed: '{seed_b}', registered: false}}\n"
    )
    return path


USER_A = "a0000000-0000-4000-8000-00000000000a"
USER_B = "b0000000-0000-4000-8000-00000000000b"
_FULL_KEY = re.compile(r"cpk_[0-9a-f]{32}\.[0-9a-f]{32}\.[A-Za-z0-9]{32}")
_SIGNATURE = re.compile(r"\b(?:0x)?[0-9a-f]{128}\b")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _forms(seeds: list[str], passwords: list[str], key: str) -> dict[str, str]:
    """Every form a secret could take in output, by a name for the message."""
    forms = {}
    for n, seed in enumerate(seeds):
        forms |= {f"seed {n} hex": seed, f"seed {n} 0x-hex": "0x" + seed}
    for n, password in enumerate(passwords):
        encoded = base64.b64encode(f":{password}".encode()).decode()
        forms |= {
            f"password {n}": password,
            f"password {n} base64": encoded,
            f"password {n} b'' repr": f"b'{encoded}'",
        }
    return forms | {"CHUTES_API_KEY": key, "its secret part": key.rsplit(".", 1)[1]}


def _outputs(run: subprocess.CompletedProcess[str], junit: Path, report: Path) -> dict[str, str]:
    return {
        "stdout": run.stdout + run.stderr,
        "junit": junit.read_text() if junit.exists() else "",
        "json": report.read_text() if report.exists() else "",
    }


def test_no_secret_in_any_output(tmp_path: Path) -> None:
    seeds = [secrets.token_hex(32), secrets.token_hex(32)]
    right, wrong = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    key = f"cpk_{uuid.uuid4().hex}.{uuid.UUID(USER_A).hex}." + "".join(
        secrets.choice(ALNUM) for _ in range(32)
    )
    fixtures = _fixtures(tmp_path, seeds[0], seeds[1], key)
    forms = _forms(seeds, [right, wrong], key)
    options = ("--quirks", "production", "--no-control", "--fixtures", str(fixtures))
    with S.served(tmp_path, *options, "--registry-password", right) as mock:
        runs = {
            # both suites, every deviation listed: they pass, and report the deviations
            "right": (right, ("--base-url", mock.url, *SUITES, *ALL_LISTED)),
            # the registry checks fail, showing what they got: the real header
            "wrong": (wrong, ("--base-url", mock.url, *SUITES, "-k", "registry or signature")),
        }
        outputs = {}
        for name, (password, args) in runs.items():
            junit, report = tmp_path / f"{name}.xml", tmp_path / f"{name}.json"
            env = S.suite_env(
                {
                    "CHUTES_HOTKEY_SEED": "0x" + seeds[0],
                    "CHUTES_HOTKEY2_SEED": seeds[1],
                    "CHUTES_API_KEY": key,
                    "CHUTES_REGISTRY_PASSWORD": password,
                    "CONTRACT_REPORT": str(report),
                }
            )
            done = S.run([*args, f"--junitxml={junit}"], env)
            assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
            outputs |= {f"{name} {k}": v for k, v in _outputs(done, junit, report).items()}
    assert "registry" in outputs["wrong stdout"] and "failed" in outputs["wrong stdout"]
    for where, text in outputs.items():
        leaked = [name for name, value in forms.items() if value in text]
        assert not leaked, f"{where} shows {leaked}"
        for pattern in (_FULL_KEY, _SIGNATURE, _JWT):
            assert not pattern.search(text), f"{where} shows {pattern.pattern}"


# Preflight --------------------------------------------------------------------------------
def _preflight(url: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return S.run(["tests/property", "--base-url", url], S.suite_env(env))


def test_preflight_stops_a_misconfigured_run(tmp_path: Path) -> None:
    nothing = f"http://127.0.0.1:{S.free_port()}"
    with S.served(tmp_path, "--no-control") as mock:
        host = mock.url.removeprefix("http://")
        cases = {
            "nothing listening": (nothing, DEV_USERS, "nothing answers at"),
            "a path prefix": (f"{mock.url}/v1", DEV_USERS, "drop the path '/v1'"),
            "no scheme": (host, DEV_USERS, "has no http:// or https:// scheme"),
            "an unknown hotkey": (
                mock.url,
                {**DEV_USERS, "CHUTES_HOTKEY_URI": "//Nobody"},
                "user A (hotkey",
            ),
            "A not registered": (
                mock.url,
                {"CHUTES_HOTKEY_URI": "//Bob", "CHUTES_HOTKEY2_URI": "//Alice"},
                "is not registered on the netuid",
            ),
            "A and B the same": (
                mock.url,
                {"CHUTES_HOTKEY_URI": "//Alice", "CHUTES_HOTKEY2_URI": "//Alice"},
                "users A and B are the same",
            ),
            "a malformed seed": (
                mock.url,
                {"CHUTES_HOTKEY_URI": "//Alice", "CHUTES_HOTKEY2_SEED": "0x12zz"},
                "CHUTES_HOTKEY2_SEED (user B) does not parse",
            ),
            "a malformed URI": (
                mock.url,
                {"CHUTES_HOTKEY_URI": "not a uri at all", "CHUTES_HOTKEY2_URI": "//Bob"},
                "CHUTES_HOTKEY_URI (user A) does not parse",
            ),
            "a malformed key": (
                mock.url,
                {**DEV_USERS, "CHUTES_API_KEY": "cpk_not-a-key"},
                "CHUTES_API_KEY does not parse",
            ),
        }
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = {
                case: pool.submit(_preflight, url, env) for case, (url, env, _) in cases.items()
            }
            results = {case: future.result() for case, future in done.items()}
    for case, (_, _, wanted) in cases.items():
        result = results[case]
        output = result.stdout + result.stderr
        assert result.returncode == 4, f"{case}: exit {result.returncode}\n{output}"
        assert len(output.strip().splitlines()) <= 15, f"{case}: too long\n{output}"
        assert "Traceback" not in output, f"{case}\n{output}"
        assert wanted in output, f"{case}: no {wanted!r}\n{output}"
        assert "passed" not in output and "failed" not in output, f"{case}: tests ran\n{output}"


# Cleanup and the sweep --------------------------------------------------------------------
def _run_until_keys(
    mock: S.Served, tmp_path: Path, name: str, path: str = "tests/property/test_lifecycle.py"
) -> subprocess.Popen:
    """A deep URL run of `path` (the property suite), returned once it has made keys."""
    before = mock.key_ids()
    env = S.suite_env(DEV_USERS)
    args = ("--base-url", mock.url, path, *ALL_LISTED)
    longer = ("--max-keys", "10000", "--hypothesis-profile", "deep")
    run = S.start([*args, *longer], env, tmp_path / f"{name}.out")
    deadline = time.monotonic() + 120
    while len(mock.key_ids() - before) < 3:
        assert run.poll() is None, (tmp_path / f"{name}.out").read_text()
        assert time.monotonic() < deadline, "the run made no keys"
        time.sleep(0.2)
    return run


def test_sigterm_cleans_up_and_sweep_clears_a_killed_run(tmp_path: Path) -> None:
    with S.served(tmp_path, "--quirks", "production") as mock:
        before = mock.key_ids()
        run = _run_until_keys(mock, tmp_path, "term")
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=120) == 2
        output = (tmp_path / "term.out").read_text()
        assert mock.key_ids() == before, output
        assert "Traceback" not in output and "new failures: 0" in output, output
        assert "run interrupted" in output, output
        # The test (or subtest) the signal landed in is no failure either.
        assert not re.search(r"\bSUBFAILED\b|\bFAILED\b|\d+ failed", output), output

        run = _run_until_keys(mock, tmp_path, "kill")
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=60)
        assert mock.key_ids() - before, "SIGKILL left no key behind: nothing to sweep"
        swept = S.run(
            ["--base-url", mock.url, "--sweep", "--sweep-age", "0"], S.suite_env(DEV_USERS)
        )
        assert swept.returncode == 0, swept.stdout + swept.stderr
        assert "chutes sweep: deleted" in swept.stdout, swept.stdout
        assert "no test runs" in swept.stdout, swept.stdout
        assert "!!!" not in swept.stdout and "Exit" not in swept.stdout, swept.stdout
        assert mock.key_ids() == before


def test_sigterm_in_a_subtest_is_no_failure(tmp_path: Path) -> None:
    """The contract fuzz runs each operation's examples as subtests: the one a
    SIGTERM lands in is reported as stopped, not SUBFAILED."""
    with S.served(tmp_path, "--quirks", "production") as mock:
        before = mock.key_ids()
        run = _run_until_keys(mock, tmp_path, "fuzz", "tests/contract/test_fuzz.py")
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=120) == 2
        output = (tmp_path / "fuzz.out").read_text()
        assert mock.key_ids() == before, output
        assert "run interrupted" in output and "new failures: 0" in output, output
        assert not re.search(r"\bSUBFAILED\b|\bFAILED\b|\d+ failed", output), output
        assert "Traceback" not in output and "INTERNALERROR" not in output, output


# Runs at once -----------------------------------------------------------------------------
def test_two_runs_at_once_one_under_xdist(tmp_path: Path) -> None:
    with S.served(tmp_path, "--quirks", "production") as mock:
        before = mock.key_ids()
        env = S.suite_env(DEV_USERS)
        args = ("--base-url", mock.url, *SUITES, *ALL_LISTED, "--max-keys", "300")
        parallel = S.start([*args, "-n", "2"], env, tmp_path / "parallel.out")
        serial = S.start(list(args), env, tmp_path / "serial.out")
        for run, name in ((parallel, "parallel"), (serial, "serial")):
            code = run.wait(timeout=S.RUN_TIMEOUT)
            output = (tmp_path / f"{name}.out").read_text()
            assert code == 0, f"{name}:\n{output[-5000:]}"
            assert "new failures: 0" in output, output[-3000:]
        assert output.count("chutes conformance report") == 1
        assert mock.key_ids() == before


# Reproductions ----------------------------------------------------------------------------
def test_reproductions_get_the_status_the_report_states(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    with S.served(tmp_path, "--quirks", "production", "--no-control") as mock:
        env = S.suite_env(
            DEV_USERS | {"CHUTES_REGISTRY_PASSWORD": "wrong", "CONTRACT_REPORT": str(report)}
        )
        probes = "tests/contract/test_deviations.py"
        done = S.run(["--base-url", mock.url, probes, "-k", "d1 or d2 or d6 or d7 or d12"], env)
        assert done.returncode == 1, done.stdout[-3000:]
        failures = json.loads(report.read_text())["failures"]
        # Requests that name a key the run made (and deleted) cannot be sent again.
        sample = [f for f in failures if f["curl"] and "CHUTES_KEY_" not in f["curl"]]
        assert len({f["status"] for f in sample}) >= 3, [f["status"] for f in sample]
        shell = {**env, "CHUTES_BASE_URL": mock.url}
        for failure in sample[:10]:
            command = failure["curl"] + " -o /dev/null -w '%{http_code}'"
            sent = subprocess.run(
                ["bash", "-c", command], env=shell, capture_output=True, text=True, timeout=60
            )
            assert sent.stdout == str(failure["status"]), f"{failure['curl']}\n{sent.stderr}"


ALL_BUT_D5 = ",".join(f"D{n}" for n in range(1, 15) if n != 5)


# Drift --------------------------------------------------------------------------------------
def test_drift_sigterm_cleans_up_and_its_report_shows_no_secret(tmp_path: Path) -> None:
    """Drift against a production mock with D5 left off the list: classes, each
    with both answers (create answers among them) and a replay script, and no
    secret in the output; a SIGTERM midway leaves the keys as they were."""
    seeds = [secrets.token_hex(32), secrets.token_hex(32)]
    password = secrets.token_urlsafe(12)
    key = f"cpk_{uuid.uuid4().hex}.{uuid.UUID(USER_A).hex}." + "".join(
        secrets.choice(ALNUM) for _ in range(32)
    )
    fixtures = _fixtures(tmp_path, seeds[0], seeds[1], key)
    forms = _forms(seeds, [password], key)
    options = ("--quirks", "production", "--fixtures", str(fixtures))
    env = S.suite_env(
        {
            "CHUTES_HOTKEY_SEED": seeds[0],
            "CHUTES_HOTKEY2_SEED": seeds[1],
            "CHUTES_API_KEY": key,
            "CHUTES_REGISTRY_PASSWORD": password,
        }
    )
    with S.served(tmp_path, *options, "--registry-password", password) as mock:
        before = mock.key_ids()
        report = tmp_path / "drift.json"
        done = S.run(
            ["tests/drift/test_drift.py", "--base-url", mock.url, "--known-deviations", ALL_BUT_D5],
            {**env, "CONTRACT_REPORT": str(report)},
        )
        assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
        assert "[D5]" in done.stdout and "deployment: 200" in done.stdout, done.stdout[-3000:]
        assert mock.key_ids() == before
        facts = json.loads(report.read_text())
        assert facts["target"] == mock.url and facts["counts"]["failed"] == 1
        assert [m["left"] for m in facts["markers"]] == [[]], facts["markers"]
        assert facts["versions"]["schemathesis"] and facts["started"] < facts["finished"]
        for where, text in {
            "stdout": done.stdout + done.stderr,
            "json": report.read_text(),
        }.items():
            leaked = [name for name, value in forms.items() if value in text]
            assert not leaked, f"{where} shows {leaked}"
            for pattern in (_FULL_KEY, _SIGNATURE, _JWT):
                assert not pattern.search(text), f"{where} shows {pattern.pattern}"

        args = ["tests/drift/test_drift.py", "--base-url", mock.url, *ALL_LISTED]
        run = S.start([*args, "--hypothesis-profile", "deep"], env, tmp_path / "term.out")
        deadline = time.monotonic() + 120
        while not mock.key_ids() - before:
            assert run.poll() is None, (tmp_path / "term.out").read_text()
            assert time.monotonic() < deadline, "the run made no keys"
            time.sleep(0.05)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=120) == 2
        output = (tmp_path / "term.out").read_text()
        assert mock.key_ids() == before, output
        assert "run interrupted" in output and "Traceback" not in output, output


def test_by_url_a_deviation_only_local_tests_probe_is_not_examined(tmp_path: Path) -> None:
    """D11's probe needs the control API, so by URL it is not collected: the
    report says D11 could not be examined (not "fixed?"), and --strict-known
    does not fail on it."""
    with S.served(tmp_path, "--quirks", "production") as mock:
        args = ["tests/contract/test_deviations.py", "-k", "d2 or d11", "--base-url", mock.url]
        env = S.suite_env({**DEV_USERS, "CHUTES_REGISTRY_PASSWORD": "chutes-mock-registry"})
        done = S.run([*args, "--known-deviations", "D2,D11", "--strict-known"], env)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "not examined (their probes were skipped): D11" in done.stdout, done.stdout[-3000:]
    assert "known deviations not observed: none" in done.stdout, done.stdout[-3000:]
