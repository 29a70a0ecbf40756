"""The property suite has teeth. The state machine fails on each production
defect it is meant to report (D1, D3, D8, D9), naming it, and on mocks broken
on purpose, one at a time, and its counter-example shows the defect; the
auth-mutation and API-key properties each fail on the broken mock they guard
against. A broken mock fails the same way when it also has all of
production's defects and they are all listed (`--mock-quirks production
--known-deviations production`): a new failure, never taken for a known
deviation, the three that resemble one (D2, D3, D8) included. Each run gets
its own in-process mock.
"""

from __future__ import annotations

import re

import pytest

from tests.property import test_api_key_properties as key_properties
from tests.property import test_auth_mutations as mutations
from tests.property import test_jwt_properties as jwt_properties
from tests.property.judge import Deviates, Judge
from tests.property.runs import RESEMBLING, judged_target, machine_failure, story
from tests.support import details as D
from tests.support.target import Target

pytestmark = pytest.mark.in_process

# A failing call as `calls.check` prints it: the call, then the prediction, then the answer.


def refused_but(detail: str, status: str) -> str:
    """The pattern of a 401 `detail` predicted, `status` answered."""
    return rf"\n  expected 401 \{{'detail': '{re.escape(detail)}'\}} \n  got      {status} "


SHOWS = {
    # A production defect: the failure names it first, then shows the call.
    "D1": r"^\[D1\] \w+: GET /api_keys/\?\S*=-\d",
    "D3": r"^\[D3\] key .*\(deleted, \w+\): GET \S+" + refused_but(D.API_KEY_REFUSED, "(200|404)"),
    "D8": r"^\[D8\] key .*\(alive, \w+\): GET /api_keys/(chutes|images|invocations)"
    + refused_but(D.API_KEY_REFUSED, "404"),
    "D9": r'^\[D9\] \w+: POST /api_keys/ \{"name": "[^"]*\\n", .*\n  expected 400 .*\n'
    r"  got      200 ",
    # All of production's defects at once: the first the machine meets is named.
    "production": r"^\[D\d+(, D\d+)*\] .*\n  expected .*\n  got      ",
    "shows_other_users_keys": r"(A|B) sees key|shows the other user's keys",
    "deleted_key_authenticates": r"\(deleted, \w+\): GET \S+"
    + refused_but(D.API_KEY_REFUSED, "(200|404)"),
    "nonce_off_by_one": r"\(nonce now[+-]600\): GET \S+" + refused_but(D.INVALID_NONCE, "200"),
    # Resembles D8, but the key is let through where no scope of it matches.
    "non_admin_key_accepted": r"key .*\(alive, \w+\): GET \S+"
    + refused_but(D.API_KEY_REFUSED, "(200|404)"),
    # Resembles D2, but the value is not the base64 of ":" + password.
    "registry_header_no_colon": r"GET /registry/auth\n  expected 200 .*\n  got      200 .*"
    r"\{'authorization': \"Basic b'",
    "secret_in_get_key": r"GET /api_keys/[0-9a-f-]{36}\n  expected 200 .*\n"
    r'  got      200 .*"secret_key": "cpk_',
}


def failure_of(target: Target, judge: Judge) -> str:
    """Run the machine against `target`; the failure's message and notes."""
    try:
        failure = machine_failure(target, judge)
    finally:
        target.cleanup()
    if failure is None:
        pytest.fail("the state machine passed against a defective mock")
    return story(failure)


@pytest.mark.parametrize("quirk", ["D1", "D3", "D8", "D9"])
def test_fails_on_production_defect(quirk: str) -> None:
    target, judge = judged_target(quirks=quirk)
    found = failure_of(target, judge)
    assert re.search(SHOWS[quirk], found), f"the failure does not show {quirk}:\n{found}"


def test_fails_against_production() -> None:
    """`--quirks production`: the machine fails; the single-quirk runs above
    show that D1, D3, D8 and D9 are each found in a run of their own."""
    target, judge = judged_target(quirks="production")
    found = failure_of(target, judge)
    assert re.search(SHOWS["production"], found), f"no production defect shown:\n{found}"


