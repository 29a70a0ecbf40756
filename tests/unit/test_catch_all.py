"""Production's catch-all route, quirk D12 (behaviour §9): the routing rules
R1-R3, the catch-all's answers in their order, HEAD, and its compositions
with D3, D6 and D11. Each rule runs under `--quirks production` and under
`D12` alone; without D12 the contract's routing stays (see test_routing)."""

from __future__ import annotations

import hashlib
import json

import pytest
from substrateinterface import Keypair

from mock_server.quirks import PRODUCTION, Quirk
from tests.support import details as D
from tests.support.signing import hotkey_headers
from tests.unit.harness import ALICE, ALICE_ID, BOB, NOW, Mock, body_of, raw_request

SIX = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}
AUTH_REQUIRED = {"detail": D.AUTHENTICATION_REQUIRED}
NO_CHUTE = {"detail": D.NO_MATCHING_CHUTE}
NOT_ALLOWED = {"detail": "Method Not Allowed"}
NO_PURPOSE = {"detail": D.SIGNED_WITHOUT_BODY}
INVALID_NONCE = {"detail": D.INVALID_NONCE}
KEY_REFUSED = {"detail": D.API_KEY_REFUSED}
KEY_MALFORMED = {"detail": D.MALFORMED_API_KEY}
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
CHARLIE = Keypair.create_from_uri("//Charlie")  # a valid hotkey that no user has

MODES = {"production": PRODUCTION, "D12": frozenset({Quirk.D12})}


@pytest.fixture(params=list(MODES))
def prod(request, make_mock) -> Mock:
    """A mock with the catch-all: under `production`, and under D12 alone."""
    return make_mock(quirks=MODES[request.param])


@pytest.fixture
def d12(make_mock) -> Mock:
    return make_mock(quirks=frozenset({Quirk.D12}))


@pytest.fixture
def production(make_mock) -> Mock:
    return make_mock(quirks=PRODUCTION)


def head(mock: Mock, path: str, headers: dict[str, str] | None = None):
    """A HEAD request straight through ASGI: what the app sends, body included
    (an HTTP client drops a HEAD response's body)."""
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return raw_request(mock.app, "HEAD", path, raw)


def json_length(detail: dict) -> str:
    return str(len(json.dumps(detail, separators=(",", ":"))))


def bad_signature(hotkey: str, message: str) -> dict:
    return {"detail": D.BAD_SIGNATURE.format(hotkey=hotkey, message=message)}


def answer(response) -> tuple[int, object]:
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


def signed_raw(
    mock: Mock,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    keypair: Keypair = ALICE,
    nonce: int | str | None = None,
    purpose: str | None = None,
    headers: dict | None = None,
):
    """Signed over the sha256 of the body (purpose None), as the catch-all checks."""
    nonce = mock.now() if nonce is None else nonce
    signed = hotkey_headers(keypair, nonce, purpose, body)
    return mock.request(method, path, content=body, headers={**signed, **(headers or {})})


# R1: the six methods, no real route -> the catch-all ---------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api_keys"),  # no 307 ...
        ("POST", "/api_keys"),
        ("GET", "/api_keys?page=1"),
        ("GET", "/registry/auth/"),
        ("GET", "/api_keys/x/"),
        ("DELETE", "/api_keys/x/"),
        ("GET", "/"),  # ... and no 404 Not Found
        ("GET", "/nope"),
        ("GET", "/api_keys/a/b"),
        ("GET", "/registry"),
        ("PATCH", "/chutes/x"),
        ("DELETE", "/api_keys/"),  # a method the path lacks: no 405
        ("PUT", "/api_keys/"),
        ("PATCH", "/api_keys/"),
        ("POST", "/api_keys/x"),
        ("PUT", "/api_keys/x"),
        ("PATCH", "/api_keys/x"),
        ("POST", "/registry/auth"),
        ("PUT", "/registry/auth"),
        ("DELETE", "/registry/auth"),
    ],
)
def test_r1_every_other_request_reaches_the_catch_all(prod: Mock, method, path) -> None:
    assert answer(prod.request(method, path)) == (401, AUTH_REQUIRED)
    assert answer(prod.with_key(prod.admin_key(), method, path)) == (404, NO_CHUTE)


@pytest.mark.parametrize("path", ["/api_keys/", "/registry/auth", "/api_keys/x", "/nope"])
def test_r1_head_is_never_a_real_route(prod: Mock, path: str) -> None:
    response = head(prod, path, {"Authorization": f"Basic {prod.admin_key()}"})
    assert response.status_code == 404
    assert response.content == b""
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == json_length(NO_CHUTE)


