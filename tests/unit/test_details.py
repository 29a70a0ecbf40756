"""The detail strings: the contract's map (`x-chutes-details` in
openapi/auth.yaml, which the suites read through `tests.support.details`),
the mock's (`mock_server.errors`) and the contract's own descriptions say
the same."""

from __future__ import annotations

import re
import string

import pytest

from mock_server import errors
from mock_server.settings import DEFAULT_SPEC
from tests.support import details

SUITES = {
    name: value
    for name, value in vars(details).items()
    if name.isupper() and isinstance(value, str)
}
# Those the mock does not hold as text: FastAPI's 422 entry is built whole by
# mock_server.validation, and Python's fromhex() writes the parser's message.
NOT_IN_ERRORS = {"BELOW_ZERO", "NOT_HEX_AT_0"}
# Production's catch-all route (D12) is a deviation: behaviour §9, not the contract.
NOT_IN_CONTRACT = {"SIGNED_WITHOUT_BODY", "AUTHENTICATION_REQUIRED", "NO_MATCHING_CHUTE"}


def literal_parts(template: str) -> list[str]:
    return [text for text, _, _, _ in string.Formatter().parse(template) if text.strip()]


@pytest.mark.parametrize("name", sorted(SUITES))
def test_the_mock_says_the_same(name: str) -> None:
    if name in NOT_IN_ERRORS:
        pytest.skip("not text in the mock; the unit tests check its answers")
    assert getattr(errors, name) == SUITES[name]


@pytest.mark.parametrize("name", sorted(SUITES))
def test_the_contract_states_it(name: str) -> None:
    """Each piece of text around a template's fields is in the contract's
    descriptions of its answers, outside the map (YAML folds long lines, so
    whitespace runs count as one space). behaviour.md quotes the mock's:
    tests/unit/test_behaviour_doc.py."""
    if name in NOT_IN_CONTRACT:
        pytest.skip("production's catch-all (D12): behaviour §9 only")
    whole = DEFAULT_SPEC.read_text(encoding="utf-8")
    described = whole[: whole.index("x-chutes-details:")] + whole[whole.index("\npaths:") :]
    text = re.sub(r"\s+", " ", described)
    for part in literal_parts(SUITES[name]):
        assert re.sub(r"\s+", " ", part) in text, part


def test_every_detail_of_the_contract_has_its_name_in_the_suites() -> None:
    assert set(details.CONTRACT) == set(SUITES) - NOT_IN_CONTRACT


def test_a_pattern_matches_each_filling_and_nothing_else() -> None:
    wanted = details.pattern(details.BAD_SIGNATURE)
    filled = details.BAD_SIGNATURE.format(hotkey="5Grw", message="5Grw:1:registry")
    match = re.fullmatch(wanted, filled)
    assert match is not None and match["hotkey"] == "5Grw"
    assert re.fullmatch(wanted, filled.replace("Message", "message")) is None
    assert re.fullmatch(details.pattern(details.INVALID_NONCE), "Invalid nonce?") is None
