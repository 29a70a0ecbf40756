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
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send

from mock_server.auth import AuthKind, Caller
from mock_server.context import Context, Result
from mock_server.errors import (
    BODY_NOT_UTF8,
    BODY_TOO_LARGE,
    CONTROL_TOKEN_REQUIRED,
    BadRequest,
    PayloadTooLarge,
    Unauthorized,
    ValidationFailed,
)
from mock_server.quirks import coercion
from mock_server.responses import send_json
from mock_server.spec import Document, Operation
from mock_server.state import MockState
from mock_server.validation import MISSING, raise_if_any, validate_body, validate_params

Handler = Callable[[Context], Result]

# The control API's bodies are small (its fields are bounded in
# openapi/control.yaml); a smaller cap keeps parsing them well under 50 ms.
CONTROL_MAX_BODY_BYTES = 64 * 1024


def header_map(scope: Scope) -> dict[str, str]:
    """The request's headers in one pass: lower-case names, first value wins
    (as Starlette's `Headers.get` answers)."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


def query_map(scope: Scope) -> dict[str, str]:
    """The query parameters, last value wins (as Starlette's `query_params`)."""
    query = scope.get("query_string", b"")
    if not query:
        return {}
    text = query.decode("latin-1")
    if "%" in text or "+" in text:
        return dict(parse_qsl(text, keep_blank_values=True))
    result = {}  # the same as parse_qsl where nothing is escaped, at a fraction of its cost
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            result[name] = value
    return result


def has_body(headers: Mapping[str, str]) -> bool:
    """HTTP/1.1, as uvicorn serves it: a request with neither a length nor
    chunking has no body (an HTTP/2 server could send one without either)."""
    return "content-length" in headers or "transfer-encoding" in headers


async def read_body(
    scope: Scope, receive: Receive, headers: Mapping[str, str], limit: int
) -> bytes:
    """The exact body bytes, refused with 413 past `limit`."""
    declared = headers.get("content-length", "")
    digits = declared.lstrip("0")  # leading zeros are allowed, and say nothing of the size
    if declared.isascii() and declared.isdigit() and (len(digits) > 18 or int(declared) > limit):
        raise PayloadTooLarge(BODY_TOO_LARGE.format(limit=limit))
    chunks, size = [], 0
    async for chunk in Request(scope, receive).stream():
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
    except (ValueError, RecursionError):
        # UnicodeDecodeError, or an integer past Python's 4300-digit limit:
        # FastAPI answers any parse failure but a JSONDecodeError this way.
        raise BadRequest(BODY_NOT_UTF8) from None


def check_control_token(state: MockState, headers: Mapping[str, str]) -> Caller:
    expected = state.settings.control_token
    given = headers.get("x-mock-control-token", "")
    if expected and not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(CONTROL_TOKEN_REQUIRED)
    return Caller(AuthKind.CONTROL, None)


class Endpoint:
    """The ASGI app of one spec path over one state; `operations` maps
    method -> operation.

    A plain ASGI endpoint (no per-request `Request`); refusals raised here
    reach the app's exception handlers through Starlette's middleware.
    """

    def __init__(
        self, operations: dict[str, Operation], handlers: dict[str, Handler], state: MockState
    ) -> None:
        self.operations = operations
        self.handlers = handlers
        self.state = state
        quirks = state.settings.quirks
        self.body_limit = state.settings.max_body_bytes
        if any(op.document is Document.CONTROL for op in operations.values()):
            self.body_limit = min(self.body_limit, CONTROL_MAX_BODY_BYTES)
        self.lax = coercion.lax_types(quirks)
        self.skip_minimum = coercion.no_lower_bounds(quirks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = self.operations[scope["method"]]
        state = self.state
        headers = header_map(scope)
        path_params = scope.get("path_params", {})
        # 1. Body: the exact bytes (413 past the limit), decoded where the
        #    operation takes JSON (422 json_invalid comes before auth). A
        #    client gone before its body is complete (it hung up, or the
        #    server dropped a malformed chunked body) gets no answer: nobody
        #    is there to read it, and it is no server error.
        try:
            raw = (
                await read_body(scope, receive, headers, self.body_limit)
                if has_body(headers)
                else b""
            )
        except ClientDisconnect:
            scope.setdefault("state", {})["disconnected"] = True
            return
        # The control API reads JSON whatever the content type (curl -d sends a form's).
        content_type = (
            None if operation.document is Document.CONTROL else headers.get("content-type")
        )
        body = decode_body(raw, content_type) if operation.has_body else None
        # 2. Authenticate (401): a spec operation's caller, or the control token.
        if operation.document is Document.CONTROL:
            caller = check_control_token(state, headers)
        else:
            caller = state.authenticator.authenticate(operation, headers, raw, path_params)
        scope_state = scope.setdefault("state", {})
        scope_state["auth_kind"] = caller.kind
        scope_state["caller"] = caller  # for the journal
        # 2b. A fault rule for this operation and caller may answer instead (faults.py).
        point = scope_state.get("fault_point")
        if point is not None:
            user = caller.user.username if caller.user is not None else None
            if await point.at_operation(operation.operation_id, user, caller.kind, receive, send):
                return
        # 3. Validate query, path and body against the spec (422).
        params, entries = validate_params(
            operation, query_map(scope), path_params, lax=self.lax, skip_minimum=self.skip_minimum
        )
        if operation.has_body:
            body, body_entries = validate_body(operation, body, lax=self.lax)
            entries += body_entries
        raise_if_any(entries)
        # 4. Act: the operation's handler applies the business rules.
        payload, extra_headers = self.handlers[operation.operation_id](
            Context(state, caller, params, body)
        )
        # 5. Respond.
        await send_json(send, payload, extra_headers, operation.success_status)
