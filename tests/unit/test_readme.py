"""The README's control-API examples run as written (with the mock's URL in
place of `make serve`'s), each answering 2xx with JSON."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
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
