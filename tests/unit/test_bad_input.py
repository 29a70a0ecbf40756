"""Malformed requests get a 4xx with a clear detail, never a 500 (contract mode)."""

from __future__ import annotations

import pytest

from tests.support import details as D
from tests.unit.harness import ALICE, ALICE_ID, NOW, Mock, body_of, raw_request

LIMIT = 1024 * 1024
TOO_LARGE = {"detail": f"Request body too large (limit {LIMIT} bytes)"}
PARSE_ERROR = {"detail": D.BODY_NOT_UTF8}


def test_body_over_1_mib_is_413(mock: Mock) -> None:
    response = mock.request("POST", "/api_keys/", content=b" " * (LIMIT + 1))
    assert (response.status_code, response.json()) == (413, TOO_LARGE)


def test_body_of_exactly_1_mib_is_read(mock: Mock) -> None:
    payload = body_of({"name": "big", "admin": True})
    body = payload + b" " * (LIMIT - len(payload))
    response = mock.signed(ALICE, "POST", "/api_keys/", body)
    assert response.status_code == 200, response.text


def test_declared_content_length_over_the_limit_is_413(mock: Mock) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2000000")]
    response = raw_request(mock.app, "POST", "/api_keys/", headers, b"{}")
    assert (response.status_code, response.json()) == (413, TOO_LARGE)


def test_chunked_body_over_the_limit_is_413(mock: Mock) -> None:
    def chunks():
        for _ in range(17):
            yield b" " * 65536

    response = mock.request("POST", "/api_keys/", content=chunks())
    assert (response.status_code, response.json()) == (413, TOO_LARGE)


def test_413_also_on_get(mock: Mock) -> None:
    response = mock.request("GET", "/api_keys/", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413


@pytest.mark.parametrize("body", [b'{"name": "\xff", "admin": true}', b"\xc3\x28"])
def test_invalid_utf8_json(mock: Mock, body: bytes) -> None:
    response = mock.request("POST", "/api_keys/", content=body)
    assert (response.status_code, response.json()) == (400, PARSE_ERROR)


def test_nesting_beyond_the_parser_is_400(mock: Mock) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = mock.request("POST", "/api_keys/", content=body)
    assert (response.status_code, response.json()) == (400, PARSE_ERROR)


@pytest.mark.parametrize("depth", [50, 300, 900])
def test_deeply_nested_field_is_4xx(mock: Mock, depth: int) -> None:
    """Reading: a value too deep for the validator to echo back (its limit is
    about 250 levels) is refused like an unparseable body, with FastAPI's 400."""
    body = b'{"admin": true, "name": ' + b"[" * depth + b"]" * depth + b"}"
    response = mock.signed(ALICE, "POST", "/api_keys/", body)
    if depth == 50:
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "string_type"
    else:  # too deep to echo back: refused as an unparseable body
        assert (response.status_code, response.json()) == (400, PARSE_ERROR)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers(mock: Mock, token: str) -> None:
    """Reading: Python's parser admits NaN; as a name it is a string_type 422
    whose echoed input is rendered as JSON-safe (the body stays valid JSON)."""
    body = b'{"admin": true, "name": ' + token.encode() + b"}"
    response = mock.signed(ALICE, "POST", "/api_keys/", body)
    assert response.status_code == 422
    [entry] = response.json()["detail"]
    assert (entry["type"], entry["loc"]) == ("string_type", ["body", "name"])
    ignored = b'{"admin": true, "name": "n", "extra": ' + token.encode() + b"}"
    assert mock.signed(ALICE, "POST", "/api_keys/", ignored).status_code == 200


STRING_UNICODE = "Input should be a valid string, unable to parse raw data as a unicode string"


def test_lone_surrogate_name(mock: Mock) -> None:
    """Reading: JSON may escape a lone surrogate, Unicode text may not; pydantic
    refuses such a str with `string_unicode`, so the contract answers that 422."""
    body = b'{"admin": true, "name": "a\\ud800"}'
    response = mock.signed(ALICE, "POST", "/api_keys/", body)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "string_unicode",
                "loc": ["body", "name"],
                "msg": STRING_UNICODE,
                "input": "a\ud800",
            }
        ]
    }


