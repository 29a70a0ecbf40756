"""The request pipeline every spec operation runs through.

One endpoint per path dispatches on the method to its operation, then runs
straight through: read body -> decode JSON -> authenticate -> validate ->
act -> respond. Each step raises an `ApiError` that `app.py` renders.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from email.message import Message
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.auth import Caller
from mock_server.errors import (
    BODY_NOT_UTF8,
    BODY_TOO_LARGE,
    CONTROL_TOKEN_REQUIRED,
    BadRequest,
    PayloadTooLarge,
    Unauthorized,
    ValidationFailed,
)
from mock_server.responses import json_response
from mock_server.routes import Context, Result
from mock_server.spec import Operation
from mock_server.state import MockState
from mock_server.validation import MISSING, raise_if_any, validate_body, validate_params

Handler = Callable[[Context], Result]


async def read_body(request: Request, limit: int) -> bytes:
    """The exact body bytes, refused with 413 past `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(BODY_TOO_LARGE.format(limit=limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(BODY_TOO_LARGE.format(limit=limit))
        chunks.append(chunk)
    return b"".join(chunks)


def decode_body(raw: bytes, content_type: str | None) -> Any:
    """JSON when the content type is JSON (or absent), else the raw text, as
    FastAPI does; undecodable JSON is refused here, before authentication."""
    if not raw:
        return MISSING
    if content_type:
        message = Message()
        message["content-type"] = content_type
        subtype = message.get_content_subtype()
        is_json = message.get_content_maintype() == "application" and (
            subtype == "json" or subtype.endswith("+json")
        )
        if not is_json:
            return raw.decode("utf-8", errors="replace")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            [
                {
                    "type": "json_invalid",
                    "loc": ["body", exc.pos],
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ]
        ) from None
    except (UnicodeDecodeError, RecursionError):
        raise BadRequest(BODY_NOT_UTF8) from None


def check_control_token(state: MockState, headers: Mapping[str, str]) -> Caller:
    expected = state.settings.control_token
    given = headers.get("x-mock-control-token", "")
    if expected and not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(CONTROL_TOKEN_REQUIRED)
    return Caller("control", None)


def make_endpoint(operations: dict[str, Operation], handlers: dict[str, Handler]):
    """The Starlette endpoint of one path; `operations` maps method -> operation."""

    async def endpoint(request: Request) -> Response:
        operation = operations[request.method]
        state: MockState = request.app.state.mock
        settings = state.settings
        # 1. Body: the exact bytes (413 past the limit), decoded where the
        #    operation takes JSON (422 json_invalid comes before auth).
        raw = await read_body(request, settings.max_body_bytes)
        body = decode_body(raw, request.headers.get("content-type")) if operation.has_body else None
        # 2. Authenticate (401): a spec operation's caller, or the control token.
        if operation.document == "control":
            caller = check_control_token(state, request.headers)
        else:
            caller = state.authenticator.authenticate(
                operation, request.headers, raw, request.path_params
            )
        request.state.auth_kind = caller.kind
        # 3. Validate query, path and body against the spec (422).
        lax = settings.quirk("D10")
        params, entries = validate_params(
            operation,
            request.query_params,
            request.path_params,
            lax=lax,
            skip_minimum=settings.quirk("D1"),
        )
        if operation.has_body:
            body, body_entries = validate_body(operation, body, lax=lax)
            entries += body_entries
        raise_if_any(entries)
        # 4. Act: the operation's handler applies the business rules.
        payload, headers = handlers[operation.operation_id](Context(state, caller, params, body))
        # 5. Respond.
        return json_response(payload, 200, headers)

    return endpoint
