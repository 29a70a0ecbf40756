"""Every rule of behaviour §1–§6 and §9 (D12) a client with two users can observe, one
test each (`rules.RULES`): the exact status and detail, by URL or in-process."""

from __future__ import annotations

import pytest

from tests.contract.rules import RULES, Rule
from tests.support.target import Target


@pytest.mark.parametrize(
    "rule",
    [pytest.param(r, marks=[pytest.mark.control] if r.control else []) for r in RULES.values()],
    ids=list(RULES),
)
def test_rule(target: Target, rule: Rule) -> None:
    rule.check(target)
