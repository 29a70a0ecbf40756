"""Build hook: the wheel carries the OpenAPI documents as package data.

`openapi/*.yaml` stay the one copy in the source tree (the files people
edit); building a wheel copies them into `mock_server/openapi/`, where
`mock_server.spec_files` finds them once installed. An editable install
reads the checkout's files directly, so it copies nothing. Everything else
about the package is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CONTRACT = sorted((ROOT / "openapi").glob("*.yaml"))


class BuildPyWithContract(build_py):
    """`build_py`, plus openapi/*.yaml copied into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        if not CONTRACT:
            raise FileNotFoundError(f"no OpenAPI documents in {ROOT / 'openapi'}")
        target = Path(self.build_lib) / "mock_server" / "openapi"
        self.mkpath(str(target))
        for source in CONTRACT:
            self.copy_file(str(source), str(target / source.name))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        target = Path(self.build_lib) / "mock_server" / "openapi"
        copies = [] if self.editable_mode else [str(target / s.name) for s in CONTRACT]
        return [*super().get_outputs(include_bytecode), *copies]


setup(cmdclass={"build_py": BuildPyWithContract})
