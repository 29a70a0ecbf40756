"""An answer against the model's prediction, production's known deviations included.

The model predicts the contract's answer and, where production's deviations
(behaviour §7) would change it, their answers (`Expected.variants`). The judge:

    the contract's answer came                  -> fine
    a deviation's answer came (its exact form)  -> listed in --known-deviations:
                                                   recorded as observed, and the
                                                   run goes on with that answer;
                                                   not listed: a failure "[D3] ..."
    anything else                               -> a failure, as before

It returns the prediction that held, so a caller can adopt what the deployment
did (a key that a 24-character name with a newline created, D9, exists now).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.property.calls import Answer, Call
from tests.property.model import Expected, code_order, matches

Observer = Callable[[str, str], None]  # (deviation, one call that reproduces it)


class Deviates(AssertionError):
    """An answer that is not the contract's, naming the deviations it shows."""

    def __init__(self, message: str, deviations: frozenset[str] = frozenset()) -> None:
        super().__init__(message)
        self.deviations = deviations


def holds(expected: Expected, answer: Answer, naive: bool = False) -> bool:
    """The answer is the prediction: status, body, and the headers it names."""
    return (
        answer.status == expected.status
        and matches(expected.body, answer.body, naive)
        and all(answer.headers.get(k) == v for k, v in expected.headers.items())
    )


def tag(codes: frozenset[str]) -> str:
    return "[" + ", ".join(sorted(codes, key=code_order)) + "]"


def mismatch(call: Call, expected: Expected, answer: Answer) -> str:
    got_headers = {k: answer.headers.get(k) for k in expected.headers}
    return (
        f"{call}\n  expected {expected.status} {expected.body!r} {expected.headers or ''}\n"
        f"  got      {answer} {got_headers or ''}"
    )


@dataclass
class Judge:
    """Judges answers for one run; `listed` are the deviations it tolerates."""

    listed: frozenset[str] = frozenset()
    observer: Observer | None = None
    observed: dict[str, str] = field(default_factory=dict)  # first reproducing call each

    def check(self, call: Call, expected: Expected, answer: Answer) -> Expected:
        """The prediction that held; raises when none did, or only a deviation
        not on the list did."""
        if holds(expected, answer):
            return expected
        found = recognise(expected, answer)
        if found is None:
            raise Deviates(mismatch(call, expected, answer))
        codes, held = found
        unlisted = codes - self.listed
        if unlisted:
            raise Deviates(
                f"{tag(codes)} {mismatch(call, expected, answer)}\n"
                f"  production's known deviation{'s' if len(codes) > 1 else ''} "
                f"{', '.join(sorted(codes, key=code_order))} (behaviour §7); "
                f"not in --known-deviations: {', '.join(sorted(unlisted, key=code_order))}",
                codes,
            )
        for code in sorted(codes, key=code_order):
            self.observe(code, f"{call} -> {answer.status}")
        return held

    def observe(self, code: str, reproduce: str) -> None:
        self.observed.setdefault(code, reproduce)
        if self.observer is not None:
            self.observer(code, reproduce)


def recognise(expected: Expected, answer: Answer) -> tuple[frozenset[str], Expected] | None:
    """The smallest set of deviations whose answer came, and that answer: a
    variant of the prediction, exactly, or with date-times lacking their offset (D5)."""
    candidates = [(frozenset(), expected)] + [(v.deviations, v.expected) for v in expected.variants]
    for naive in (False, True):
        for codes, candidate in candidates:
            if (codes or naive) and holds(candidate, answer, naive):
                return (codes | {"D5"} if naive else codes), candidate
    return None
