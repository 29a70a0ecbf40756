"""Production's defects D1–D14 (behaviour §7): each one reproduced under its
quirk (alone and within `production`), and absent without quirks."""

from __future__ import annotations

import re

import pytest

from mock_server.quirks import DESCRIPTIONS, PRODUCTION, Quirk, parse_quirks
from mock_server.settings import Settings
from tests.support import details as D
from tests.unit.harness import (
    ALICE,
    ALICE_ID,
    NOW,
    REGISTRY_PASSWORD,
    Mock,
    body_of,
    raw_request,
)

NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")


def quirky(make_mock, defect: str):
    """Mocks with `defect` on: alone, and as part of `production`."""
    return [make_mock(quirks=frozenset({defect})), make_mock(quirks=PRODUCTION)]


def assert_500_text(response) -> None:
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Internal Server Error"


def test_production_is_all_fourteen() -> None:
    assert parse_quirks("production") == PRODUCTION == frozenset(f"D{i}" for i in range(1, 15))
    assert set(DESCRIPTIONS) == PRODUCTION
    assert parse_quirks("d3, D8") == {"D3", "D8"}
    assert parse_quirks("D12") == {Quirk.D12}
    assert parse_quirks(None) == parse_quirks("none") == parse_quirks("") == frozenset()


def test_unknown_quirk_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match=r"unknown quirk\(s\) D15"):
        parse_quirks("D1,D15")


def test_quirks_are_named_constants() -> None:
    assert list(Quirk) == [Quirk.named(f"d{i}") for i in range(1, 15)]
    assert all(quirk.description.strip() for quirk in Quirk)
    assert Quirk.D3 == "D3" and "D3" in frozenset({Quirk.D3})


@pytest.mark.parametrize("names", [{"D15"}, {"D1", "X"}, {"production"}, {""}])
def test_settings_refuse_an_unknown_quirk(names: set[str]) -> None:
    with pytest.raises(ValueError, match="unknown quirk"):
        Settings(quirks=frozenset(names))


def test_settings_take_names_as_constants() -> None:
    settings = Settings(quirks=frozenset({"D3", "d8"}))
    assert settings.quirks == {Quirk.D3, Quirk.D8}
    assert all(isinstance(quirk, Quirk) for quirk in settings.quirks)
    assert settings.quirk(Quirk.D3) and settings.quirk("D8") and not settings.quirk("D12")


def test_asking_for_an_unknown_quirk_raises() -> None:
    """`quirk("D15")` is no silent False: a typo cannot switch a defect off."""
    with pytest.raises(ValueError, match="unknown quirk 'D15'"):
        Settings().quirk("D15")


def test_d1_negative_page_is_500(make_mock, mock: Mock) -> None:
    for quirk_mock in quirky(make_mock, "D1"):
        assert_500_text(quirk_mock.signed(ALICE, "GET", "/api_keys/?page=-1"))
        assert_500_text(quirk_mock.signed(ALICE, "GET", "/api_keys/?limit=-1"))
    assert mock.signed(ALICE, "GET", "/api_keys/?page=-1").status_code == 422


def test_d2_registry_header_is_a_bytes_repr(make_mock, mock: Mock) -> None:
    for quirk_mock in quirky(make_mock, "D2"):
        header = quirk_mock.signed(ALICE, "GET", "/registry/auth").headers["authorization"]
        assert header == "Basic b'OmNodXRlcy1tb2NrLXJlZ2lzdHJ5'"
    header = mock.signed(ALICE, "GET", "/registry/auth").headers["authorization"]
    assert header == "Basic OmNodXRlcy1tb2NrLXJlZ2lzdHJ5"
    assert REGISTRY_PASSWORD == "chutes-mock-registry"


