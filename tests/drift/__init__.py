"""Drift: the deployment and the mock, side by side, over generated sequences.

    steps.py       the calls a sequence is made of, and their strategies
    sides.py       sending a step to the deployment or to the twin mock
    compare.py     answers made comparable, and the first difference
    runner.py      executions, noise, difference classes, shrinking
    report.py      a class side by side, and a script that replays it
    test_drift.py  the suite: every class is one failure in the report
    test_teeth.py  broken mocks give classes; the mock against itself none

Run: `.venv/bin/pytest tests/drift --base-url URL [--known-deviations production]
[--hypothesis-profile deep]` (the twin mock has exactly the listed deviations).
"""
