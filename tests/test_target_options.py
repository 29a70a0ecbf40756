"""The target options: a URL target without usable credentials stops the run
at once with one line naming what to set (issue 3: not a crash); so does an
unknown name in --known-deviations / CHUTES_KNOWN_DEVIATIONS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITE = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/property"]


def run_suite(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHUTES_HOTKEY", "CHUTES_BASE_URL", "CHUTES_API_KEY"))
    }
    return subprocess.run(
        [*SUITE, "--base-url", "http://127.0.0.1:9"],
        cwd=ROOT,
        env={**env, **env_extra},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.in_process
def test_missing_credentials_name_the_variables() -> None:
    result = run_suite({})
    assert result.returncode == 4, result.stdout + result.stderr
    assert "CHUTES_HOTKEY_URI or CHUTES_HOTKEY_SEED" in result.stderr
    assert "CHUTES_HOTKEY2_URI or CHUTES_HOTKEY2_SEED" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.in_process
def test_only_the_missing_user_is_named() -> None:
    result = run_suite({"CHUTES_HOTKEY_URI": "//Alice"})
    assert result.returncode == 4
    assert "CHUTES_HOTKEY2_URI or CHUTES_HOTKEY2_SEED" in result.stderr
    assert "CHUTES_HOTKEY_URI or" not in result.stderr


@pytest.mark.in_process
def test_a_malformed_seed_is_refused_clearly() -> None:
    result = run_suite({"CHUTES_HOTKEY_URI": "//Alice", "CHUTES_HOTKEY2_SEED": "not-hex"})
    assert result.returncode == 4
    assert "CHUTES_HOTKEY2_SEED (user B) does not parse: it must be 64 hex digits" in result.stderr
    assert "not-hex" not in result.stdout + result.stderr


def run_with(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--co", *args],
        cwd=ROOT,
        env={**env, **env_extra},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.in_process
def test_an_unknown_known_deviation_is_a_usage_error() -> None:
    by_flag = run_with(["tests/contract/test_deviations.py", "--known-deviations", "D2,D15"], {})
    assert by_flag.returncode == 4, by_flag.stdout + by_flag.stderr
    assert "unknown deviation(s) D15" in by_flag.stderr
    assert "Traceback" not in by_flag.stdout + by_flag.stderr
    by_env = run_with(["tests/contract/test_deviations.py"], {"CHUTES_KNOWN_DEVIATIONS": "prod"})
    assert by_env.returncode == 4 and "unknown deviation(s) PROD" in by_env.stderr
    listed = run_with(["tests/contract/test_deviations.py"], {"CHUTES_KNOWN_DEVIATIONS": "d2, D5"})
    assert listed.returncode == 0, listed.stdout + listed.stderr


@pytest.mark.in_process
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hypothesis-profile", "nightly"], "unknown Hypothesis profile 'nightly': the suites' "),
        (["--base-url", "http://127.0.0.1:9", "--mock-quirks", "D1"], "--mock-quirks changes"),
        (["--base-url", "http://127.0.0.1:9", "--mock-breakage", "any_signature"], "--mock-"),
        (["--sweep"], "--sweep deletes keys on a deployment: give --base-url"),
    ],
    ids=["unknown-profile", "url-with-quirks", "url-with-breakage", "sweep-without-url"],
)
def test_quiet_mistakes_are_usage_errors(args: list[str], message: str) -> None:
    result = run_with(["tests/contract/test_deviations.py", *args], {})
    assert result.returncode == 4, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "INTERNALERROR" not in result.stdout + result.stderr


@pytest.mark.in_process
def test_a_spent_key_budget_skips_with_a_warning(tmp_path: Path) -> None:
    """A test stopped by --max-keys is skipped (the target has no defect), and
    the KeyBudgetWarning shows in pytest's summary."""
    test = tmp_path / "test_budget.py"
    test.write_text(
        "from tests.support.ledger import KeyLedger\n\n"
        "def test_needs_two_keys():\n"
        "    ledger = KeyLedger('ckabcdef-', 1)\n"
        "    ledger.reserve()\n"
        "    ledger.reserve()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.plugin",
            str(test),
        ],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout and "--max-keys budget ran out" in result.stdout
    assert "KeyBudgetWarning" in result.stdout
