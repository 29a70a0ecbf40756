"""The store: safe under concurrent writers, and a page of one user's keys
never touches the other users' keys."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from mock_server.errors import Conflict
from mock_server.store import Store
from tests.unit.harness import ALICE, ALICE_ID, BOB_ID, Mock


def test_concurrent_creates_lose_nothing_and_keep_names_unique() -> None:
    store = Store(random.Random(1))
    user = store.add_user("u", None).user_id
    barrier = threading.Barrier(8)
    made: list[str] = []
    conflicts: list[str] = []

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(60):
            name = f"k{i % 40}" if n % 2 else f"w{n}-{i}"  # odd workers race on shared names
            try:
                key, _ = store.create_key(user, name, True, [], float(i))
                made.append(key.api_key_id)
            except Conflict:
                conflicts.append(name)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    total, keys = store.list_keys(user, 0, 10_000)
    names = [k.name for k in keys]
    assert total == len(made) == len(keys) == store.key_count()
    assert len(set(names)) == len(names)
    assert {f"k{i}" for i in range(40)} <= set(names)
    assert len(made) + len(conflicts) == 8 * 60
    assert sorted(k.api_key_id for k in keys) == sorted(made)
    assert [k.order for k in keys] == sorted(k.order for k in keys)


def test_concurrent_creates_and_deletes_over_http(mock: Mock) -> None:
    def create(i: int) -> str:
        return mock.add_key(ALICE_ID, f"c{i}")["api_key_id"]

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(24)))
    listed = mock.signed(ALICE, "GET", "/api_keys/?limit=100").json()
    assert listed["total"] == 25
    assert sorted(i["name"] for i in listed["items"]) == sorted(
        ["mock-admin", *(f"c{i}" for i in range(24))]
    )


class Untouchable(list):
    """A list whose contents must not be read."""

    def _refuse(self, *args, **kwargs):
        raise AssertionError("another user's keys were read")

    __iter__ = __getitem__ = __len__ = __contains__ = index = _refuse


class UntouchableDict(dict):
    def _refuse(self, *args, **kwargs):
        raise AssertionError("the store scanned every key")

    __iter__ = values = items = keys = _refuse


class Recording(list):
    """Records how a list is read."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.reads: list[object] = []

    def __getitem__(self, index):
        self.reads.append(index)
        return super().__getitem__(index)

    def __iter__(self):
        self.reads.append("iter")
        return super().__iter__()


def test_a_page_slices_only_the_callers_list(mock: Mock) -> None:
    """Structural: listing Alice's keys reads one slice of her own ordered
    list, never Bob's keys nor the store-wide key table."""
    store = mock.state.store
    for i in range(50):
        store.create_key(BOB_ID, f"b{i}", True, [], float(i))
    for i in range(9):
        store.create_key(ALICE_ID, f"a{i}", True, [], float(i))
    own = store._user_keys[ALICE_ID]
    recording = Recording(own.ordered)
    own.ordered = recording
    store._user_keys[BOB_ID].ordered = Untouchable()
    store._keys = UntouchableDict(store._keys)
    response = mock.with_key(mock.admin_key("alice"), "GET", "/api_keys/?page=2&limit=3")
    assert response.status_code == 200, response.text
    assert [i["name"] for i in response.json()["items"]] == ["a6", "a7", "a8"]
    assert recording.reads == [slice(6, 9)]
    assert response.json()["total"] == 10


@pytest.mark.parametrize("others", [0, 2000])
def test_list_is_the_same_whatever_others_hold(mock: Mock, others: int) -> None:
    store = mock.state.store
    for i in range(others):
        store.create_key(BOB_ID, f"b{i}", True, [], 0.0)
    body = mock.signed(ALICE, "GET", "/api_keys/?limit=1").json()
    assert (body["total"], [i["name"] for i in body["items"]]) == (1, ["mock-admin"])
