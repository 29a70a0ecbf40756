"""Schemathesis fuzzing of every operation of openapi/auth.yaml, as user A.

Examples, coverage and fuzzing phases; positive and negative data; all the
built-in checks plus the custom ones of `checks.py`. Each operation twice:
signed with A's hotkey, and with A's admin API key. One test per operation
and way, so that a parallel run (`-n`) spreads them over its workers.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis

from tests.contract.runner import Contract
from tests.support.routing import CREATE, DELETE_KEY, GET_KEY, LIST, REGISTRY

schema = schemathesis.pytest.from_fixture("contract_schema")


def hotkey_signed(operation: str) -> Callable:
    """The test of `operation`'s generated cases, signed with A's hotkey."""

    @schema.include(name=operation).parametrize()
    def test(case, contract: Contract, request: pytest.FixtureRequest) -> None:
        contract.run(case, contract.hotkey_auth, request.node.nodeid)

    return test


def with_api_key(operation: str) -> Callable:
    """The same with A's admin API key. Its own function, not a parameter of
    one: Hypothesis seeds a derandomized run from the test's source, and the
    two ways must not draw the same cases."""

    @schema.include(name=operation).parametrize()
    def test(case, contract: Contract, request: pytest.FixtureRequest) -> None:
        contract.run(case, contract.key_auth, request.node.nodeid)

    return test


test_registry_hotkey_signed = hotkey_signed(REGISTRY)
test_registry_api_key = with_api_key(REGISTRY)
test_list_hotkey_signed = hotkey_signed(LIST)
test_list_api_key = with_api_key(LIST)
test_create_hotkey_signed = hotkey_signed(CREATE)
test_create_api_key = with_api_key(CREATE)
test_get_hotkey_signed = hotkey_signed(GET_KEY)
test_get_api_key = with_api_key(GET_KEY)
test_delete_hotkey_signed = hotkey_signed(DELETE_KEY)
test_delete_api_key = with_api_key(DELETE_KEY)
