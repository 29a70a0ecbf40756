"""Hotkey signatures (behaviour §3): nonce, signature encoding, signature,
then the metagraph (registry) or the user."""

from __future__ import annotations

import hashlib
import json

import pytest
from substrateinterface import Keypair

from tests.support import details as D
from tests.unit.harness import ALICE, BOB, NOW, Mock, body_of, raw_request

INVALID_NONCE = {"detail": D.INVALID_NONCE}


def bad_signature(hotkey: str, message: str) -> dict:
    return {"detail": D.BAD_SIGNATURE.format(hotkey=hotkey, message=message)}


def raw_headers(hotkey: str, nonce: str | bytes, signature: str | bytes) -> dict:
    return {"X-Chutes-Hotkey": hotkey, "X-Chutes-Nonce": nonce, "X-Chutes-Signature": signature}


def list_with(mock: Mock, headers: dict):
    return mock.request("GET", "/api_keys/", headers=headers)


# Nonce -------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [-599, 0, 599])
def test_nonce_inside_the_window_is_accepted(mock: Mock, offset: int) -> None:
    assert mock.signed(ALICE, "GET", "/api_keys/", nonce=NOW + offset).status_code == 200


@pytest.mark.parametrize("offset", [-600, 600, -10_000, 10_000])
def test_nonce_outside_the_window_is_refused(mock: Mock, offset: int) -> None:
    response = mock.signed(ALICE, "GET", "/api_keys/", nonce=NOW + offset)
    assert (response.status_code, response.json()) == (401, INVALID_NONCE)


@pytest.mark.parametrize(("offset", "ok"), [(-599, True), (-600, False), (600, True), (601, False)])
def test_window_compares_with_a_fractional_now(mock: Mock, offset: int, ok: bool) -> None:
    """now = NOW + 0.5: `now - 600 < nonce < now + 600` admits NOW + 600."""
    mock.state.clock.set(NOW + 0.5)
    response = mock.signed(ALICE, "GET", "/api_keys/", nonce=NOW + offset)
    assert response.status_code == (200 if ok else 401)


@pytest.mark.parametrize(
    "nonce",
    ["", "abc", "-5", "+1800000000", "1800000000.0", "1" * 25, "1" * 400, "0x1"],
)
def test_malformed_nonce_is_refused(mock: Mock, nonce: str) -> None:
    response = mock.signed(ALICE, "GET", "/api_keys/", nonce=nonce)
    assert (response.status_code, response.json()) == (401, INVALID_NONCE)


@pytest.mark.parametrize("nonce", ["²", "١٢", "１８"])
def test_non_ascii_digit_nonce_is_refused(mock: Mock, nonce: str) -> None:
    """Sent as latin-1 bytes where possible (`²` is a digit to str.isdigit)."""
    assert nonce.isdigit()
    raw = nonce.encode("latin-1", "ignore") or nonce.encode()
    signature = ALICE.sign(f"{ALICE.ss58_address}:{nonce}:api_keys").hex().encode()
    headers = [
        (b"x-chutes-hotkey", ALICE.ss58_address.encode()),
        (b"x-chutes-nonce", raw),
        (b"x-chutes-signature", signature),
    ]
    response = raw_request(mock.app, "GET", "/api_keys/", headers)
    assert (response.status_code, response.json()) == (401, INVALID_NONCE)


def test_missing_nonce_is_refused(mock: Mock) -> None:
    signature = ALICE.sign(f"{ALICE.ss58_address}:None:api_keys").hex()
    response = list_with(
        mock, {"X-Chutes-Hotkey": ALICE.ss58_address, "X-Chutes-Signature": signature}
    )
    assert (response.status_code, response.json()) == (401, INVALID_NONCE)


def test_nonce_replay_inside_the_window_is_accepted(mock: Mock) -> None:
    first = mock.signed(ALICE, "GET", "/api_keys/")
    headers = {
        k: first.request.headers[k]
        for k in ("x-chutes-hotkey", "x-chutes-nonce", "x-chutes-signature")
    }
    assert list_with(mock, headers).status_code == 200
    assert list_with(mock, headers).status_code == 200


def test_nonce_is_checked_before_the_signature(mock: Mock) -> None:
    response = list_with(mock, raw_headers(ALICE.ss58_address, "1", "zz"))
    assert response.json() == INVALID_NONCE


