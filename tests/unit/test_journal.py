"""The request journal (`GET`/`DELETE /_mock/requests`) and its secrecy."""

from __future__ import annotations

import pytest

from tests.unit.harness import ALICE, ALICE_ID, NOW, REGISTRY_PASSWORD, Mock, body_of

ENTRY_FIELDS = {
    "seq",
    "time",
    "method",
    "path",
    "path_length",
    "query",
    "auth_kind",
    "user_id",
    "status",
    "reason",
    "fault",
    "latency_ms",
}


def journal(mock: Mock, **filters: str) -> list[dict]:
    response = mock.client.get("/_mock/requests", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["requests"]


def test_each_request_is_recorded_with_its_fields(mock: Mock) -> None:
    mock.with_key(mock.admin_key(), "GET", "/api_keys/", params={"limit": 2, "page": 0})
    mock.signed(ALICE, "GET", "/registry/auth")
    [listed, registry] = journal(mock)
    assert set(listed) == ENTRY_FIELDS
    assert {k: listed[k] for k in ENTRY_FIELDS - {"latency_ms", "seq"}} == {
        "time": NOW,
        "method": "GET",
        "path": "/api_keys/",
        "path_length": len("/api_keys/"),
        "query": {"limit": "2", "page": "0"},
        "auth_kind": "api_key",
        "user_id": ALICE_ID,
        "status": 200,
        "reason": None,
        "fault": None,
    }
    assert registry["seq"] == listed["seq"] + 1
    assert listed["latency_ms"] >= 0
    assert (registry["auth_kind"], registry["user_id"], registry["status"]) == (
        "hotkey",
        ALICE_ID,
        200,
    )


def test_refused_and_unrouted_requests_are_recorded_without_a_caller(mock: Mock) -> None:
    mock.request("GET", "/api_keys/")
    mock.request("GET", "/no/such/path")
    assert [(e["path"], e["status"], e["auth_kind"], e["user_id"]) for e in journal(mock)] == [
        ("/api_keys/", 401, None, None),
        ("/no/such/path", 404, None, None),
    ]


def test_the_control_api_and_the_contract_route_are_not_recorded(mock: Mock) -> None:
    mock.client.get("/_mock/state")
    mock.client.get("/openapi.json")
    assert journal(mock) == []


def test_no_secret_signature_token_or_header_value_is_recorded(mock: Mock) -> None:
    """Reading: every credential the mock accepts is used, once right and once
    wrong, plus a secret in the query; none of their values is in the journal."""
    api_key = mock.admin_key()
    token = mock.jwt()
    created = mock.created(ALICE, "journal-secret-name")
    signed = mock.signed(ALICE, "GET", "/api_keys/", nonce=NOW - 7)  # not the journal's time
    assert signed.status_code == 200
    mock.with_key(api_key, "GET", "/api_keys/")
    mock.with_key(api_key[:-1] + "x", "GET", "/api_keys/")
    mock.with_auth(f"Bearer {token}", "GET", "/api_keys/")
    mock.with_auth(f"Bearer {token}x", "GET", "/api_keys/")
    mock.with_key(created["secret_key"], "GET", f"/api_keys/{created['api_key_id']}")
    mock.request("GET", "/api_keys/", params={"api_key": api_key, "limit": 1})
    response = mock.request("GET", "/registry/auth", headers={"X-Custom": "header-value-1"})
    assert response.status_code == 401
    recorded = mock.client.get("/_mock/requests").text
    assert len(journal(mock)) == 9
    request = signed.request.headers
    secrets = {
        "API key": api_key,
        "key secret part": api_key.rsplit(".", 1)[1],
        "created secret": created["secret_key"],
        "JWT": token,
        "JWT signature": token.rsplit(".", 1)[1],
        "signature": request["x-chutes-signature"],
        "hotkey header": request["x-chutes-hotkey"],
        "nonce header": request["x-chutes-nonce"],
        "registry password": REGISTRY_PASSWORD,
        "other header": "header-value-1",
        "body": "journal-secret-name",
    }
    leaked = [name for name, value in secrets.items() if value in recorded]
    assert leaked == []
    assert {"api_key": "***", "limit": "1"} in [e["query"] for e in journal(mock)]


def test_filters(mock: Mock) -> None:
    key = mock.admin_key()
    created = mock.created(ALICE, "filtered")
    mock.with_key(key, "GET", f"/api_keys/{created['api_key_id']}")
    mock.with_key(key, "DELETE", f"/api_keys/{created['api_key_id']}")
    mock.with_key(key, "GET", f"/api_keys/{created['api_key_id']}")
    assert [e["method"] for e in journal(mock, method="delete")] == ["DELETE"]
    assert [e["status"] for e in journal(mock, path="/api_keys/*", method="GET")] == [200, 404]
    assert [e["method"] for e in journal(mock, path="/api_keys/")] == ["POST"]
    assert [e["method"] for e in journal(mock, status="404")] == ["GET"]
    for bad in ({"status": "teapot"}, {"status": "99999999999"}, {"path": "*" * 3000}):
        assert mock.client.get("/_mock/requests", params=bad).status_code == 422, bad


def test_delete_clears_and_reset_keeps(mock: Mock) -> None:
    mock.request("GET", "/api_keys/")
    mock.client.post("/_mock/reset")
    assert len(journal(mock)) == 1
    assert mock.client.delete("/_mock/requests").json() == {"cleared": 1}
    assert journal(mock) == []


def test_the_journal_keeps_the_last_size_requests(make_mock) -> None:
    mock = make_mock(journal_size=3)
    for page in range(5):
        mock.request("GET", "/api_keys/", params={"page": page})
    response = mock.client.get("/_mock/requests").json()
    assert response["size"] == 3
    assert [e["query"]["page"] for e in response["requests"]] == ["2", "3", "4"]


def test_size_zero_turns_it_off(make_mock) -> None:
    mock = make_mock(journal_size=0)
    mock.request("GET", "/api_keys/")
    assert journal(mock) == []


def test_openapi_json_is_the_contract(mock: Mock) -> None:
    import yaml

    from mock_server.settings import DEFAULT_SPEC

    response = mock.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == yaml.safe_load(DEFAULT_SPEC.read_text())


def test_openapi_json_is_served_without_the_control_api(make_mock) -> None:
    assert make_mock(control=False).client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize(
    "content_type", [None, "application/x-www-form-urlencoded", "text/plain", "application/json"]
)
def test_the_control_api_reads_json_whatever_the_content_type(
    mock: Mock, content_type: str | None
) -> None:
    """Reading: `curl -d '{...}'` sends a form's content type."""
    headers = {"Content-Type": content_type} if content_type else {}
    response = mock.client.post(
        "/_mock/clock/advance", content=body_of({"seconds": 60}), headers=headers
    )
    assert (response.status_code, response.json()) == (200, {"now": NOW + 60, "frozen": True})


def test_the_contract_still_reads_a_form_body_as_text(mock: Mock) -> None:
    """Reading: only the control API is lenient; `POST /api_keys/` keeps
    FastAPI's answer to a body sent as a form."""
    response = mock.signed(
        ALICE,
        "POST",
        "/api_keys/",
        body_of({"name": "x", "admin": True}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 422


def test_pages_follow_next_to_the_end(make_mock) -> None:
    paged = make_mock(journal_size=10)
    for _ in range(7):
        paged.request("GET", "/api_keys/")
    seen, after = [], 0
    while True:
        page = paged.client.get("/_mock/requests", params={"limit": 3, "after": after}).json()
        seen += [entry["seq"] for entry in page["requests"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 7


def test_page_and_glob_are_bounded(mock: Mock) -> None:
    for params in ({"limit": 5001}, {"limit": 0}, {"path": "*" * 257}, {"after": -1}):
        response = mock.client.get("/_mock/requests", params=params)
        assert response.status_code == 422, params
    assert mock.client.get("/_mock/requests", params={"path": "*" * 256}).status_code == 200


def test_the_journal_is_bounded_in_bytes_too() -> None:
    from mock_server.journal import ENTRY_OVERHEAD, MAX_PATH, Journal

    cost = MAX_PATH + ENTRY_OVERHEAD
    journal = Journal(size=1000, max_bytes=10 * cost)
    for i in range(50):
        journal.record(NOW, "GET", f"/{i:03d}" + "p" * 10_000, b"", None, None, 404, None, 0.0)
    kept = journal.entries()
    assert len(kept) == 10 and kept[-1].path.startswith("/049")
    assert all(len(e.path) == MAX_PATH and e.path_length == 10_004 for e in kept)
