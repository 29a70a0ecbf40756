"""Hypothesis profiles shared by the contract and property suites.

    ci    derandomized and bounded: every commit (the default)
    deep  randomized, ten times the examples: nightly runs

Select with `--hypothesis-profile deep` or HYPOTHESIS_PROFILE=deep.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Verbosity, settings

RELAXED = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

NAMES = ("ci", "deep")

# Examples per test: the suites scale their own settings from these.
CI_EXAMPLES = 25
DEEP_EXAMPLES = 250


def register() -> None:
    settings.register_profile(
        "ci",
        max_examples=CI_EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=RELAXED,
        print_blob=True,
        database=None,
    )
    settings.register_profile(
        "deep",
        max_examples=DEEP_EXAMPLES,
        derandomize=False,
        deadline=None,
        suppress_health_check=RELAXED,
        print_blob=True,
        verbosity=Verbosity.normal,
    )


def unknown(name: str | None) -> str | None:
    """A usage message when `name` is not a profile of the suites; else None."""
    if not name or name in NAMES:
        return None
    return f"unknown Hypothesis profile {name!r}: the suites' profiles are {', '.join(NAMES)}"


def examples(ci: int, deep: int) -> int:
    """The example count for the active profile."""
    return deep if settings().max_examples >= DEEP_EXAMPLES else ci


# Keys one process of a run may want to create (the default of --max-keys,
# times the xdist workers): the contract suite's probes and fuzz (under 200),
# and the state machine's examples with room kept to shrink a failure (12 per
# example: 300 in `ci`, 3,000 in `deep`).
CI_KEYS = 600
DEEP_KEYS = 3600


def key_budget() -> int:
    """The default --max-keys of one process for the active profile."""
    return examples(ci=CI_KEYS, deep=DEEP_KEYS)
