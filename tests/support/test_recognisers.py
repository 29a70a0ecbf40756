"""The recognisers know each deviation's exact signature, and nothing that
only resembles it (behaviour §7, §9)."""

from __future__ import annotations

import base64
import json

import pytest
from substrateinterface import Keypair

from tests.support import details as D
from tests.support import recognisers
from tests.support.details import BAD_KEY_NAME, BAD_OBJECT_TYPE, NO_MATCHING_CHUTE
from tests.support.deviations import ALL, Recorder, parse_known
from tests.support.exchange import Exchange
from tests.support.key_journal import KeyJournal
from tests.support.recognisers import Context, recognise
from tests.support.signing import hotkey_headers

ALICE = Keypair.create_from_uri("//Alice")
KEY_ID = "3f0c7a52-7d4e-4b8e-9a35-0d6c8c1f2a10"
TOKEN = f"cpk_{KEY_ID.replace('-', '')}.{'a' * 32}.{'x' * 32}"
CRASH = {"status": 500, "content": b"Internal Server Error", "ctype": "text/plain; charset=utf-8"}
PASSWORD = "chutes-mock-registry"


def exchange(
    method: str = "GET",
    path: str = "/api_keys/",
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    status: int = 200,
    payload=None,
    content: bytes | None = None,
    ctype: str = "application/json",
    response_headers: dict[str, str] | None = None,
    sent_at: float | None = 1000.0,
) -> Exchange:
    if content is None:
        content = b"" if payload is None else json.dumps(payload).encode()
    pairs = tuple(tuple(p.split("=", 1)) for p in query.split("&") if p)
    return Exchange(
        method=method,
        path=path,
        query=pairs,
        headers={k.lower(): v for k, v in (headers or {}).items()},
        body=body,
        status=status,
        response_headers={"content-type": ctype, **(response_headers or {})},
        content=content,
        sent_at=sent_at,
        received_at=None if sent_at is None else sent_at + 0.1,
    )


def signed(method: str, path: str, nonce="1000", body: bytes = b"", purpose="api_keys"):
    return hotkey_headers(ALICE, nonce, purpose, body)


def shown(ex: Exchange, context: Context | None = None) -> set[str]:
    return set(recognise(ex, context or Context()).deviations)


def key_context(*, admin: bool, scopes=(), used_at=None, deleted_at=None) -> Context:
    """A journal that saw TOKEN created (and maybe used, deleted)."""
    journal = KeyJournal()
    body = {
        "name": "k",
        "admin": admin,
        "scopes": [
            dict(zip(("object_type", "object_id", "action"), s, strict=True)) for s in scopes
        ],
    }
    created = {"api_key_id": KEY_ID, "secret_key": TOKEN, "admin": admin, "name": "k"}
    journal.saw(exchange("POST", body=json.dumps(body).encode(), payload=created, sent_at=0))
    auth = {"Authorization": f"Basic {TOKEN}"}
    if used_at is not None:
        journal.saw(exchange(headers=auth, payload={"items": []}, sent_at=used_at))
    if deleted_at is not None:
        deleted = {"api_key_id": KEY_ID, "deleted": True}
        journal.saw(exchange("DELETE", f"/api_keys/{KEY_ID}", payload=deleted, sent_at=deleted_at))
    return Context(keys=journal)


# The list ----------------------------------------------------------------------
def test_parse_known():
    assert parse_known("production") == frozenset(ALL) and len(ALL) == 14
    assert parse_known("d2, D5") == {"D2", "D5"}
    assert parse_known("none") == parse_known("") == parse_known(None) == frozenset()
    with pytest.raises(ValueError, match="D15"):
        parse_known("D2,D15")


# D1, D7, D10 on the list ------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("page=-1", {"D1"}),
        ("limit=-3", {"D1"}),
        ("page=-1.0", {"D1", "D10"}),
        (f"page={2**64}", {"D7"}),
        (f"page={2**62}&limit=4", {"D7"}),  # the offset overflows
        ("page=3", set()),  # a crash that is no deviation's
        ("page=abc&limit=-1", set()),  # production answers 422 there
    ],
)
def test_list_crashes(query: str, found: set[str]):
    assert shown(exchange(query=query, headers=signed("GET", "/"), **CRASH)) == found


