"""The pytest plugin (`pytest11` entry point): a throwaway project that only
installs the package gets `chutes_mock` and `--chutes-mock-quirks`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_TESTS = """
import httpx


def auth(mock):
    return {"Authorization": f"Basic {mock.user('alice').api_key}"}


def test_create(chutes_mock):
    body = {"name": "t1", "admin": True}
    created = httpx.post(f"{chutes_mock.url}/api_keys/", json=body, headers=auth(chutes_mock))
    assert created.status_code == 200
    assert [(r.method, r.status) for r in chutes_mock.requests()] == [("POST", 200)]
    chutes_mock.freeze_clock(1_800_000_000)


def test_the_next_test_starts_from_the_seeded_state(chutes_mock, chutes_mock_server):
    assert chutes_mock is chutes_mock_server  # one server per session
    assert chutes_mock.requests() == []
    listed = httpx.get(f"{chutes_mock.url}/api_keys/", headers=auth(chutes_mock))
    assert listed.json()["total"] == 1  # the key made above is gone
    assert httpx.get(f"{chutes_mock.url}/_mock/clock").json()["frozen"] is False


def test_quirks(chutes_mock, request):
    negative = httpx.get(
        f"{chutes_mock.url}/api_keys/", params={"page": -1}, headers=auth(chutes_mock)
    )
    quirks = request.config.getoption("chutes_mock_quirks")
    assert negative.status_code == (500 if quirks == "D1" else 422)
"""


def run_project(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_client.py").write_text(PROJECT_TESTS)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("quirks", [None, "D1"])
def test_a_project_gets_the_fixture(tmp_path: Path, quirks: str | None) -> None:
    args = ["--chutes-mock-quirks", quirks] if quirks else []
    done = run_project(tmp_path, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_an_unknown_quirk_is_a_usage_error(tmp_path: Path) -> None:
    done = run_project(tmp_path, "--chutes-mock-quirks", "D99")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--chutes-mock-quirks: unknown quirk(s) D99" in done.stdout + done.stderr
