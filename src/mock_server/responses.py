"""JSON and error responses, in the shapes the contract names."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from starlette.responses import PlainTextResponse, Response
from starlette.types import Send

from mock_server.errors import ApiError


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# Built once: json.dumps with these options would build an encoder per response.
_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def render_echo(payload: Any) -> bytes:
    """Compact UTF-8 JSON byte for byte as FastAPI writes it (the standard
    encoder), for payloads that may echo input; never fails on it (lone
    surrogates are escaped, NaN and infinities become strings)."""
    try:
        return _COMPACT.encode(payload).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return json.dumps(_finite(payload), separators=(",", ":")).encode("ascii")


def render_json(payload: Any) -> bytes:
    """A success payload, built from stored values, by orjson: the bytes of
    `render_echo` at a tenth of its cost (floats aside, which only the control
    API's clock holds: orjson writes 1e-05 as 0.00001). What orjson refuses,
    lone surrogates and integers past 64 bits, goes to `render_echo`."""
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:
        return render_echo(payload)


async def send_json(
    send: Send, payload: Any, headers: dict[str, str] | None = None, status: int = 200
) -> None:
    """A JSON answer (200 unless told) as the two ASGI messages, without a
    Response object (the success path of every operation)."""
    body = render_json(payload)
    raw = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    if headers:
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(render_echo(payload), status, headers, media_type="application/json")


def error_response(error: ApiError) -> Response:
    return json_response({"detail": error.detail}, error.status)


def production_500() -> Response:
    """What production answers where it crashes (a quirk only)."""
    return PlainTextResponse("Internal Server Error", 500)