def test_lone_surrogate_object_id_and_action(mock: Mock) -> None:
    body = (
        b'{"admin": false, "name": "s", "scopes": [{"object_type": "chutes",'
        b' "object_id": "\\udc00", "action": "\\udfff"}]}'
    )
    response = mock.signed(ALICE, "POST", "/api_keys/", body)
    assert response.status_code == 422
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("string_unicode", ["body", "scopes", 0, "object_id"]),
        ("string_unicode", ["body", "scopes", 0, "action"]),
    ]


def test_lone_surrogate_in_an_ignored_field(mock: Mock) -> None:
    body = b'{"admin": true, "name": "s", "note": "\\ud800"}'
    assert mock.signed(ALICE, "POST", "/api_keys/", body).status_code == 200


def test_surrogate_pair_escape_is_a_real_character(mock: Mock) -> None:
    """`\\ud83d\\ude00` is 😀, beyond the BMP: the name rule refuses it (400)."""
    body = b'{"admin": true, "name": "\\ud83d\\ude00"}'
    assert mock.signed(ALICE, "POST", "/api_keys/", body).status_code == 400


@pytest.mark.parametrize("name", ["x-chutes-signature", "x-chutes-hotkey", "authorization"])
def test_huge_headers(mock: Mock, name: str) -> None:
    headers = {
        "X-Chutes-Hotkey": ALICE.ss58_address,
        "X-Chutes-Nonce": str(NOW),
        "X-Chutes-Signature": "ab" * 64,
    }
    if name == "authorization":
        headers = {"Authorization": "Basic " + "a" * 200_000}
    else:
        headers[name] = ("zz" if name == "x-chutes-signature" else "5") * 100_000
    response = mock.request("GET", "/api_keys/", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_huge_nonce(mock: Mock) -> None:
    response = mock.signed(ALICE, "GET", "/api_keys/", nonce="9" * 100_000)
    assert (response.status_code, response.json()) == (401, {"detail": D.INVALID_NONCE})


def headers_with(name: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
    base = {
        b"x-chutes-hotkey": ALICE.ss58_address.encode(),
        b"x-chutes-nonce": str(NOW).encode(),
        b"x-chutes-signature": ALICE.sign(f"{ALICE.ss58_address}:{NOW}:api_keys").hex().encode(),
    }
    base[name] = value
    return list(base.items())


def test_non_latin_signature(mock: Mock) -> None:
    value = "подпись".encode()
    response = raw_request(
        mock.app, "GET", "/api_keys/", headers_with(b"x-chutes-signature", value)
    )
    assert response.status_code == 401
    shown = value.decode("latin-1")
    assert response.json() == {
        "detail": D.UNPARSEABLE_SIGNATURE.format(signature=shown, error=D.NOT_HEX_AT_0)
    }


def test_non_latin_hotkey(mock: Mock) -> None:
    response = raw_request(
        mock.app, "GET", "/api_keys/", headers_with(b"x-chutes-hotkey", "ключ".encode())
    )
    assert response.status_code == 401
    assert response.json()["detail"].startswith(D.prefix(D.BAD_SIGNATURE))


def test_non_latin_authorization(mock: Mock) -> None:
    headers = [(b"authorization", "Basic ключ".encode())]
    response = raw_request(mock.app, "GET", "/api_keys/", headers)
    assert (response.status_code, response.json()) == (
        401,
        {"detail": D.MALFORMED_API_KEY},
    )


def test_bearer_with_non_latin_token(mock: Mock) -> None:
    headers = [(b"authorization", "Bearer ключ.ключ.ключ".encode())]
    response = raw_request(mock.app, "GET", "/api_keys/", headers)
    assert (response.status_code, response.json()) == (401, {"detail": D.JWT_INVALID})


@pytest.mark.parametrize("path", ["/api_keys/%00", "/api_keys/%FF", "/api_keys/" + "x" * 10_000])
def test_odd_key_ids(mock: Mock, path: str) -> None:
    response = mock.signed(ALICE, "GET", path)
    assert response.status_code == 404
    assert response.json()["detail"].startswith("API key with id ")


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/problem+json", "APPLICATION/JSON"],
)
def test_json_content_type_variants(mock: Mock, content_type: str) -> None:
    body = body_of({"name": "ct", "admin": True})
    response = mock.signed(ALICE, "POST", "/api_keys/", body, content_type=content_type)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("content_type", ["text/plain", "garbage", "multipart/form-data"])
def test_non_json_content_types_are_422(mock: Mock, content_type: str) -> None:
    body = body_of({"name": "ct", "admin": True})
    response = mock.signed(ALICE, "POST", "/api_keys/", body, content_type=content_type)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "model_attributes_type"


def test_binary_text_body_is_422(mock: Mock) -> None:
    response = mock.signed(ALICE, "POST", "/api_keys/", b"\xff\x00\xfe", content_type="text/plain")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize("query", ["page=%00", "page=%FF", "limit=" + "9" * 5000, "page=&limit="])
def test_odd_query_values_are_422(mock: Mock, query: str) -> None:
    response = mock.signed(ALICE, "GET", f"/api_keys/?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api_keys/", b'{"name": "k", "admin": true, "x": ' + b"1" * 4301 + b"}"),
        ("/api_keys/", b"-" + b"1" * 4301),
        ("/_mock/clock/advance", b'{"seconds": ' + b"9" * 5000 + b"}"),
    ],
)
def test_integer_past_the_parsers_digit_limit_is_400(mock: Mock, path: str, body: bytes) -> None:
    """Reading: Python's parser refuses integers over 4300 digits with a
    ValueError that is not a JSONDecodeError; FastAPI answers it as any parse
    failure, before authentication."""
    response = mock.request("POST", path, content=body)
    assert (response.status_code, response.json()) == (400, PARSE_ERROR)


