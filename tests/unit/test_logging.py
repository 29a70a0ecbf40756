"""The access log: one line per request, and never a secret."""

from __future__ import annotations

import logging

import pytest

from mock_server.hotkeys import DEV_SEEDS
from tests.unit.harness import ALICE, ALICE_ID, REGISTRY_PASSWORD, Mock, basic_registry_header

ACCESS = "mock_server.access"


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ACCESS]


def test_one_line_per_request_with_method_path_status_and_auth_kind(
    mock: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    key_id = mock.created(ALICE, "logged")["api_key_id"]
    mock.with_key(mock.admin_key(), "GET", f"/api_keys/{key_id}?page=1")
    mock.with_key(mock.jwt(), "GET", "/registry/auth", scheme="Bearer")
    mock.request("GET", "/api_keys/")
    mock.request("DELETE", "/api_keys/")
    mock.request("GET", "/api_keys")
    parts = [line.split(" ") for line in access_lines(caplog)]
    assert [p[:4] for p in parts] == [
        ["POST", "/api_keys/", "200", "hotkey"],
        ["GET", f"/api_keys/{key_id}", "200", "api_key"],
        ["POST", "/_mock/jwt", "200", "control"],
        ["GET", "/registry/auth", "200", "jwt"],
        ["GET", "/api_keys/", "401", "-"],
        ["DELETE", "/api_keys/", "405", "-"],
        ["GET", "/api_keys", "307", "-"],
    ]
    assert all(len(p) == 5 and p[4].endswith("ms") for p in parts)


def test_no_secret_ever_reaches_the_logs(mock: Mock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [
        mock.admin_key("alice"),
        mock.admin_key("bob"),
        DEV_SEEDS["//Alice"],
        DEV_SEEDS["//Bob"],
        mock.state.jwt_secret,
        REGISTRY_PASSWORD,
        basic_registry_header(REGISTRY_PASSWORD).split(" ")[1],
    ]
    created = mock.created(ALICE, "secret-session")
    secrets.append(created["secret_key"])
    jwt = mock.jwt(ALICE_ID)
    secrets.append(jwt)
    listed = mock.signed(ALICE, "GET", "/api_keys/?limit=3")
    secrets.append(listed.request.headers["x-chutes-signature"])
    for token, scheme in [(created["secret_key"], "Basic"), (jwt, "Bearer")]:
        mock.with_key(token, "GET", "/api_keys/", scheme=scheme)
        mock.with_key(token, "GET", "/registry/auth", scheme=scheme)
        mock.with_key(token[:-1], "GET", "/api_keys/", scheme=scheme)  # refused
    bad = mock.signed(ALICE, "GET", "/api_keys/", purpose="registry")
    assert bad.status_code == 401
    secrets.append(bad.request.headers["x-chutes-signature"])
    mock.signed(ALICE, "DELETE", f"/api_keys/{created['api_key_id']}")
    mock.request("POST", "/api_keys/", content=b"{" + created["secret_key"].encode())
    mock.client.get("/_mock/state")
    assert len(access_lines(caplog)) >= 12
    text = caplog.text
    for secret in secrets:
        assert secret not in text
        if secret.startswith("cpk_"):
            assert secret.rsplit(".", 1)[1] not in text
