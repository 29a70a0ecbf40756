"""The D8 and D12 recognisers and the mock agree (behaviour §7, §9): every
request off the five operations that production's routing answers otherwise
than the contract's is recognised as D12, over a matrix of paths, methods
and credentials; on the five operations nothing is D12; and every non-admin
key production lets through is D8."""

from __future__ import annotations

import itertools

import pytest

from mock_server.quirks import parse_quirks
from tests.support.deviations import Recorder
from tests.support.routing import operation
from tests.support.signing import hotkey_headers, purpose_for
from tests.support.target import Target, in_process_target

pytestmark = pytest.mark.in_process

PATHS = [
    "/api_keys",
    "/api_keys/",
    "/registry/auth",
    "/registry/auth/",
    "/api_keys/3f0c7a52-7d4e-4b8e-9a35-0d6c8c1f2a10/",
    "/api_keys/a/b",
    "/x/chutes",
    "/",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
CREDENTIALS = ["none", "api-key", "malformed-key", "jwt", "hotkey"]


def credentials(target: Target, kind: str, method: str, path: str) -> dict[str, str]:
    if kind == "api-key":
        return {"Authorization": f"Basic {target.api_key_a}"}
    if kind == "malformed-key":
        return {"Authorization": "Basic cpk_nope"}
    if kind == "jwt":
        return {"Authorization": "Bearer abc.def.ghi"}
    if kind == "hotkey":
        return hotkey_headers(target.user_a.keypair, int(target.now()), purpose_for(method, path))
    return {}


def test_every_difference_off_the_five_operations_is_d12():
    production = in_process_target(quirks=parse_quirks("production"))
    contract = in_process_target()
    recorder = Recorder()
    production.attach(recorder)
    unrecognised, misnamed, differing = [], [], 0
    for path, method, kind in itertools.product(PATHS, METHODS, CREDENTIALS):
        theirs = production.client.request(
            method, path, headers=credentials(production, kind, method, path)
        )
        ours = contract.client.request(
            method, path, headers=credentials(contract, kind, method, path)
        )
        if (theirs.status_code, theirs.content) == (ours.status_code, ours.content):
            continue
        differing += 1
        shown = recorder.recognise(production.exchange(theirs)).deviations
        case = f"{method} {path} ({kind}): {theirs.status_code} {theirs.text[:60]}"
        if operation(method, path) is None and "D12" not in shown:
            unrecognised.append(case)
        if operation(method, path) is not None and "D12" in shown:
            misnamed.append(case)
    assert differing > 100  # the matrix does reach the catch-all
    assert unrecognised == []
    assert misnamed == []


SCOPES = [
    ("chutes", None, None),
    ("chutes", None, "read"),
    ("chutes", "chutes", None),
    ("chutes", "other", None),
    ("chutes", None, "write"),
    ("images", None, "delete"),
]
SCOPED_PATHS = ["/api_keys/chutes", "/api_keys/images", "/x/chutes", "/x/y/chutes", "/chutes"]
SCOPED_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE"]


def test_every_non_admin_key_let_through_is_d8():
    """A non-admin key that production lets through (404 where the contract
    refuses it) is recognised as D8, on the five operations and through the
    catch-all; its other differences are the catch-all's (D12) alone."""
    production = in_process_target(quirks=parse_quirks("production"))
    contract = in_process_target()
    recorder = Recorder()
    production.attach(recorder)
    wrong, let_through = [], 0
    for number, scope in enumerate(SCOPES):
        body = [dict(zip(("object_type", "object_id", "action"), scope, strict=True))]
        keys = [
            target.create_key(target.user_a, f"s{number}", admin=False, scopes=body)["secret_key"]
            for target in (production, contract)
        ]
        for path, method in itertools.product(SCOPED_PATHS, SCOPED_METHODS):
            theirs = production.with_key(keys[0], method, path)
            ours = contract.with_key(keys[1], method, path)
            if (theirs.status_code, theirs.content) == (ours.status_code, ours.content):
                continue
            shown = recorder.recognise(production.exchange(theirs)).deviations
            passed = theirs.status_code == 404
            let_through += passed
            if (passed and "D8" not in shown) or not shown or not shown <= {"D8", "D12"}:
                wrong.append(f"{scope} {method} {path}: {theirs.status_code} {sorted(shown)}")
    assert let_through > 10
    assert wrong == []
