"""Deterministic probes: one request, its exact expected answer, and a
report entry (with a scrubbed curl) when the answer differs."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
import pytest

from tests.contract import report
from tests.support.ledger import BudgetExceeded
from tests.support.target import Identity, Target


def current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]


def expect(
    response: httpx.Response,
    status: int,
    detail: Any = None,
    *,
    what: str,
    deviation: str | None = None,
) -> Any:
    """Assert status (and `detail` when given); return the JSON body."""
    request = response.request
    operation = f"{request.method} {request.url.path}"
    try:
        payload = response.json()
    except ValueError:
        payload = None
    problems = []
    if response.status_code != status:
        problems.append(f"status {response.status_code}, expected {status}")
    if status != 500 and payload is None:
        problems.append(f"body is not JSON ({response.headers.get('content-type')})")
    if detail is not None and isinstance(payload, dict):
        got = payload.get("detail")
        matches = detail(got) if callable(detail) else got == detail
        if not matches:
            wanted = detail.__name__ if callable(detail) else repr(detail)
            problems.append(f"detail {json.dumps(got)[:300]}, expected {wanted}"[:600])
    if problems:
        reason = f"{what}: " + "; ".join(problems)
        report.record(
            current_test(),
            operation,
            what,
            reason + f"\nbody: {response.text[:300]}",
            report.curl_for_httpx(request),
            [deviation] if deviation else None,
        )
        pytest.fail(report.scrub(reason), pytrace=False)
    return payload


def fail(
    response: httpx.Response | None, reason: str, deviation: str | None, *, what: str = ""
) -> None:
    """Record and fail a check that is not about status or detail."""
    request = response.request if response is not None else None
    report.record(
        current_test(),
        f"{request.method} {request.url.path}" if request is not None else "-",
        what or reason,
        reason,
        report.curl_for_httpx(request) if request is not None else "",
        [deviation] if deviation else None,
    )
    pytest.fail(report.scrub(reason), pytrace=False)


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


def create(target: Target, identity: Identity, body: dict | bytes) -> httpx.Response:
    """POST /api_keys/ signed by `identity`: budgeted, and recorded if it creates a key."""
    try:
        target.ledger.reserve()
    except BudgetExceeded as exc:
        pytest.skip(str(exc))
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = target.signed(identity, "POST", "/api_keys/", body=raw)
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
