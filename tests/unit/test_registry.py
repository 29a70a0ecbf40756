"""Registry (behaviour §6): the response and its Authorization header."""

from __future__ import annotations

import pytest

from tests.support import details as D
from tests.unit.harness import ALICE, REGISTRY_PASSWORD, Mock, basic_registry_header


def test_header_is_basic_base64_of_colon_password(mock: Mock) -> None:
    response = mock.signed(ALICE, "GET", "/registry/auth")
    assert (response.status_code, response.json()) == (200, {"authenticated": True})
    assert response.headers["authorization"] == "Basic OmNodXRlcy1tb2NrLXJlZ2lzdHJ5"
    assert response.headers["authorization"] == basic_registry_header(REGISTRY_PASSWORD)
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("password", ["s3cret", "pässwörd", "a:b", ""])
def test_registry_password_setting_is_respected(make_mock, password: str) -> None:
    mock = make_mock(registry_password=password)
    response = mock.signed(ALICE, "GET", "/registry/auth")
    assert response.headers["authorization"] == basic_registry_header(password)


def test_same_header_for_every_kind_of_caller(mock: Mock) -> None:
    expected = basic_registry_header(REGISTRY_PASSWORD)
    by_key = mock.with_key(mock.admin_key(), "GET", "/registry/auth")
    by_jwt = mock.with_key(mock.jwt(), "GET", "/registry/auth", scheme="Bearer")
    assert by_key.headers["authorization"] == by_jwt.headers["authorization"] == expected


def test_refusal_has_no_registry_header(mock: Mock) -> None:
    response = mock.request("GET", "/registry/auth")
    assert response.status_code == 401
    assert "authorization" not in response.headers


def test_netuid_setting_names_the_subnet(make_mock) -> None:
    """Reading: `--netuid` moves the metagraph check and its detail."""
    mock = make_mock(netuid=12)
    assert mock.signed(ALICE, "GET", "/registry/auth").status_code == 200
    mock.client.delete(f"/_mock/metagraph/12/{ALICE.ss58_address}")
    response = mock.signed(ALICE, "GET", "/registry/auth")
    assert response.json() == {"detail": D.NOT_REGISTERED.format(netuid=12)}