# Signature encoding --------------------------------------------------------------
@pytest.mark.parametrize(
    ("signature", "position"), [("zz", 0), ("abzz", 2), ("abc", 3), ("ab cd e", 7)]
)
def test_unparseable_signature(mock: Mock, signature: str, position: int) -> None:
    response = list_with(mock, raw_headers(ALICE.ss58_address, str(NOW), signature))
    assert response.status_code == 401
    error = D.NOT_HEX_AT_0.replace("position 0", f"position {position}")
    assert response.json() == {
        "detail": D.UNPARSEABLE_SIGNATURE.format(signature=signature, error=error)
    }


def test_upper_case_hex_is_accepted(mock: Mock) -> None:
    nonce = str(NOW)
    signature = ALICE.sign(f"{ALICE.ss58_address}:{nonce}:api_keys").hex().upper()
    assert list_with(mock, raw_headers(ALICE.ss58_address, nonce, signature)).status_code == 200


def test_spaces_between_byte_pairs_are_accepted(mock: Mock) -> None:
    nonce = str(NOW)
    raw = ALICE.sign(f"{ALICE.ss58_address}:{nonce}:api_keys").hex()
    spaced = " ".join(raw[i : i + 2] for i in range(0, len(raw), 2))
    assert list_with(mock, raw_headers(ALICE.ss58_address, nonce, spaced)).status_code == 200


def test_bytes_wrapped_signature_is_accepted(mock: Mock) -> None:
    nonce = str(NOW)
    message = f"{ALICE.ss58_address}:{nonce}:api_keys"
    signature = ALICE.sign(f"<Bytes>{message}</Bytes>").hex()
    assert list_with(mock, raw_headers(ALICE.ss58_address, nonce, signature)).status_code == 200


# Signature -----------------------------------------------------------------------
def test_signature_by_another_key(mock: Mock) -> None:
    nonce = str(NOW)
    message = f"{ALICE.ss58_address}:{nonce}:api_keys"
    response = list_with(mock, raw_headers(ALICE.ss58_address, nonce, BOB.sign(message).hex()))
    assert (response.status_code, response.json()) == (
        401,
        bad_signature(ALICE.ss58_address, message),
    )


@pytest.mark.parametrize("length", [0, 1, 63, 65])
def test_signature_of_the_wrong_length(mock: Mock, length: int) -> None:
    nonce = str(NOW)
    message = f"{ALICE.ss58_address}:{nonce}:api_keys"
    signature = (ALICE.sign(message) * 2)[:length].hex()
    response = list_with(mock, raw_headers(ALICE.ss58_address, nonce, signature))
    if length == 0:  # an empty signature header means: no signature at all
        assert response.json() == {"detail": D.NO_CREDENTIALS}
    else:
        assert (response.status_code, response.json()) == (
            401,
            bad_signature(ALICE.ss58_address, message),
        )


