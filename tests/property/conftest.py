"""The property suite's judge: the run's --known-deviations, and where it records them."""

from __future__ import annotations

import pytest

from tests.property.judge import Judge

PRODUCTION = frozenset(f"D{n}" for n in range(1, 13))


def parse_known(value: str | None) -> frozenset[str]:
    if not value or value.strip().lower() == "none":
        return frozenset()
    if value.strip().lower() == "production":
        return PRODUCTION
    return frozenset(part.strip().upper() for part in value.split(",") if part.strip())


@pytest.fixture(scope="session")
def judge(request: pytest.FixtureRequest) -> Judge:
    """One judge for the session's property tests."""
    return Judge(parse_known(request.config.getoption("known_deviations", None)))