def test_a_crash_must_be_productions_exactly():
    assert shown(exchange(query="page=-1", status=500, payload={"detail": "boom"})) == set()


def test_d10_lax_page_accepted():
    assert shown(exchange(query="page=1.0", payload={"items": []})) == {"D10"}
    assert shown(exchange(query="page=1", payload={"items": []})) == set()


# D2 ---------------------------------------------------------------------------------
def registry(value: str) -> Exchange:
    return exchange(
        path="/registry/auth",
        payload={"authenticated": True},
        response_headers={"authorization": value},
    )


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_d2_exact_form_and_the_contracts_answer():
    recognition = recognise(
        registry(f"Basic b'{b64(':' + PASSWORD)}'"), Context(registry_password=PASSWORD)
    )
    assert recognition.deviations == {"D2"}
    assert recognition.contract.response_headers["authorization"] == f"Basic {b64(':' + PASSWORD)}"


@pytest.mark.parametrize(
    "value",
    [
        f"Basic b'{b64(PASSWORD)}'",  # no ':' before the password
        f"Basic b'{b64(':other')}'",  # another password
        f"Basic {b64(':' + PASSWORD)}",  # the contract's form: nothing to recognise
        f'Basic b"{b64(":" + PASSWORD)}"',
    ],
)
def test_d2_resemblances(value: str):
    assert shown(registry(value), Context(registry_password=PASSWORD)) == set()


def test_d2_without_the_password_needs_the_colon():
    assert shown(registry(f"Basic b'{b64(':x')}'")) == {"D2"}
    assert shown(registry(f"Basic b'{b64('x')}'")) == set()


# D3 ---------------------------------------------------------------------------------
def used_after_delete(at: float, status: int = 200) -> Exchange:
    return exchange(
        headers={"Authorization": f"Basic {TOKEN}"},
        payload={"items": []},
        status=status,
        sent_at=at,
    )


def test_d3_inside_the_window_only():
    context = key_context(admin=True, used_at=100.0, deleted_at=110.0)
    assert shown(used_after_delete(159.0), context) == {"D3"}
    assert shown(used_after_delete(161.0), context) == set()  # honoured for good: a bug


def test_d3_needs_a_use_before_the_delete():
    context = key_context(admin=True, deleted_at=110.0)
    assert shown(used_after_delete(111.0), context) == set()


def test_d3_a_key_that_deleted_itself_was_used_by_that_delete():
    context = key_context(admin=True)
    deleted = {"api_key_id": KEY_ID, "deleted": True}
    auth = {"Authorization": f"Basic {TOKEN}"}
    delete = exchange("DELETE", f"/api_keys/{KEY_ID}", headers=auth, payload=deleted, sent_at=110)
    context.keys.saw(delete)
    assert shown(used_after_delete(150.0), context) == {"D3"}
    assert shown(used_after_delete(171.0), context) == set()


def test_d3_the_cache_entry_is_not_refreshed():
    context = key_context(admin=True, used_at=100.0)
    context.keys.saw(used_after_delete(150.0))  # a second use inside the entry
    deleted = {"api_key_id": KEY_ID, "deleted": True}
    context.keys.saw(exchange("DELETE", f"/api_keys/{KEY_ID}", payload=deleted, sent_at=155.0))
    assert shown(used_after_delete(170.0), context) == set()


def test_d3_wrong_secret_is_another_credential():
    context = key_context(admin=True, used_at=100.0, deleted_at=110.0)
    other = TOKEN[:-1] + "y"
    ex = exchange(headers={"Authorization": f"Basic {other}"}, payload={"items": []}, sent_at=120)
    assert shown(ex, context) == set()


# D8 ---------------------------------------------------------------------------------
def non_admin(method: str, path: str, status: int, detail: str | None):
    return exchange(
        method,
        path,
        headers={"Authorization": f"Basic {TOKEN}"},
        status=status,
        payload=None if detail is None else {"detail": detail},
    )


NOT_FOUND = D.GET_KEY_NOT_FOUND.format(api_key_id="chutes")