# R2: any other method -> 405, Allow of the first route whose path matched -------------
@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "CONNECT", "PROPFIND"])
@pytest.mark.parametrize("path", ["/registry/auth", "/api_keys/", "/api_keys/some-id"])
def test_r2_other_methods_on_the_five_paths(prod: Mock, method, path) -> None:
    """Allow: GET under production's one route per operation (D14); the path's
    methods with the catch-all alone."""
    response = prod.with_key(prod.admin_key(), method, path)
    assert answer(response) == (405, NOT_ALLOWED)
    contract = {"/registry/auth": "GET", "/api_keys/": "GET, POST"}.get(path, "GET, DELETE")
    d14 = Quirk.D14 in prod.state.settings.quirks
    assert set(response.headers["allow"].split(", ")) == set(
        ("GET" if d14 else contract).split(", ")
    )


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE"])
@pytest.mark.parametrize("path", ["/", "/nope", "/api_keys", "/registry/auth/", "/api_keys/a/b"])
def test_r2_other_methods_elsewhere_allow_the_six(prod: Mock, method, path) -> None:
    response = prod.request(method, path)
    assert answer(response) == (405, NOT_ALLOWED)
    assert set(response.headers["allow"].split(", ")) == SIX


# R3: the five operations, unchanged ---------------------------------------------------
def five_operations(mock: Mock) -> list:
    """Each operation once, signed as the real client signs (no trailing
    slash on get and delete), and with an API key."""
    created = mock.signed(ALICE, "POST", "/api_keys/", body_of({"name": "r3", "admin": True}))
    key_id = created.json()["api_key_id"]
    token = mock.admin_key()
    return [
        created,
        mock.signed(ALICE, "GET", "/registry/auth"),
        mock.signed(ALICE, "GET", "/api_keys/?limit=5&page=0"),
        mock.signed(ALICE, "GET", f"/api_keys/{key_id}"),
        mock.with_key(token, "GET", "/api_keys/"),
        mock.with_key(token, "GET", "/registry/auth"),
        mock.signed(ALICE, "GET", "/api_keys/?page=abc"),
        mock.signed(ALICE, "GET", f"/api_keys/{key_id[::-1]}"),
        mock.request("GET", "/api_keys/"),
        mock.signed(ALICE, "DELETE", f"/api_keys/{key_id}"),
        mock.signed(ALICE, "DELETE", f"/api_keys/{key_id}"),
    ]


def test_r3_the_five_operations_are_byte_for_byte_the_contracts(make_mock) -> None:
    contract = five_operations(make_mock(seed=7))
    with_catch_all = five_operations(make_mock(seed=7, quirks=frozenset({Quirk.D12})))
    assert [r.status_code for r in contract] == [200] * 6 + [422, 404, 401, 200, 404]
    for plain, d12 in zip(contract, with_catch_all, strict=True):
        assert (d12.status_code, d12.headers.items(), d12.content) == (
            plain.status_code,
            plain.headers.items(),
            plain.content,
        )


def test_r3_the_five_operations_answer_under_production(production: Mock) -> None:
    statuses = [r.status_code for r in five_operations(production)]
    assert statuses == [200] * 6 + [422, 404, 401, 200, 404]


# Routing uses the percent-decoded path --------------------------------------------------
def test_routing_uses_the_percent_decoded_path(prod: Mock) -> None:
    token = prod.admin_key()
    listed = prod.with_key(token, "GET", "/api_keys%2F")
    assert listed.status_code == 200 and listed.json()["total"] >= 1
    assert prod.with_key(token, "GET", "/registry%2Fauth").status_code == 200
    assert answer(prod.with_key(token, "GET", "/api_keys%2Fx%2F")) == (404, NO_CHUTE)
    allow = prod.with_key(token, "OPTIONS", "/api_keys%2F").headers["allow"]
    assert set(allow.split(", ")) == (
        {"GET"} if Quirk.D14 in prod.state.settings.quirks else {"GET", "POST"}
    )


# A. Hotkey ------------------------------------------------------------------------------
@pytest.mark.parametrize("nonce", [None, "", "abc", "12a", " 1", str(NOW - 600), str(NOW + 600)])
def test_a1_a_bad_nonce_comes_first(prod: Mock, nonce) -> None:
    headers = {"X-Chutes-Hotkey": ALICE.ss58_address, "X-Chutes-Signature": "zz"}
    if nonce is not None:
        headers["X-Chutes-Nonce"] = nonce
    for method in ("GET", "POST"):
        assert answer(prod.request(method, "/nope", headers=headers)) == (401, INVALID_NONCE)


