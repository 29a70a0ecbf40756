"""One thin handler per operationId of `openapi/auth.yaml`.

A handler gets the authenticated, validated `Context` and returns
`(payload, headers)`; refusals are raised as `errors.ApiError`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from mock_server import rules, views
from mock_server.context import Context, Result
from mock_server.errors import DELETE_KEY_NOT_FOUND, GET_KEY_NOT_FOUND, NotFound
from mock_server.quirks import crashes, formats, ordering

DEFAULT_LIMIT = 25


def registry_auth(ctx: Context) -> Result:
    credentials = base64.b64encode(f":{ctx.state.settings.registry_password}".encode())
    value = formats.registry_credentials(ctx.state.settings.quirks, credentials)
    return {"authenticated": True}, {"Authorization": f"Basic {value}"}


def list_keys(ctx: Context) -> Result:
    page, limit = ctx.params["page"], ctx.params["limit"]
    effective = limit or DEFAULT_LIMIT
    offset = page * effective
    quirks = ctx.state.settings.quirks
    crashes.negative_paging(quirks, page, limit)
    crashes.paging_beyond_int64(quirks, page, limit, offset)
    total, items = ordering.list_keys(quirks, ctx.state.store, ctx.user_id, offset, effective)
    naive = ctx.naive_dates
    return {
        "total": total,
        "page": page,
        "limit": limit,
        "items": [views.key_view(k, naive=naive) for k in items],
        "cord_refs": None,
    }, {}


def create_api_key(ctx: Context) -> Result:
    settings = ctx.state.settings
    body = ctx.body
    rules.check_name(body["name"], settings.quirks)
    scopes = rules.check_scopes(body["admin"], body.get("scopes", []), settings.quirks)
    key, token = ctx.state.store.create_key(
        ctx.user_id, body["name"], body["admin"], scopes, ctx.state.clock.now()
    )
    return {**views.key_view(key, naive=ctx.naive_dates), "secret_key": token}, {}


def get_key(ctx: Context) -> Result:
    api_key_id = ctx.params["api_key_id"]
    key = ctx.state.store.owned_key(ctx.user_id, api_key_id)
    if key is None:
        raise NotFound(GET_KEY_NOT_FOUND.format(api_key_id=api_key_id))
    return views.key_view(key, naive=ctx.naive_dates), {}


def delete_api_key(ctx: Context) -> Result:
    api_key_id = ctx.params["api_key_id"]
    if not ctx.state.store.delete_key(ctx.user_id, api_key_id):
        raise NotFound(DELETE_KEY_NOT_FOUND)
    return {"api_key_id": api_key_id, "deleted": True}, {}


HANDLERS: dict[str, Callable[[Context], Result]] = {
    "registry_auth": registry_auth,
    "list_keys": list_keys,
    "create_api_key": create_api_key,
    "get_key": get_key,
    "delete_api_key": delete_api_key,
}
