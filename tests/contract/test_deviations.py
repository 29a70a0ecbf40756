"""One deterministic probe per production deviation (SEMANTICS §7).

Each test asserts the contract; its name carries the deviation number, so a
failure in the report reads `[Dn]`. Against a contract-conformant target all
pass; against production (or `--mock-quirks production`) each one fails.
"""

from __future__ import annotations

import base64
import re

import pytest

from tests.contract.probes import create, expect, fail, own_key, send_raw
from tests.support.signing import hotkey_headers
from tests.support.target import Target

REFUSED = "Invalid token or user not found"
BASE64_BASIC = re.compile(r"Basic (?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
BAD_NAME = (
    "Invalid request: API key name should start with alphanumeric character and contain up to "
    "32 total allowed characters (letters, numbers, dashes, underscores, or spaces)"
)


def _entry(kind: str, loc: list, **more):
    """A detail matcher: one validation entry of this type at this location."""

    def matches(detail) -> bool:
        return (
            isinstance(detail, list)
            and len(detail) == 1
            and detail[0].get("type") == kind
            and detail[0].get("loc") == loc
            and all(detail[0].get(k) == v for k, v in more.items())
        )

    matches.__name__ = matches.__qualname__ = f"{kind} at {loc}"
    return matches


@pytest.mark.parametrize("field", ["page", "limit"])
def test_d1_negative_paging_is_422(target: Target, field: str):
    answer = target.signed(target.user_a, "GET", f"/api_keys/?{field}=-1")
    expect(
        answer,
        422,
        [
            {
                "type": "greater_than_equal",
                "loc": ["query", field],
                "msg": "Input should be greater than or equal to 0",
                "input": "-1",
                "ctx": {"ge": 0},
            }
        ],
        what=f"{field}=-1 is a validation error",
        deviation="D1",
    )


def test_d2_registry_header_is_basic_base64(target: Target):
    answer = target.signed(target.user_a, "GET", "/registry/auth")
    expect(answer, 200, what="registry_auth signed by a registered hotkey", deviation="D2")
    value = answer.headers.get("authorization", "")
    if target.registry_password is not None:
        wanted = "Basic " + base64.b64encode(f":{target.registry_password}".encode()).decode()
        ok = value == wanted
    else:
        ok = BASE64_BASIC.fullmatch(value)
    if not ok:
        fail(answer, f"registry header is {value[:40]!r}", "D2", what="registry header")


def test_d3_deleted_key_is_refused_at_once(target: Target):
    created = own_key(target, "d3")
    secret = created["secret_key"]
    used = target.with_key(secret, "GET", "/api_keys/")
    expect(used, 200, what="a new admin key works before its deletion", deviation="D3")
    expect(target.delete_key(target.user_a, created["api_key_id"]), 200, what="delete own key")
    after = target.with_key(secret, "GET", "/api_keys/")
    expect(after, 401, REFUSED, what="a deleted (previously used) key is refused", deviation="D3")


def test_d4_null_scopes_non_admin_is_200(target: Target):
    body = {"name": target.ledger.name("d4"), "admin": False, "scopes": None}
    payload = expect(
        create(target, target.user_a, body),
        200,
        what="admin false with scopes null creates a key",
        deviation="D4",
    )
    assert payload["scopes"] == [] and payload["admin"] is False


def test_d5_date_times_have_an_offset(target: Target):
    created = own_key(target, "d5")
    answer = target.signed(target.user_a, "GET", "/api_keys/")
    listed = expect(answer, 200, what="list own keys")
    stamps = [created["created_at"]] + [item["created_at"] for item in listed["items"]]
    naive = [s for s in stamps if not RFC3339.fullmatch(s)]
    if naive:
        fail(answer, f"date-times without an offset: {naive[:3]}", "D5", what="created_at")


@pytest.mark.parametrize("nonce", ["9" * 400, "²"], ids=["hundreds-of-digits", "superscript"])
def test_d6_odd_nonce_is_401(target: Target, nonce: str):
    headers = hotkey_headers(target.user_a.keypair, nonce, "api_keys")
    raw = {name: value.encode("latin-1") for name, value in headers.items()}
    answer = send_raw(target, "GET", "/api_keys/", raw)
    expect(answer, 401, "Invalid nonce!", what=f"nonce {nonce[:12]!r}", deviation="D6")


@pytest.mark.parametrize("query", [f"page={2**64}", f"page=1&limit={2**64}"])
def test_d7_paging_beyond_64_bits_is_empty(target: Target, query: str):
    payload = expect(
        target.signed(target.user_a, "GET", f"/api_keys/?{query}"),
        200,
        what=f"{query} is a page past the end",
        deviation="D7",
    )
    assert payload["items"] == [], payload


def test_d8_non_admin_key_refused_on_object_paths(target: Target):
    scopes = [{"object_type": "chutes", "object_id": None, "action": "read"}]
    created = own_key(target, "d8", admin=False, scopes=scopes)
    for path in ("/api_keys/chutes", "/api_keys/"):
        answer = target.with_key(created["secret_key"], "GET", path)
        expect(answer, 401, REFUSED, what=f"a non-admin key on GET {path}", deviation="D8")


def test_d9_name_with_trailing_newline_is_refused(target: Target):
    name = target.ledger.name("d9").ljust(24, "x") + "\n"
    answer = create(target, target.user_a, {"name": name, "admin": True})
    expect(answer, 400, BAD_NAME, what="a 24-character name plus a newline", deviation="D9")


@pytest.mark.parametrize("admin", ["yes", 1], ids=["string", "integer"])
def test_d10_admin_must_be_boolean(target: Target, admin):
    name = target.ledger.name(f"d10{type(admin).__name__}")
    answer = create(target, target.user_a, {"name": name, "admin": admin})
    expect(
        answer,
        422,
        _entry("bool_type", ["body", "admin"], input=admin),
        what=f"admin {admin!r}",
        deviation="D10",
    )


def test_d10_page_must_be_an_integer(target: Target):
    answer = target.signed(target.user_a, "GET", "/api_keys/?page=1.0")
    expect(
        answer,
        422,
        _entry("int_parsing", ["query", "page"], input="1.0"),
        what="page=1.0",
        deviation="D10",
    )


@pytest.mark.control
def test_d11_jwt_with_non_string_sub_is_401(target: Target):
    """Needs a token signed with the server's secret: only the mock can mint one."""
    minted = target.client.post("/_mock/jwt", json={"user_id": target.user_a.user_id, "sub": 123})
    assert minted.status_code == 200, minted.text
    answer = target.client.get(
        "/api_keys/", headers={"Authorization": f"Bearer {minted.json()['token']}"}
    )
    expect(answer, 401, "Invalid token.", what="a JWT whose sub is a number", deviation="D11")
