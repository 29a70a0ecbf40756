"""Handlers of the `/_mock/` control API (`openapi/control.yaml`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mock_server import hotkeys, jwt_tokens, keys, spec, views
from mock_server.clock import LATEST
from mock_server.context import Context, Result
from mock_server.errors import CLOCK_OUT_OF_RANGE, BadRequest, NotFound
from mock_server.faults import FaultBook, check_rule
from mock_server.journal import DEFAULT_PAGE, Journal
from mock_server.state import MockState


def state_view(state: MockState) -> dict:
    store = state.store
    return {
        "now": state.clock.now(),
        "users": [views.user_view(u) for u in store.users()],
        "metagraph": {str(n): hks for n, hks in store.metagraph().items()},
        "keys": [views.key_view(k) for k in store.all_keys()],
    }


def mock_reset(ctx: Context) -> Result:
    ctx.state.reset()
    return state_view(ctx.state), {}


def mock_state(ctx: Context) -> Result:
    return state_view(ctx.state), {}


def mock_add_user(ctx: Context) -> Result:
    body = ctx.body
    given = [name for name in ("hotkey", "uri", "seed") if body.get(name)]
    if len(given) > 1:
        raise BadRequest("Give one of hotkey, uri or seed")
    hotkey = body.get("hotkey") or None
    try:
        if body.get("uri") or body.get("seed"):
            hotkey = hotkeys.keypair_from(uri=body.get("uri"), seed=body.get("seed")).ss58_address
    except Exception as exc:
        raise BadRequest(f"Cannot derive a hotkey: {exc}") from None
    if hotkey and not hotkeys.is_valid_address(hotkey):
        raise BadRequest(f"{hotkey} is not an ss58 address")
    user_id = body.get("user_id")
    if user_id is not None and keys.parse_uuid(user_id) is None:
        raise BadRequest(f"user_id {user_id} is not a UUID")
    user = ctx.state.store.add_user(body["username"], hotkey, user_id and keys.parse_uuid(user_id))
    for netuid in body.get("registered_on") or []:
        if hotkey:
            ctx.state.store.register(int(netuid), hotkey)  # JSON Schema admits 65.0
    return views.user_view(user), {}


def _registration(ctx: Context, registered: bool) -> Result:
    netuid, hotkey = ctx.params["netuid"], ctx.params["hotkey"]
    if registered:
        ctx.state.store.register(netuid, hotkey)
    else:
        ctx.state.store.unregister(netuid, hotkey)
    return {"netuid": netuid, "hotkey": hotkey, "registered": registered}, {}


def mock_register_hotkey(ctx: Context) -> Result:
    return _registration(ctx, True)


def mock_unregister_hotkey(ctx: Context) -> Result:
    return _registration(ctx, False)


def _clock_view(ctx: Context) -> Result:
    return {"now": ctx.state.clock.now(), "frozen": ctx.state.clock.frozen}, {}


def mock_get_clock(ctx: Context) -> Result:
    return _clock_view(ctx)


def mock_set_clock(ctx: Context) -> Result:
    ctx.state.clock.set(ctx.body["now"])
    return _clock_view(ctx)


def mock_advance_clock(ctx: Context) -> Result:
    seconds = ctx.body["seconds"]
    # Compared before adding: a float plus an integer past 1.8e308 overflows.
    if not -LATEST <= seconds <= LATEST or not 0 <= ctx.state.clock.now() + seconds <= LATEST:
        raise BadRequest(CLOCK_OUT_OF_RANGE.format(seconds=seconds))
    ctx.state.clock.advance(seconds)
    return _clock_view(ctx)


# A chosen `sub` is for testing malformed tokens; bounded like every input.
MAX_SUB_JSON = 1024
SUB_TOO_LONG = f"sub must be at most {MAX_SUB_JSON} characters as JSON"


def _json_length(value: Any) -> int:
    try:
        return len(json.dumps(value))
    except (RecursionError, ValueError):
        return MAX_SUB_JSON + 1


def mock_mint_jwt(ctx: Context) -> Result:
    if "sub" in ctx.body and _json_length(ctx.body["sub"]) > MAX_SUB_JSON:
        raise BadRequest(SUB_TOO_LONG)
    user = ctx.state.store.user(ctx.body["user_id"])
    if user is None:
        raise NotFound(f"No user with id {ctx.body['user_id']}")
    extra = {"sub": ctx.body["sub"]} if "sub" in ctx.body else {}
    token = jwt_tokens.mint(
        user, ctx.state.jwt_secret, ctx.state.clock.now(), ctx.body.get("ttl", 86400), **extra
    )
    return {"token": token}, {}


def mock_add_key(ctx: Context) -> Result:
    body = ctx.body
    if ctx.state.store.user(body["user_id"]) is None:
        raise NotFound(f"No user with id {body['user_id']}")
    admin = body.get("admin", True)
    scopes = (
        []
        if admin
        else [
            (s["object_type"], s.get("object_id"), s.get("action"))
            for s in body.get("scopes") or []
        ]
    )
    try:
        key, token = ctx.state.store.create_key(
            body["user_id"],
            body["name"],
            admin,
            scopes,
            ctx.state.clock.now(),
            body.get("secret_key"),
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return {**views.key_view(key), "secret_key": token}, {}


def _faults(ctx: Context) -> FaultBook:
    assert ctx.state.faults is not None
    return ctx.state.faults


def mock_add_fault(ctx: Context) -> Result:
    contract = spec.operations_of(ctx.state.settings.spec_path, spec.Document.AUTH)
    problem = check_rule(ctx.body, {op.operation_id for op in contract})
    if problem:
        raise BadRequest(problem)
    try:
        rule = _faults(ctx).add(ctx.body)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return {"id": rule.id}, {}


def mock_list_faults(ctx: Context) -> Result:
    return {"faults": [rule.view() for rule in _faults(ctx).rules]}, {}


def mock_clear_faults(ctx: Context) -> Result:
    removed = len(_faults(ctx).rules)
    _faults(ctx).clear()
    return {"removed": removed}, {}


def mock_remove_fault(ctx: Context) -> Result:
    fault_id = ctx.params["fault_id"]
    if not _faults(ctx).remove(fault_id):
        raise NotFound(f"No fault rule {fault_id}")
    return {"removed": 1}, {}


def handlers(journal: Journal) -> dict[str, Callable[[Context], Result]]:
    """One handler per operationId of `openapi/control.yaml`; the journal's
    two read and clear `journal`."""

    def list_requests(ctx: Context) -> Result:
        limit = ctx.params.get("limit", DEFAULT_PAGE)
        views = journal.views(
            method=ctx.params.get("method"),
            path=ctx.params.get("path"),
            status=ctx.params.get("status"),
            after=ctx.params.get("after", 0),
            limit=limit + 1,  # one more: is there a next page?
        )
        page = views[:limit]
        following = page[-1]["seq"] if len(views) > limit else None
        return {"requests": page, "size": journal.size, "next": following}, {}

    def clear_requests(ctx: Context) -> Result:
        cleared = len(journal)
        journal.clear()
        return {"cleared": cleared}, {}

    return {
        "mock_reset": mock_reset,
        "mock_state": mock_state,
        "mock_add_user": mock_add_user,
        "mock_register_hotkey": mock_register_hotkey,
        "mock_unregister_hotkey": mock_unregister_hotkey,
        "mock_get_clock": mock_get_clock,
        "mock_set_clock": mock_set_clock,
        "mock_advance_clock": mock_advance_clock,
        "mock_mint_jwt": mock_mint_jwt,
        "mock_add_key": mock_add_key,
        "mock_add_fault": mock_add_fault,
        "mock_list_faults": mock_list_faults,
        "mock_clear_faults": mock_clear_faults,
        "mock_remove_fault": mock_remove_fault,
        "mock_list_requests": list_requests,
        "mock_clear_requests": clear_requests,
    }
