"""The Schemathesis configuration of the contract suite.

Expected statuses encode docs/behaviour.md: with valid credentials, schema-valid
data may still meet a business rule (400 name/object type, 409 duplicate
name) or an unknown id (404); schema-invalid data must be refused.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import settings as hypothesis_settings

from mock_server.settings import DEFAULT_SPEC
from tests.support import profiles
from tests.support.target import Target

SPEC = DEFAULT_SPEC  # the checkout's openapi/auth.yaml, or the installed copy
REPLACEMENT = "***"
# Header/query names whose values never appear in a report.
SECRET_NAMES = ["authorization", "x-chutes-signature", "api_key", "apikey", "cookie", "set-cookie"]
SECRET_MARKERS = ["token", "secret", "password", "passwd", "auth", "session", "credential"]

POSITIVE_STATUSES = ["200", "400", "404", "409"]
NEGATIVE_STATUSES = ["400", "401", "404", "405", "409", "413", "422"]


def max_examples() -> int:
    """Fuzzing examples per operation: the profile's, or CONTRACT_MAX_EXAMPLES."""
    override = os.environ.get("CONTRACT_MAX_EXAMPLES")
    if override:
        return int(override)
    return profiles.examples(ci=profiles.CI_EXAMPLES, deep=profiles.DEEP_EXAMPLES)


def coverage_enabled() -> bool:
    """The coverage phase (deterministic edge cases); CONTRACT_COVERAGE=0 turns it off."""
    return os.environ.get("CONTRACT_COVERAGE", "1") != "0"


def contract_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
                "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES},
            },
            "generation": {
                "max-examples": max_examples(),
                "deterministic": bool(hypothesis_settings().derandomize),
            },
            "phases": {"coverage": {"enabled": coverage_enabled()}},
            "output": {
                "sanitization": {
                    "keys-to-sanitize": SECRET_NAMES,
                    "sensitive-markers": SECRET_MARKERS,
                    "replacement": REPLACEMENT,
                }
            },
        }
    )


def load_schema(target: Target) -> schemathesis.BaseSchema:
    """The contract bound to the target: its ASGI app in-process, else its URL."""
    schema = schemathesis.openapi.from_path(str(SPEC), config=contract_config())
    if target.in_process:
        schema.app = target.app
    else:
        schema.config.update(base_url=target.base_url)
    return schema