# Broken mocks: seen on a mock that follows the contract, and on one with all of
# production's defects when they are all listed (each is then a new failure).
WORLDS = {"contract": ("none", "none"), "production": ("production", "production")}


MACHINE_BREAKAGES = [
    "shows_other_users_keys",
    "deleted_key_authenticates",
    "nonce_off_by_one",
    "secret_in_get_key",
    "non_admin_key_accepted",
    "registry_header_no_colon",
]


@pytest.mark.parametrize(
    ("breakage", "world"),
    [(b, "contract") for b in MACHINE_BREAKAGES]
    # those resembling a deviation: test_known_deviations runs them in production
    + [(b, "production") for b in MACHINE_BREAKAGES if b not in RESEMBLING],
)
def test_fails_on_broken_mock(breakage: str, world: str, monkeypatch: pytest.MonkeyPatch) -> None:
    quirks, known = WORLDS[world]
    target, judge = judged_target(quirks, known, breakage, monkeypatch)
    found = failure_of(target, judge)
    assert re.search(SHOWS[breakage], found), f"the failure does not show {breakage}:\n{found}"
    if world == "production":  # all listed: a new failure, never a known deviation
        assert not found.startswith("["), f"{breakage} taken for a known deviation:\n{found}"


def _clock_frozen(target) -> dict[str, int]:
    """What the `frozen_clock` fixture gives: the mock's clock on a whole second."""
    moment = int(target.client.get("/_mock/clock").json()["now"])
    target.client.put("/_mock/clock", json={"now": moment})
    return {"frozen_clock": moment}


BAD_SIGNATURE = D.pattern(D.BAD_SIGNATURE, hotkey=r"\w+", message="[^']*")

# (property, the broken mock it must fail on, extra arguments it takes, the refusal
# it predicted): each fails with that 401 predicted and the request let through
# (200; a changed create body gets its own create answer), never a crash.
PROPERTIES = [
    (
        mutations.test_another_users_hotkey_is_refused,
        "any_signature",
        None,
        # let through: 200, or the registry's own refusal of B's unregistered hotkey
        BAD_SIGNATURE + r"'\} \n  got      (200|401 \{\"detail\": \"Hotkey is not registered)",
    ),
    (
        mutations.test_body_other_than_signed_is_refused,
        "any_signature",
        None,
        BAD_SIGNATURE + r"'\} \n  got      (200|400|409|422) ",
    ),
    (mutations.test_purpose_of_another_endpoint_is_refused, "any_signature", None, BAD_SIGNATURE),
    (
        mutations.test_window_edges_on_the_mocks_clock,
        "nonce_off_by_one",
        _clock_frozen,
        re.escape(D.INVALID_NONCE),
    ),
    (
        jwt_properties.test_a_jwt_works_until_its_exp_and_never_after,
        "jwt_valid_at_its_exp",
        None,
        re.escape(D.JWT_EXPIRED) + r"'\} \n  got      404 ",
    ),
    (
        key_properties.test_keys_authenticate_exactly_as_long_as_they_exist,
        "deleted_key_authenticates",
        None,
        # let through: the list (200), or get_key's 404 of the deleted key itself
        re.escape(D.API_KEY_REFUSED) + r"'\} \n  got      (200|404) ",
    ),
]


@pytest.mark.parametrize("world", sorted(WORLDS))
@pytest.mark.parametrize(
    ("prop", "breakage", "extra", "refusal"), PROPERTIES, ids=[p[0].__name__ for p in PROPERTIES]
)
def test_property_fails_on_broken_mock(
    prop, breakage: str, extra, refusal: str, world: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    quirks, known = WORLDS[world]
    target, judge = judged_target(quirks, known, breakage, monkeypatch)
    if "got" not in refusal:
        refusal += r"'\} \n  got      200 "
    wanted = rf"\n  expected 401 \{{'detail': '{refusal}"
    try:
        with pytest.raises(Deviates, match=wanted) as failed:
            prop(judge=judge, target=target, **(extra(target) if extra else {}))
        if world == "production":  # all listed: a new failure, never a known deviation
            assert not failed.value.deviations, str(failed.value)
    finally:
        target.cleanup()
