"""Sending one generated case the safe way and reporting what failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
import schemathesis

from tests.contract import report
from tests.contract.checks import Check
from tests.contract.safety import CREATE, LIST, REGISTRY, RunState

INT64_MAX = 2**63 - 1


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def classify(case: Any, check: str, response: Any) -> list[str]:
    """The production deviation (SEMANTICS §7) a generated failure points at."""
    label, status = case.operation.label, getattr(response, "status_code", None)
    query, body = case.query or {}, case.body
    found = []
    if status == 500 and label == LIST:
        numbers = [n for n in (_int(query.get("page")), _int(query.get("limit"))) if n is not None]
        if any(n < 0 for n in numbers):
            found.append("D1")
        if any(n > INT64_MAX for n in numbers):
            found.append("D7")
    null_scopes = isinstance(body, dict) and body.get("admin") is False and "scopes" in body
    if status == 500 and label == CREATE and null_scopes and body["scopes"] is None:
        found.append("D4")
    if label == REGISTRY and ("registry" in check or "header" in check.lower()):
        found.append("D2")
    if "created_at" in check or "date-time" in check:
        found.append("D5")
    if "deleted_key" in check:
        found.append("D3")
    if status == 200 and "schema-violating" in check:
        admin = body.get("admin") if isinstance(body, dict) else None
        if label == CREATE and admin is not None and not isinstance(admin, bool):
            found.append("D10")
        if label == LIST and any(isinstance(v, float) or "." in str(v) for v in query.values()):
            found.append("D10")
    return found


@dataclass
class Contract:
    """What a contract test needs: the run state, the auth objects, the checks."""

    state: RunState
    hotkey_auth: requests.auth.AuthBase
    key_auth: requests.auth.AuthBase
    checks: list[Check]

    def run(self, case: Any, auth: requests.auth.AuthBase, test: str) -> None:
        """Rewrite `case` for safety, send it, record it, validate it."""
        if not self.state.prepare(case):
            return  # the key budget is spent: this case would create one more
        response = case.call(auth=auth)
        self.state.observe(case, response)
        try:
            case.validate_response(
                response, additional_checks=self.checks, transport_kwargs={"auth": auth}
            )
        except schemathesis.errors.FailureGroup as group:
            self.report(group, case, response, test)
            raise

    def report(self, group: BaseExceptionGroup, case: Any, response: Any, test: str) -> None:
        curl = self.curl(case, response)
        for failure in group.exceptions:
            title = getattr(failure, "title", type(failure).__name__)
            message = getattr(failure, "message", str(failure))
            report.record(
                test,
                case.operation.label,
                title,
                f"{message}\n(status {getattr(response, 'status_code', '?')})",
                curl,
                classify(case, f"{title} {message}", response),
            )

    def curl(self, case: Any, response: Any) -> str:
        """The request exactly as sent (signed headers included, then scrubbed)."""
        sent = getattr(response, "request", None)
        if sent is None:
            return ""
        return report.curl(sent.method or case.method, sent.url, dict(sent.headers), sent.body)
