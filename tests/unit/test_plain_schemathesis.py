"""Schemathesis as people run it on its own, from the repo root: the root
`schemathesis.toml` authenticates with CHUTES_API_KEY, and the contract's
business rules are stated where it can read them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mock_server import MockServer

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).with_name("st")
# What production's listed deviations look like to Schemathesis: its 500s
# (D1, D4, D6, D7, D11), naive date-times (D5), the registry header (D2).
DEVIATION_FAILURES = {
    "Server error",
    "Undocumented status code",
    "Response violates schema",
    "Response header does not conform to the schema",
}

pytestmark = pytest.mark.skipif(not ST.exists(), reason="needs the st command beside python")


def st_run(mock: MockServer, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`st run openapi/auth.yaml` from a copy of the repo root's files, so
    that Schemathesis' own cache (`.schemathesis/`) lands outside the checkout."""
    with tempfile.TemporaryDirectory() as root:
        shutil.copy(ROOT / "schemathesis.toml", root)
        (Path(root) / "openapi").mkdir()
        shutil.copy(ROOT / "openapi" / "auth.yaml", Path(root) / "openapi")
        return _st_run_in(Path(root), mock, environ)


def _st_run_in(
    root: Path, mock: MockServer, environ: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    command = [str(ST), "run", "openapi/auth.yaml", "--url", mock.url]
    return subprocess.run(
        [*command, "--max-examples", "25", "--seed", "1"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=environ,
    )


def with_key(mock: MockServer) -> dict[str, str]:
    return {**os.environ, "CHUTES_API_KEY": mock.user("alice").api_key, "NO_COLOR": "1"}


def test_the_contract_mock_passes_plain_st_run() -> None:
    with MockServer() as mock:
        done = st_run(mock, with_key(mock))
    assert done.returncode == 0, done.stdout[-4000:]
    assert "No issues found" in done.stdout


def test_against_production_every_failure_is_a_listed_deviation() -> None:
    with MockServer(quirks="production") as mock:
        done = st_run(mock, with_key(mock))
    assert done.returncode == 1
    summary = done.stdout[done.stdout.rindex("Failures:") :]
    kinds = set(re.findall(r"ST\d+ ([^:\n]+): \d+", summary))
    assert kinds and kinds <= DEVIATION_FAILURES, summary
    assert "Schema-valid request rejected" not in done.stdout
    assert "API accepts invalid authentication" not in done.stdout


def test_without_the_key_it_says_which_variable() -> None:
    environ = {k: v for k, v in os.environ.items() if k != "CHUTES_API_KEY"}
    with MockServer() as mock:
        done = st_run(mock, environ)
    assert done.returncode != 0
    assert "Missing environment variable: `CHUTES_API_KEY`" in done.stdout + done.stderr
