"""Business rules of key creation (SEMANTICS §4), in the order they apply."""

from __future__ import annotations

import re
from typing import Any

from mock_server.errors import BAD_KEY_NAME, BAD_OBJECT_TYPE, BadRequest, ProductionDefect

# 1 to 24 characters: word characters, $ . - whitespace, or U+0080..U+FFFF.
_NAME = re.compile(r"[\w$.\-\s\u0080-\uffff]{1,24}")
# Production anchors with `$`, which also matches before a final newline (D9).
_NAME_PRODUCTION = re.compile(r"^[\w$.\-\s\u0080-\uffff]{1,24}$")
OBJECT_TYPES = ("images", "chutes", "invocations")

Scopes = list[tuple[str, str | None, str | None]]


def check_name(name: str, quirks: frozenset[str]) -> None:
    ok = _NAME_PRODUCTION.match(name) if "D9" in quirks else _NAME.fullmatch(name)
    if not ok:
        raise BadRequest(BAD_KEY_NAME)


def check_scopes(
    admin: bool, scopes: list[dict[str, Any]] | None, quirks: frozenset[str]
) -> Scopes:
    """The scopes to store: none for an admin key; refused object types raise."""
    if admin:
        return []
    if scopes is None:
        if "D4" in quirks:
            raise ProductionDefect("D4")
        return []
    if any(scope["object_type"] not in OBJECT_TYPES for scope in scopes):
        raise BadRequest(BAD_OBJECT_TYPE)
    return [(s["object_type"], s.get("object_id"), s.get("action")) for s in scopes]
