"""Where the OpenAPI documents are read from.

`openapi/*.yaml` at the top of the checkout are the files people edit. A
source checkout or an editable install reads them there; a wheel carries a
copy as package data (`mock_server/openapi/`, put there by `setup.py` at
build time) and reads that, found through `importlib.resources`.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGED_DIR = "openapi"


def spec_file(name: str) -> Path:
    """The document `name` (`auth.yaml`, `control.yaml`) for this install."""
    return locate(name, Path(__file__).resolve().parent, resources.files(__package__))


def locate(name: str, package_dir: Path, package_files: Traversable) -> Path:
    """The checkout's `openapi/NAME` when the package sits in its `src/`,
    else the packaged copy (whose absence `open` then reports by path)."""
    checkout = package_dir.parent.parent
    source = checkout / "openapi" / name
    if package_dir.parent.name == "src" and source.is_file():
        return source
    return Path(str(package_files.joinpath(PACKAGED_DIR, name)))
