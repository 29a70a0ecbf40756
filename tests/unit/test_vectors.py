"""Replay the real client's captured requests (behaviour §8, tests/data/README.md)
with the mock's clock frozen at each request's arrival time."""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import details as D
from tests.unit.harness import ALICE, Mock

VECTORS = Path(__file__).resolve().parents[1] / "data" / "real_client_requests.jsonl"
OTHER_HOTKEY = "5DtDLm5rQHShDqojQpsvcN8tRXHVFaecfDoRet1SU6BFD9Fi"


@functools.cache
def load() -> tuple[dict[str, Any], ...]:
    """Every vector; a missing file is an error, never an empty set."""
    if not VECTORS.is_file():
        raise FileNotFoundError(f"{VECTORS} is missing: the real-client vectors ship with the repo")
    return tuple(json.loads(line) for line in VECTORS.read_text().splitlines() if line.strip())


def first(method: str, *, fresh: bool = True) -> dict[str, Any]:
    """The first vector with this method and nonce freshness."""
    for vector in load():
        if vector["method"] == method and vector["nonce_fresh_at_server_time"] == fresh:
            return vector
    raise LookupError(f"no {method} vector with a {'fresh' if fresh else 'stale'} nonce")


def hotkey_of(vector: dict[str, Any]) -> str:
    return dict(vector["headers"])["X-Chutes-Hotkey"]


def replay(mock: Mock, vector: dict[str, Any]):
    mock.state.clock.set(vector["server_time"])
    return mock.request(
        vector["method"],
        vector["target"],
        content=base64.b64decode(vector["body_b64"]),
        headers=vector["headers"],
    )


def cases(hotkey_is_alice: bool) -> list[Any]:
    return [
        pytest.param(
            v, id=f"{i}-{v['method']}-{'fresh' if v['nonce_fresh_at_server_time'] else 'stale'}"
        )
        for i, v in enumerate(load())
        if (hotkey_of(v) == ALICE.ss58_address) == hotkey_is_alice
    ]


def test_the_vectors_are_the_documented_set() -> None:
    vectors = load()
    assert len(vectors) == 120
    assert sum(hotkey_of(v) == OTHER_HOTKEY for v in vectors) == 7
    assert {hotkey_of(v) for v in vectors} == {ALICE.ss58_address, OTHER_HOTKEY}
    assert all(v["signature_valid"] for v in vectors)
    assert any(("X-Chutes-UserID" in dict(v["headers"])) for v in vectors)


@pytest.mark.parametrize("vector", cases(hotkey_is_alice=True))
def test_alice_vector(mock: Mock, vector: dict[str, Any]) -> None:
    """Fresh: authenticated (whatever the business outcome: ids and names of
    the capture session may answer 400/404/409 here). Stale: 401, the nonce refused."""
    response = replay(mock, vector)
    if vector["nonce_fresh_at_server_time"]:
        assert response.status_code != 401, response.text
        assert response.status_code < 500, response.text
    else:
        assert (response.status_code, response.json()) == (401, {"detail": D.INVALID_NONCE})


@pytest.mark.parametrize("vector", cases(hotkey_is_alice=False))
def test_other_hotkey_vector(mock: Mock, vector: dict[str, Any]) -> None:
    """Signed validly by a hotkey without an account: it gets past the nonce
    and the signature, and is refused at the user lookup until one exists."""
    assert vector["nonce_fresh_at_server_time"]
    response = replay(mock, vector)
    assert (response.status_code, response.json()) == (
        401,
        {"detail": D.UNKNOWN_HOTKEY.format(hotkey=OTHER_HOTKEY)},
    )
    mock.add_user("dave", hotkey=OTHER_HOTKEY)
    response = replay(mock, vector)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0


def test_user_id_header_is_ignored(mock: Mock) -> None:
    """The client's X-Chutes-UserID names Alice; a wrong one changes nothing."""
    vector = first("GET")
    headers = [(k, "00000000-0000-4000-8000-000000000000" if k == "X-Chutes-UserID" else v)
               for k, v in vector["headers"]]  # fmt: skip
    assert replay(mock, {**vector, "headers": headers}).status_code == 200
    without = [(k, v) for k, v in vector["headers"] if k != "X-Chutes-UserID"]
    assert replay(mock, {**vector, "headers": without}).status_code == 200


def test_a_create_vector_is_refused_once_its_body_is_reserialised(mock: Mock) -> None:
    vector = first("POST")
    body = json.loads(base64.b64decode(vector["body_b64"]))
    spaced = json.dumps(body).encode()
    assert spaced != base64.b64decode(vector["body_b64"])
    headers = [(k, v) for k, v in vector["headers"] if k != "Content-Length"]
    response = replay(mock, {**vector, "headers": headers, "body_b64": base64.b64encode(spaced)})
    assert response.status_code == 401
    assert response.json()["detail"].startswith(D.prefix(D.BAD_SIGNATURE))
