"""pytest plugin (entry point `pytest11`): the mock as a fixture.

Installing the package gives every test suite:

    chutes_mock               a running `MockServer`: one per session, reset
                              before each test, its journal empty at each
                              test's start
    chutes_mock_server        the session's server itself (no reset)
    --chutes-mock-quirks Q    start it with production's defects ('production'
                              or D1,D3,...; default: none)

    def test_list(chutes_mock):
        alice = chutes_mock.user("alice")
        response = httpx.get(f"{chutes_mock.url}/api_keys/",
                             headers={"Authorization": f"Bearer {alice.jwt}"})
        assert response.status_code == 200
        assert [r.path for r in chutes_mock.requests()] == ["/api_keys/"]

Nothing is imported or started until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mock_server.server import MockServer


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


def pytest_configure(config: pytest.Config) -> None:
    """An unknown quirk stops the run at once, as a usage error."""
    from mock_server.quirks import parse_quirks

    try:
        parse_quirks(config.getoption("chutes_mock_quirks"))
    except ValueError as exc:
        raise pytest.UsageError(f"--chutes-mock-quirks: {exc}") from None


@pytest.fixture(scope="session")
def chutes_mock_server(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    """One mock for the session, on a free loopback port; stopped at its end."""
    from mock_server.server import MockServer

    with MockServer(quirks=request.config.getoption("chutes_mock_quirks")) as server:
        yield server


@pytest.fixture
def chutes_mock(chutes_mock_server: MockServer) -> MockServer:
    """The session's mock, back to its seeded state and with an empty journal."""
    chutes_mock_server.reset()
    chutes_mock_server.clear_requests()
    return chutes_mock_server
