"""pytest plugin (entry point `pytest11`): the mock as a fixture.

Installing the package gives every test suite:

    chutes_mock               a running `MockServer`: one per session, reset
                              before each test, its journal empty at each
                              test's start; a test marked `chutes_mock(...)`
                              gets a server of its own with those settings
    chutes_mock_server        the session's server itself (no reset)
    --chutes-mock-quirks Q    production's defects ('production' or D1,D3,...;
                              default: none)
    --chutes-mock-fixtures F  a fixtures YAML file (default: alice and bob)
    --chutes-mock-seed N      seed ids and secrets (default: random)
    --chutes-mock-netuid N    the subnet /registry/auth checks (default: 64)

    @pytest.mark.chutes_mock(quirks="D3", fixtures="users.yaml", seed=1, netuid=7)
    def test_with_its_own_server(chutes_mock): ...

    @pytest.mark.chutes_mock_faults(error={"status": 429, "headers": {"Retry-After": "1"}}, times=2)
    def test_retries(chutes_mock): ...      # fault rules for this test only

    def test_list(chutes_mock):
        alice = chutes_mock.user("alice")
        with httpx.Client(transport=chutes_mock.transport(), base_url=chutes_mock.url) as c:
            assert c.get("/api_keys/", headers={"Authorization": f"Bearer {alice.jwt}"}).is_success

A marker's settings are laid over the command line's. To change how every
test gets its server, override `chutes_mock_server` (session scope) in your
conftest.py; `chutes_mock` builds on it. Nothing is imported or started
until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_server.server import MockServer

MARKER_OPTIONS = ("quirks", "fixtures", "seed", "netuid")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chutes_mock", "chutes-mock (the Chutes auth API mock)")
    group.addoption(
        "--chutes-mock-quirks",
        dest="chutes_mock_quirks",
        default=None,
        metavar="Q",
        help="start the chutes_mock fixture's server with production's known defects:"
        " 'production' or a list such as D3,D8 (default: none)",
    )
    group.addoption(
        "--chutes-mock-fixtures",
        dest="chutes_mock_fixtures",
        default=None,
        metavar="FILE",
        help="fixtures YAML (users, hotkeys, registrations, keys) for the chutes_mock"
        " fixture's server (default: the embedded alice and bob)",
    )
    group.addoption(
        "--chutes-mock-seed",
        dest="chutes_mock_seed",
        default=None,
        type=int,
        metavar="N",
        help="seed the chutes_mock fixture's ids and secrets (default: random)",
    )
    group.addoption(
        "--chutes-mock-netuid",
        dest="chutes_mock_netuid",
        default=None,
        type=int,
        metavar="N",
        help="subnet whose metagraph /registry/auth checks (default: 64)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; a bad quirk or fixtures file stops the run at
    once, as a usage error."""
    from mock_server.quirks import parse_quirks

    config.addinivalue_line(
        "markers",
        "chutes_mock(quirks=None, fixtures=None, seed=None, netuid=None): give this test"
        " a chutes_mock server of its own, with these settings",
    )
    config.addinivalue_line(
        "markers",
        "chutes_mock_faults(**rule) or chutes_mock_faults(rule, ...): fault rules (as"
        " POST /_mock/faults takes them) in force on chutes_mock for this test",
    )
    try:
        parse_quirks(config.getoption("chutes_mock_quirks"))
    except ValueError as exc:
        raise pytest.UsageError(f"--chutes-mock-quirks: {exc}") from None
    fixtures = config.getoption("chutes_mock_fixtures")
    if fixtures is not None and not Path(fixtures).is_file():
        raise pytest.UsageError(f"--chutes-mock-fixtures: no such file: {fixtures}")


def server_settings(config: pytest.Config, marker: pytest.Mark | None = None) -> dict[str, Any]:
    """`MockServer` keyword arguments: the command line's, then the marker's."""
    settings = {
        name: config.getoption(f"chutes_mock_{name}")
        for name in MARKER_OPTIONS
        if config.getoption(f"chutes_mock_{name}") is not None
    }
    if marker is not None:
        if marker.args:
            raise pytest.UsageError("the chutes_mock marker takes keywords only")
        unknown = sorted(set(marker.kwargs) - set(MARKER_OPTIONS))
        if unknown:
            raise pytest.UsageError(
                f"the chutes_mock marker has no option {', '.join(unknown)}"
                f" (options: {', '.join(MARKER_OPTIONS)})"
            )
        settings.update(marker.kwargs)
    return settings


@pytest.fixture(scope="session")
def chutes_mock_server(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    """One mock for the session, on a free loopback port; stopped at its end."""
    from mock_server.server import MockServer

    with MockServer(**server_settings(request.config)) as server:
        yield server


@pytest.fixture
def chutes_mock(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    """The session's mock, back to its seeded state and with an empty journal;
    for a test marked `chutes_mock(...)`, a fresh server of its own."""
    from mock_server.server import MockServer

    marker = request.node.get_closest_marker("chutes_mock")
    if marker is not None:
        with MockServer(**server_settings(request.config, marker)) as own:
            add_marked_faults(own, request.node)
            yield own
        return
    server: MockServer = request.getfixturevalue("chutes_mock_server")
    server.reset()  # also the fault rules: back to none
    server.clear_requests()
    add_marked_faults(server, request.node)
    yield server


def add_marked_faults(server: MockServer, node: pytest.Item) -> None:
    """The rules of the test's `chutes_mock_faults` markers: each marker's
    keywords are one rule, and each positional argument a rule as a dict."""
    for marker in node.iter_markers("chutes_mock_faults"):
        for rule in [*marker.args, *([marker.kwargs] if marker.kwargs else [])]:
            if not isinstance(rule, dict):
                raise pytest.UsageError(
                    f"chutes_mock_faults takes rules as keywords or dicts, not {rule!r}"
                )
            server.fault(**rule)