def used_then_deleted(mock: Mock) -> str:
    """A key used once at NOW, then deleted at NOW + 10."""
    key = mock.created(ALICE, "cached")
    assert mock.with_key(key["secret_key"], "GET", "/api_keys/").status_code == 200
    mock.state.clock.advance(10)
    assert mock.signed(ALICE, "DELETE", f"/api_keys/{key['api_key_id']}").status_code == 200
    return key["secret_key"]


def test_d3_deleted_key_lives_60s_after_first_use(make_mock) -> None:
    for quirk_mock in quirky(make_mock, "D3"):
        quirk_mock.state.clock.set(NOW)
        token = used_then_deleted(quirk_mock)
        assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 200
        quirk_mock.state.clock.set(NOW + 59)
        assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 200
        quirk_mock.state.clock.set(NOW + 61)
        response = quirk_mock.with_key(token, "GET", "/api_keys/")
        assert (response.status_code, response.json()) == (
            401,
            {"detail": D.API_KEY_REFUSED},
        )


def test_d3_a_key_never_used_is_refused_at_once(make_mock) -> None:
    quirk_mock = make_mock(quirks=frozenset({"D3"}))
    key = quirk_mock.created(ALICE, "unused")
    quirk_mock.signed(ALICE, "DELETE", f"/api_keys/{key['api_key_id']}")
    assert quirk_mock.with_key(key["secret_key"], "GET", "/api_keys/").status_code == 401


def test_d3_cache_evicts_each_entry_once_its_window_is_over(make_mock) -> None:
    """Memory is bounded by the keys used within the last 60 s: deleted keys
    used once leave no entry behind once their window is over."""
    quirk_mock = make_mock(quirks=frozenset({"D3"}))
    cache = quirk_mock.state.authenticator.key_cache
    for i in range(20):
        key = quirk_mock.created(ALICE, f"gone{i}")
        assert quirk_mock.with_key(key["secret_key"], "GET", "/api_keys/").status_code == 200
        quirk_mock.signed(ALICE, "DELETE", f"/api_keys/{key['api_key_id']}")
        quirk_mock.state.clock.advance(1)
    assert len(cache) == 20  # each still inside its window (D3 honours them)
    quirk_mock.state.clock.advance(41)  # 61 s after the first use: two windows are over
    assert quirk_mock.with_key(quirk_mock.admin_key(), "GET", "/api_keys/").status_code == 200
    assert len(cache) == 18 + 1  # 18 windows still open, and the admin key's new one
    quirk_mock.state.clock.advance(60)
    assert quirk_mock.with_key(quirk_mock.admin_key(), "GET", "/api_keys/").status_code == 200
    assert len(cache) == 1  # only the key used within the last 60 s
    assert len(cache._expiries) == 1


def test_d3_a_use_after_the_window_opens_a_new_one(make_mock) -> None:
    """Production's cache has a time to live: the first use after a window
    loads the key afresh and caches it for another 60 s."""
    quirk_mock = make_mock(quirks=frozenset({"D3"}))
    key = quirk_mock.created(ALICE, "again")
    token = key["secret_key"]
    assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 200
    quirk_mock.state.clock.advance(100)
    assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 200  # a new window
    quirk_mock.state.clock.advance(10)
    assert quirk_mock.signed(ALICE, "DELETE", f"/api_keys/{key['api_key_id']}").status_code == 200
    assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 200
    quirk_mock.state.clock.advance(50)  # 60 s after the second use
    assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 401


def test_d3_cache_is_emptied_by_a_reset(make_mock) -> None:
    quirk_mock = make_mock(quirks=frozenset({"D3"}))
    token = used_then_deleted(quirk_mock)
    assert quirk_mock.client.post("/_mock/reset").status_code == 200
    assert len(quirk_mock.state.authenticator.key_cache) == 0
    assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 401


def test_d3_absent_without_quirks(mock: Mock) -> None:
    token = used_then_deleted(mock)
    assert mock.with_key(token, "GET", "/api_keys/").status_code == 401