@pytest.mark.parametrize(
    ("scope", "method", "path", "status", "detail", "found"),
    [
        (("chutes", None, "read"), "GET", "/api_keys/chutes", 404, NOT_FOUND, {"D8"}),
        (("chutes", "chutes", None), "GET", "/api_keys/chutes", 404, NOT_FOUND, {"D8"}),
        (
            ("chutes", None, None),
            "DELETE",
            "/api_keys/chutes",
            404,
            D.DELETE_KEY_NOT_FOUND,
            {"D8"},
        ),
        (("chutes", "other", "read"), "GET", "/api_keys/chutes", 404, NOT_FOUND, set()),
        (("images", None, "read"), "GET", "/api_keys/chutes", 404, NOT_FOUND, set()),
        (
            ("chutes", None, "read"),
            "DELETE",
            "/api_keys/chutes",
            404,
            D.DELETE_KEY_NOT_FOUND,
            set(),
        ),
        (("chutes", None, "read"), "GET", "/api_keys/", 200, None, set()),
        (
            ("chutes", None, "read"),
            "GET",
            "/x/chutes",
            404,
            D.NO_MATCHING_CHUTE,
            {"D8", "D12"},
        ),
        # The object id is the path's second segment only on a path /a/b.
        (("chutes", "chutes", "read"), "GET", "/x/y/chutes", 404, NO_MATCHING_CHUTE, set()),
        (("chutes", None, "write"), "PUT", "/x/y/chutes", 404, NO_MATCHING_CHUTE, {"D8", "D12"}),
    ],
)
def test_d8_only_where_the_scope_matches(scope, method, path, status, detail, found):
    context = key_context(admin=False, scopes=[scope])
    assert shown(non_admin(method, path, status, detail), context) == found


# D4, D9, D10 on create --------------------------------------------------------------
def create(body: dict, **answer) -> Exchange:
    return exchange("POST", body=json.dumps(body).encode(), headers=signed("POST", "/"), **answer)


def test_create_deviations():
    key = {"api_key_id": KEY_ID, "name": "n", "admin": True}
    assert shown(create({"name": "n", "admin": False, "scopes": None}, **CRASH)) == {"D4"}
    assert shown(create({"name": "n", "admin": True}, **CRASH)) == set()
    assert shown(create({"name": "n", "admin": "yes"}, payload=key)) == {"D10"}
    assert shown(create({"name": "n", "admin": "yes"}, payload={**key, "admin": False})) == set()
    assert shown(create({"name": "n", "admin": "maybe"}, payload=key)) == set()
    bad_type = {"detail": BAD_OBJECT_TYPE}
    scoped = {"name": "n", "admin": "no", "scopes": [{"object_type": "x"}]}
    assert shown(create(scoped, status=400, payload=bad_type)) == {"D10"}
    assert shown(create({**scoped, "admin": False}, status=400, payload=bad_type)) == set()
    nulls = {"name": "n", "admin": "no", "scopes": None}
    assert shown(create(nulls, status=400, payload=bad_type)) == set()  # D4's crash, not this
    bad_name = {"detail": BAD_KEY_NAME}
    assert shown(create({"name": "", "admin": "yes"}, status=400, payload=bad_name)) == {"D10"}
    assert shown(create({"name": "", "admin": True}, status=400, payload=bad_name)) == set()
    assert shown(create({"name": "", "admin": "yes"}, status=400, payload=bad_type)) == set()
    name = "x" * 24 + "\n"
    assert shown(create({"name": name, "admin": True}, payload={**key, "name": name})) == {"D9"}
    assert (
        shown(create({"name": "x" * 25, "admin": True}, payload={**key, "name": "x" * 25})) == set()
    )


# D5 ---------------------------------------------------------------------------------
def test_d5_rewrites_naive_date_times_and_leaves_the_answer_alone():
    item = {"api_key_id": KEY_ID, "created_at": "2026-11-27T09:54:10.743580", "last_used_at": None}
    ex = exchange(payload={"items": [item], "total": 1})
    recognition = recognise(ex, Context())
    assert recognition.deviations == {"D5"}
    assert recognition.contract.json()["items"][0]["created_at"].endswith("+00:00")
    assert ex.json()["items"][0]["created_at"] == "2026-11-27T09:54:10.743580"


# D6, D11 ------------------------------------------------------------------------------
@pytest.mark.parametrize(("nonce", "found"), [("²", {"D6"}), ("9" * 400, {"D6"}), ("123", set())])
def test_d6(nonce: str, found: set[str]):
    headers = {
        "X-Chutes-Hotkey": ALICE.ss58_address,
        "X-Chutes-Signature": "ab",
        "X-Chutes-Nonce": nonce,
    }
    assert shown(exchange(headers=headers, **CRASH)) == found


def jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2ln"


def test_d11():
    assert shown(exchange(headers={"Authorization": f"Bearer {jwt({'sub': 1})}"}, **CRASH)) == {
        "D11"
    }
    assert (
        shown(exchange(headers={"Authorization": f"Bearer {jwt({'sub': '1'})}"}, **CRASH)) == set()
    )


# D12 --------------------------------------------------------------------------------
def catch_all(method: str, path: str, status: int, detail: str | None, **kw) -> Exchange:
    return exchange(
        method, path, status=status, payload=None if detail is None else {"detail": detail}, **kw
    )


def test_d12_unauthenticated():
    assert shown(catch_all("GET", "/api_keys", 401, D.AUTHENTICATION_REQUIRED)) == {"D12"}
    assert shown(catch_all("GET", "/nothing", 401, D.AUTHENTICATION_REQUIRED)) == {"D12"}
    assert shown(catch_all("GET", "/nothing", 404, D.NO_MATCHING_CHUTE)) == set()
    assert shown(catch_all("GET", "/nothing", 404, "Not Found")) == set()
    assert shown(catch_all("GET", "/api_keys/", 401, D.AUTHENTICATION_REQUIRED)) == set()


def test_d12_a_known_key_with_another_secret_is_refused_exactly():
    other = TOKEN[:-1] + ("y" if TOKEN[-1] != "y" else "z")
    auth = {"Authorization": f"Basic {other}"}
    refused = catch_all("GET", "/x", 401, D.API_KEY_REFUSED, headers=auth)
    accepted = catch_all("GET", "/x", 404, D.NO_MATCHING_CHUTE, headers=auth)
    assert shown(refused, key_context(admin=True)) == {"D12"}
    assert shown(accepted, key_context(admin=True)) == set()  # a secret left unchecked


def test_d12_hotkey_rules():
    get = signed("GET", "/x")
    no_purpose = D.SIGNED_WITHOUT_BODY
    assert shown(catch_all("GET", "/x", 401, no_purpose, headers=get, sent_at=1000)) == {"D12"}
    stale = signed("GET", "/x", nonce="1")
    assert shown(catch_all("GET", "/x", 401, no_purpose, headers=stale, sent_at=1000)) == set()
    body = b"{}"
    put = hotkey_headers(ALICE, "1000", None, body)
    ok = catch_all("PUT", "/api_keys/", 404, D.NO_MATCHING_CHUTE, headers=put, body=body)
    assert shown(ok, Context(users=frozenset({ALICE.ss58_address}))) == {"D12"}
    wrong = hotkey_headers(ALICE, "1000", "api_keys")
    assert shown(catch_all("PUT", "/api_keys/", 404, D.NO_MATCHING_CHUTE, headers=wrong)) == set()


def test_d12_head_has_no_body_and_the_length_of_one():
    length = len(json.dumps({"detail": D.AUTHENTICATION_REQUIRED}, separators=(",", ":")))
    head = catch_all(
        "HEAD", "/api_keys/", 401, None, response_headers={"content-length": str(length)}
    )
    assert shown(head) == {"D12"}
    wrong = catch_all("HEAD", "/api_keys/", 401, None, response_headers={"content-length": "3"})
    assert shown(wrong) == set()


def test_d12_other_methods_get_its_405():
    six = "PATCH, GET, HEAD, DELETE, POST, PUT"
    unknown = catch_all("OPTIONS", "/x", 405, "Method Not Allowed", response_headers={"allow": six})
    assert shown(unknown) == {"D12"}
    contract = catch_all(
        "OPTIONS", "/api_keys/", 405, "Method Not Allowed", response_headers={"allow": "GET, POST"}
    )
    assert shown(contract) == set()


@pytest.mark.parametrize("method", ["OPTIONS", "PATCH", "PUT"])
def test_d14_a_405_allowing_get_alone(method: str):
    """D14 with or without the catch-all: Allow names only the first route's GET."""
    for path in ("/api_keys/", "/api_keys/3f0c7a52-7d4e-4b8e-9a35-0d6c8c1f2a10"):
        answer = catch_all(
            method, path, 405, "Method Not Allowed", response_headers={"allow": "GET"}
        )
        assert shown(answer) == {"D14"}


