"""Run sequences on both sides, learn the noise, gather difference classes, shrink them.

One execution sends each step to the deployment, then to the twin, so both
sides see the same order of events at nearly the same time. The first step
where the two answers differ (after normalisation, `compare`) gives a
difference; its class is the step's call shape plus the field and both
values. Once a create or a delete has gone differently, the sides hold
different keys: later differences are consequences of that class, not new
classes.

Noise is learned as Diffy does: a sequence that shows a difference is sent
to the deployment alone once more, and a field whose answer differs between
those two runs of the deployment is dropped for that step (and counted).
"""

from __future__ import annotations

import contextlib
import string
from collections import Counter
from dataclasses import dataclass, field
from itertools import count

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, NoSuchExample

from tests.drift.compare import Difference, Normaliser, first_difference
from tests.drift.sides import Side, TwinPlan, make_twin
from tests.drift.steps import SLOT_WIDTH, Step
from tests.support.exchange import Exchange
from tests.support.target import Target

_TAG_ALPHABET = string.digits + string.ascii_lowercase
SHRINK_CALLS = 120  # executions one class may spend on shrinking


@dataclass(frozen=True)
class ClassKey:
    call: str  # the step's shape: method, path template, query names, credentials
    field: str
    deployment: str
    mock: str

    def __str__(self) -> str:
        return f"{self.call}: {self.field} {self.deployment} (deployment) vs {self.mock} (mock)"


def call_shape(step: Step) -> str:
    names = sorted({part.split("=")[0] for part in step.query.split("&") if part})
    query = f"?{'&'.join(names)}" if names else ""
    return f"{step.method} {step.path}{query} as {step.auth.kind.value}"


@dataclass
class Seen:
    """One execution, with each side's answers."""

    steps: list[Step]
    deployment: list[Exchange]
    mock: list[Exchange]
    differences: dict[int, Difference] = field(default_factory=dict)  # primary, by step
    tags: dict[int, frozenset[str]] = field(default_factory=dict)
    consequences: dict[int, int] = field(default_factory=dict)  # by the step that diverged

    def keys(self) -> dict[ClassKey, int]:
        """Each primary difference's class, with the step it first shows at."""
        found: dict[ClassKey, int] = {}
        for index, difference in self.differences.items():
            key = ClassKey(
                call_shape(self.steps[index]),
                difference.field,
                difference.deployment,
                difference.mock,
            )
            found.setdefault(key, index)
        return found


@dataclass
class DriftClass:
    key: ClassKey
    count: int = 0
    consequences: int = 0
    example: Seen | None = None  # the shortest execution showing it
    index: int = 0  # the step where it shows in `example`
    shrunk: bool = False

    @property
    def tags(self) -> frozenset[str]:
        assert self.example is not None
        return self.example.tags.get(self.index, frozenset())


