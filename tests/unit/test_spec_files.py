"""Where the mock reads its OpenAPI documents: the checkout's, or the wheel's copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.settings import DEFAULT_CONTROL_SPEC, DEFAULT_SPEC
from mock_server.spec_files import locate

ROOT = Path(__file__).resolve().parents[2]


def layout(root: Path, package: str, files: list[str]) -> Path:
    """A package directory at root/PACKAGE/mock_server, with FILES under root."""
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    package_dir = root / package / "mock_server"
    package_dir.mkdir(parents=True, exist_ok=True)
    return package_dir


def test_a_checkout_serves_the_files_people_edit() -> None:
    assert DEFAULT_SPEC == ROOT / "openapi" / "auth.yaml"
    assert DEFAULT_CONTROL_SPEC == ROOT / "openapi" / "control.yaml"


@pytest.mark.parametrize("packaged_too", [False, True])
def test_an_editable_install_reads_the_checkout(tmp_path: Path, packaged_too: bool) -> None:
    stale = ["src/mock_server/openapi/auth.yaml"] if packaged_too else []
    package_dir = layout(tmp_path, "src", ["openapi/auth.yaml", *stale])
    assert locate("auth.yaml", package_dir, package_dir) == tmp_path / "openapi" / "auth.yaml"


def test_an_installed_wheel_reads_its_packaged_copy(tmp_path: Path) -> None:
    package_dir = layout(
        tmp_path,
        "site-packages",
        ["openapi/auth.yaml", "site-packages/mock_server/openapi/auth.yaml"],
    )
    found = locate("auth.yaml", package_dir, package_dir)
    assert found == package_dir / "openapi" / "auth.yaml"
    assert found.read_text() == "site-packages/mock_server/openapi/auth.yaml"