@pytest.mark.parametrize("offset", [-599, 599])
def test_a1_the_window_is_open_600_seconds(prod: Mock, offset: int) -> None:
    response = signed_raw(prod, "POST", "/nope", b"{}", nonce=NOW + offset)
    assert answer(response) == (404, NO_CHUTE)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a2_get_and_delete_can_never_pass(prod: Mock, method: str) -> None:
    """Refused before the signature is looked at: a valid one, a garbage one."""
    for signature in (None, "zz"):
        headers = {"X-Chutes-Signature": signature} if signature else {}
        response = signed_raw(prod, method, "/api_keys", headers=headers)
        assert answer(response) == (401, NO_PURPOSE)


def test_a2_head_can_never_pass(prod: Mock) -> None:
    response = head(prod, "/api_keys/", hotkey_headers(ALICE, prod.now(), None))
    assert response.status_code == 401 and response.content == b""
    assert response.headers["content-length"] == json_length(NO_PURPOSE)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("body", [b"", b'{"name":"x"}', b"not json at all", b"\xff\xfe"])
def test_a3_the_message_is_the_sha256_of_the_raw_body(prod: Mock, method, body) -> None:
    """The body is hashed, never parsed: not even bad JSON is refused."""
    response = signed_raw(
        prod, method, "/api_keys/x/y", body, headers={"content-type": "application/json"}
    )
    assert answer(response) == (404, NO_CHUTE)


def test_a3_a_purpose_does_not_sign_there(prod: Mock) -> None:
    nonce = str(prod.now())
    response = signed_raw(prod, "PUT", "/api_keys/", purpose="api_keys", nonce=nonce)
    message = f"{ALICE.ss58_address}:{nonce}:{EMPTY_SHA256}"
    assert answer(response) == (401, bad_signature(ALICE.ss58_address, message))


def test_a4_a_signature_that_is_not_hex(prod: Mock) -> None:
    response = signed_raw(prod, "POST", "/nope", headers={"X-Chutes-Signature": "zz"})
    assert answer(response) == (
        401,
        {"detail": D.UNPARSEABLE_SIGNATURE.format(signature="zz", error=D.NOT_HEX_AT_0)},
    )


@pytest.mark.parametrize("hotkey", ["5Bad", BOB.ss58_address])
def test_a5_a_signature_that_does_not_verify(prod: Mock, hotkey: str) -> None:
    """Signed by Alice, claimed by another hotkey or an address that is none."""
    nonce = str(prod.now())
    body = b'{"a":1}'
    response = signed_raw(
        prod, "POST", "/x", body, nonce=nonce, headers={"X-Chutes-Hotkey": hotkey}
    )
    message = f"{hotkey}:{nonce}:{hashlib.sha256(body).hexdigest()}"
    assert answer(response) == (401, bad_signature(hotkey, message))


def test_a6_no_metagraph_check_the_caller_is_the_user_or_nobody(prod: Mock) -> None:
    assert answer(signed_raw(prod, "POST", "/x", keypair=BOB)) == (404, NO_CHUTE)  # unregistered
    assert answer(signed_raw(prod, "POST", "/x", keypair=CHARLIE)) == (401, AUTH_REQUIRED)
    prod.register(CHARLIE.ss58_address)  # registered, still no user
    assert answer(signed_raw(prod, "POST", "/x", keypair=CHARLIE)) == (401, AUTH_REQUIRED)


def test_a_the_hotkey_wins_over_authorization(prod: Mock) -> None:
    junk = {"Authorization": "Basic junk"}
    assert answer(signed_raw(prod, "POST", "/x", headers=junk)) == (404, NO_CHUTE)
    admin = {"Authorization": f"Basic {prod.admin_key()}"}
    assert answer(signed_raw(prod, "POST", "/x", keypair=CHARLIE, headers=admin)) == (
        401,
        AUTH_REQUIRED,
    )


def test_a_needs_both_headers(prod: Mock) -> None:
    """A hotkey without a signature is no hotkey auth: Authorization, or nobody."""
    lone = {"X-Chutes-Hotkey": ALICE.ss58_address, "X-Chutes-Nonce": str(prod.now())}
    assert answer(prod.request("POST", "/x", headers=lone)) == (401, AUTH_REQUIRED)
    assert answer(prod.request("POST", "/x", headers={**lone, "X-Chutes-Signature": ""})) == (
        401,
        AUTH_REQUIRED,
    )
    with_key = {**lone, "Authorization": f"Bearer {prod.admin_key()}"}
    assert answer(prod.request("POST", "/x", headers=with_key)) == (404, NO_CHUTE)