@dataclass
class Drift:
    """The comparison of one deployment with its twin, over many sequences."""

    deployment: Target
    plan: TwinPlan
    classes: dict[ClassKey, DriftClass] = field(default_factory=dict)
    noise: Counter = field(default_factory=Counter)  # field -> differences dropped
    requests: Counter = field(default_factory=Counter)  # side -> requests sent
    sequences: int = 0
    test: str = "tests/drift/test_drift.py"  # the test that reports what it observes
    _tags: count = field(default_factory=count)

    @property
    def unordered(self) -> bool:
        return "D13" in self.plan.quirks

    def _prefix(self) -> str:
        number, tag = next(self._tags), ""
        for _ in range(SLOT_WIDTH - len(self.deployment.ledger.marker)):
            number, digit = divmod(number, len(_TAG_ALPHABET))
            tag += _TAG_ALPHABET[digit]
        return self.deployment.ledger.marker + tag

    # One execution ----------------------------------------------------------------
    def execute(self, steps: list[Step], *, learn_noise: bool = True) -> Seen:
        deployment = Side("deployment", self.deployment)
        counts = deployment.key_counts()
        twin = make_twin(self.plan, self.deployment, counts)
        mock = Side("mock", twin)
        prefix = self._prefix()
        deployment.begin(prefix)
        mock.begin(prefix)
        seen = Seen(steps, deployment.exchanges, mock.exchanges)
        try:
            self._both(steps, deployment, mock, seen)
        finally:
            deployment.end()
            twin.client.close()
            self.requests["deployment"] += len(deployment.exchanges) + 2
            self.requests["mock"] += len(mock.exchanges)
        if seen.differences and learn_noise:
            self._drop_noise(seen, deployment)
        return seen

    def _both(self, steps: list[Step], deployment: Side, mock: Side, seen: Seen) -> None:
        left, right = (Normaliser(s, unordered=self.unordered) for s in (deployment, mock))
        diverged: int | None = None
        for index, step in enumerate(steps):
            ours, theirs = deployment.send(step), mock.send(step)
            difference = first_difference(left.view(ours), right.view(theirs))
            if difference is None:
                self._agreed(ours)
            else:
                if diverged is None:
                    seen.differences[index] = difference
                    seen.tags[index] = self._explained(ours, mock, theirs)
                else:
                    seen.consequences[diverged] = seen.consequences.get(diverged, 0) + 1
            if diverged is None and _held(deployment) != _held(mock):
                diverged = max(seen.differences, default=index)

    def _agreed(self, ours: Exchange) -> None:
        """Both sides answered alike: a listed deviation the deployment showed
        is observed (the twin showed it too)."""
        recorder = self.deployment.recorder
        if recorder is None:
            return
        for name in sorted(recorder.recognise(ours).deviations & self.plan.quirks):
            recorder.observe(name, ours, test=self.test, what="the twin answers the same")

    def _explained(self, ours: Exchange, mock: Side, theirs: Exchange) -> frozenset[str]:
        """The deviations behind a difference: one the deployment shows that the
        twin was not given, or one the twin shows that the deployment does not
        (the deployment's D14 beside the twin's catch-all is D12's doing)."""
        recorder = self.deployment.recorder
        shown = recorder.recognise(ours).deviations if recorder is not None else frozenset()
        twin = mock.target.recorder
        theirs_shown = twin.recognise(theirs).deviations if twin is not None else frozenset()
        return (shown - self.plan.quirks) | (theirs_shown - shown)

    def _drop_noise(self, seen: Seen, first: Side) -> None:
        """Send the sequence to the deployment alone again; drop what differs between runs."""
        again = Side("deployment", self.deployment)
        again.key_counts()
        again.begin(self._prefix())
        try:
            for step in seen.steps:
                again.send(step)
        finally:
            again.end()
            self.requests["deployment"] += len(again.exchanges) + 2
        once = Normaliser(first, unordered=self.unordered)
        twice = Normaliser(again, unordered=self.unordered)
        views = [
            (once.view(a), twice.view(b))
            for a, b in zip(first.exchanges, again.exchanges, strict=False)
        ]
        for index in list(seen.differences):
            a, b = views[index]
            between = first_difference(a, b)
            if between is not None and between.field == seen.differences[index].field:
                self.noise[seen.differences[index].field] += 1
                del seen.differences[index]

    # Many executions ---------------------------------------------------------------
    def observe(self, steps: list[Step]) -> Seen:
        """Execute a generated sequence and count the classes it shows."""
        seen = self.execute(steps)
        self.sequences += 1
        for key, index in seen.keys().items():
            found = self.classes.setdefault(key, DriftClass(key))
            found.count += 1
            if found.example is None or len(steps) < len(found.example.steps):
                found.example, found.index = seen, index
            if seen.differences.get(index) is not None:
                found.consequences += seen.consequences.get(index, 0)
        return seen

    def shrink(self, drift_class: DriftClass) -> None:
        """The fewest steps of its example that still show the class (Hypothesis' find)."""
        example = drift_class.example
        assert example is not None
        steps = example.steps
        best: dict[int, tuple[Seen, int]] = {}
        # A deployment need not answer a sequence the same way twice (D3's
        # cache, D13's order): each mask is executed once, and its first
        # answer stands, so Hypothesis sees a consistent predicate.
        decided: dict[tuple[bool, ...], bool] = {}

        def shows(mask: list[bool]) -> bool:
            chosen = [step for step, keep in zip(steps, mask, strict=True) if keep]
            if not chosen:
                return False
            if tuple(mask) not in decided:
                decided[tuple(mask)] = len(decided) < SHRINK_CALLS and self._shows(
                    drift_class.key, chosen, best
                )
            return decided[tuple(mask)]

        with contextlib.suppress(NoSuchExample, Flaky):
            find(
                st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)),
                shows,
                settings=settings(
                    max_examples=40,
                    database=None,
                    deadline=None,
                    phases=[Phase.generate, Phase.shrink],
                    suppress_health_check=list(HealthCheck),
                ),
            )
        if best:
            drift_class.example, drift_class.index = best[min(best)]
            drift_class.shrunk = True

    def _shows(self, key: ClassKey, chosen: list[Step], best: dict[int, tuple[Seen, int]]) -> bool:
        """Whether these steps show the class; the shortest that does is kept in `best`."""
        seen = self.execute(chosen, learn_noise=False)
        index = seen.keys().get(key)
        if index is None:
            return False
        if len(chosen) < min(best, default=len(chosen) + 1):
            best[len(chosen)] = (seen, index)
        return True


def _held(side: Side) -> tuple[tuple[str, bool], ...]:
    return tuple((made.owner, made.deleted) for made in side.made)
