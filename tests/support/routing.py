"""The five operations of the contract, told apart by method and path."""

from __future__ import annotations

import re

REGISTRY = "GET /registry/auth"
LIST = "GET /api_keys/"
CREATE = "POST /api_keys/"
GET_KEY = "GET /api_keys/{api_key_id}"
DELETE_KEY = "DELETE /api_keys/{api_key_id}"

_ONE_SEGMENT = re.compile(r"^/api_keys/([^/]+)$")


def operation(method: str, path: str) -> str | None:
    """The operation a (percent-decoded) request path names, or None."""
    method = method.upper()
    if path == "/registry/auth":
        return REGISTRY if method == "GET" else None
    if path == "/api_keys/":
        return {"GET": LIST, "POST": CREATE}.get(method)
    if _ONE_SEGMENT.match(path):
        return {"GET": GET_KEY, "DELETE": DELETE_KEY}.get(method)
    return None


def key_id_in(path: str) -> str | None:
    """The `{api_key_id}` segment of `/api_keys/{api_key_id}`."""
    match = _ONE_SEGMENT.match(path)
    return match[1] if match else None


def methods_of(path: str) -> frozenset[str]:
    """The methods the contract's routes have for this path (a 405's `Allow`)."""
    if path == "/registry/auth":
        return frozenset({"GET"})
    if path == "/api_keys/":
        return frozenset({"GET", "POST"})
    if _ONE_SEGMENT.match(path):
        return frozenset({"GET", "DELETE"})
    return frozenset()


def allow_of(headers) -> frozenset[str]:
    """The methods an `Allow` header names (order and spacing aside)."""
    return frozenset(m.strip() for m in headers.get("allow", "").split(",") if m.strip())


def has_route(path: str) -> bool:
    """Whether one of the contract's routes has this path (for some method)."""
    return path in ("/registry/auth", "/api_keys/") or bool(_ONE_SEGMENT.match(path))