@pytest.mark.parametrize("depth", [490, 700, 960])
def test_deep_body_with_a_lone_surrogate_is_4xx(mock: Mock, depth: int) -> None:
    """Reading: a surrogate in a known field makes the body be scrubbed before
    validation; nesting deep enough to exhaust that walk is a parse failure."""
    nested = b"[" * depth + b"]" * depth
    body = b'{"admin": true, "name": "\\ud800", "x": ' + nested + b"}"
    response = mock.signed(ALICE, "POST", "/api_keys/", body)
    assert (response.status_code, response.json()) == (400, PARSE_ERROR)
    control = mock.request(
        "POST", "/_mock/users", content=b'{"username": "\\ud800", "x": ' + nested + b"}"
    )
    assert (control.status_code, control.json()) == (400, PARSE_ERROR)


@pytest.mark.parametrize(
    ("declared", "status"),
    [(b"\xb2", 401), (b"\xb9\xb3", 401), (b"9" * 4301, 413), (b"0" * 30 + b"2", 401)],
)
def test_content_length_of_odd_digits_is_not_a_500(
    mock: Mock, declared: bytes, status: int
) -> None:
    """Reading: '²' passes str.isdigit() but not int() (uvicorn refuses it; an
    ASGI caller reaches the app): the body is read as sent, and the request
    goes on to authentication. 4301 digits is past any limit: 413. Leading
    zeros say nothing of the size: a 2-byte body is read."""
    headers = [(b"content-type", b"application/json"), (b"content-length", declared)]
    response = raw_request(mock.app, "POST", "/api_keys/", headers, b"{}")
    assert response.status_code == status, response.json()


