"""Stateful testing through the spec's links, signed as user A.

create -> get -> delete -> get (404): the built-in `use_after_free` and
`ensure_resource_availability` checks need these sequences; the custom
checks run on every step.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.contract.config import max_examples
from tests.contract.runner import Contract

STEPS = 6


def test_links_workflow(contract_schema, contract: Contract, request: pytest.FixtureRequest):
    test = request.node.nodeid

    class Workflow(contract_schema.as_state_machine()):
        def before_call(self, case: Any) -> None:
            if not contract.state.prepare(case, unique=True):
                # Budget spent: a name no rule accepts, so nothing is created.
                case.body = {**case.body, "name": "!budget spent"}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"auth": contract.hotkey_auth}

        def call(self, case: Any, **kwargs: Any) -> Any:
            parent = super()
            response, self.exchange = contract.send(case, lambda: parent.call(case, **kwargs))
            return response

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            contract.state.observe(case, response)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            parent = super()

            def validate(answer: Any) -> None:
                parent.validate_response(answer, case, additional_checks=contract.checks, **kwargs)

            contract.judged(case, response, self.exchange, test, validate)

    Workflow.run(
        settings=settings(
            max_examples=max(5, max_examples() // 2),
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=settings().derandomize,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
