"""Sending one generated case the safe way, judging what failed.

A failed check is judged by the recognisers (`support.deviations`): a listed
deviation is recorded as observed and the example passes (or, where the
deviation changed only a detail, the contract's answer is checked instead);
anything else is recorded, tagged with the deviations it shows, and fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import ignored_auth

from tests.contract.checks import Check
from tests.contract.safety import RunState
from tests.support.deviations import Recorder
from tests.support.exchange import Exchange, from_requests


def as_response(answer: Exchange, like: Any) -> Response:
    """The contract's answer as a Schemathesis response to the same request."""
    return Response(
        status_code=answer.status,
        headers={name: [value] for name, value in answer.response_headers.items()},
        content=answer.content,
        request=like.request,
        elapsed=like.elapsed,
        verify=like.verify,
        http_version=like.http_version,
    )


@dataclass
class Contract:
    """What a contract test needs: the run state, the auth objects, the checks,
    the session's known-deviations recorder."""

    state: RunState
    hotkey_auth: requests.auth.AuthBase
    key_auth: requests.auth.AuthBase
    checks: list[Check]
    recorder: Recorder
    # (auth, operation) whose enforcement of authentication `ignored_auth` has
    # confirmed: as Schemathesis' own runner does, once per operation is enough
    # (its probes re-send each successful case without and with bad credentials).
    auth_enforced: set[tuple[str, str]] = field(default_factory=set)

    def run(self, case: Any, auth: requests.auth.AuthBase, test: str) -> None:
        """Rewrite `case` for safety, send it, record it, validate it."""
        if not self.state.prepare(case):
            # The key budget is spent: this case would create one more. Not sent,
            # so not passed either: the test is reported as skipped, saying why.
            pytest.skip(
                f"key budget spent (--max-keys {self.state.target.ledger.max_keys}): "
                f"{case.operation.label} cases that would create a key were not sent"
            )
        response, exchange = self.send(case, lambda: case.call(auth=auth))
        self.state.observe(case, response)
        enforced = (type(auth).__name__, case.operation.label)
        excluded = [ignored_auth] if enforced in self.auth_enforced else []

        def validate(answer: Any) -> None:
            case.validate_response(
                answer,
                additional_checks=self.checks,
                excluded_checks=excluded,
                transport_kwargs={"auth": auth},
            )

        self.judged(case, response, exchange, test, validate)
        if 200 <= response.status_code < 300:
            self.auth_enforced.add(enforced)  # every check passed, ignored_auth's too

    def send(self, case: Any, call: Callable[[], Any]) -> tuple[Any, Exchange]:
        """Make the call, stamped with the target's clock; learn from it."""
        target = self.state.target
        sent = target.now()
        response = call()
        exchange = from_requests(response, target.base_path, sent_at=sent, received_at=target.now())
        self.recorder.saw(exchange)
        return response, exchange

    def judged(
        self,
        case: Any,
        response: Any,
        exchange: Exchange,
        test: str,
        validate: Callable[[Any], None],
    ) -> None:
        """`validate(response)`; a failure is judged (see the module docstring)."""
        self.state.begin_checks(test)
        try:
            validate(response)
            return
        except schemathesis.errors.FailureGroup as group:
            titles = ", ".join(sorted({_title(f) for f in group.exceptions}))
            verdict = self.recorder.judge(exchange, test=test, what=titles)
            failed = group
        if verdict.contract is None:  # the whole answer is the deviation, or none is shown
            if verdict.tolerated:
                return  # a listed deviation: this example passes
            self.report(failed, case, exchange, test, verdict.deviations)
            raise failed
        # A deviation that changed only a detail (D2, D5): check the contract's
        # answer; what still fails there is new, what passes was the deviation.
        inner = set(self.state.inner_deviations)
        self.state.begin_checks(test)
        try:
            validate(as_response(verdict.contract, response))
            remaining: BaseExceptionGroup | None = None
        except schemathesis.errors.FailureGroup as again:
            remaining = again
        still = {_title(f) for f in remaining.exceptions} if remaining is not None else set()
        shown = [f for f in failed.exceptions if _title(f) not in still]
        if shown and not verdict.tolerated:
            self.state.inner_deviations = inner
            self.report(
                BaseExceptionGroup("shown", shown), case, exchange, test, verdict.deviations
            )
        if remaining is not None:
            self.report(remaining, case, exchange, test, frozenset())
            raise remaining
        if not verdict.tolerated:
            raise failed

    def report(
        self, group: BaseExceptionGroup, case: Any, exchange: Exchange, test: str, shown
    ) -> None:
        tags = set(shown) | self.state.inner_deviations
        for failure in group.exceptions:
            message = getattr(failure, "message", str(failure))
            self.recorder.fail(
                test,
                case.operation.label,
                _title(failure),
                f"{message}\n(status {exchange.status})",
                exchange,
                tags,
            )


def _title(failure: BaseException) -> str:
    return getattr(failure, "title", type(failure).__name__)
