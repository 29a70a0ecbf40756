"""Pytest plugin: the target options, shared by every suite.

    --base-url URL      test a deployment (or CHUTES_BASE_URL); default: the
                        mock in this process
    --max-keys N        at most N keys created by one run (default 100)
    --mock-quirks Q     in-process only: start the mock with these quirks
                        ('production' or D1,D3,...), to watch the suite fail
    --mock-breakage B   in-process only: break the mock on purpose
                        (see `support.breakages`), to watch the suite fail
    --known-deviations K  production's deviations to tolerate (or
                        CHUTES_KNOWN_DEVIATIONS): 'production', D2,D5,... or
                        'none' (default); see `support.deviations`
    --strict-known      fail the run also on a listed deviation not observed

The report (terminal section `chutes conformance report`, JSON at
$CONTRACT_REPORT, JUnit suite properties) has three parts: new failures,
known deviations observed, known deviations not observed.

Hypothesis profiles `ci` (default) and `deep` come from `support.profiles`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support import deviations, profiles, secret
from tests.support.breakages import BREAKAGES
from tests.support.target import (
    MissingCredentials,
    Target,
    in_process_target,
    url_target,
)

_TARGET_KEY = pytest.StashKey[Target]()

# Registered on import: Hypothesis' own plugin may load --hypothesis-profile
# before this plugin's pytest_configure runs.
profiles.register()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chutes", "Chutes conformance target")
    group.addoption(
        "--base-url",
        default=os.environ.get("CHUTES_BASE_URL"),
        help="deployment to test (env CHUTES_BASE_URL); default: the in-process mock",
    )
    group.addoption(
        "--max-keys",
        type=int,
        default=100,
        help="most keys one run may create on the target (default 100)",
    )
    group.addoption(
        "--mock-quirks",
        default=None,
        help="in-process mock only: quirks to start it with ('production' or D1,D3,...)",
    )
    group.addoption(
        "--mock-breakage",
        default=None,
        choices=sorted(BREAKAGES),
        help="in-process mock only: break it on purpose, to watch the suite fail",
    )
    group.addoption(
        "--known-deviations",
        default=os.environ.get("CHUTES_KNOWN_DEVIATIONS", "none"),
        help="production deviations to tolerate (env CHUTES_KNOWN_DEVIATIONS): "
        "'production' (D1-D12), a list such as D2,D5, or 'none' (default)",
    )
    group.addoption(
        "--strict-known",
        action="store_true",
        default=False,
        help="fail the run also when a listed deviation is not observed",
    )


def pytest_configure(config: pytest.Config) -> None:
    """`ci` unless --hypothesis-profile or HYPOTHESIS_PROFILE names another;
    the session's known-deviations recorder."""
    if not config.getoption("hypothesis_profile", None):
        hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    config.addinivalue_line(
        "markers", "deviation(*names): the test probes these deviations (behaviour §7)"
    )
    try:
        known = deviations.parse_known(config.getoption("known_deviations"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[deviations.RECORDER_KEY] = deviations.Recorder(
        known=known, strict=config.getoption("strict_known")
    )


def _check_credentials(session: pytest.Session) -> None:
    """A URL target without credentials stops the run at once, naming the variables."""
    base_url = session.config.getoption("base_url")
    if base_url:
        try:
            url_target(base_url, os.environ).client.close()
        except MissingCredentials as exc:
            raise pytest.UsageError(str(exc)) from None


def build_target(config: pytest.Config) -> Target:
    from mock_server.quirks import parse_quirks

    base_url = config.getoption("base_url")
    max_keys = config.getoption("max_keys")
    if base_url:
        try:
            target = url_target(base_url, os.environ, max_keys=max_keys)
        except MissingCredentials as exc:
            raise pytest.UsageError(str(exc)) from None
        if target.api_key_a is None:
            created = target.create_key(target.user_a, "suite-admin")
            target.api_key_a = secret.api_key(created["secret_key"])
        return target
    quirks = parse_quirks(config.getoption("mock_quirks"))
    overrides = {}
    breakage = config.getoption("mock_breakage")
    if breakage:
        patcher = pytest.MonkeyPatch()
        config.add_cleanup(patcher.undo)
        overrides = BREAKAGES[breakage](patcher)
    return in_process_target(quirks=quirks, max_keys=max(max_keys, 500), **overrides)


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The system under test, built once per session and cleaned up at its end."""
    config = request.config
    if _TARGET_KEY not in config.stash:
        built = build_target(config)
        recorder = deviations.recorder(config)
        built.attach(recorder)
        recorder.active = True
        config.stash[_TARGET_KEY] = built
    return config.stash[_TARGET_KEY]


@pytest.fixture(scope="session")
def known_deviations(request: pytest.FixtureRequest) -> deviations.Recorder:
    """The session's recorder: the listed deviations, `judge`, the report."""
    return deviations.recorder(request.config)


@pytest.fixture(scope="session", autouse=True)
def _deviation_properties(
    request: pytest.FixtureRequest, record_testsuite_property
) -> Generator[None, None, None]:
    """The report's three parts as JUnit suite properties (with --junitxml)."""
    yield
    recorder = deviations.recorder(request.config)
    if recorder.active:
        for name, value in recorder.junit_properties().items():
            record_testsuite_property(name, value)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """A test that stopped at a listed deviation (KnownDeviationSeen) passes."""
    try:
        return (yield)
    except deviations.KnownDeviationSeen:
        return True


_SUITES = ("tests/contract/", "tests/property/")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note which deviations' probes ran; add a failed suite test that
    recorded nothing itself (e.g. an error)."""
    report = yield
    marker = item.get_closest_marker("deviation")
    if marker is not None and (report.when == "call" or report.skipped):
        deviations.recorder(item.config).probe_ran(marker.args, ran=not report.skipped)
    if report.failed and report.nodeid.startswith(_SUITES):
        recorder = deviations.recorder(item.config)
        recorded = recorder.recorded_tests()
        if not any(t.startswith(report.nodeid) or report.nodeid.startswith(t) for t in recorded):
            text = str(report.longrepr or "")
            reason = next((ln[2:] for ln in text.splitlines() if ln.startswith("E ")), text[-300:])
            recorder.fail(report.nodeid, "-", f"test {report.when} failed", reason)
    return report


def pytest_sessionstart(session: pytest.Session) -> None:
    _check_credentials(session)


def pytest_runtest_setup(item: pytest.Item) -> None:
    base_url = item.config.getoption("base_url")
    if base_url and item.get_closest_marker("control"):
        pytest.skip("needs the mock's /_mock/ control API; not available on a URL target")
    if base_url and item.get_closest_marker("in_process"):
        pytest.skip("needs the in-process mock")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete what the run created, also after a failure or Ctrl-C; the gate."""
    recorder = deviations.recorder(session.config)
    if recorder.active and recorder.run_failed() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    target = session.config.stash.get(_TARGET_KEY, None)
    if target is None:
        return
    failures = target.cleanup()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        created = len(target.ledger.created)
        reporter.write_line(
            f"chutes: run marker {target.ledger.marker!r}: created {created} key(s), "
            f"{len(failures)} left behind"
            + ("" if not failures else ": " + "; ".join(failures[:5]))
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The three-part report; JSON too when $CONTRACT_REPORT names a file."""
    recorder = deviations.recorder(terminalreporter.config)
    if not recorder.active:
        return
    terminalreporter.section("chutes conformance report")
    for line in recorder.summary():
        terminalreporter.write_line(line)
    path = os.environ.get("CONTRACT_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(recorder.as_json(), handle, indent=2)
