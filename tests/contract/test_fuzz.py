"""Schemathesis fuzzing of every operation of openapi/auth.yaml, as user A.

Examples, coverage and fuzzing phases; positive and negative data; all the
built-in checks plus the custom ones of `checks.py`. Once signed with A's
hotkey, once with A's admin API key.
"""

from __future__ import annotations

import pytest
import schemathesis

from tests.contract.runner import Contract

schema = schemathesis.pytest.from_fixture("contract_schema")


@schema.parametrize()
def test_hotkey_signed(case, contract: Contract, request: pytest.FixtureRequest) -> None:
    contract.run(case, contract.hotkey_auth, request.node.nodeid)


@schema.parametrize()
def test_api_key(case, contract: Contract, request: pytest.FixtureRequest) -> None:
    contract.run(case, contract.key_auth, request.node.nodeid)