def test_d4_null_scopes_non_admin_is_500(make_mock, mock: Mock) -> None:
    for quirk_mock in quirky(make_mock, "D4"):
        assert_500_text(quirk_mock.create(ALICE, "k", admin=False, scopes=None))
        assert quirk_mock.create(ALICE, "k2", admin=True, scopes=None).status_code == 200
    assert mock.create(ALICE, "k", admin=False, scopes=None).status_code == 200


def test_d5_naive_timestamps(make_mock, mock: Mock) -> None:
    for quirk_mock in quirky(make_mock, "D5"):
        created = quirk_mock.created(ALICE, "k")["created_at"]
        assert NAIVE.fullmatch(created) and created.startswith("2027-01-15T08:00:00")
        listed = quirk_mock.signed(ALICE, "GET", "/api_keys/").json()["items"]
        assert all(NAIVE.fullmatch(item["created_at"]) for item in listed)
    assert mock.created(ALICE, "k")["created_at"] == "2027-01-15T08:00:00+00:00"


def nonce_request(mock: Mock, nonce: bytes):
    signature = ALICE.sign(f"{ALICE.ss58_address}:{nonce.decode('latin-1')}:api_keys").hex()
    headers = [
        (b"x-chutes-hotkey", ALICE.ss58_address.encode()),
        (b"x-chutes-nonce", nonce),
        (b"x-chutes-signature", signature.encode()),
    ]
    return raw_request(mock.app, "GET", "/api_keys/", headers)


@pytest.mark.parametrize("nonce", ["²".encode("latin-1"), b"1" * 400])
def test_d6_nonce_that_crashes_int(make_mock, mock: Mock, nonce: bytes) -> None:
    for quirk_mock in quirky(make_mock, "D6"):
        assert_500_text(nonce_request(quirk_mock, nonce))
    response = nonce_request(mock, nonce)
    assert (response.status_code, response.json()) == (401, {"detail": D.INVALID_NONCE})


def test_d6_keeps_plain_bad_nonces_at_401(make_mock) -> None:
    quirk_mock = make_mock(quirks=frozenset({"D6"}))
    for nonce in (b"abc", b"1" * 25, b""):
        assert nonce_request(quirk_mock, nonce).status_code == 401


@pytest.mark.parametrize("query", [f"page={2**64}", f"limit={2**64}", f"page={2**63}"])
def test_d7_page_beyond_64_bits_is_500(make_mock, mock: Mock, query: str) -> None:
    for quirk_mock in quirky(make_mock, "D7"):
        assert_500_text(quirk_mock.signed(ALICE, "GET", f"/api_keys/?{query}"))
        assert quirk_mock.signed(ALICE, "GET", "/api_keys/?page=1000").status_code == 200
    assert mock.signed(ALICE, "GET", f"/api_keys/?{query}").status_code == 200


def scoped_key(mock: Mock, action: str | None, object_id: str | None = None, **kw) -> str:
    object_type = kw.get("object_type", "chutes")
    scopes = [{"object_type": object_type, "object_id": object_id, "action": action}]
    return mock.created(ALICE, kw.get("name", "scoped"), admin=False, scopes=scopes)["secret_key"]


D8_ROUTE_404 = {
    "GET": {"detail": D.GET_KEY_NOT_FOUND.format(api_key_id="chutes")},
    "DELETE": {"detail": D.DELETE_KEY_NOT_FOUND},
}
KEY_REFUSED = {"detail": D.API_KEY_REFUSED}


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("object_id", [None, "chutes", "images", "x"])
@pytest.mark.parametrize("action", [None, "read", "write", "delete", "invoke"])
def test_d8_object_id_and_action_matrix(make_mock, method, object_id, action) -> None:
    """On /api_keys/chutes the key is checked as object type `chutes`, object id
    `chutes`, action read (GET) or delete (DELETE): it passes when its scope's
    object id is null or `chutes` and its action null or the method's."""
    passes = object_id in (None, "chutes") and action in (
        None,
        {"GET": "read", "DELETE": "delete"}[method],
    )
    for quirk_mock in quirky(make_mock, "D8"):
        token = scoped_key(quirk_mock, action, object_id)
        response = quirk_mock.with_key(token, method, "/api_keys/chutes")
        expected = (404, D8_ROUTE_404[method]) if passes else (401, KEY_REFUSED)
        assert (response.status_code, response.json()) == expected


