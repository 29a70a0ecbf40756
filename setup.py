"""Build hook: the wheel carries the OpenAPI documents and the suites.

`openapi/*.yaml` and the conformance suites under `tests/` stay the one copy
in the source tree (the files people edit). Building a wheel copies

- the documents into `mock_server/openapi/`, where `mock_server.spec_files`
  finds them once installed;
- the suites (`SUITE_FILES`) into `chutes_conformance/suites/tests/`, which
  `chutes-conformance` runs.

An editable install reads the checkout's files directly, so it copies
nothing. Everything else about the package is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CONTRACT = sorted((ROOT / "openapi").glob("*.yaml"))
# What `chutes-conformance` runs: the two suites, drift, and what they share.
SUITE_FILES = sorted(
    path.relative_to(ROOT)
    for pattern in (
        "tests/__init__.py",
        "tests/plugin.py",
        "tests/support/*.py",
        "tests/contract/*.py",
        "tests/property/*.py",
        "tests/drift/*.py",
    )
    for path in ROOT.glob(pattern)
)


def _copies(build_lib: str) -> list[tuple[Path, Path]]:
    """(source, destination in the built tree) of every file the hook copies."""
    lib = Path(build_lib)
    documents = [(s, lib / "mock_server" / "openapi" / s.name) for s in CONTRACT]
    suites = [(ROOT / s, lib / "chutes_conformance" / "suites" / s) for s in SUITE_FILES]
    return documents + suites


class BuildPyWithContract(build_py):
    """`build_py`, plus the documents and the suites copied into the built packages."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        if not CONTRACT:
            raise FileNotFoundError(f"no OpenAPI documents in {ROOT / 'openapi'}")
        if not SUITE_FILES:
            raise FileNotFoundError(f"no conformance suites in {ROOT / 'tests'}")
        for source, target in _copies(self.build_lib):
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        copies = [] if self.editable_mode else [str(t) for _, t in _copies(self.build_lib)]
        return [*super().get_outputs(include_bytecode), *copies]


setup(cmdclass={"build_py": BuildPyWithContract})
