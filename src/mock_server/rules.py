"""Business rules of key creation (behaviour §4), in the order they apply."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from mock_server.errors import BAD_KEY_NAME, BAD_OBJECT_TYPE, BadRequest
from mock_server.quirks import Quirk, crashes, names

OBJECT_TYPES = ("images", "chutes", "invocations")

Scopes = list[tuple[str, str | None, str | None]]


def check_name(name: str, quirks: Set[Quirk]) -> None:
    """1 to 24 characters: word characters, $ . - whitespace, or U+0080..U+FFFF."""
    if not names.name_allowed(quirks, name):
        raise BadRequest(BAD_KEY_NAME)


def check_scopes(admin: bool, scopes: list[dict[str, Any]] | None, quirks: Set[Quirk]) -> Scopes:
    """The scopes to store: none for an admin key; refused object types raise."""
    if admin:
        return []
    if scopes is None:
        crashes.null_scopes(quirks)
        return []
    if any(scope["object_type"] not in OBJECT_TYPES for scope in scopes):
        raise BadRequest(BAD_OBJECT_TYPE)
    return [(s["object_type"], s.get("object_id"), s.get("action")) for s in scopes]
