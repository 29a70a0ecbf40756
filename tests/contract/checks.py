"""Custom checks: invariants of docs/behaviour.md the schema cannot express.

Each is a Schemathesis check `(ctx, response, case)` that raises
AssertionError on a violation; `contract_checks(state)` binds them to the
run's state (the caller's id, the secrets of the keys it created).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from tests.contract.safety import CREATE, DELETE_KEY, GET_KEY, LIST, REGISTRY, RunState
from tests.support import details as D
from tests.support.recognisers import contract_order, key_objects

Check = Callable[[Any, Any, Any], None]
_NAME = re.compile(r"[\w$.\-\s\u0080-\uffff]{1,24}")
OBJECT_TYPES = ("images", "chutes", "invocations")
# The details an error status may carry, per operation (behaviour §1–§5).
_ANY_401 = [
    D.pattern(D.NO_CREDENTIALS),
    D.pattern(D.INVALID_NONCE),
    D.pattern(D.UNPARSEABLE_SIGNATURE, error=".+"),
    D.pattern(D.BAD_SIGNATURE, hotkey=r"\S*"),
    D.pattern(D.MALFORMED_API_KEY),
    D.pattern(D.API_KEY_REFUSED),
    D.pattern(D.JWT_INVALID),
    D.pattern(D.JWT_EXPIRED),
]
_DETAILS: dict[tuple[str, int], list[str]] = {
    (REGISTRY, 401): [*_ANY_401, D.pattern(D.NOT_REGISTERED, netuid=r"\d+")],
    **{
        (label, 401): [*_ANY_401, D.pattern(D.UNKNOWN_HOTKEY, hotkey=r"\S*")]
        for label in (LIST, CREATE, GET_KEY, DELETE_KEY)
    },
    (CREATE, 400): [
        D.pattern(D.BAD_KEY_NAME),
        D.pattern(D.BAD_OBJECT_TYPE),
        D.pattern(D.BODY_NOT_UTF8),
    ],
    (CREATE, 409): [D.pattern(D.DUPLICATE_KEY_NAME)],
    (GET_KEY, 404): [D.pattern(D.GET_KEY_NOT_FOUND)],
    (DELETE_KEY, 404): [D.pattern(D.DELETE_KEY_NOT_FOUND)],
}
_TOKEN = re.compile(r"cpk_[a-f0-9]{32}\.[a-f0-9]{32}\.[a-zA-Z0-9]{32}")
DEFAULT_LIMIT = 25


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _contains_field(value: Any, name: str) -> bool:
    if isinstance(value, dict):
        return name in value or any(_contains_field(v, name) for v in value.values())
    if isinstance(value, list):
        return any(_contains_field(v, name) for v in value)
    return False


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def contract_checks(state: RunState) -> list[Check]:
    """The custom checks, bound to this run's state."""
    client = state.target.client

    def tolerated(answer: Any, what: str) -> bool:
        """A check's own request met a listed deviation that is its whole
        answer: the check passes. Otherwise the deviations it shows tag the
        failure."""
        recorder = state.target.recorder
        if recorder is None:
            return False
        verdict = recorder.judge(state.target.exchange(answer), test=state.current_test, what=what)
        if verdict.tolerated and verdict.contract is None:
            return True
        if not verdict.tolerated:
            state.inner_deviations |= verdict.deviations
        return False

    def secret_only_in_create(ctx: Any, response: Any, case: Any) -> None:
        """`secret_key` (or any API key token) appears only in a create response."""
        if case.operation.label == CREATE and response.status_code == 200:
            return
        payload = _json(response)
        assert not _contains_field(payload, "secret_key"), (
            f"{case.operation.label} answered {response.status_code} with a `secret_key` field"
        )
        assert not _TOKEN.search(response.text or ""), (
            f"{case.operation.label} answered {response.status_code} with an API key token"
        )

    def keys_belong_to_caller(ctx: Any, response: Any, case: Any) -> None:
        """Every key a 200 response shows belongs to the caller (user A)."""
        if response.status_code != 200 or state.caller_id is None:
            return
        for key in key_objects(case.operation.label, _json(response)):
            assert key.get("user_id") == state.caller_id, (
                f"{case.operation.label} showed key {key.get('api_key_id')} of user "
                f"{key.get('user_id')} to user {state.caller_id}"
            )

    def page_within_limit(ctx: Any, response: Any, case: Any) -> None:
        """A list page holds at most `limit` (0 or absent: 25) items, `total` at least that."""
        if case.operation.label != LIST or response.status_code != 200:
            return
        payload = _json(response)
        if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
            return  # the schema check reports the shape
        limit = _as_int((case.query or {}).get("limit")) or DEFAULT_LIMIT
        items, total = payload["items"], payload.get("total")
        assert len(items) <= limit, f"{len(items)} items on a page of limit {limit}"
        assert isinstance(total, int) and total >= len(items), (
            f"total {total!r} is less than the {len(items)} items on the page"
        )

    def page_in_contract_order(ctx: Any, response: Any, case: Any) -> None:
        """A list page's keys are in the contract's order, `created_at` then
        `api_key_id` (a window on a sorted list is sorted)."""
        if case.operation.label != LIST or response.status_code != 200:
            return
        items = key_objects(LIST, _json(response))
        shown = [item.get("api_key_id") for item in items]
        assert shown == contract_order(items), (
            f"a page of {len(shown)} keys is not in created_at, api_key_id order"
        )

    def registry_header_basic(ctx: Any, response: Any, case: Any) -> None:
        """The registry answers `Authorization: Basic <base64(":" + password)>`."""
        if case.operation.label != REGISTRY or response.status_code != 200:
            return
        values = response.headers.get("authorization") or response.headers.get("Authorization")
        value = values[0] if isinstance(values, list) and values else values
        assert isinstance(value, str) and value.startswith("Basic "), (
            f"registry Authorization header starts {value[:8]!r}, not `Basic <base64>`"
        )
        encoded = value.removeprefix("Basic ")
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            # The value holds the registry password: show its shape, never itself.
            shape = f"{encoded[:2]}…{encoded[-1:]}" if encoded.startswith("b'") else "…"
            raise AssertionError(
                f"registry credentials {shape} ({len(encoded)} characters) are not valid base64"
            ) from None
        password = state.target.registry_password
        if password is not None:
            assert decoded == f":{password.reveal()}".encode(), (
                "registry credentials are not base64(':' + registry password)"
            )

    def new_key_authenticates(ctx: Any, response: Any, case: Any) -> None:
        """A created key's secret works as `Basic` (admin) or is refused (non-admin)."""
        if case.operation.label != CREATE or response.status_code != 200:
            return
        payload = _json(response) or {}
        secret, key_id = payload.get("secret_key"), payload.get("api_key_id")
        if not isinstance(secret, str) or not isinstance(key_id, str):
            return
        answer = client.get(f"/api_keys/{key_id}", headers={"Authorization": f"Basic {secret}"})
        wanted = 200 if payload.get("admin") is True else 401
        if answer.status_code != wanted and tolerated(answer, "a new key used at once"):
            return
        if payload.get("admin") is True:
            assert answer.status_code == 200, (
                f"the new admin key is refused: {answer.status_code} {answer.text[:200]}"
            )
        else:
            assert answer.status_code == 401, (
                f"a non-admin key is accepted on get_key: {answer.status_code}"
            )

    def deleted_key_refused(ctx: Any, response: Any, case: Any) -> None:
        """After a 200 delete, the key is refused: 401, as an unknown key (§4)."""
        if case.operation.label != DELETE_KEY or response.status_code != 200:
            return
        secret = state.secrets.get((case.path_parameters or {}).get("api_key_id", ""))
        if secret is None:
            return
        answer = client.get("/api_keys/", headers={"Authorization": f"Basic {secret}"})
        detail = (_json(answer) or {}).get("detail") if answer.status_code == 401 else None
        refused = answer.status_code == 401 and detail == D.API_KEY_REFUSED
        if not refused and tolerated(answer, "a deleted key used again"):
            return
        assert refused, (
            f"a deleted key still authenticates: {answer.status_code} "
            f"{json.dumps(_json(answer))[:200] if _json(answer) is not None else answer.text[:200]}"
        )

    def details_are_the_contracts(ctx: Any, response: Any, case: Any) -> None:
        """An error's `detail` is one the contract gives for that operation and
        status, word for word (a 404 of get_key names the id asked for)."""
        label, status = case.operation.label, response.status_code
        patterns = _DETAILS.get((label, status))
        payload = _json(response)
        if patterns is None or not isinstance(payload, dict):
            return
        detail = payload.get("detail")
        for pattern in patterns:
            match = re.fullmatch(pattern, detail, re.S) if isinstance(detail, str) else None
            if match is None:
                continue
            asked = (case.path_parameters or {}).get("api_key_id")
            if "api_key_id" in match.groupdict() and asked is not None:
                # The server names the id it routed: percent-decoded, or as sent.
                assert match["api_key_id"] in (str(asked), unquote(str(asked))), (
                    f"{label} answered {status} naming id {match['id']!r}, asked for {asked!r}"
                )
            return
        raise AssertionError(
            f"{label} answered {status} with detail {json.dumps(detail)[:300]}, "
            "not one the contract gives for it (behaviour §1–§5)"
        )

    def create_follows_the_rules(ctx: Any, response: Any, case: Any) -> None:
        """A well-typed create body gets the status its rules fix: a name outside
        the rule 400, a non-admin scope of another object type 400, else 200
        (the suite's generated names are never taken, so never 409)."""
        if case.operation.label != CREATE or response.status_code not in (200, 400, 409):
            return
        body = case.body
        if not isinstance(body, dict) or not isinstance(body.get("admin"), bool):
            return
        name, scopes = body.get("name"), body.get("scopes", [])
        if not isinstance(name, str) or not (scopes is None or isinstance(scopes, list)):
            return
        if not all(
            isinstance(s, dict) and isinstance(s.get("object_type"), str) for s in scopes or []
        ):
            return
        if not _NAME.fullmatch(name):
            wanted, detail = 400, D.BAD_KEY_NAME
        elif not body["admin"] and any(s["object_type"] not in OBJECT_TYPES for s in scopes or []):
            wanted, detail = 400, D.BAD_OBJECT_TYPE
        else:
            wanted, detail = 200, None
        got = (_json(response) or {}).get("detail") if response.status_code != 200 else None
        assert (response.status_code, got) == (wanted, detail), (
            f"create answered {response.status_code} {json.dumps(got)[:200]}, "
            f"expected {wanted}" + (f" {json.dumps(detail)}" if detail else "")
        )

    return [
        details_are_the_contracts,
        create_follows_the_rules,
        secret_only_in_create,
        keys_belong_to_caller,
        page_within_limit,
        page_in_contract_order,
        registry_header_basic,
        new_key_authenticates,
        deleted_key_refused,
    ]