# B. Authorization -----------------------------------------------------------------------
def test_b_a_jwt(prod: Mock) -> None:
    assert answer(prod.with_key(prod.jwt(), "GET", "/x", scheme="Bearer")) == (404, NO_CHUTE)
    assert answer(prod.with_key(prod.jwt(), "GET", "/x", scheme="bEaReR")) == (404, NO_CHUTE)
    assert answer(prod.with_key("abc", "GET", "/x", scheme="Bearer")) == (
        401,
        {"detail": D.JWT_INVALID},
    )
    expired = prod.jwt(ttl=10)
    prod.state.clock.advance(10)
    assert answer(prod.with_key(expired, "PATCH", "/x", scheme="Bearer")) == (
        401,
        {"detail": D.JWT_EXPIRED},
    )


@pytest.mark.parametrize("scheme", ["Basic", "Bearer", "Token", ""])
def test_b_an_admin_api_key(prod: Mock, scheme: str) -> None:
    response = prod.with_key(prod.admin_key(), "DELETE", "/api_keys/", scheme=scheme)
    assert answer(response) == (404, NO_CHUTE)


def test_b_a_refused_api_key(prod: Mock) -> None:
    token = prod.admin_key()
    assert answer(prod.with_key(token[:-1], "GET", "/x")) == (401, KEY_MALFORMED)
    assert answer(prod.with_key("abc", "GET", "/x")) == (401, KEY_MALFORMED)
    wrong_secret = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert answer(prod.with_key(wrong_secret, "GET", "/x")) == (401, KEY_REFUSED)
    unknown = "cpk_" + "0" * 32 + token[36:]
    assert answer(prod.with_key(unknown, "GET", "/x")) == (401, KEY_REFUSED)


def scoped(mock: Mock, name: str, **scope) -> str:
    scopes = [{"object_type": "chutes", "object_id": None, "action": None, **scope}]
    return mock.created(ALICE, name, admin=False, scopes=scopes)["secret_key"]


@pytest.mark.parametrize(
    ("scope", "method", "path", "passes"),
    [
        ({}, "GET", "/x/chutes", True),
        ({}, "PATCH", "/chutes", True),  # one segment: any object id but a named one
        ({}, "GET", "/a/b/chutes", True),
        ({}, "GET", "/x/images", False),  # another object type
        ({}, "GET", "/chutes/x", False),  # the type is the last segment
        ({}, "GET", "/x/chutes/", False),
        ({"action": "read"}, "GET", "/x/chutes", True),
        ({"action": "read"}, "HEAD", "/x/chutes", True),
        ({"action": "read"}, "DELETE", "/x/chutes", False),
        ({"action": "write"}, "POST", "/x/chutes", True),
        ({"action": "write"}, "PUT", "/x/chutes", True),
        ({"action": "write"}, "PATCH", "/x/chutes", True),
        ({"action": "write"}, "GET", "/x/chutes", False),
        ({"action": "delete"}, "DELETE", "/x/chutes", True),
        ({"action": "invoke"}, "POST", "/x/chutes", False),
        ({"object_id": "chutes"}, "GET", "/x/chutes", True),  # on /a/b the id is b
        ({"object_id": "x"}, "GET", "/x/chutes", False),
        ({"object_id": "x"}, "GET", "/chutes", False),
    ],
)
def test_b_a_non_admin_key_is_checked_against_the_path(prod, scope, method, path, passes) -> None:
    response = prod.with_key(scoped(prod, "scoped", **scope), method, path)
    assert response.status_code == (404 if passes else 401)
    if method != "HEAD":
        assert answer(response) == ((404, NO_CHUTE) if passes else (401, KEY_REFUSED))


# C. Neither, and the last step ------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": ""}, {"X-Chutes-Signature": "ab"}])
def test_c_nobody_is_authentication_required(prod: Mock, headers: dict) -> None:
    for method in sorted(SIX - {"HEAD"}):
        assert answer(prod.request(method, "/x", headers=headers)) == (401, AUTH_REQUIRED)


def test_the_path_plays_no_part_for_a_user(prod: Mock) -> None:
    token = prod.admin_key()
    for path in ("/", "/api_keys", "/chutes/abc", "/registry/auth/", "/%F0%9F%98%80"):
        assert answer(prod.with_key(token, "POST", path)) == (404, NO_CHUTE)


