"""No module that pytest rewrites is imported for the first time mid-run
(`support.eager_imports`): such an import, deep in Hypothesis' stack, can
fail on CPython 3.11 (gh-106905) in whatever test is running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.in_process
@pytest.mark.parametrize(
    "paths",
    [
        ("tests/property/test_auth_mutations.py", "tests/contract/test_fuzz.py"),
        ("tests/contract/test_stateful.py", "tests/property/test_jwt_properties.py"),
    ],
    ids=["property-first", "contract-first"],
)
def test_nothing_rewritten_is_imported_after_collection(tmp_path: Path, paths) -> None:
    listing = tmp_path / "late.txt"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_")}
    environ["CHUTES_IMPORT_PROBE"] = str(listing)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "tests.support.import_probe", *paths]
    done = subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    late = listing.read_text().split()
    assert late == [], f"imported after collection, so rewritten mid-run: {late}"