@pytest.mark.parametrize(
    "hotkey", ["not-an-address", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"]
)
def test_invalid_ss58_hotkey(mock: Mock, hotkey: str) -> None:
    nonce = str(NOW)
    message = f"{hotkey}:{nonce}:api_keys"
    response = list_with(mock, raw_headers(hotkey, nonce, ALICE.sign(message).hex()))
    assert (response.status_code, response.json()) == (401, bad_signature(hotkey, message))


def test_purpose_of_another_endpoint_is_refused(mock: Mock) -> None:
    response = mock.signed(ALICE, "GET", "/api_keys/", purpose="registry")
    message = f"{ALICE.ss58_address}:{NOW}:api_keys"
    assert (response.status_code, response.json()) == (
        401,
        bad_signature(ALICE.ss58_address, message),
    )


def test_post_signs_the_exact_body_bytes(mock: Mock) -> None:
    body = b'{ "name" : "spaced",\n "admin": true }'
    response = mock.signed(ALICE, "POST", "/api_keys/", body)
    assert response.status_code == 200
    assert response.json()["name"] == "spaced"


def test_post_signed_over_a_reserialised_body_is_refused(mock: Mock) -> None:
    sent = b'{"name": "spaced", "admin": true}'
    reserialised = json.dumps(json.loads(sent), separators=(",", ":")).encode()
    signed = mock.signed(ALICE, "POST", "/api_keys/", reserialised).request.headers
    headers = {k: signed[k] for k in ("x-chutes-hotkey", "x-chutes-nonce", "x-chutes-signature")}
    response = mock.request("POST", "/api_keys/", content=sent, headers=headers)
    message = f"{ALICE.ss58_address}:{NOW}:{hashlib.sha256(sent).hexdigest()}"
    assert (response.status_code, response.json()) == (
        401,
        bad_signature(ALICE.ss58_address, message),
    )


def test_post_signed_with_a_purpose_is_refused(mock: Mock) -> None:
    body = body_of({"name": "x", "admin": True})
    response = mock.signed(ALICE, "POST", "/api_keys/", body, purpose="api_keys")
    message = f"{ALICE.ss58_address}:{NOW}:{hashlib.sha256(body).hexdigest()}"
    assert response.json() == bad_signature(ALICE.ss58_address, message)


def test_signature_covers_neither_method_nor_path_nor_query(mock: Mock) -> None:
    """Same `api_keys` purpose: a list signature also works on get and delete."""
    key = mock.created(ALICE, "k")
    list_headers = mock.signed(ALICE, "GET", "/api_keys/?page=0").request.headers
    headers = {
        k: list_headers[k] for k in ("x-chutes-hotkey", "x-chutes-nonce", "x-chutes-signature")
    }
    assert mock.request("GET", f"/api_keys/{key['api_key_id']}", headers=headers).status_code == 200
    assert mock.request("GET", "/api_keys/?page=9", headers=headers).status_code == 200
    assert (
        mock.request("DELETE", f"/api_keys/{key['api_key_id']}", headers=headers).status_code == 200
    )


# Who the hotkey is ------------------------------------------------------------------
def test_registry_requires_registration(mock: Mock) -> None:
    response = mock.signed(BOB, "GET", "/registry/auth")
    assert (response.status_code, response.json()) == (
        401,
        {"detail": D.NOT_REGISTERED.format(netuid=64)},
    )


def test_registry_passes_a_registered_hotkey_without_account(mock: Mock) -> None:
    stranger = Keypair.create_from_uri("//UnitStranger")
    mock.register(stranger.ss58_address)
    response = mock.signed(stranger, "GET", "/registry/auth")
    assert (response.status_code, response.json()) == (200, {"authenticated": True})


def test_registry_registration_on_another_netuid_does_not_count(mock: Mock) -> None:
    mock.register(BOB.ss58_address, netuid=12)
    assert mock.signed(BOB, "GET", "/registry/auth").status_code == 401


def test_unregistered_alice_is_refused_by_the_registry(mock: Mock) -> None:
    assert mock.client.delete(f"/_mock/metagraph/64/{ALICE.ss58_address}").status_code == 200
    response = mock.signed(ALICE, "GET", "/registry/auth")
    assert response.json() == {"detail": D.NOT_REGISTERED.format(netuid=64)}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api_keys/"),
        ("POST", "/api_keys/"),
        ("GET", "/api_keys/x"),
        ("DELETE", "/api_keys/x"),
    ],
)
def test_other_endpoints_need_a_user(mock: Mock, method: str, path: str) -> None:
    stranger = Keypair.create_from_uri("//UnitStranger")
    mock.register(stranger.ss58_address)
    body = body_of({"name": "x", "admin": True}) if method == "POST" else b""
    response = mock.signed(stranger, method, path, body)
    assert (response.status_code, response.json()) == (
        401,
        {"detail": D.UNKNOWN_HOTKEY.format(hotkey=stranger.ss58_address)},
    )


def test_unregistered_user_passes_the_other_endpoints(mock: Mock) -> None:
    assert mock.signed(BOB, "GET", "/api_keys/").status_code == 200


# Signature and Authorization together ---------------------------------------------
def test_signature_decides_over_a_garbage_authorization(mock: Mock) -> None:
    response = mock.signed(ALICE, "GET", "/api_keys/", headers={"Authorization": "Basic junk"})
    assert response.status_code == 200


def test_signature_decides_over_a_valid_api_key(mock: Mock) -> None:
    headers = {"Authorization": f"Basic {mock.admin_key('alice')}"}
    response = mock.signed(ALICE, "GET", "/api_keys/", nonce="1", headers=headers)
    assert (response.status_code, response.json()) == (401, INVALID_NONCE)


def test_hotkey_without_signature_leaves_it_to_authorization(mock: Mock) -> None:
    headers = {"X-Chutes-Hotkey": ALICE.ss58_address, "X-Chutes-Nonce": "1"}
    response = mock.with_key(mock.admin_key("bob"), "GET", "/api_keys/", headers=headers)
    assert response.status_code == 200
    assert response.json()["items"][0]["user_id"] == "b0b00000-0000-4000-8000-000000000002"
