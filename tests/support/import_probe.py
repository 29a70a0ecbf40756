"""A pytest plugin for `tests/test_imports.py`: which modules of the packages
pytest rewrites were first imported after collection (see
`support.eager_imports`). Writes them, one a line, to $CHUTES_IMPORT_PROBE."""

from __future__ import annotations

import os
import sys

import pytest

from tests.support.eager_imports import PACKAGES

_BEFORE = pytest.StashKey[set]()


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = set(sys.modules)


def pytest_sessionfinish(session: pytest.Session) -> None:
    before = session.config.stash.get(_BEFORE, set())
    late = sorted(name for name in set(sys.modules) - before if name.split(".")[0] in PACKAGES)
    with open(os.environ["CHUTES_IMPORT_PROBE"], "w", encoding="utf-8") as out:
        out.write("\n".join(late))
