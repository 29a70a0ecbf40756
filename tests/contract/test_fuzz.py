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


def fuzz(operation: str, auth: str) -> Callable:
    """The test of `operation`'s generated cases, authenticated by `contract.<auth>`."""

    @schema.include(name=operation).parametrize()
    def test(case, contract: Contract, request: pytest.FixtureRequest) -> None:
        contract.run(case, getattr(contract, auth), request.node.nodeid)

    return test


test_registry_hotkey_signed = fuzz(REGISTRY, "hotkey_auth")
test_registry_api_key = fuzz(REGISTRY, "key_auth")
test_list_hotkey_signed = fuzz(LIST, "hotkey_auth")
test_list_api_key = fuzz(LIST, "key_auth")
test_create_hotkey_signed = fuzz(CREATE, "hotkey_auth")
test_create_api_key = fuzz(CREATE, "key_auth")
test_get_hotkey_signed = fuzz(GET_KEY, "hotkey_auth")
test_get_api_key = fuzz(GET_KEY, "key_auth")
test_delete_hotkey_signed = fuzz(DELETE_KEY, "hotkey_auth")
test_delete_api_key = fuzz(DELETE_KEY, "key_auth")
