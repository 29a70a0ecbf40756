"""Deterministic probes of authentication and isolation (behaviour §2–§4):
a signature proves who signed what, and a user sees only their own keys."""

from __future__ import annotations

import json

import pytest

from tests.contract.probes import expect, fail, own_key
from tests.support import details as D
from tests.support.signing import hotkey_headers, signing_message
from tests.support.target import Target

REFUSED = D.API_KEY_REFUSED
NO_CREDENTIALS = D.NO_CREDENTIALS


def bad_signature(hotkey: str, message: str) -> str:
    return D.BAD_SIGNATURE.format(hotkey=hotkey, message=message)


def test_unsigned_request_is_401(target: Target):
    expect(target.client.get("/api_keys/"), target, 401, NO_CREDENTIALS, what="no credentials")


def test_signature_by_another_hotkey_is_401(target: Target):
    """§3: another hotkey's signature: 401 naming hotkey and message."""
    a, b = target.user_a, target.user_b
    nonce = str(int(target.now()))
    message = signing_message(a.hotkey, nonce, "api_keys")
    headers = {
        "X-Chutes-Hotkey": a.hotkey,
        "X-Chutes-Nonce": nonce,
        "X-Chutes-Signature": b.keypair.sign(message).hex(),
    }
    answer = target.client.get("/api_keys/", headers=headers)
    expect(answer, target, 401, bad_signature(a.hotkey, message), what="A's hotkey, B's signature")


def test_signature_for_another_purpose_is_401(target: Target):
    """§3: a signature for another purpose: 401."""
    a = target.user_a
    nonce = str(int(target.now()))
    headers = hotkey_headers(a.keypair, nonce, "registry")
    answer = target.client.get("/api_keys/", headers=headers)
    message = signing_message(a.hotkey, nonce, "api_keys")
    expect(answer, target, 401, bad_signature(a.hotkey, message), what="signed for `registry`")


def test_create_signature_covers_the_body(target: Target):
    """§3: a create signs the sha256 of the exact body."""
    a = target.user_a
    signed_body = json.dumps({"name": target.ledger.name("sig"), "admin": True}).encode()
    sent_body = json.dumps({"name": target.ledger.name("sig2"), "admin": True}).encode()
    nonce = str(int(target.now()))
    headers = hotkey_headers(a.keypair, nonce, None, signed_body)
    headers["Content-Type"] = "application/json"
    answer = target.client.post("/api_keys/", content=sent_body, headers=headers)
    target.record_created(answer, "A")
    message = signing_message(a.hotkey, nonce, None, sent_body)
    expect(answer, target, 401, bad_signature(a.hotkey, message), what="body changed after signing")


def test_stale_nonce_is_401(target: Target):
    answer = target.signed(target.user_a, "GET", "/api_keys/", nonce=int(target.now()) - 700)
    expect(answer, target, 401, D.INVALID_NONCE, what="a nonce 700 s old")


@pytest.mark.control
def test_nonce_window_is_open(target: Target):
    """`now - 600 < nonce < now + 600`, with a fractional now (the mock's clock frozen)."""
    now = int(target.now()) + 0.5
    assert target.client.put("/_mock/clock", json={"now": now}).status_code == 200
    try:
        for nonce, status in [(-600, 401), (-599, 200), (600, 200), (601, 401)]:
            answer = target.signed(target.user_a, "GET", "/api_keys/", nonce=int(now) + nonce)
            expect(answer, target, status, what=f"nonce now{nonce:+d} with now = {now}")
    finally:
        target.client.put("/_mock/clock", json={"now": None})


def test_other_users_key_is_invisible(target: Target):
    created = own_key(target, "iso")
    key_id, b = created["api_key_id"], target.user_b
    expect(
        target.signed(b, "GET", f"/api_keys/{key_id}"),
        target,
        404,
        D.GET_KEY_NOT_FOUND.format(api_key_id=key_id),
        what="B gets A's key",
    )
    expect(
        target.signed(b, "DELETE", f"/api_keys/{key_id}"),
        target,
        404,
        D.DELETE_KEY_NOT_FOUND,
        what="B deletes A's key",
    )
    answer = target.signed(b, "GET", "/api_keys/?limit=1000")
    listed = expect(answer, target, 200, what="B lists")
    if key_id in {item["api_key_id"] for item in listed["items"]}:
        fail(answer, target, "B's list shows A's key", what="B lists")
    expect(
        target.signed(target.user_a, "GET", f"/api_keys/{key_id}"),
        target,
        200,
        what="A still has it",
    )


def test_secret_only_in_create_response(target: Target):
    """§4: `secret_key` only in the create answer."""
    created = own_key(target, "sec")
    for path in (f"/api_keys/{created['api_key_id']}", "/api_keys/?limit=1000"):
        answer = target.signed(target.user_a, "GET", path)
        expect(answer, target, 200, what=f"GET {path}")
        if "secret_key" in answer.text or created["secret_key"] in answer.text:
            fail(answer, target, f"GET {path} shows a secret_key", what="secret only at create")


@pytest.mark.parametrize("scheme", ["Basic", "Bearer", ""])
def test_api_key_schemes(target: Target, scheme: str):
    assert target.api_key_a is not None
    answer = target.with_key(target.api_key_a.reveal(), "GET", "/api_keys/", scheme=scheme)
    expect(answer, target, 200, what=f"admin key as `{scheme or 'bare'}`")


def test_malformed_api_key_is_401(target: Target):
    answer = target.with_key("cpk_not-a-key", "GET", "/api_keys/")
    expect(answer, target, 401, D.MALFORMED_API_KEY, what="malformed key")