# HEAD ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({}, 401, AUTH_REQUIRED),
        ({"Authorization": "Basic abc"}, 401, KEY_MALFORMED),
        ({"X-Chutes-Hotkey": "h", "X-Chutes-Signature": "s"}, 401, INVALID_NONCE),
    ],
)
def test_head_same_status_and_headers_no_body(prod: Mock, headers, status, detail) -> None:
    get = prod.request("GET", "/x", headers=headers)
    headed = head(prod, "/x", headers)
    assert (get.status_code, get.json()) == (status, detail)
    assert (headed.status_code, headed.headers, headed.content) == (status, dict(get.headers), b"")
    assert headed.headers["content-length"] == json_length(detail)


def test_head_a_user(prod: Mock) -> None:
    authorization = {"Authorization": f"Basic {prod.admin_key()}"}
    get = prod.request("GET", "/x", headers=authorization)
    headed = head(prod, "/x", authorization)
    assert (headed.status_code, headed.headers, headed.content) == (404, dict(get.headers), b"")


# Compositions: D3, D6, D11 ------------------------------------------------------------------
def used_at_the_catch_all_then_deleted(mock: Mock) -> str:
    key = mock.created(ALICE, "cached")
    assert mock.with_key(key["secret_key"], "GET", "/x").status_code == 404  # its first use
    mock.state.clock.advance(10)
    assert mock.signed(ALICE, "DELETE", f"/api_keys/{key['api_key_id']}").status_code == 200
    return key["secret_key"]


def test_d3_a_use_at_the_catch_all_opens_the_window(production: Mock) -> None:
    token = used_at_the_catch_all_then_deleted(production)
    assert production.with_key(token, "GET", "/api_keys/").status_code == 200
    assert answer(production.with_key(token, "GET", "/y")) == (404, NO_CHUTE)
    production.state.clock.set(NOW + 61)
    assert answer(production.with_key(token, "GET", "/y")) == (401, KEY_REFUSED)
    assert production.with_key(token, "GET", "/api_keys/").status_code == 401


def test_d3_only_when_on(d12: Mock) -> None:
    token = used_at_the_catch_all_then_deleted(d12)
    assert answer(d12.with_key(token, "GET", "/y")) == (401, KEY_REFUSED)
    assert d12.with_key(token, "GET", "/api_keys/").status_code == 401


def crash_nonce(mock: Mock, nonce: bytes, method: str = "POST"):
    headers = [
        (b"x-chutes-hotkey", ALICE.ss58_address.encode()),
        (b"x-chutes-nonce", nonce),
        (b"x-chutes-signature", b"00"),
    ]
    return raw_request(mock.app, method, "/x", headers)


@pytest.mark.parametrize("nonce", ["²".encode("latin-1"), b"1" * 400])
@pytest.mark.parametrize("method", ["POST", "GET", "HEAD"])
def test_d6_a_crashing_nonce_is_500_only_when_on(production, d12, nonce, method) -> None:
    crashed = crash_nonce(production, nonce, method)
    assert (crashed.status_code, crashed.headers["content-type"]) == (
        500,
        "text/plain; charset=utf-8",
    )
    assert crashed.content == (b"" if method == "HEAD" else b"Internal Server Error")
    refused = crash_nonce(d12, nonce, method)
    assert refused.status_code == 401
    if method != "HEAD":
        assert refused.json() == INVALID_NONCE


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
def test_d11_a_non_string_sub_is_500_only_when_on(production, d12, method) -> None:
    authorization = {"Authorization": f"Bearer {production.jwt(ALICE_ID, sub=123)}"}
    raw = [(k.lower().encode(), v.encode()) for k, v in authorization.items()]
    crashed = raw_request(production.app, method, "/x", raw)
    assert crashed.status_code == 500
    assert crashed.headers["content-type"] == "text/plain; charset=utf-8"
    assert crashed.headers["content-length"] == str(len(b"Internal Server Error"))
    assert crashed.content == (b"" if method == "HEAD" else b"Internal Server Error")
    refused = d12.with_key(d12.jwt(ALICE_ID, sub=123), method, "/x", scheme="Bearer")
    assert refused.status_code == 401
    if method != "HEAD":
        assert refused.json() == {"detail": D.JWT_INVALID}


# Without D12 ------------------------------------------------------------------------------
def test_without_d12_routing_is_the_contracts(make_mock) -> None:
    every_other = make_mock(quirks=PRODUCTION - {Quirk.D12})
    token = every_other.admin_key()
    assert every_other.request("GET", "/api_keys").status_code == 307
    assert every_other.with_key(token, "GET", "/registry/auth/").status_code == 307
    assert answer(every_other.with_key(token, "DELETE", "/api_keys/")) == (405, NOT_ALLOWED)
    assert every_other.with_key(token, "HEAD", "/api_keys/").status_code == 405
    assert answer(every_other.with_key(token, "GET", "/nope")) == (404, {"detail": "Not Found"})
