"""Drift's teeth: served mocks broken on purpose each give a class, shrunk to a
few calls and tagged with no deviation; the mock served as it is gives none.

By URL, because a breakage patches the mock's modules: in this process it
would break the twin too. One launcher (`support.broken_server`) serves them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.drift.report import script
from tests.drift.steps import Auth, AuthKind, Step
from tests.drift.test_drift import drift_for, explore
from tests.support import broken_server
from tests.support import details as D
from tests.support.deviations import Recorder
from tests.support.target import url_target

URL_ENV = {
    "CHUTES_HOTKEY_URI": "//Alice",
    "CHUTES_HOTKEY2_URI": "//Bob",
    "CHUTES_REGISTRY_PASSWORD": "chutes-mock-registry",
}
BROKEN = [
    "any_signature",
    "shows_other_users_keys",
    "secret_in_get_key",
    "duplicate_name_is_400",
    "wrong_method_is_404",
]
SEQUENCES = 20

# Its module fixture serves mocks and runs suites once: under xdist the
# module stays on one worker (make test runs --dist loadgroup).
pytestmark = [pytest.mark.in_process, pytest.mark.xdist_group("drift-teeth")]


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    """Each breakage, and the mock as it is ('none'), by URL."""
    with broken_server.launched(["none", *BROKEN]) as urls:
        yield urls


def drift_on(url: str, sequences: int = SEQUENCES):
    for _ in range(600):  # the child may still be starting
        try:
            httpx.get(f"{url}/_mock/state", timeout=5)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    target = url_target(url, URL_ENV, max_keys=10**6)  # a mock of this test's own
    target.attach(Recorder())
    drift = drift_for(target, frozenset())
    if sequences:
        explore(drift, sequences)
    return target, drift


@pytest.mark.parametrize("breakage", BROKEN)
def test_a_broken_mock_drifts_in_a_few_calls_and_is_no_deviation(
    served: dict[str, str], breakage: str
) -> None:
    target, drift = drift_on(served[breakage])
    try:
        assert drift.classes, f"{breakage}: no difference in {SEQUENCES} sequences"
        tagged = {str(c.key): sorted(c.tags) for c in drift.classes.values() if c.tags}
        assert not tagged, f"{breakage} is no deviation, yet: {tagged}"
        commonest = max(drift.classes.values(), key=lambda c: c.count)
        drift.shrink(commonest)
        assert commonest.shrunk and commonest.example is not None
        assert len(commonest.example.steps) <= 4, [str(s) for s in commonest.example.steps]
        replay = script(commonest.example, target.ledger.marker)
        assert "$CHUTES_BASE_URL" in replay and "cpk_" not in replay.replace(
            "cpk_not.a.key", ""
        ).replace("cpk_0000", "")
    finally:
        target.cleanup()
        target.client.close()


def test_the_mock_by_url_does_not_drift_from_itself(served: dict[str, str]) -> None:
    target, drift = drift_on(served["none"])
    try:
        assert drift.sequences == SEQUENCES
        assert drift.requests["deployment"] > SEQUENCES * 5
        assert not drift.classes, [str(k) for k in drift.classes]
    finally:
        target.cleanup()
        target.client.close()


def test_the_replay_script_replays_the_sequence(served: dict[str, str]) -> None:
    """The report's script, run by bash on the served mock, makes the same calls:
    the key it creates is then used by its secret, deleted, and refused."""
    url = served["none"]
    target, drift = drift_on(url, sequences=0)
    a, key = Auth(AuthKind.HOTKEY, "A"), Auth(AuthKind.KEY, key=0, scheme="Bearer")
    steps = [
        Step("POST", "/api_keys/", a, body=b'{"name":"{m}k0","admin":true}'),
        Step("GET", "/api_keys/{key}", key, key=0),
        Step("DELETE", "/api_keys/{key}", a, key=0),
        Step("GET", "/api_keys/", key, query="limit=1"),
        Step("GET", "/api_keys/", Auth(AuthKind.STALE_NONCE, "B")),
    ]
    try:
        seen = drift.execute(steps)
        assert [e.status for e in seen.deployment] == [200, 200, 200, 401, 401]
        replay = script(seen, target.ledger.marker)
        environ = {
            **os.environ,
            **URL_ENV,
            "CHUTES_BASE_URL": url,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        done = subprocess.run(
            ["bash", "-c", "set -eu\n" + replay],
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert '"secret_key":"cpk_' in lines[0]
        assert '"deleted":true' in lines[2]
        assert lines[3:] == [
            json.dumps({"detail": D.API_KEY_REFUSED}, separators=(",", ":")),
            json.dumps({"detail": D.INVALID_NONCE}, separators=(",", ":")),
        ]
    finally:
        target.cleanup()
        target.client.close()