@pytest.mark.parametrize("object_type", ["images", "invocations"])
def test_d8_the_object_type_is_the_last_segment(make_mock, object_type: str) -> None:
    for quirk_mock in quirky(make_mock, "D8"):
        token = scoped_key(quirk_mock, None, object_type=object_type)
        assert quirk_mock.with_key(token, "GET", f"/api_keys/{object_type}").status_code == 404
        assert quirk_mock.with_key(token, "GET", "/api_keys/chutes").status_code == 401


def test_d8_keeps_the_other_operations_refused(make_mock) -> None:
    """/api_keys/ and /registry/auth name no scoped object: still 401."""
    for quirk_mock in quirky(make_mock, "D8"):
        token = scoped_key(quirk_mock, None)
        for method, path in (("GET", "/api_keys/"), ("GET", "/registry/auth")):
            response = quirk_mock.with_key(token, method, path)
            assert (response.status_code, response.json()) == (401, KEY_REFUSED)
        body = body_of({"name": "by-key", "admin": True})
        response = quirk_mock.with_key(token, "POST", "/api_keys/", content=body)
        assert (response.status_code, response.json()) == (401, KEY_REFUSED)


@pytest.mark.parametrize("action", ["read", None])
def test_d8_scoped_key_passes_auth_on_its_object_type(make_mock, action) -> None:
    for quirk_mock in quirky(make_mock, "D8"):
        token = scoped_key(quirk_mock, action)
        response = quirk_mock.with_key(token, "GET", "/api_keys/chutes")
        assert (response.status_code, response.json()) == (404, D8_ROUTE_404["GET"])
        refused = quirk_mock.with_key(token, "GET", "/api_keys/images")
        assert refused.status_code == 401
        assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 401


def test_d8_absent_without_quirks(mock: Mock) -> None:
    for object_id, action in ((None, None), ("chutes", "read")):
        token = scoped_key(mock, action, object_id, name=f"k{action}")
        response = mock.with_key(token, "GET", "/api_keys/chutes")
        assert (response.status_code, response.json()) == (401, KEY_REFUSED)


def test_d9_trailing_newline_passes_the_name_rule(make_mock, mock: Mock) -> None:
    name = "a" * 24 + "\n"
    for quirk_mock in quirky(make_mock, "D9"):
        response = quirk_mock.create(ALICE, name)
        assert (response.status_code, response.json()["name"]) == (200, name)
        assert quirk_mock.create(ALICE, "a" * 25).status_code == 400
    assert mock.create(ALICE, name).status_code == 400


@pytest.mark.parametrize(("value", "admin"), [("yes", True), (1, True), ("off", False), (0, False)])
def test_d10_lax_booleans(make_mock, mock: Mock, value, admin: bool) -> None:
    for quirk_mock in quirky(make_mock, "D10"):
        response = quirk_mock.create(ALICE, "lax", admin=value)
        assert (response.status_code, response.json()["admin"]) == (200, admin)
    assert mock.create(ALICE, "lax", admin=value).status_code == 422


