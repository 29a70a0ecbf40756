"""The property suite's judge, on the session's known-deviations recorder, and
its failures in the report, named by the deviations they show."""

from __future__ import annotations

import pytest

from tests.property.judge import Deviates, Judge
from tests.support.target import Target


@pytest.fixture(scope="session")
def judge(target: Target) -> Judge:
    """One judge for the session's property tests (the target carries the recorder)."""
    assert target.recorder is not None, "the target fixture attaches the recorder"
    return Judge(target.recorder)


def deviates_in(error: BaseException | None, seen: set[int] | None = None) -> Deviates | None:
    """The `Deviates` a test failed with: Hypothesis may group several, or
    raise another error while replaying it (a target whose answers are not
    the same twice, as production's unordered list, D13) with it as context."""
    seen = set() if seen is None else seen
    if error is None or id(error) in seen:
        return None
    seen.add(id(error))
    if isinstance(error, Deviates):
        return error
    for inner in (*getattr(error, "exceptions", ()), error.__cause__, error.__context__):
        found = deviates_in(inner, seen)
        if found is not None:
            return found
    return None


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> None:
    """Record a property failure in the report with the deviations it shows (the
    plugin records any other failure of the suite as a new one)."""
    if call.when != "call" or call.excinfo is None:
        return
    failure = deviates_in(call.excinfo.value)
    target = item.funcargs.get("target") if hasattr(item, "funcargs") else None
    if failure is None or target is None or target.recorder is None:
        return
    exchange = failure.answer.exchange
    target.recorder.fail(
        item.nodeid,
        f"{failure.call.method} {failure.call.path}",
        "answer as the model predicts",
        str(failure),
        exchange if exchange is not None else "",
        failure.deviations,
    )
