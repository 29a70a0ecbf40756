"""An answer against the model's prediction, production's known deviations included.

The model predicts the contract's answer and, where production's deviations
(behaviour §7) would change it, production's answer too (`Expected.variants`,
worked out from the model's state: which keys exist, when a deleted key was
first used, which scopes a key was given). The session's recognisers
(`tests.support.recognisers`) read the exchange on their own. The judge:

    the contract's answer came               -> fine
    a variant came (exactly), or the
    recognisers see a deviation the model
    makes no prediction for                  -> the deviations it shows are
                                                listed in --known-deviations:
                                                observed (recorded once, with
                                                the call that shows it), and
                                                the run goes on with that
                                                answer; else a failure "[D3] ..."
    the recognisers see a deviation the
    model predicts here, in another form     -> a new failure: it only resembles
                                                that deviation
    anything else                            -> a new failure

`check` returns the prediction that held, so a caller can adopt what the
deployment did (a key that a 24-character name with a newline made, D9, exists).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tests.property.calls import Answer, Call
from tests.property.model import Expected, code_order, matches
from tests.support.deviations import Recorder
from tests.support.recognisers import Recognition


class Deviates(AssertionError):
    """An answer the run does not accept; `deviations` it shows (none: a new failure)."""

    def __init__(self, message: str, call: Call, answer: Answer, deviations=frozenset()) -> None:
        super().__init__(message)
        self.call = call
        self.answer = answer
        self.deviations = frozenset(deviations)


def holds(expected: Expected, answer: Answer, naive: bool = False) -> bool:
    """The answer is the prediction: status, body, and the headers it names."""
    return (
        answer.status == expected.status
        and matches(expected.body, answer.body, naive)
        and all(answer.headers.get(k) == v for k, v in expected.headers.items())
    )


def names(codes) -> str:
    return ", ".join(sorted(codes, key=code_order))


def mismatch(call: Call, expected: Expected, answer: Answer) -> str:
    got_headers = {k: answer.headers.get(k) for k in expected.headers}
    return (
        f"{call}\n  expected {expected.status} {expected.body!r} {expected.headers or ''}\n"
        f"  got      {answer} {got_headers or ''}"
    )


def current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]


@dataclass
class Judge:
    """Judges the answers of one run against the session's list of deviations."""

    recorder: Recorder = field(default_factory=Recorder)

    @property
    def listed(self) -> frozenset[str]:
        return self.recorder.known

    def check(self, call: Call, expected: Expected, answer: Answer) -> Expected:
        """The prediction that held; raises `Deviates` when none did, or only
        one that shows a deviation not on the list (one place raises, so that
        Hypothesis takes each mismatch for the same bug)."""
        if holds(expected, answer):
            return expected
        codes, held, remark = self._explain(expected, answer)
        unlisted = codes - self.listed
        if held is not None and not unlisted:
            if answer.exchange is not None:
                test = current_test()
                for code in sorted(codes, key=code_order):
                    self.recorder.observe(code, answer.exchange, test=test, what=str(call))
            return held
        message = mismatch(call, expected, answer)
        if held is not None:  # a known deviation, not on the list: named
            message = (
                f"[{names(codes)}] {message}\n  production's known deviation {names(codes)} "
                f"(behaviour §7), not in --known-deviations: {names(unlisted)}"
            )
        elif remark:
            message += f"\n  {remark}"
        raise Deviates(message, call, answer, codes if held is not None else frozenset())

    def _explain(
        self, expected: Expected, answer: Answer
    ) -> tuple[frozenset[str], Expected | None, str]:
        """(the deviations shown, the prediction that held or None, a remark)."""
        shared = self._recognition(answer)
        found = from_model(expected, answer)
        if found is not None:
            return found[0] | shared.deviations, found[1], ""
        if not shared.deviations:
            return frozenset(), None, ""
        predicted = {code for v in expected.variants for code in v.deviations}
        if shared.deviations & predicted:
            resembled = names(shared.deviations & predicted)
            return frozenset(), None, f"resembles {resembled}, but is not production's answer here"
        if shared.contract is not None and not holds(expected, Answer.of_exchange(shared.contract)):
            return frozenset(), None, f"shows {names(shared.deviations)}, and more"
        return shared.deviations, expected, ""

    def _recognition(self, answer: Answer) -> Recognition:
        if answer.exchange is None:
            return Recognition()
        return self.recorder.recognise(answer.exchange)


def from_model(expected: Expected, answer: Answer) -> tuple[frozenset[str], Expected] | None:
    """The smallest set of deviations whose answer came, and that answer: a
    variant of the prediction, exactly, or with date-times lacking their offset (D5)."""
    candidates = [(frozenset(), expected)] + [(v.deviations, v.expected) for v in expected.variants]
    for naive in (False, True):
        for codes, candidate in candidates:
            if (codes or naive) and holds(candidate, answer, naive):
                return (codes | {"D5"} if naive else codes), candidate
    return None
