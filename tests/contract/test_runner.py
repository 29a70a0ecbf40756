"""How the runner judges a failed example (no server needed): a listed
deviation that is the whole answer passes it; a detail deviation (D5) is
checked again on the contract's answer, and what still fails is new."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests
from schemathesis.core.failures import Failure, FailureGroup

from tests.contract.runner import Contract, as_response
from tests.support.deviations import Recorder
from tests.support.exchange import Exchange

NAIVE = "2026-11-27T09:54:10.743580"


def listing(*, leak: bool) -> Exchange:
    item = {"api_key_id": "k", "created_at": NAIVE, "last_used_at": None}
    if leak:
        item["secret_key"] = "cpk_x"
    return Exchange(
        method="GET",
        path="/api_keys/",
        query=(),
        headers={},
        body=b"",
        status=200,
        response_headers={"content-type": "application/json"},
        content=json.dumps({"items": [item], "total": 1}).encode(),
        sent_at=1.0,
        received_at=1.1,
    )


def validate(answer) -> None:
    """Two checks: date-times with an offset, and no secret_key."""
    item = json.loads(answer.content)["items"][0]
    failures = []
    if not item["created_at"].endswith("+00:00"):
        failures.append(Failure(operation="GET /api_keys/", title="schema", message="naive"))
    if "secret_key" in item:
        failures.append(Failure(operation="GET /api_keys/", title="secret", message="leak"))
    if failures:
        raise FailureGroup(failures, "failed")


def judged(known: set[str], *, leak: bool) -> tuple[Recorder, BaseException | None]:
    recorder = Recorder(known=frozenset(known))
    state = SimpleNamespace(begin_checks=lambda test: None, inner_deviations=set())
    contract = Contract(state, None, None, [], recorder)
    exchange = listing(leak=leak)
    prepared = requests.Request("GET", "http://testserver/api_keys/").prepare()
    like = SimpleNamespace(request=prepared, elapsed=0.0, verify=True, http_version="1.1")
    response = as_response(exchange, like)
    case = SimpleNamespace(operation=SimpleNamespace(label="GET /api_keys/"), method="GET")
    try:
        contract.judged(case, response, exchange, "t", validate)
    except FailureGroup as group:
        return recorder, group
    return recorder, None


def tags(recorder: Recorder) -> dict[str, list[str]]:
    return {f.check: f.deviations for f in recorder.failures}


def test_listed_detail_deviation_passes_the_example():
    recorder, raised = judged({"D5"}, leak=False)
    assert raised is None and recorder.failures == [] and list(recorder.observed) == ["D5"]


def test_listed_detail_deviation_does_not_hide_another_failure():
    recorder, raised = judged({"D5"}, leak=True)
    assert raised is not None
    assert tags(recorder) == {"secret": []}


def test_unlisted_detail_deviation_tags_only_what_it_explains():
    recorder, raised = judged(set(), leak=True)
    assert raised is not None
    assert tags(recorder) == {"schema": ["D5"], "secret": []}
    assert not recorder.observed


@pytest.mark.parametrize("leak", [False, True])
def test_nothing_listed_still_names_d5(leak: bool):
    recorder, raised = judged(set(), leak=leak)
    assert raised is not None and tags(recorder)["schema"] == ["D5"]


def test_a_case_not_sent_for_the_budget_is_skipped_saying_why() -> None:
    """A case that would create a key past --max-keys is not sent: the test is
    reported as skipped with the reason, not passed."""
    sent = []
    target = SimpleNamespace(ledger=SimpleNamespace(max_keys=3))
    state = SimpleNamespace(prepare=lambda case: False, target=target)
    contract = Contract(state, None, None, [], Recorder())
    contract.send = lambda case, call: sent.append(case)  # type: ignore[method-assign]
    case = SimpleNamespace(operation=SimpleNamespace(label="POST /api_keys/"))
    with pytest.raises(pytest.skip.Exception, match=r"key budget spent \(--max-keys 3\)"):
        contract.run(case, None, "test")
    assert sent == []
