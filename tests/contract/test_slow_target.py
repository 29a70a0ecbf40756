"""The nonce window's edges by URL on a slow target (behaviour §3).

Between the suite and a served mock, the faulty proxy adds 0, 100 ms or 2 s
to every request. The timing rules are decided at 0 and 100 ms and not
decided at 2 s (a skip that says why, with the round trip measured); they
never fail on a healthy target. A window one second too wide is still caught
at 100 ms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mock_server import MockServer
from tests.contract.rules import RULES
from tests.support.deviations import Recorder
from tests.support.faulty_proxy import FaultyProxy
from tests.support.target import Target, url_target

pytestmark = pytest.mark.in_process

EDGES = ["nonce-window-past", "nonce-window-future"]
USERS = {"CHUTES_HOTKEY_URI": "//Alice", "CHUTES_HOTKEY2_URI": "//Bob"}


@contextmanager
def slow_target(latency: float, nonce_window: float = 600.0) -> Iterator[Target]:
    """A served mock (its window as given) behind `latency` per request."""
    mock = MockServer()
    mock.settings = dataclasses.replace(mock.settings, nonce_window=nonce_window)
    with mock, FaultyProxy(mock.url, latency=latency) as proxy:
        target = url_target(proxy.url, USERS)
        target.attach(Recorder())
        try:
            yield target
        finally:
            target.cleanup()
            target.client.close()


@pytest.mark.parametrize("latency", [0.0, 0.1], ids=["0ms", "100ms"])
def test_the_window_is_decided_and_holds(latency: float) -> None:
    with slow_target(latency) as target:
        for edge in EDGES:
            RULES[edge].check(target)  # passes: no skip, no failure
        assert target.recorder is not None and not target.recorder.failures


def test_at_two_seconds_the_window_is_not_decided() -> None:
    with slow_target(2.0) as target:
        for edge in EDGES:
            with pytest.raises(pytest.skip.Exception, match="not decided") as skipped:
                RULES[edge].check(target)
            assert "a probe took up to 2." in str(skipped.value), skipped.value
        assert target.recorder is not None and not target.recorder.failures


def test_a_window_one_second_too_wide_is_caught_at_100ms() -> None:
    with slow_target(0.1, nonce_window=601.0) as target:
        with pytest.raises(pytest.fail.Exception):
            RULES["nonce-window-past"].check(target)
        assert target.recorder is not None
        [failure] = target.recorder.failures
        assert failure.check.startswith("rule nonce-window-past"), failure
        assert "status 200, expected 401" in failure.reason and not failure.deviations
