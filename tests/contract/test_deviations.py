"""Deterministic probes for each production deviation (behaviour §7).

Each test asserts the contract and is marked with the deviation it probes
(`deviation("Dn")`: when every probe of a deviation is skipped, the report
says it was not examined rather than not observed). Against a contract-conformant target all
pass; against production (or `--mock-quirks production`) each one meets its
deviation: the recognisers name it (`[Dn]` in the report), and with the
deviation on `--known-deviations` the test records it as observed and
passes. Some probes also plant the request a resembling bug would fail on
(a scope that does not match, a deleted key past D3's window): those stay
failures whatever the list says.
"""

from __future__ import annotations

import base64
import re

import pytest

from tests.contract.probes import create, expect, fail, own_key, send_raw
from tests.support import details as D
from tests.support import recognisers
from tests.support.routing import allow_of
from tests.support.signing import hotkey_headers
from tests.support.target import Target

REFUSED = D.API_KEY_REFUSED
BASE64_BASIC = re.compile(r"Basic (?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
BAD_NAME = D.BAD_KEY_NAME


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
@pytest.mark.deviation("D1")
def test_d1_negative_paging_is_422(target: Target, field: str):
    answer = target.signed(target.user_a, "GET", f"/api_keys/?{field}=-1")
    expect(
        answer,
        target,
        422,
        [
            {
                "type": "greater_than_equal",
                "loc": ["query", field],
                "msg": D.BELOW_ZERO,
                "input": "-1",
                "ctx": {"ge": 0},
            }
        ],
        what=f"{field}=-1 is a validation error",
    )


def _registry_header_ok(target: Target, value: str) -> bool:
    if target.registry_password is not None:
        wanted = base64.b64encode(f":{target.registry_password.reveal()}".encode()).decode()
        return value == f"Basic {wanted}"
    return bool(BASE64_BASIC.fullmatch(value))


@pytest.mark.deviation("D2")
def test_d2_registry_header_is_basic_base64(target: Target):
    """§6: the registry header is `Basic base64(":" + password)`."""
    answer = target.signed(target.user_a, "GET", "/registry/auth")
    expect(answer, target, 200, what="registry_auth signed by a registered hotkey")
    value = answer.headers.get("authorization", "")
    if not _registry_header_ok(target, value):
        fail(
            answer,
            target,
            f"registry header is {value[:40]!r}",
            what="registry header",
            recheck=lambda ex: _registry_header_ok(target, ex.response_headers["authorization"]),
        )


@pytest.mark.deviation("D3")
def test_d3_deleted_key_is_refused_at_once(target: Target):
    """§4: a deleted key is refused at once."""
    created = own_key(target, "d3")
    secret = created["secret_key"]
    used = target.with_key(secret, "GET", "/api_keys/")
    expect(used, target, 200, what="a new admin key works before its deletion")
    deleted = target.delete_key(target.user_a, created["api_key_id"])
    expect(deleted, target, 200, what="delete own key")
    after = target.with_key(secret, "GET", "/api_keys/")
    expect(after, target, 401, REFUSED, what="a deleted (previously used) key is refused")


@pytest.mark.control
@pytest.mark.deviation("D3")
def test_d3_deleted_key_is_refused_after_its_window(target: Target):
    """Past D3's 60 s even production refuses the key: honoured then is a bug."""
    created = own_key(target, "d3w")
    secret = created["secret_key"]
    expect(target.with_key(secret, "GET", "/api_keys/"), target, 200, what="the key works")
    deleted = target.delete_key(target.user_a, created["api_key_id"])
    expect(deleted, target, 200, what="delete own key")
    later = target.now() + 61
    assert target.client.put("/_mock/clock", json={"now": later}).status_code == 200
    try:
        after = target.with_key(secret, "GET", "/api_keys/")
    finally:
        target.client.put("/_mock/clock", json={"now": None})
    expect(after, target, 401, REFUSED, what="a deleted key, 61 s after its use")


@pytest.mark.deviation("D4")
def test_d4_null_scopes_non_admin_is_200(target: Target):
    body = {"name": target.ledger.name("d4"), "admin": False, "scopes": None}
    payload = expect(
        create(target, target.user_a, body),
        target,
        200,
        what="admin false with scopes null creates a key",
    )
    assert payload["scopes"] == [] and payload["admin"] is False


def _naive_stamps(payload) -> list[str]:
    items = payload.get("items", []) if isinstance(payload, dict) else []
    stamps = [item.get("created_at") for item in items if isinstance(item, dict)]
    return [s for s in stamps if not (isinstance(s, str) and RFC3339.fullmatch(s))]


@pytest.mark.deviation("D5")
def test_d5_date_times_have_an_offset(target: Target):
    own_key(target, "d5")
    answer = target.signed(target.user_a, "GET", "/api_keys/")
    listed = expect(answer, target, 200, what="list own keys")
    naive = _naive_stamps(listed)
    if naive:
        fail(
            answer,
            target,
            f"date-times without an offset: {naive[:3]}",
            what="created_at",
            recheck=lambda ex: not _naive_stamps(ex.json()),
        )


@pytest.mark.parametrize("nonce", ["9" * 400, "²"], ids=["hundreds-of-digits", "superscript"])
@pytest.mark.deviation("D6")
def test_d6_odd_nonce_is_401(target: Target, nonce: str):
    headers = hotkey_headers(target.user_a.keypair, nonce, "api_keys")
    raw = {name: value.encode("latin-1") for name, value in headers.items()}
    answer = send_raw(target, "GET", "/api_keys/", raw)
    expect(answer, target, 401, D.INVALID_NONCE, what=f"nonce {nonce[:12]!r}")


@pytest.mark.parametrize("query", [f"page={2**64}", f"page=1&limit={2**64}"])
@pytest.mark.deviation("D7")
def test_d7_paging_beyond_64_bits_is_empty(target: Target, query: str):
    payload = expect(
        target.signed(target.user_a, "GET", f"/api_keys/?{query}"),
        target,
        200,
        what=f"{query} is a page past the end",
    )
    assert payload["items"] == [], payload


@pytest.mark.parametrize(
    ("object_type", "action", "method", "path"),
    [
        ("chutes", "read", "GET", "/api_keys/chutes"),  # D8: passes auth, 404
        ("chutes", None, "DELETE", "/api_keys/chutes"),  # D8 too: any action
        ("chutes", "read", "GET", "/api_keys/"),  # no D8: refused in production too
        ("images", "read", "GET", "/api_keys/chutes"),  # another object type
        ("chutes", "read", "DELETE", "/api_keys/chutes"),  # another action
        ("chutes", "read", "GET", "/registry/auth"),
    ],
    ids=["d8-get", "d8-delete", "list", "other-type", "other-action", "registry"],
)
@pytest.mark.deviation("D8")
def test_d8_non_admin_key_is_refused(
    target: Target,
    request: pytest.FixtureRequest,
    object_type: str,
    action: str | None,
    method: str,
    path: str,
):
    """The contract refuses a non-admin key on all five operations. Production
    lets one through only where D8's scope rule matches; elsewhere it refuses
    it too, so being let through there is a new failure."""
    scopes = [{"object_type": object_type, "object_id": None, "action": action}]
    created = own_key(target, f"d8{request.node.callspec.id}", admin=False, scopes=scopes)
    answer = target.with_key(created["secret_key"], method, path)
    expect(answer, target, 401, REFUSED, what=f"a non-admin key on {method} {path}")


@pytest.mark.deviation("D9")
def test_d9_name_with_trailing_newline_is_refused(target: Target):
    name = target.ledger.name("d9").ljust(24, "x") + "\n"
    answer = create(target, target.user_a, {"name": name, "admin": True})
    expect(answer, target, 400, BAD_NAME, what="a 24-character name plus a newline")


@pytest.mark.parametrize("admin", ["yes", 1], ids=["string", "integer"])
@pytest.mark.deviation("D10")
def test_d10_admin_must_be_boolean(target: Target, admin):
    name = target.ledger.name(f"d10{type(admin).__name__}")
    answer = create(target, target.user_a, {"name": name, "admin": admin})
    expect(
        answer,
        target,
        422,
        _entry("bool_type", ["body", "admin"], input=admin),
        what=f"admin {admin!r}",
    )


@pytest.mark.deviation("D10")
def test_d10_page_must_be_an_integer(target: Target):
    answer = target.signed(target.user_a, "GET", "/api_keys/?page=1.0")
    expect(
        answer,
        target,
        422,
        _entry("int_parsing", ["query", "page"], input="1.0"),
        what="page=1.0",
    )


@pytest.mark.control
@pytest.mark.deviation("D11")
def test_d11_jwt_with_non_string_sub_is_401(target: Target):
    """Needs a token signed with the server's secret: only the mock can mint one."""
    minted = target.client.post("/_mock/jwt", json={"user_id": target.user_a.user_id, "sub": 123})
    assert minted.status_code == 200, minted.text
    answer = target.client.get(
        "/api_keys/", headers={"Authorization": f"Bearer {minted.json()['token']}"}
    )
    expect(answer, target, 401, D.JWT_INVALID, what="a JWT whose sub is a number")


# D12: production's catch-all route (behaviour §9) ---------------------------------
@pytest.mark.deviation("D12")
def test_d12_path_without_slash_redirects(target: Target):
    assert target.api_key_a is not None
    answer = target.with_key(target.api_key_a.reveal(), "GET", "/api_keys?page=1")
    expect(answer, target, 307, what="GET /api_keys redirects to /api_keys/")
    wanted = f"{target.base_url}/api_keys/?page=1"
    if answer.headers.get("location") != wanted:
        fail(answer, target, f"Location {answer.headers.get('location')!r}, expected {wanted!r}")


@pytest.mark.parametrize(
    ("method", "path", "signed"),
    [
        ("HEAD", "/api_keys/", False),
        ("DELETE", "/api_keys/", False),
        ("PUT", "/registry/auth", True),
        ("PATCH", "/api_keys/3f0c7a52-7d4e-4b8e-9a35-0d6c8c1f2a10", False),
    ],
    ids=["head-list", "delete-list", "put-registry-signed", "patch-key"],
)
@pytest.mark.deviation("D12")
def test_d12_method_the_path_lacks_is_405(target: Target, method: str, path: str, signed: bool):
    """HEAD and wrong methods are 405 by the contract; production's catch-all
    answers them (401/404 by its own credential rules)."""
    if signed:
        answer = target.signed(target.user_a, method, path)
    else:
        assert target.api_key_a is not None
        answer = target.with_key(target.api_key_a.reveal(), method, path)
    expect(answer, target, 405, what=f"{method} {path}")
    if method != "HEAD" and answer.json() != {"detail": "Method Not Allowed"}:
        fail(answer, target, f"405 body {answer.text[:100]!r}", what=f"{method} {path}")


@pytest.mark.parametrize("credentials", ["none", "api-key"])
@pytest.mark.deviation("D12")
def test_d12_unknown_path_is_404(target: Target, credentials: str):
    path = "/api_keys/chutes/extra"
    if credentials == "none":
        answer = target.client.get(path)
    else:
        assert target.api_key_a is not None
        answer = target.with_key(target.api_key_a.reveal(), "GET", path)
    expect(answer, target, 404, "Not Found", what=f"GET {path}")


# D13: no order ----------------------------------------------------------------------
@pytest.mark.deviation("D13")
def test_d13_list_is_in_created_order(target: Target):
    """Keys k0..k3 made in turn, k1 and k2 deleted, k4 and k5 made: the list
    holds this run's keys as k0 k3 k4 k5. Production's list has no order and
    may put k4, k5 in the places k1, k2 left (after a vacuum)."""
    made = {}
    for n in range(4):
        made[f"k{n}"] = own_key(target, f"d13k{n}")["api_key_id"]
    for n in (1, 2):
        assert target.delete_key(target.user_a, made[f"k{n}"]).status_code == 200
    for n in (4, 5):
        made[f"k{n}"] = own_key(target, f"d13k{n}")["api_key_id"]
    answer = target.signed(target.user_a, "GET", "/api_keys/?limit=10000")
    items = expect(answer, target, 200, what="GET /api_keys/?limit=10000")["items"]
    ids = [item["api_key_id"] for item in items]
    contract = recognisers.contract_order(items)
    if ids == contract:
        return
    reason = f"the list holds its {len(ids)} keys in another order than created_at, then id"
    shown = frozenset({"D13"}) if recognisers.d13(ids, contract) else frozenset()
    fail(answer, target, reason, what="list order", shown=shown)


# D14: a 405 names the path's first route only ------------------------------------------
@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api_keys/", {"GET", "POST"}),
        ("/api_keys/3f0c7a52-7d4e-4b8e-9a35-0d6c8c1f2a10", {"GET", "DELETE"}),
    ],
    ids=["list", "key"],
)
@pytest.mark.deviation("D14")
def test_d14_405_allow_names_the_paths_methods(target: Target, path: str, methods: set[str]):
    """OPTIONS reaches the router's 405 with or without the catch-all (D12)."""
    answer = target.client.request("OPTIONS", path)
    expect(answer, target, 405, "Method Not Allowed", what=f"OPTIONS {path}")
    if allow_of(answer.headers) != methods:
        wanted = ", ".join(sorted(methods))
        fail(answer, target, f"Allow {answer.headers.get('allow')!r}, expected {wanted}")
