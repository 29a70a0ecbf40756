"""The deployment answers every generated sequence as its twin mock does.

The twin is a mock in this process with exactly the deviations listed by
`--known-deviations`; each difference class that remains once noise is
dropped is one failure in the report, with its count, the deviation a
recogniser names for it (or `[unknown]`), its shortest sequence side by side,
and a script that replays it.
"""

from __future__ import annotations

import pytest
from hypothesis import Phase, given, settings

from tests.drift.report import script, side_by_side, tag_text
from tests.drift.runner import Drift
from tests.drift.sides import plan_twin
from tests.drift.steps import sequences
from tests.support import profiles
from tests.support.deviations import Recorder
from tests.support.target import Target

CI_SEQUENCES = 20
DEEP_SEQUENCES = 200


def drift_for(target: Target, known: frozenset[str]) -> Drift:
    """The comparison of `target` with a twin that has the `known` deviations."""
    b_on_metagraph = target.signed(target.user_b, "GET", "/registry/auth").status_code == 200
    return Drift(target, plan_twin(target, known, b_on_metagraph))


def explore(drift: Drift, examples: int) -> None:
    """Generate `examples` sequences and execute each on both sides."""

    @settings(max_examples=examples, phases=[Phase.generate], deadline=None)
    @given(sequences)
    def each(steps) -> None:
        drift.observe(steps)

    each()


def report(drift: Drift, recorder: Recorder, test: str) -> None:
    """Each class as one failure; the run's figures as notes."""
    marker = drift.deployment.ledger.marker
    for drift_class in sorted(drift.classes.values(), key=lambda c: -c.count):
        key = drift_class.key
        assert drift_class.example is not None
        recorder.fail(
            test,
            key.call,
            f"{key.field}: {key.deployment} (deployment) vs {key.mock} (mock)"
            + ("" if drift_class.tags else " [unknown]"),
            "\n".join(side_by_side(drift_class)),
            script(drift_class.example, marker),
            drift_class.tags,
            shown_lines=40,
            defect=f"drift class {key}",  # each class its own entry
        )
    dropped = ", ".join(f"{field} ×{n}" for field, n in sorted(drift.noise.items())) or "nothing"
    recorder.notes += [
        f"drift: {drift.sequences} sequence(s); requests: {drift.requests['deployment']} to "
        f"the deployment, {drift.requests['mock']} to the mock; "
        f"twin quirks: {', '.join(sorted(drift.plan.quirks, key=lambda d: int(d[1:]))) or 'none'}",
        f"drift: noise dropped (differed between two runs of the deployment): {dropped}",
        f"drift: difference classes: {len(drift.classes)}",
    ]


def test_the_deployment_answers_as_its_twin(
    target: Target, known_deviations: Recorder, request: pytest.FixtureRequest
) -> None:
    drift = drift_for(target, known_deviations.known)
    drift.test = request.node.nodeid
    explore(drift, profiles.examples(ci=CI_SEQUENCES, deep=DEEP_SEQUENCES))
    for drift_class in drift.classes.values():
        drift.shrink(drift_class)
    report(drift, known_deviations, request.node.nodeid)
    assert not drift.classes, "\n".join(
        f"{tag_text(c)} {c.key} ×{c.count}" for c in drift.classes.values()
    )
