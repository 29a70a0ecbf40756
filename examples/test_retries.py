"""The retry policy against the mock's fault rules: gateway answers, a lost
create, a dropped connection and a timeout, each on demand."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from keys_client import ApiError, KeysClient
from retries import RetryPolicy, create_once, with_retries

from mock_server import MockServer


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def policy(waits: list[float]) -> RetryPolicy:
    return RetryPolicy(sleep=waits.append)


@pytest.fixture
def alice(chutes_mock: MockServer) -> Iterator[KeysClient]:
    client = KeysClient(chutes_mock.url, api_key=chutes_mock.user("alice").api_key, timeout=0.5)
    yield client
    client.close()


@pytest.mark.chutes_mock_faults(
    match={"operation": "list_keys"},
    error={"status": 429, "headers": {"Retry-After": "1"}},
    times=2,
)
def test_429_twice_then_success_honours_retry_after(
    alice: KeysClient, chutes_mock: MockServer, policy: RetryPolicy, waits: list[float]
) -> None:
    assert with_retries(alice.list, policy)["total"] == 1
    assert waits == [1.0, 1.0]
    assert [r.status for r in chutes_mock.requests()] == [429, 429, 200]


@pytest.mark.chutes_mock_faults(
    match={"operation": "create_api_key"}, error={"status": 504}, when="after", times=1
)
def test_a_504_after_a_create_finds_the_key_instead_of_making_another(
    alice: KeysClient, chutes_mock: MockServer, policy: RetryPolicy
) -> None:
    key = create_once(alice, "ci-runner", policy=policy)
    assert key["name"] == "ci-runner" and "secret_key" not in key  # found, not made again
    assert [k["name"] for k in chutes_mock.state()["keys"]].count("ci-runner") == 1
    assert [(r.method, r.status) for r in chutes_mock.requests()] == [("POST", 504), ("GET", 200)]


@pytest.mark.chutes_mock_faults(
    match={"operation": "create_api_key"}, error={"status": 503}, times=1
)
def test_a_503_before_the_create_makes_it_on_the_next_try(
    alice: KeysClient, chutes_mock: MockServer, policy: RetryPolicy
) -> None:
    key = create_once(alice, "second-try", policy=policy)
    assert key["secret_key"].startswith("cpk_")  # made by the retry, with its secret


@pytest.mark.chutes_mock_faults(connection="drop", times=1)
def test_a_dropped_connection_is_retried(
    alice: KeysClient, chutes_mock: MockServer, policy: RetryPolicy, waits: list[float]
) -> None:
    assert with_retries(alice.list, policy)["total"] == 1
    assert waits == [0.1]
    assert [(r.status, r.reason) for r in chutes_mock.requests()] == [(None, "fault"), (200, None)]


@pytest.mark.chutes_mock_faults(latency_ms=2000, times=1)
def test_a_timeout_against_a_slow_answer_is_retried(alice: KeysClient, policy: RetryPolicy) -> None:
    with pytest.raises(httpx.ReadTimeout):
        alice.list()  # the client waits 0.5 s; the answer takes 2 s
    assert with_retries(alice.list, policy)["total"] == 1


def test_an_api_error_is_not_retried(alice: KeysClient, policy: RetryPolicy) -> None:
    with pytest.raises(ApiError) as refused:
        with_retries(lambda: alice.get("00000000-0000-4000-8000-000000000000"), policy)
    assert refused.value.status == 404
