"""The README's control-API examples run as written (with the mock's URL in
place of `make serve`'s), each answering 2xx with JSON."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server import MockServer

README = Path(__file__).resolve().parents[2] / "README.md"
SERVED_AT = "http://127.0.0.1:8000"


def control_examples() -> list[str]:
    text = README.read_text()
    section = text[text.index("### Control API") :]
    section = section[: section.index("\n### ", 1)]
    [block] = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return [line for line in block.splitlines() if line.strip()]


def test_the_section_has_a_call_per_control_operation() -> None:
    calls = " ".join(control_examples())
    for path in ("reset", "state", "users", "metagraph", "clock", "clock/advance", "jwt", "keys"):
        assert f"/_mock/{path}" in calls
    assert "/_mock/requests" in calls and "/openapi.json" in calls


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_control_api_examples_run_as_written() -> None:
    with MockServer() as mock:
        for line in control_examples():
            assert line.startswith("curl -fsS "), line
            done = subprocess.run(
                ["bash", "-c", line.replace(SERVED_AT, mock.url)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, f"{line}\n{done.stderr}"
            json.loads(done.stdout)


def signed_curl_examples() -> list[str]:
    text = README.read_text()
    section = text[text.index("### Calling it with curl") :]
    section = section[: section.index("\n### ", 1)]
    return re.findall(r"^eval .*$", section, flags=re.MULTILINE)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_signed_curl_lines_follow_the_port_and_the_clock() -> None:
    """As written, on a port other than 8000 given by CHUTES_MOCK_PORT, after
    the mock's clock was moved an hour: each line is answered 200."""
    lines = signed_curl_examples()
    assert len(lines) >= 3
    cli = shlex.join([sys.executable, "-m", "mock_server"])
    with MockServer() as mock:
        mock.advance_clock(3600)
        environ = {**os.environ, "CHUTES_MOCK_PORT": mock.url.rsplit(":", 1)[1]}
        for name in ("CHUTES_BASE_URL", "CHUTES_MOCK_CREDENTIALS_FILE"):
            environ.pop(name, None)
        for line in lines:
            command = line.replace(".venv/bin/chutes-mock", cli)
            done = subprocess.run(
                ["bash", "-c", f"{command} -o /dev/null -w '%{{http_code}}'"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env=environ,
            )
            assert (done.returncode, done.stdout) == (0, "200"), f"{line}\n{done.stderr}"


def own_tests_examples() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Use the mock in your own tests") :]
    section = section[: section.index("### The request journal")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_fixture_example_runs_as_written(tmp_path: Path) -> None:
    """The pytest example, as a project's test file: every test passes."""
    fixture_tests, _ = own_tests_examples()
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_from_readme.py").write_text(fixture_tests)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    tests = len(re.findall(r"^def test_", fixture_tests, flags=re.MULTILINE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{tests} passed" in done.stdout


def test_the_mockserver_example_runs_as_written(tmp_path: Path) -> None:
    _, script = own_tests_examples()
    checked = script + (
        "\nassert key.secret_key.startswith('cpk_') and short.count('.') == 2"
        "\nassert not mock.running\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", checked],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def faults_examples() -> tuple[list[str], str]:
    text = README.read_text()
    section = text[text.index("### Faults") :]
    section = section[: section.index("\n### ", 1)]
    [shell] = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    [python] = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    lines = [line for line in shell.splitlines() if line.strip() and not line.startswith("#")]
    return lines, python


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_faults_curl_examples_run_as_written() -> None:
    lines, _ = faults_examples()
    kinds = " ".join(lines)
    for kind in ("latency_ms", "error", "drop", "reset", "close_after", '"after"', "probability"):
        assert kind in kinds
    with MockServer() as mock:
        for line in lines:
            done = subprocess.run(
                ["bash", "-c", line.replace(SERVED_AT, mock.url)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, f"{line}\n{done.stderr}"
            json.loads(done.stdout)
        assert mock.faults() == []  # the block ends by removing them


def test_the_faults_python_example_runs_as_written(tmp_path: Path) -> None:
    _, script = faults_examples()
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_rules_table_of_tests_readme_is_current() -> None:
    """tests/README.md's table of the rules checked by URL is the one the
    rules, the probes and their breakages build (`python -m tests.contract.table`)."""
    from tests.contract import table

    assert table.current(table.README.read_text(encoding="utf-8")) == table.render(), (
        "tests/README.md's rules table is stale: run .venv/bin/python -m tests.contract.table"
    )


def test_the_rules_table_has_a_row_per_rule_and_probe_and_every_breakage() -> None:
    from tests.contract import table
    from tests.contract.rules import RULES
    from tests.contract.test_rule_teeth import CAUGHT, PROBES

    built = table.render()
    by_url = [rule_id for rule_id, rule in RULES.items() if not rule.control]
    assert len(table.rows()) == len(by_url) + len(PROBES)
    assert all(f"`test_rule[{rule_id}]`" in built for rule_id in by_url)
    shown = {
        c.breakage for c in CAUGHT if c.check in by_url or c.check in {p.__name__ for p in PROBES}
    }
    assert all(f"`{breakage}`" in built for breakage in shown)
