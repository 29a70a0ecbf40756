"""Pytest plugin: the target options, shared by every suite.

    --base-url URL      test a deployment (or CHUTES_BASE_URL); default: the
                        mock in this process
    --max-keys N        at most N keys created by one run (default 100)
    --mock-quirks Q     in-process only: start the mock with these quirks
                        ('production' or D1,D3,...), to watch the suite fail
    --mock-breakage B   in-process only: break the mock on purpose
                        (see `support.breakages`), to watch the suite fail

Hypothesis profiles `ci` (default) and `deep` come from `support.profiles`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support import profiles
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


def pytest_configure(config: pytest.Config) -> None:
    """`ci` unless --hypothesis-profile or HYPOTHESIS_PROFILE names another."""
    if not config.getoption("hypothesis_profile", None):
        hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_sessionstart(session: pytest.Session) -> None:
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
            target.api_key_a = created["secret_key"]
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
        config.stash[_TARGET_KEY] = build_target(config)
    return config.stash[_TARGET_KEY]


def pytest_runtest_setup(item: pytest.Item) -> None:
    base_url = item.config.getoption("base_url")
    if base_url and item.get_closest_marker("control"):
        pytest.skip("needs the mock's /_mock/ control API; not available on a URL target")
    if base_url and item.get_closest_marker("in_process"):
        pytest.skip("needs the in-process mock")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete what the run created, also after a failure or Ctrl-C."""
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