def test_d10_lax_integers(make_mock, mock: Mock) -> None:
    for quirk_mock in quirky(make_mock, "D10"):
        response = quirk_mock.signed(ALICE, "GET", "/api_keys/?page=1.0&limit=2.0")
        assert (response.status_code, response.json()["page"], response.json()["limit"]) == (
            200,
            1,
            2,
        )
        assert quirk_mock.signed(ALICE, "GET", "/api_keys/?page=1.5").status_code == 422
    assert mock.signed(ALICE, "GET", "/api_keys/?page=1.0").status_code == 422


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("page=1_0", 200),
        ("page=+1.00", 200),
        ("page=1.", 422),
        ("page=_1", 422),
        ("page=1__0", 422),
    ],
)
def test_d10_lax_integers_read_as_pydantic_does(make_mock, query: str, status: int) -> None:
    for quirk_mock in quirky(make_mock, "D10"):
        assert quirk_mock.signed(ALICE, "GET", f"/api_keys/?{query}").status_code == status


@pytest.mark.parametrize("value", [" yes", "no ", "\ttrue"])
def test_d10_lax_booleans_are_not_stripped(make_mock, value: str) -> None:
    for quirk_mock in quirky(make_mock, "D10"):
        assert quirk_mock.create(ALICE, "lax", admin=value).status_code == 422


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("maybe", "bool_parsing"),
        (" yes", "bool_parsing"),
        ("", "bool_parsing"),
        (2, "bool_parsing"),
        (2.0, "bool_parsing"),
        (None, "bool_type"),
        (0.5, "bool_type"),
        ([], "bool_type"),
    ],
)
def test_d10_a_boolean_it_cannot_read_is_refused_as_pydantic_does(
    make_mock, mock: Mock, value, kind: str
) -> None:
    """Lax, text and whole numbers that are no boolean are `bool_parsing`
    (production's words); strict, every one is `bool_type`."""
    messages = {
        "bool_parsing": "Input should be a valid boolean, unable to interpret input",
        "bool_type": "Input should be a valid boolean",
    }
    for quirk_mock in quirky(make_mock, "D10"):
        [entry] = body_of_422(quirk_mock.create(ALICE, "lax", admin=value))
        assert (entry["type"], entry["msg"], entry["input"]) == (kind, messages[kind], value)
    [entry] = body_of_422(mock.create(ALICE, "strict", admin=value))
    assert (entry["type"], entry["msg"]) == ("bool_type", messages["bool_type"])


def body_of_422(response) -> list[dict]:
    assert response.status_code == 422, response.text
    return response.json()["detail"]


@pytest.mark.parametrize("sub", [123, ["x"]])
def test_d11_non_string_sub_is_500(make_mock, mock: Mock, sub) -> None:
    for quirk_mock in quirky(make_mock, "D11"):
        token = quirk_mock.jwt(ALICE_ID, sub=sub)
        assert_500_text(quirk_mock.with_key(token, "GET", "/api_keys/", scheme="Bearer"))
    token = mock.jwt(ALICE_ID, sub=sub)
    response = mock.with_key(token, "GET", "/api_keys/", scheme="Bearer")
    assert (response.status_code, response.json()) == (401, {"detail": D.JWT_INVALID})


def test_production_keeps_the_contract_elsewhere(make_mock) -> None:
    """Quirks touch only their defect: a plain session behaves as usual."""
    quirk_mock = make_mock(quirks=PRODUCTION)
    key = quirk_mock.created(ALICE, "plain")
    assert quirk_mock.with_key(key["secret_key"], "GET", "/api_keys/").status_code == 200
    assert quirk_mock.with_key(key["secret_key"][:-1], "GET", "/api_keys/").status_code == 401
    assert quirk_mock.create(ALICE, "plain").status_code == 409
    assert quirk_mock.signed(ALICE, "GET", "/api_keys/?page=abc").status_code == 422
    assert quirk_mock.signed(ALICE, "GET", "/api_keys/", nonce=NOW - 600).status_code == 401


# D13: no order ------------------------------------------------------------------
def _names(mock: Mock, query: str = "?limit=100") -> list[str]:
    answer = mock.signed(ALICE, "GET", f"/api_keys/{query}")
    assert answer.status_code == 200, answer.text
    return [item["name"] for item in answer.json()["items"]]


