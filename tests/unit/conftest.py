"""Fixtures of the unit suite: a fresh in-process mock per test, clock frozen.

Parsing the two OpenAPI documents dominates `create_app` (pure-Python YAML),
so the parsed documents are cached for the session; every test still gets a
new app, store and `Clock`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from mock_server import spec
from mock_server.app import create_app
from mock_server.clock import Clock
from mock_server.settings import Settings
from tests.unit.harness import BASE, NOW, Mock, TestClient

_load_document = functools.lru_cache(maxsize=None)(spec.load_document)


@pytest.fixture(autouse=True)
def _cached_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec, "load_document", _load_document)


@pytest.fixture
def clock() -> Clock:
    """The mock's clock, frozen at NOW."""
    frozen = Clock()
    frozen.set(NOW)
    return frozen


MakeMock = Callable[..., Mock]


@pytest.fixture
def make_mock(clock: Clock) -> MakeMock:
    """Build a mock with these Settings fields (quirks=..., control_token=...)."""

    def make(**settings: Any) -> Mock:
        app = create_app(Settings(**settings), clock=clock)
        return Mock(app, TestClient(app, base_url=BASE, follow_redirects=False))

    return make


@pytest.fixture
def mock(make_mock: MakeMock) -> Mock:
    """The contract mock with the default fixture (alice, bob)."""
    return make_mock()