@pytest.mark.parametrize(
    ("path", "allow", "detail"),
    [
        ("/api_keys/", "GET, HEAD", "Method Not Allowed"),  # an implicit HEAD kept
        ("/api_keys/", "", "Method Not Allowed"),  # no Allow at all
        ("/registry/auth", "GET", "Method Not Allowed"),  # the contract's own answer there
        ("/api_keys/", "GET", "Not Allowed"),  # another detail
        ("/nowhere", "GET", "Method Not Allowed"),  # no route of the contract
    ],
)
def test_d14_look_alikes_are_not_it(path: str, allow: str, detail: str):
    answer = catch_all("OPTIONS", path, 405, detail, response_headers={"allow": allow})
    assert "D14" not in shown(answer)


def test_d13_the_same_keys_each_once_in_another_order():
    assert recognisers.d13(["b", "a", "c"], ["a", "b", "c"])
    assert not recognisers.d13(["a", "b", "c"], ["a", "b", "c"])  # the contract's order
    assert not recognisers.d13(["a", "a", "c"], ["a", "b", "c"])  # one twice, one left out
    assert not recognisers.d13(["a", "c"], ["a", "b", "c"])  # one left out
    assert not recognisers.d13(["a", "b", "c", "d"], ["a", "b", "c"])  # one too many
    assert recognisers.d13_page(["c", "a"], ["a", "b"], "abcd")
    assert not recognisers.d13_page(["c", "c"], ["a", "b"], "abcd")
    assert not recognisers.d13_page(["c", "x"], ["a", "b"], "abcd")  # another user's key
    assert not recognisers.d13_page(["c"], ["a", "b"], "abcd")  # a page too short


def test_contract_order_is_created_at_then_id():
    items = [
        {"api_key_id": "b", "created_at": "2026-01-01T00:00:01+00:00"},
        {"api_key_id": "a", "created_at": "2026-01-01T00:00:01"},  # naive is UTC (D5)
        {"api_key_id": "c", "created_at": "2026-01-01T00:00:00Z"},
    ]
    assert recognisers.contract_order(items) == ["c", "a", "b"]


# The recorder -----------------------------------------------------------------------
def test_judge_listed_unlisted_and_new():
    crash = exchange(query="page=-1", headers=signed("GET", "/"), **CRASH)
    listed = Recorder(known=frozenset({"D1"}))
    verdict = listed.judge(crash, test="t", what="w")
    assert verdict.tolerated and verdict.contract is None and list(listed.observed) == ["D1"]
    unlisted = Recorder(known=frozenset({"D2"}))
    verdict = unlisted.judge(crash, test="t")
    assert not verdict.tolerated and verdict.deviations == {"D1"} and not unlisted.observed
    new = listed.judge(exchange(query="page=2", **CRASH), test="t")
    assert not new.tolerated and not new.deviations


def test_the_report_has_three_parts_and_the_gate():
    recorder = Recorder(known=frozenset({"D1", "D2"}), strict=False)
    recorder.observe("D1", exchange(query="page=-1", **CRASH), test="t")
    assert not recorder.run_failed()
    lines = "\n".join(recorder.summary())
    assert "new failures: 0" in lines
    assert "known deviations observed: D1" in lines
    assert "known deviations not observed: D2 (fixed? take them off the list)" in lines
    assert Recorder(known=frozenset({"D2"}), strict=True).run_failed()
    recorder.fail("t", "GET /", "check", "reason")
    assert recorder.run_failed() and recorder.as_json()["failures"][0]["check"] == "check"