@pytest.mark.parametrize("length", [65, 100_000])
def test_overlong_hotkey_is_refused_without_decoding(
    mock: Mock, length: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading: an ss58 address is 47-48 characters; base58 decoding costs the
    square of the length (100 kB took seconds, holding up every request), so a
    longer hotkey is refused before decoding, with the same details."""
    from mock_server import hotkeys

    decoded: list[str] = []
    real_keypair = hotkeys.Keypair

    def counting_keypair(*args, **kwargs):
        decoded.append(kwargs.get("ss58_address", ""))
        return real_keypair(*args, **kwargs)

    monkeypatch.setattr(hotkeys, "Keypair", counting_keypair)
    hotkey = "5" * length
    headers = {
        "X-Chutes-Hotkey": hotkey,
        "X-Chutes-Signature": "00" * 64,
        "X-Chutes-Nonce": str(NOW),
    }
    response = mock.request("GET", "/api_keys/", headers=headers)
    message = f"{hotkey}:{NOW}:api_keys"
    assert (response.status_code, response.json()) == (
        401,
        {"detail": D.BAD_SIGNATURE.format(hotkey=hotkey, message=message)},
    )
    added = mock.client.post("/_mock/users", json={"username": "long", "hotkey": hotkey})
    if length > 64 * 1024:  # the control API's body limit
        assert added.status_code == 413
    else:  # the control API bounds the field itself (openapi/control.yaml)
        assert added.status_code == 422
        assert added.json()["detail"][0]["loc"] == ["body", "hotkey"]
    assert decoded == []


ODD_NAMES = [b'"\\ud800"', b'"\\udfff"', b'"a\\udc00b"', b'""', b'"\\u0000"', b'"\\ud83d\\ude00"']


@pytest.mark.parametrize("odd", ODD_NAMES)
def test_an_unknown_field_is_ignored_whatever_its_name(mock: Mock, odd: bytes) -> None:
    """Reading: unknown body fields are ignored (behaviour §1); a name JSON
    can escape but Unicode text cannot hold (a lone surrogate) is no exception."""
    body = b'{"name": "odd", "admin": true, ' + odd + b": 1}"
    created = mock.signed(ALICE, "POST", "/api_keys/", body)
    assert created.status_code == 200, created.text
    assert created.json()["name"] == "odd"
    scoped = (
        b'{"name": "odd-scoped", "admin": false, "scopes": [{"object_type": "chutes", '
        + odd
        + b": 1}]}"
    )
    created = mock.signed(ALICE, "POST", "/api_keys/", scoped)
    assert created.status_code == 200, created.text
    assert created.json()["scopes"][0]["object_type"] == "chutes"
    user = mock.request("POST", "/_mock/users", content=b'{"username": "odd", ' + odd + b": 1}")
    assert (user.status_code, user.json()["username"]) == (200, "odd")
    key = mock.request(
        "POST",
        "/_mock/keys",
        content=b'{"user_id": "' + ALICE_ID.encode() + b'", "name": "k", ' + odd + b": [1]}",
    )
    assert key.status_code == 200, key.text
    clock = mock.request("PUT", "/_mock/clock", content=b'{"now": 5, ' + odd + b": {}}")
    assert clock.json() == {"now": 5, "frozen": True}


def test_an_odd_unknown_field_leaves_the_other_answers_as_they_were(mock: Mock) -> None:
    """A missing field is still 422, echoing the body as sent."""
    body = b'{"admin": true, "\\ud800": 1}'
    response = mock.signed(ALICE, "POST", "/api_keys/", body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "missing",
            "loc": ["body", "name"],
            "msg": "Field required",
            "input": {"admin": True, "\ud800": 1},
        }
    ]
    nested = b'{"admin": false, "name": "s", "scopes": [{"object_type": 5, "\\ud800": 1}]}'
    entry = mock.signed(ALICE, "POST", "/api_keys/", nested).json()["detail"][0]
    assert (entry["type"], entry["loc"], entry["input"]) == (
        "string_type",
        ["body", "scopes", 0, "object_type"],
        5,
    )
