"""A retry policy for the keys client, as an SDK would write it.

`with_retries` sends again after a gateway's answer (429, 502, 503, 504,
honouring `Retry-After`), a dropped connection or a timeout, with
exponential backoff. `create_once` knows that a create whose answer was
lost may still have taken effect: before sending it again, it looks for a
key of that name, so one call never makes two keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from keys_client import ApiError, KeysClient

T = TypeVar("T")
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
LOST_ANSWER_STATUSES = frozenset({502, 504})  # the request may have reached the API


@dataclass
class RetryPolicy:
    attempts: int = 4
    backoff: float = 0.1  # seconds before the second attempt, doubled after each
    max_wait: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def wait_after(self, attempt: int, error: Exception) -> float:
        if isinstance(error, ApiError):
            retry_after = error.headers.get("retry-after")
            if retry_after is not None and retry_after.isdigit():
                return min(float(retry_after), self.max_wait)
        return min(self.backoff * 2**attempt, self.max_wait)


def retryable(error: Exception) -> bool:
    if isinstance(error, ApiError):
        return error.status in RETRIED_STATUSES
    return isinstance(error, httpx.TransportError)  # dropped, reset, timed out


def with_retries(action: Callable[[], T], policy: RetryPolicy | None = None) -> T:
    """`action()`, sent again after a retryable failure, up to the policy's attempts."""
    policy = policy or RetryPolicy()
    for attempt in range(policy.attempts):
        try:
            return action()
        except (ApiError, httpx.TransportError) as error:
            if not retryable(error) or attempt == policy.attempts - 1:
                raise
            policy.sleep(policy.wait_after(attempt, error))
    raise AssertionError("unreachable")


def answer_lost(error: Exception) -> bool:
    if isinstance(error, ApiError):
        return error.status in LOST_ANSWER_STATUSES
    return isinstance(error, httpx.TransportError)


def create_once(
    client: KeysClient, name: str, admin: bool = True, policy: RetryPolicy | None = None
) -> dict[str, Any]:
    """Create the key `name`; if an answer is lost, find the key before trying
    again. A key found this way comes without its secret (only a create's
    answer has it): the caller decides whether to delete it and start over."""
    policy = policy or RetryPolicy()
    for attempt in range(policy.attempts):
        try:
            return client.create(name, admin)
        except (ApiError, httpx.TransportError) as error:
            if not retryable(error) or attempt == policy.attempts - 1:
                raise
            if answer_lost(error):
                made = find_key(client, name, policy)
                if made is not None:
                    return made
            policy.sleep(policy.wait_after(attempt, error))
    raise AssertionError("unreachable")


def find_key(client: KeysClient, name: str, policy: RetryPolicy) -> dict[str, Any] | None:
    page = 0
    while True:
        listed = with_retries(lambda p=page: client.list(page=p, limit=100), policy)
        for key in listed["items"]:
            if key["name"] == name:
                return key
        if (page + 1) * 100 >= listed["total"]:
            return None
        page += 1
