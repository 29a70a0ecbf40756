"""Outside the repo, a project that installs only the wheel gets the
`chutes_mock` fixture: the wheel is built from a copy of the source, installed
into a fresh virtual environment at the pinned versions, and the example
client suite (`examples/`) runs there from a temporary folder.

Slow (a build and an install, about a minute): it runs when
CHUTES_SLOW_TESTS=1, as `scripts/test.sh` sets it, and is skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What a build reads: the package, the contract, and the suites the wheel carries.
SOURCE = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "src", "openapi", "tests")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("CHUTES_SLOW_TESTS"),
        reason="slow (builds and installs a wheel): set CHUTES_SLOW_TESTS=1 (scripts/test.sh does)",
    ),
]


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_fixture_from_a_wheel_in_a_throwaway_project(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: the build leaves nothing in the checkout
    source.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            caches = shutil.ignore_patterns("__pycache__")
            shutil.copytree(ROOT / name, source / name, ignore=caches)
        else:
            shutil.copy2(ROOT / name, source / name)
    shutil.rmtree(source / "src" / "chutes_auth_kit.egg-info", ignore_errors=True)
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "-w",
        tmp_path / "dist",
        ".",
        cwd=source,
    )
    [wheel] = (tmp_path / "dist").glob("*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    run(*pip, "--constraint", ROOT / "constraints.txt", wheel, "pytest", "httpx", cwd=tmp_path)

    project = tmp_path / "project"  # nothing of the repo but the example's own files
    shutil.copytree(ROOT / "examples", project)
    done = run(
        venv / "bin" / "python", "-I", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
    )
    assert " passed" in done.stdout and "failed" not in done.stdout
    # The package came from the wheel, not from this checkout.
    where = run(
        venv / "bin" / "python",
        "-I",
        "-c",
        "import mock_server; print(mock_server.__file__)",
        cwd=project,
    )
    assert where.stdout.startswith(str(venv))
