"""Order of checks (behaviour §1): routing, JSON decoding, authentication,
validation, business rules."""

from __future__ import annotations

from tests.support import details as D
from tests.unit.harness import ALICE, Mock, body_of

NO_CREDENTIALS = {"detail": D.NO_CREDENTIALS}


def json_invalid(offset: int, error: str) -> dict:
    return {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", offset],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": error},
            }
        ]
    }


def test_body_that_is_not_json_is_422_without_credentials(mock: Mock) -> None:
    body = b'{"name": "x", "admin": tru}'
    response = mock.request(
        "POST", "/api_keys/", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json() == json_invalid(23, "Expecting value")


def test_the_semantics_example_offset_24(mock: Mock) -> None:
    body = b'{"name": "abc", "admin":}'  # the `}` is character 24
    response = mock.request("POST", "/api_keys/", content=body)
    assert response.json() == json_invalid(24, "Expecting value")


def test_json_invalid_offset_counts_characters_not_bytes(mock: Mock) -> None:
    body = '{"name":"ключ",}'.encode()
    response = mock.request("POST", "/api_keys/", content=body)
    assert response.status_code == 422
    assert response.json() == json_invalid(15, "Expecting property name enclosed in double quotes")


def test_json_invalid_comes_before_a_bad_signature(mock: Mock) -> None:
    response = mock.signed(ALICE, "POST", "/api_keys/", b"{", nonce="1")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_no_credentials_is_401(mock: Mock) -> None:
    response = mock.request("GET", "/api_keys/")
    assert response.status_code == 401
    assert response.json() == NO_CREDENTIALS


def test_empty_authorization_is_no_credentials(mock: Mock) -> None:
    response = mock.with_auth("", "GET", "/api_keys/")
    assert (response.status_code, response.json()) == (401, NO_CREDENTIALS)


def test_bad_query_without_credentials_is_401(mock: Mock) -> None:
    response = mock.request("GET", "/api_keys/?page=abc")
    assert (response.status_code, response.json()) == (401, NO_CREDENTIALS)


def test_bad_query_with_credentials_is_422(mock: Mock) -> None:
    response = mock.signed(ALICE, "GET", "/api_keys/?page=abc")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "int_parsing"


def test_bad_fields_without_credentials_is_401(mock: Mock) -> None:
    """A JSON body with invalid fields is validated only after authentication."""
    response = mock.request("POST", "/api_keys/", json={"admin": "yes"})
    assert (response.status_code, response.json()) == (401, NO_CREDENTIALS)


def test_text_plain_body_without_credentials_is_401(mock: Mock) -> None:
    """Reading: a text/plain body is not a JSON decoding failure (step 2) but a
    field-validation failure (step 4), so without credentials it is 401."""
    response = mock.request(
        "POST", "/api_keys/", content=b"hello", headers={"Content-Type": "text/plain"}
    )
    assert (response.status_code, response.json()) == (401, NO_CREDENTIALS)


def test_validation_comes_before_business_rules(mock: Mock) -> None:
    """An empty name breaks the name rule (400), but a bad `admin` is 422 first."""
    response = mock.signed(ALICE, "POST", "/api_keys/", body_of({"name": "", "admin": "yes"}))
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "admin"]]


def test_authentication_comes_before_business_rules(mock: Mock) -> None:
    """A duplicate name from an unknown caller is 401, not 409."""
    response = mock.request("POST", "/api_keys/", json={"name": "mock-admin", "admin": True})
    assert response.status_code == 401
