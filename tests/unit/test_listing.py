"""List (behaviour §4): own keys only, defaults, stable order, pagination."""

from __future__ import annotations

import pytest

from tests.unit.harness import ALICE, ALICE_ID, BOB, BOB_ID, Mock


def listing(mock: Mock, query: str = "", keypair=ALICE) -> dict:
    response = mock.signed(keypair, "GET", f"/api_keys/{query}")
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict) -> list[str]:
    return [item["api_key_id"] for item in page["items"]]


def test_fresh_list(mock: Mock) -> None:
    page = listing(mock)
    assert {k: v for k, v in page.items() if k != "items"} == {
        "total": 1,
        "page": 0,
        "limit": 25,
        "cord_refs": None,
    }
    [item] = page["items"]
    assert (item["name"], item["admin"], item["user_id"], item["scopes"]) == (
        "mock-admin",
        True,
        ALICE_ID,
        [],
    )
    assert "secret_key" not in item


def test_only_own_keys(mock: Mock) -> None:
    for i in range(3):
        mock.add_key(BOB_ID, f"bob-{i}")
    mock.add_key(ALICE_ID, "alice-1")
    alice, bob = listing(mock), listing(mock, keypair=BOB)
    assert {i["user_id"] for i in alice["items"]} == {ALICE_ID}
    assert {i["user_id"] for i in bob["items"]} == {BOB_ID}
    assert (alice["total"], bob["total"]) == (2, 4)


def test_stable_order_created_at_then_id(mock: Mock) -> None:
    """Keys made in the same frozen second (the seeded key's too) are ordered
    by api_key_id; an earlier created_at comes first whenever it was made."""
    made = listing(mock)["items"]
    made += [mock.add_key(ALICE_ID, f"t0-{i}") for i in range(6)]
    mock.state.clock.advance(1)
    made += [mock.add_key(ALICE_ID, f"t1-{i}") for i in range(6)]
    mock.state.clock.advance(-30)
    made += [mock.add_key(ALICE_ID, "early")]
    expected = [
        k["api_key_id"] for k in sorted(made, key=lambda k: (k["created_at"], k["api_key_id"]))
    ]
    page = listing(mock, "?limit=100")
    assert ids(page) == expected
    assert page["items"][0]["name"] == "early"
    assert ids(page) != [k["api_key_id"] for k in made]  # not merely insertion order
    assert ids(listing(mock, "?limit=100")) == expected


def test_pages_slice_the_order(mock: Mock) -> None:
    for i in range(9):
        mock.add_key(ALICE_ID, f"k{i}")
    everything = ids(listing(mock, "?limit=100"))
    assert len(everything) == 10
    for page, limit in [(0, 3), (1, 3), (3, 3), (1, 4), (2, 4), (4, 2)]:
        body = listing(mock, f"?page={page}&limit={limit}")
        assert (body["page"], body["limit"], body["total"]) == (page, limit, 10)
        assert ids(body) == everything[page * limit : page * limit + limit]


def test_limit_zero_means_25_and_echoes_zero(mock: Mock) -> None:
    for i in range(29):
        mock.add_key(ALICE_ID, f"k{i}")
    body = listing(mock, "?limit=0")
    assert (body["limit"], body["total"], len(body["items"])) == (0, 30, 25)
    second = listing(mock, "?limit=0&page=1")
    assert len(second["items"]) == 5
    default = listing(mock)
    assert (default["limit"], len(default["items"])) == (25, 25)


@pytest.mark.parametrize("page", [1, 10**6, 2**63 - 1, 2**64, 10**40])
def test_page_past_the_end_is_empty(mock: Mock, page: int) -> None:
    body = listing(mock, f"?page={page}")
    assert (body["page"], body["total"], body["items"]) == (page, 1, [])


def test_huge_limit_is_no_error(mock: Mock) -> None:
    body = listing(mock, f"?limit={2**64}")
    assert (body["limit"], len(body["items"])) == (2**64, 1)


def test_list_by_api_key(mock: Mock) -> None:
    response = mock.with_key(mock.admin_key("bob"), "GET", "/api_keys/?limit=5")
    assert response.status_code == 200
    assert response.json()["limit"] == 5
    assert response.json()["items"][0]["user_id"] == BOB_ID
