"""The 422 bodies, in FastAPI's shape, exactly as behaviour §1 quotes them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import details as D
from tests.unit.harness import ALICE, Mock, body_of

INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
GE = D.BELOW_ZERO
BOOL = "Input should be a valid boolean"
ACTIONS = "'read', 'write', 'delete' or 'invoke'"


def create(mock: Mock, payload: Any) -> Any:
    response = mock.signed(ALICE, "POST", "/api_keys/", body_of(payload))
    assert response.status_code == 422, response.text
    return response.json()["detail"]


def listing(mock: Mock, query: str) -> Any:
    response = mock.signed(ALICE, "GET", f"/api_keys/?{query}")
    assert response.status_code == 422, response.text
    return response.json()["detail"]


def test_empty_body(mock: Mock) -> None:
    response = mock.signed(ALICE, "POST", "/api_keys/", b"")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }


def test_json_null_body_is_missing(mock: Mock) -> None:
    assert create(mock, None) == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


def test_missing_field(mock: Mock) -> None:
    assert create(mock, {"admin": True}) == [
        {
            "type": "missing",
            "loc": ["body", "name"],
            "msg": "Field required",
            "input": {"admin": True},
        }
    ]


def test_bad_enum(mock: Mock) -> None:
    payload = {"name": "x", "admin": False, "scopes": [{"object_type": "chutes", "action": "fly"}]}
    assert create(mock, payload) == [
        {
            "type": "enum",
            "loc": ["body", "scopes", 0, "action"],
            "msg": f"Input should be {ACTIONS}",
            "input": "fly",
            "ctx": {"expected": ACTIONS},
        }
    ]


def test_scope_without_object_type(mock: Mock) -> None:
    payload = {"name": "x", "admin": False, "scopes": [{}, {"object_id": "1"}]}
    assert create(mock, payload) == [
        {
            "type": "missing",
            "loc": ["body", "scopes", 0, "object_type"],
            "msg": "Field required",
            "input": {},
        },
        {
            "type": "missing",
            "loc": ["body", "scopes", 1, "object_type"],
            "msg": "Field required",
            "input": {"object_id": "1"},
        },
    ]


def test_query_int_parsing(mock: Mock) -> None:
    assert listing(mock, "page=abc") == [
        {"type": "int_parsing", "loc": ["query", "page"], "msg": INT_PARSING, "input": "abc"}
    ]


def test_text_plain_body(mock: Mock) -> None:
    raw = '{"name": "x", "admin": true}'
    response = mock.signed(ALICE, "POST", "/api_keys/", raw.encode(), content_type="text/plain")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": raw,
            }
        ]
    }


@pytest.mark.parametrize("body", [[1, 2], "abc", 5])
def test_json_that_is_not_an_object(mock: Mock, body: Any) -> None:
    assert create(mock, body) == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": body,
        }
    ]


@pytest.mark.parametrize("value", ["yes", 1, 0, "true", None])
def test_admin_is_strictly_boolean(mock: Mock, value: Any) -> None:
    assert create(mock, {"name": "x", "admin": value}) == [
        {"type": "bool_type", "loc": ["body", "admin"], "msg": BOOL, "input": value}
    ]


@pytest.mark.parametrize("value", ["1.0", "1e3", "0x1", "", "٣"])
def test_page_is_strictly_integer(mock: Mock, value: str) -> None:
    assert listing(mock, f"page={value}") == [
        {"type": "int_parsing", "loc": ["query", "page"], "msg": INT_PARSING, "input": value}
    ]


@pytest.mark.parametrize("name", ["page", "limit"])
def test_negative_page_or_limit(mock: Mock, name: str) -> None:
    assert listing(mock, f"{name}=-1") == [
        {
            "type": "greater_than_equal",
            "loc": ["query", name],
            "msg": GE,
            "input": "-1",
            "ctx": {"ge": 0},
        }
    ]


def test_one_entry_per_invalid_query_field(mock: Mock) -> None:
    assert listing(mock, "page=abc&limit=-1") == [
        {"type": "int_parsing", "loc": ["query", "page"], "msg": INT_PARSING, "input": "abc"},
        {
            "type": "greater_than_equal",
            "loc": ["query", "limit"],
            "msg": GE,
            "input": "-1",
            "ctx": {"ge": 0},
        },
    ]


def test_one_entry_per_invalid_body_field(mock: Mock) -> None:
    """Reading: entries in the schema's field order (the behaviour reference fixes none)."""
    detail = create(mock, {"admin": "yes", "name": 5, "scopes": "all"})
    assert sorted(detail, key=lambda e: e["loc"]) == [
        {"type": "bool_type", "loc": ["body", "admin"], "msg": BOOL, "input": "yes"},
        {
            "type": "string_type",
            "loc": ["body", "name"],
            "msg": "Input should be a valid string",
            "input": 5,
        },
        {
            "type": "list_type",
            "loc": ["body", "scopes"],
            "msg": "Input should be a valid list",
            "input": "all",
        },
    ]


def test_missing_both_fields(mock: Mock) -> None:
    detail = create(mock, {})
    assert sorted(e["loc"][1] for e in detail) == ["admin", "name"]
    assert {e["type"] for e in detail} == {"missing"}


def test_page_over_pythons_digit_limit_is_422(mock: Mock) -> None:
    """Beyond 4300 digits pydantic refuses with int_parsing_size (no 500)."""
    digits = "1" * 5000
    assert listing(mock, f"page={digits}") == [
        {
            "type": "int_parsing_size",
            "loc": ["query", "page"],
            "msg": "Unable to parse input string as an integer, exceeded maximum size",
            "input": digits,
        }
    ]


def test_unknown_fields_are_ignored(mock: Mock) -> None:
    response = mock.signed(
        ALICE, "POST", "/api_keys/", body_of({"name": "x", "admin": True, "colour": "red"})
    )
    assert response.status_code == 200
    assert "colour" not in response.json()
