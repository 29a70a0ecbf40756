"""In-process runs of the property suite, for the tests that show its teeth.

Each run gets its own mock (with the quirks and breakage asked for) and its
own recorder listing the known deviations, so it is judged as a session with
`--mock-quirks Q --known-deviations K` would be.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from mock_server.quirks import parse_quirks
from tests.property import test_api_key_properties, test_auth_mutations, test_jwt_properties
from tests.property.judge import Judge
from tests.property.test_lifecycle import STEPS, machine_for
from tests.support import profiles
from tests.support.breakages import BREAKAGES
from tests.support.deviations import Recorder, parse_known
from tests.support.target import Target, in_process_target

# Broken mocks whose bug resembles a deviation (D8, D2, D3) without being it.
RESEMBLING = ["non_admin_key_accepted", "registry_header_no_colon", "deleted_key_authenticates"]


def machine_settings(examples: int) -> settings:
    """Generation only (no shrinking), so each run stays short."""
    return settings(
        max_examples=examples,
        stateful_step_count=STEPS,
        phases=[Phase.generate],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=profiles.RELAXED,
        print_blob=False,
    )


def judged_target(
    quirks: str = "none",
    known: str = "none",
    breakage: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[Target, Judge]:
    """A mock with `quirks` (and `breakage`), judged with `known` listed."""
    overrides: dict[str, Any] = {}
    if breakage is not None:
        assert monkeypatch is not None, "a breakage patches the mock through monkeypatch"
        overrides = BREAKAGES[breakage](monkeypatch)
    target = in_process_target(quirks=parse_quirks(quirks), max_keys=10**6, **overrides)
    recorder = Recorder(known=parse_known(known))
    target.attach(recorder)
    return target, Judge(recorder)


def story(error: BaseException) -> str:
    """A failure's message and notes (the calls that led to it)."""
    return "\n".join([str(error), *getattr(error, "__notes__", [])])


def machine_failure(target: Target, judge: Judge, examples: int = 300) -> AssertionError | None:
    """Run the state machine; its first failure, or None when it passes."""
    try:
        run_state_machine_as_test(machine_for(target, judge), settings=machine_settings(examples))
    except AssertionError as error:
        return error
    return None


# The properties, and the fixtures some of them take. ------------------------------
def _revoked_key(target: Target) -> str:
    created = target.create_key(target.user_a, "revoked")
    assert target.delete_key(target.user_a, created["api_key_id"]).status_code == 200
    return created["secret_key"]


def _frozen_clock(target: Target) -> int:
    moment = math.floor(target.client.get("/_mock/clock").json()["now"])
    target.client.put("/_mock/clock", json={"now": moment})
    return moment


FIXTURES: dict[str, Callable[[Target], Any]] = {
    "revoked_key": _revoked_key,
    "frozen_clock": _frozen_clock,
}
PROPERTIES = [
    test
    for module in (test_auth_mutations, test_api_key_properties, test_jwt_properties)
    for name, test in sorted(vars(module).items())
    if name.startswith("test_") and callable(test)
]


def run_property(test: Callable[..., None], target: Target, judge: Judge) -> None:
    """One property, with the fixtures it names; the clock is given back after."""
    wanted = inspect.signature(test).parameters
    arguments: dict[str, Any] = {"judge": judge, "target": target}
    for name in wanted:
        if name in FIXTURES:
            arguments[name] = FIXTURES[name](target)
    try:
        test(**arguments)
    finally:
        if "frozen_clock" in arguments:
            target.client.put("/_mock/clock", json={"now": None})


def property_failures(target: Target, judge: Judge) -> Iterator[tuple[str, AssertionError]]:
    """Each property's failure, by name (the passing ones give nothing)."""
    for test in PROPERTIES:
        try:
            run_property(test, target, judge)
        except AssertionError as error:
            yield test.__name__, error
