"""The pytest plugin (`pytest11` entry point): a throwaway project that only
installs the package gets `chutes_mock` and `--chutes-mock-quirks`."""

from __future__ import annotations

import json
import os
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


OPTION_TESTS = """
import json
import os
from pathlib import Path

import httpx
import pytest


def first_users_jwt(mock):
    name = mock.state()["users"][0]["username"]
    return {"Authorization": f"Bearer {mock.user(name).jwt}"}


def test_settings(chutes_mock):
    state = chutes_mock.state()
    key = chutes_mock.add_key(state["users"][0]["username"], "seeded")
    Path(os.environ["OUT"]).write_text(json.dumps({
        "users": [u["username"] for u in state["users"]],
        "netuids": sorted(state["metagraph"]),
        "key": key.api_key_id,
    }))


@pytest.mark.chutes_mock(quirks="D1", netuid=9)
def test_marked(chutes_mock, chutes_mock_server):
    assert chutes_mock is not chutes_mock_server
    auth = first_users_jwt(chutes_mock)
    with httpx.Client(transport=chutes_mock.transport(), base_url=chutes_mock.url) as client:
        assert client.get("/api_keys/?page=-1", headers=auth).status_code == 500
    assert sorted(chutes_mock.state()["metagraph"]) == ["9"]


@pytest.mark.chutes_mock_faults(error={"status": 503}, times=1)
@pytest.mark.chutes_mock_faults({"match": {"method": "DELETE"}, "error": {"status": 409}})
def test_faults_by_marker(chutes_mock):
    auth = first_users_jwt(chutes_mock)
    assert httpx.get(f"{chutes_mock.url}/api_keys/", headers=auth).status_code == 503
    assert httpx.get(f"{chutes_mock.url}/api_keys/", headers=auth).status_code == 200
    assert httpx.delete(f"{chutes_mock.url}/api_keys/x", headers=auth).status_code == 409
    assert len(chutes_mock.faults()) == 2


def test_unmarked_after_marked(chutes_mock):
    assert chutes_mock.faults() == []  # the markers' rules were for that test only
    auth = first_users_jwt(chutes_mock)
    assert httpx.get(f"{chutes_mock.url}/api_keys/?page=-1", headers=auth).status_code == 422
"""


def run_options(tmp_path: Path, *args: str, tests: str = OPTION_TESTS) -> tuple[int, str, dict]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_options.py").write_text(tests)
    out = tmp_path / "out.json"
    out.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "OUT": str(out)},
    )
    written = json.loads(out.read_text()) if out.exists() else {}
    return done.returncode, done.stdout + done.stderr, written


def test_fixture_options_reach_the_server(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    users.write_text("users:\n  - username: carol\n    uri: //Charlie\n    registered: true\n")
    code, output, written = run_options(
        tmp_path,
        "--chutes-mock-fixtures",
        str(users),
        "--chutes-mock-netuid",
        "12",
        "--chutes-mock-seed",
        "4",
    )
    assert code == 0, output
    assert (written["users"], written["netuids"]) == (["carol"], ["12"])
    again = run_options(tmp_path, "--chutes-mock-fixtures", str(users), "--chutes-mock-seed", "4")
    assert again[2]["key"] == written["key"]  # the same seed, the same ids
    # Without options: the embedded users, netuid 64, and ids of a random seed.
    code, output, default = run_options(tmp_path)
    assert code == 0, output
    assert (default["users"], default["netuids"]) == (["alice", "bob"], ["64"])
    assert default["key"] != written["key"]


def test_a_missing_fixtures_file_is_a_usage_error(tmp_path: Path) -> None:
    code, output, _ = run_options(tmp_path, "--chutes-mock-fixtures", "nope.yaml")
    assert code == pytest.ExitCode.USAGE_ERROR
    assert "--chutes-mock-fixtures: no such file: nope.yaml" in output


def test_a_marker_with_an_unknown_option_says_which(tmp_path: Path) -> None:
    tests = (
        "import pytest\n\n\n@pytest.mark.chutes_mock(quirk='D1')\n"
        "def test_typo(chutes_mock):\n    pass\n"
    )
    code, output, _ = run_options(tmp_path, tests=tests)
    assert code != 0
    assert "the chutes_mock marker has no option quirk" in output
