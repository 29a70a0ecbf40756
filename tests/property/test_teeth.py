"""The property suite has teeth. The state machine fails on each production
defect it is meant to report (D1, D3, D8, D9) and on mocks broken on purpose,
one at a time, and its counter-example shows the defect; the auth-mutation and
API-key properties each fail on the broken mock they guard against. Each run
gets its own in-process mock.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import Phase, settings

from mock_server.quirks import parse_quirks
from tests.property import test_api_key_properties as key_properties
from tests.property import test_auth_mutations as mutations
from tests.property.judge import Judge
from tests.property.test_lifecycle import STEPS, machine_for
from tests.support import profiles
from tests.support.breakages import BREAKAGES
from tests.support.target import in_process_target

pytestmark = pytest.mark.in_process

# A failing call as `calls.check` prints it: the call, then the prediction, then the answer.


def refused_but(detail: str, status: str) -> str:
    """The pattern of a 401 `detail` predicted, `status` answered."""
    return rf"\n  expected 401 \{{'detail': '{re.escape(detail)}'\}} \n  got      {status} "


SHOWS = {
    # A production defect: the failure names it first, then shows the call.
    "D1": r"^\[D1\] \w+: GET /api_keys/\?\S*=-\d",
    "D3": r"^\[D3\] key .*\(deleted, \w+\): GET \S+"
    + refused_but("Invalid token or user not found", "(200|404)"),
    "D8": r"^\[D8\] key .*\(alive, \w+\): GET /api_keys/(chutes|images|invocations)"
    + refused_but("Invalid token or user not found", "404"),
    "D9": r'^\[D9\] \w+: POST /api_keys/ \{"name": "[^"]*\\n", .*\n  expected 400 .*\n'
    r"  got      200 ",
    # All of production's defects at once: the first the machine meets is named.
    "production": r"^\[D\d+(, D\d+)*\] .*\n  expected .*\n  got      ",
    "shows_other_users_keys": r"(A|B) sees key|shows the other user's keys",
    "deleted_key_authenticates": r"\(deleted, \w+\): GET \S+"
    + refused_but("Invalid token or user not found", "(200|404)"),
    "nonce_off_by_one": r"\(nonce now[+-]600\): GET \S+" + refused_but("Invalid nonce!", "200"),
    "secret_in_get_key": r"GET /api_keys/[0-9a-f-]{36}\n  expected 200 .*\n"
    r'  got      200 .*"secret_key": "cpk_',
}
# Generation only (no shrinking), so each run stays short; it stops at the first failure.
TEETH_SETTINGS = settings(
    max_examples=300,
    stateful_step_count=STEPS,
    phases=[Phase.generate],
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=profiles.RELAXED,
    print_blob=False,
)


def failure_of(target) -> str:
    """Run the machine against `target`; the failure's message and notes."""
    from hypothesis.stateful import run_state_machine_as_test

    try:
        run_state_machine_as_test(machine_for(target, Judge()), settings=TEETH_SETTINGS)
    except AssertionError as exc:
        return "\n".join([str(exc), *getattr(exc, "__notes__", [])])
    finally:
        target.cleanup()
    pytest.fail("the state machine passed against a defective mock")


@pytest.mark.parametrize("quirk", ["D1", "D3", "D8", "D9"])
def test_fails_on_production_defect(quirk: str) -> None:
    target = in_process_target(quirks=parse_quirks(quirk), max_keys=10**6)
    story = failure_of(target)
    assert re.search(SHOWS[quirk], story), f"the failure does not show {quirk}:\n{story}"


def test_fails_against_production() -> None:
    """`--quirks production`: the machine fails; the single-quirk runs above
    show that D1, D3, D8 and D9 are each found in a run of their own."""
    target = in_process_target(quirks=parse_quirks("production"), max_keys=10**6)
    story = failure_of(target)
    assert re.search(SHOWS["production"], story), f"no production defect shown:\n{story}"


@pytest.mark.parametrize(
    "breakage",
    [
        "shows_other_users_keys",
        "deleted_key_authenticates",
        "nonce_off_by_one",
        "secret_in_get_key",
    ],
)
def test_fails_on_broken_mock(breakage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    overrides = BREAKAGES[breakage](monkeypatch)
    target = in_process_target(max_keys=10**6, **overrides)
    story = failure_of(target)
    assert re.search(SHOWS[breakage], story), f"the failure does not show {breakage}:\n{story}"


def _clock_frozen(target) -> dict[str, int]:
    """What the `frozen_clock` fixture gives: the mock's clock on a whole second."""
    moment = int(target.client.get("/_mock/clock").json()["now"])
    target.client.put("/_mock/clock", json={"now": moment})
    return {"frozen_clock": moment}


# (property, the broken mock it must fail on, extra arguments it takes)
PROPERTIES = [
    (mutations.test_another_users_hotkey_is_refused, "any_signature", None),
    (mutations.test_body_other_than_signed_is_refused, "any_signature", None),
    (mutations.test_purpose_of_another_endpoint_is_refused, "any_signature", None),
    (mutations.test_window_edges_on_the_mocks_clock, "nonce_off_by_one", _clock_frozen),
    (
        key_properties.test_keys_authenticate_exactly_as_long_as_they_exist,
        "deleted_key_authenticates",
        None,
    ),
]


@pytest.mark.parametrize(
    ("prop", "breakage", "extra"), PROPERTIES, ids=[p[0].__name__ for p in PROPERTIES]
)
def test_property_fails_on_broken_mock(
    prop, breakage: str, extra, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = BREAKAGES[breakage](monkeypatch)
    target = in_process_target(max_keys=10**6, **overrides)
    try:
        with pytest.raises(AssertionError, match=r"\n  expected 401 \{.*\n  got      "):
            prop(judge=Judge(), target=target, **(extra(target) if extra else {}))
    finally:
        target.cleanup()
