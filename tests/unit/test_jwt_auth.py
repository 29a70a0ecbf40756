"""JWTs (behaviour §5), minted through POST /_mock/jwt."""

from __future__ import annotations

import jwt as pyjwt
import pytest

from tests.support import details as D
from tests.unit.harness import ALICE_ID, BOB_ID, ENDPOINTS, Mock

INVALID = {"detail": D.JWT_INVALID}
EXPIRED = {"detail": D.JWT_EXPIRED}


def bearer(mock: Mock, token: str, method: str = "GET", path: str = "/api_keys/", **kw):
    return mock.with_key(token, method, path, scheme="Bearer", **kw)


def test_valid_token_works_on_all_endpoints(mock: Mock) -> None:
    token = mock.jwt()
    key_id = mock.add_key(ALICE_ID, "target")["api_key_id"]
    for method, template in ENDPOINTS:
        kwargs = {"json": {"name": "via-jwt", "admin": True}} if method == "POST" else {}
        response = bearer(mock, token, method, template.replace("{id}", key_id), **kwargs)
        assert response.status_code == 200, (method, template, response.text)


def test_token_names_its_user(mock: Mock) -> None:
    response = bearer(mock, mock.jwt(BOB_ID))
    assert {item["user_id"] for item in response.json()["items"]} == {BOB_ID}


def test_lower_case_bearer_is_a_jwt(mock: Mock) -> None:
    assert mock.with_auth(f"bearer {mock.jwt()}", "GET", "/api_keys/").status_code == 200


def test_a_jwt_under_basic_is_read_as_an_api_key(mock: Mock) -> None:
    response = mock.with_key(mock.jwt(), "GET", "/api_keys/", scheme="Basic")
    assert response.json() == {"detail": D.MALFORMED_API_KEY}


def test_expired_token(mock: Mock) -> None:
    token = mock.jwt(ttl=60)
    assert bearer(mock, token).status_code == 200
    mock.state.clock.advance(61)
    response = bearer(mock, token)
    assert (response.status_code, response.json()) == (401, EXPIRED)


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.xx"])
def test_undecodable_token(mock: Mock, token: str) -> None:
    response = bearer(mock, token)
    assert (response.status_code, response.json()) == (401, INVALID)


def test_wrong_signature(mock: Mock) -> None:
    token = mock.jwt()
    header, claims, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert bearer(mock, f"{header}.{claims}.{flipped}").json() == INVALID


def test_token_signed_with_another_users_secret(mock: Mock) -> None:
    """Bob's token with Alice as subject: signed by the wrong per-user secret."""
    response = bearer(mock, mock.jwt(BOB_ID, sub=ALICE_ID))
    assert (response.status_code, response.json()) == (401, INVALID)


def test_token_signed_with_a_guessed_secret(mock: Mock) -> None:
    forged = pyjwt.encode(
        {"sub": ALICE_ID, "exp": 2_000_000_000, "iat": 1, "salted": True}, "s" * 64, "HS256"
    )
    assert bearer(mock, forged).json() == INVALID


def test_unknown_user(mock: Mock) -> None:
    response = bearer(mock, mock.jwt(sub="00000000-0000-4000-8000-000000000000"))
    assert (response.status_code, response.json()) == (401, INVALID)


@pytest.mark.parametrize("sub", [123, ["x"], {"id": ALICE_ID}, True])
def test_non_string_sub(mock: Mock, sub) -> None:
    response = bearer(mock, mock.jwt(sub=sub))
    assert (response.status_code, response.json()) == (401, INVALID)


def test_jwt_callers_are_not_scope_restricted(mock: Mock) -> None:
    response = bearer(mock, mock.jwt(), "GET", "/registry/auth")
    assert (response.status_code, response.json()) == (200, {"authenticated": True})
