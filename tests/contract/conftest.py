"""Fixtures and report hooks of the contract suite."""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

from tests.contract import compat
from tests.contract import report as contract_report
from tests.contract.auth import ApiKeyAuth, HotkeyAuth
from tests.contract.checks import contract_checks
from tests.contract.config import load_schema
from tests.contract.runner import Contract
from tests.contract.safety import RunState
from tests.support.target import Target

compat.install()


@pytest.fixture(scope="session")
def contract_schema(target: Target):
    """openapi/auth.yaml, bound to the target (ASGI app in-process, else its URL)."""
    return load_schema(target)


@pytest.fixture(scope="session")
def contract(target: Target) -> Contract:
    """The run's state, its two auth objects (user A) and the custom checks."""
    state = RunState.for_target(target)
    assert target.api_key_a is not None
    base_path = target.base_url.split("://", 1)[-1].partition("/")[2]
    return Contract(
        state=state,
        hotkey_auth=HotkeyAuth(target.user_a.keypair, target.now, "/" + base_path),
        key_auth=ApiKeyAuth(target.api_key_a),
        checks=contract_checks(state),
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Scrub secrets and signatures from failure output (terminal and JUnit)."""
    test_report = yield
    if test_report.failed and test_report.longrepr is not None:
        test_report.longrepr = contract_report.scrub(str(test_report.longrepr))
        test_report.sections = [(k, contract_report.scrub(v)) for k, v in test_report.sections]
    return test_report


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(node: pytest.Item, call: pytest.CallInfo, report) -> None:
    """Scrub again after Schemathesis rewrites a failure's text (it does so here)."""
    if report.longrepr is not None:
        report.longrepr = contract_report.scrub(str(report.longrepr))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add a failed test the suite did not record itself (e.g. an error)."""
    if not report.failed or "tests/contract/" not in report.nodeid:
        return
    if any(
        t.startswith(report.nodeid) or report.nodeid.startswith(t)
        for t in contract_report.recorded_tests()
    ):
        return
    text = str(report.longrepr or "")
    reason = next((ln[2:] for ln in text.splitlines() if ln.startswith("E ")), text[-300:])
    contract_report.record(report.nodeid, "-", f"test {report.when} failed", reason)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The readable summary; JSON too when $CONTRACT_REPORT names a file."""
    if not terminalreporter.stats.get("passed") and not terminalreporter.stats.get("failed"):
        return
    terminalreporter.section("chutes contract report")
    for line in contract_report.summary():
        terminalreporter.write_line(line)
    path = os.environ.get("CONTRACT_REPORT")
    if path:
        contract_report.write_json(path)