def test_a_deviation_is_reported_under_its_own_probe():
    """D5 shows in every create answer: the first test to meet it may be D3's
    probe; the report names D5's own probe (and its request) once it ran."""
    naive = exchange(payload={"created_at": "2026-11-27T09:54:10.743580"})
    recorder = Recorder(known=frozenset({"D5"}), probes={"D5": {"t::test_d5"}})
    recorder.observe("D5", naive, test="t::test_d3")
    assert recorder.observed["D5"].test == "t::test_d3"
    recorder.observe("D5", naive, test="t::test_d5")
    recorder.observe("D5", naive, test="t::test_d3")
    assert recorder.observed["D5"].test == "t::test_d5"
    merged = Recorder(known=frozenset({"D5"}), probes={"D5": {"t::test_d5"}})
    merged.observe("D5", naive, test="t::test_d3")
    merged.merge(recorder.state())
    assert merged.observed["D5"].test == "t::test_d5"
    # An xdist controller collects no test: it learns the probes from the workers.
    first, second = Recorder(known=frozenset({"D5"})), Recorder(known=frozenset({"D5"}))
    first.observe("D5", naive, test="t::test_d3")
    second.probes = {"D5": {"t::test_d5"}}
    second.observe("D5", naive, test="t::test_d5")
    controller = Recorder(known=frozenset({"D5"}))
    controller.merge(first.state())
    controller.merge(second.state())
    assert controller.observed["D5"].test == "t::test_d5"


def test_a_deviation_whose_probes_were_all_skipped_is_not_examined():
    recorder = Recorder(known=frozenset({"D3", "D11"}), strict=True)
    recorder.probe_ran(["D11"], ran=False)
    recorder.probe_ran(["D3"], ran=False)
    recorder.probe_ran(["D3"], ran=True)  # another D3 probe ran
    assert recorder.not_examined() == ["D11"]
    assert recorder.not_observed() == ["D3"]
    assert "not examined (their probes were skipped): D11" in "\n".join(recorder.summary())
    recorder.observe("D3", exchange(), test="t")
    assert not recorder.run_failed()  # strict, but D11 could not be told


def _page(items: list[dict]) -> Exchange:
    body = json.dumps({"total": len(items), "page": 0, "limit": 25, "items": items})
    return Exchange("GET", "/api_keys/", (), {}, b"", 200, {}, body.encode())


def test_d13_one_page_out_of_order():
    first = {"api_key_id": "a", "user_id": "u", "created_at": "2026-01-01T00:00:00+00:00"}
    second = {"api_key_id": "b", "user_id": "u", "created_at": "2026-01-01T00:00:01+00:00"}
    assert shown(_page([first, second])) == set()
    recognition = recognise(_page([second, first]), Context())
    assert recognition.deviations == {"D13"}
    assert [i["api_key_id"] for i in recognition.contract.json()["items"]] == ["a", "b"]
    assert shown(_page([second, first, second])) == set()  # a key twice: not D13
    other = {**first, "user_id": "v"}
    assert shown(_page([second, other])) == set()  # two users' keys: not D13


def test_one_defect_is_one_entry_with_its_tests_under_it():
    """Three tests meeting one unlisted deviation are one defect; a check that
    fails in two tests of its own is another; a drift class stays its own."""
    recorder = Recorder(known=frozenset())
    for test in ("t::a", "t::b", "t::b", "t::c"):
        recorder.fail(test, "GET /registry/auth", f"header of {test}", "why", "", ["D2"])
    recorder.fail("t::d", "POST /api_keys/", "name rule", "status 200, expected 400")
    recorder.fail("t::e", "POST /api_keys/", "name rule", "status 200, expected 400")
    recorder.fail("t::f", "GET /x", "field", "differs", defect="drift class 1")
    recorder.fail("t::f", "GET /x", "field two", "differs", defect="drift class 2")
    lines = recorder.summary()
    text = "\n".join(lines)
    assert "new failures: 4 (7 failure(s) in 6 test(s))" in text
    first = lines.index("1. looks like D2 (not listed)")
    assert lines[first + 1 : first + 5] == [
        "   first seen: GET /registry/auth — header of t::a [D2]",
        "   tests (3): t::a",
        "      t::b",
        "      t::c",
    ]
    assert "2. POST /api_keys/ — name rule" in lines
    assert lines[lines.index("2. POST /api_keys/ — name rule") + 1] == "   tests (2): t::d"
    assert "3. GET /x — field" in lines and "4. GET /x — field two" in lines
    assert [d["tests"] for d in recorder.as_json()["defects"]] == [
        ["t::a", "t::b", "t::c"],
        ["t::d", "t::e"],
        ["t::f"],
        ["t::f"],
    ]
    assert recorder.junit_properties()["chutes.new_failures"] == "4"
    merged = Recorder()
    merged.merge(recorder.state())
    assert list(merged.defects()) == list(recorder.defects())
