"""Deterministic probes: one request, its exact expected answer, and a
report entry (with a scrubbed curl) when the answer differs. A listed known
deviation that explains the difference is recorded as observed instead
(`support.deviations`)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.deviations import KnownDeviationSeen
from tests.support.exchange import Exchange
from tests.support.ledger import BudgetExceeded
from tests.support.scrub import scrub
from tests.support.target import Identity, Target


def current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]


def settle(
    response: httpx.Response,
    target: Target,
    reason: str,
    *,
    what: str,
    recheck: Callable[[Exchange], bool] | None = None,
    shown: frozenset[str] | None = None,
) -> Exchange | None:
    """A check failed on `response`. A listed deviation that explains it is
    recorded as observed: the test stops there and passes (KnownDeviationSeen),
    or, where the deviation changed only a detail, carries on with the
    contract's answer (returned) when `recheck` passes on it. Anything else
    is recorded as a failure, tagged with the deviations it shows, and fails.
    `shown`: the deviations the check found by its own means (D13, read from
    several lists), in place of the recognisers' reading of `response`."""
    recorder = target.recorder
    assert recorder is not None, "the target fixture attaches the recorder"
    exchange = target.exchange(response)
    if shown is None:
        verdict = recorder.judge(exchange, test=current_test(), what=what)
    else:
        verdict = recorder.judge_shown(shown, exchange, test=current_test(), what=what)
    # A deviation that changed only a detail explains the failure only when
    # the contract's answer passes the check.
    explains = verdict.contract is None or (recheck is not None and recheck(verdict.contract))
    if verdict.tolerated and explains:
        if verdict.contract is None:
            raise KnownDeviationSeen(what)
        return verdict.contract
    tags = verdict.deviations if explains else frozenset()
    request = response.request
    recorder.fail(
        current_test(),
        f"{request.method} {request.url.path}",
        what,
        reason + f"\nbody: {response.text[:300]}",
        exchange,
        tags,
    )
    pytest.fail(scrub(reason), pytrace=False)


def expect(
    response: httpx.Response, target: Target, status: int, detail: Any = None, *, what: str
) -> Any:
    """Assert status (and `detail` when given); return the JSON body."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    problems = []
    if response.status_code != status:
        problems.append(f"status {response.status_code}, expected {status}")
    bodiless = status == 307 or response.request.method == "HEAD"
    if status != 500 and payload is None and not bodiless:
        problems.append(f"body is not JSON ({response.headers.get('content-type')})")
    if detail is not None and isinstance(payload, dict):
        got = payload.get("detail")
        matches = detail(got) if callable(detail) else got == detail
        if not matches:
            wanted = detail.__name__ if callable(detail) else repr(detail)
            problems.append(f"detail {json.dumps(got)[:300]}, expected {wanted}"[:600])
    if problems:
        settle(response, target, f"{what}: " + "; ".join(problems), what=what)
    return payload


def fail(
    response: httpx.Response,
    target: Target,
    reason: str,
    *,
    what: str = "",
    recheck: Callable[[Exchange], bool] | None = None,
    shown: frozenset[str] | None = None,
) -> Exchange | None:
    """A check that is not about status or detail failed on `response`."""
    return settle(response, target, reason, what=what or reason, recheck=recheck, shown=shown)


def send_raw(target: Target, method: str, path: str, headers: dict[str, bytes]) -> httpx.Response:
    """Send header bytes unchanged (Starlette's TestClient re-encodes non-ASCII
    values as UTF-8; a real client on the wire sends them as Latin-1)."""
    if not target.in_process:
        return target.client.request(method, path, headers=headers)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=target.app)
        async with httpx.AsyncClient(transport=transport, base_url=target.base_url) as client:
            response = await client.request(method, path, headers=headers)
            await response.aread()
            return response

    return asyncio.run(send())


def create(
    target: Target,
    identity: Identity,
    body: dict | bytes,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST /api_keys/ signed by `identity`: budgeted, and recorded if it creates a key."""
    try:
        target.ledger.reserve()
    except BudgetExceeded as exc:
        pytest.skip(str(exc))
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = target.signed(identity, "POST", "/api_keys/", body=raw, headers=headers)
    target.record_created(response, identity.label)
    if response.status_code != 200:
        target.ledger.release()
    return response


def own_key(target: Target, suffix: str, **kwargs: Any) -> dict:
    """`target.create_key` (A, run-marked, recorded); skips when the budget is spent."""
    try:
        return target.create_key(target.user_a, suffix, **kwargs)
    except BudgetExceeded as exc:
        pytest.skip(str(exc))