def _vacuumed_table(mock: Mock) -> Mock:
    """Production's measurement: o0..o9 made in order, o2..o6 deleted, n0..n2 made."""
    made = {}
    for n in range(10):
        mock.state.clock.advance(1)
        made[f"o{n}"] = mock.created(ALICE, f"o{n}")["api_key_id"]
    for n in range(2, 7):
        assert mock.signed(ALICE, "DELETE", f"/api_keys/{made[f'o{n}']}").status_code == 200
    for n in range(3):
        mock.state.clock.advance(1)
        mock.created(ALICE, f"n{n}")
    return mock


def test_d13_new_keys_take_the_places_deleted_keys_left(make_mock) -> None:
    for mock in quirky(make_mock, "D13"):
        names = _names(_vacuumed_table(mock))
        own = [n for n in names if n[0] in "on"]
        assert own == ["o0", "o1", "n0", "n1", "n2", "o7", "o8", "o9"]
        pages = [n for p in range(10) for n in _names(mock, f"?page={p}&limit=2")]
        assert pages == names  # pages are windows on the same order
        assert mock.signed(ALICE, "GET", "/api_keys/").json()["total"] == len(names)


def test_d13_off_the_list_keeps_the_contracts_order(make_mock) -> None:
    names = _names(_vacuumed_table(make_mock()))
    own = [n for n in names if n[0] in "on"]
    assert own == ["o0", "o1", "o7", "o8", "o9", "n0", "n1", "n2"]


# D14: a 405 names the first route's method ------------------------------------------
ALLOWED = [("DELETE", "/api_keys/", "GET, POST"), ("POST", "/api_keys/{id}", "GET, DELETE")]


@pytest.mark.parametrize(("method", "path", "contract"), ALLOWED)
def test_d14_allow_names_get_alone(make_mock, method: str, path: str, contract: str) -> None:
    path = path.format(id="3f0c7a52-7d4e-4b8e-9a35-0d6c8c1f2a10")
    plain = make_mock().request(method, path)
    assert (plain.status_code, set(plain.headers["allow"].split(", "))) == (
        405,
        set(contract.split(", ")),
    )
    d14 = make_mock(quirks=frozenset({"D14"})).request(method, path)
    assert (d14.status_code, d14.headers["allow"], d14.json()) == (
        405,
        "GET",
        {"detail": "Method Not Allowed"},
    )
    # With the catch-all too, only methods it does not take reach the 405.
    both = make_mock(quirks=PRODUCTION)
    assert both.request(method, path).status_code in (401, 404)
    options = both.request("OPTIONS", path)
    assert (options.status_code, options.headers["allow"]) == (405, "GET")
    catch_all_alone = make_mock(quirks=frozenset({"D12"})).request("OPTIONS", path)
    assert catch_all_alone.status_code == 405
    assert set(catch_all_alone.headers["allow"].split(", ")) == set(contract.split(", "))


def test_d3_a_window_follows_the_clock_when_it_moves_back(make_mock) -> None:
    """Moving the clock back before a key's first use ends its window: the
    deleted key is refused, and a forward move of 1,000 years later too."""
    for move in (-10, -1000 * 365 * 86400):
        quirk_mock = make_mock(quirks=frozenset({"D3"}))
        quirk_mock.state.clock.set(NOW)
        token = used_then_deleted(quirk_mock)
        assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 200
        quirk_mock.state.clock.set(NOW + move)
        assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 401
        assert len(quirk_mock.state.authenticator.key_cache) <= 1  # the admin's, if any
        quirk_mock.state.clock.set(NOW + 30)  # back inside the old window: it stays over
        assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 401
        quirk_mock.state.clock.set(NOW + 1000 * 365 * 86400)
        assert quirk_mock.with_key(token, "GET", "/api_keys/").status_code == 401
