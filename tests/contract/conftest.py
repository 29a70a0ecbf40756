"""Fixtures of the contract suite, and scrubbing of its failure output after
Schemathesis rewrites it (tests/plugin.py scrubs every report before)."""

from __future__ import annotations

import pytest

from tests.contract import compat
from tests.contract.auth import ApiKeyAuth, HotkeyAuth
from tests.contract.checks import contract_checks
from tests.contract.config import load_schema
from tests.contract.runner import Contract
from tests.contract.safety import RunState
from tests.support.scrub import scrub
from tests.support.target import Target
from tests.support.transport import schemathesis_sessions

compat.install()


@pytest.fixture(scope="session")
def contract_schema(target: Target, request: pytest.FixtureRequest):
    """openapi/auth.yaml, bound to the target (ASGI app in-process, else its URL).
    By URL, every request Schemathesis makes (its checks' own probes too) goes
    through the run's network policy (`support.transport`)."""
    if target.resilience is not None:
        import schemathesis.transport.requests as sent_by

        patcher = pytest.MonkeyPatch()
        request.addfinalizer(patcher.undo)
        sessions = schemathesis_sessions(target.resilience)
        patcher.setattr(sent_by, "SameHostRedirectsSession", sessions)
    return load_schema(target)


@pytest.fixture(scope="session")
def contract(target: Target) -> Contract:
    """The run's state, its two auth objects (user A) and the custom checks."""
    state = RunState.for_target(target)
    assert target.api_key_a is not None and target.recorder is not None
    return Contract(
        state=state,
        hotkey_auth=HotkeyAuth(target.user_a.keypair, target.now, target.base_path),
        key_auth=ApiKeyAuth(target.api_key_a),
        checks=contract_checks(state),
        recorder=target.recorder,
    )


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(node: pytest.Item, call: pytest.CallInfo, report) -> None:
    """Scrub again after Schemathesis rewrites a failure's text (it does so here)."""
    if report.longrepr is not None:
        report.longrepr = scrub(str(report.longrepr))
