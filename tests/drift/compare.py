"""Answers made comparable, and the first thing that differs between two.

`view` normalises what legitimately differs between the sides: ids (each
named by its first appearance in the execution), secrets, date-times (kept
by format: naive, `Z` or an offset), the nonces and signatures each side
sent, the name prefix, the Location origin, the registry password, and
other clients' keys in a list. When the list has no order (D13 is listed)
a page's items are compared as a set of shapes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from tests.drift.sides import Side
from tests.support.exchange import Exchange
from tests.support.routing import LIST, allow_of, operation

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SECRET = re.compile(r"cpk_[0-9a-f]{32}\.[0-9a-f]{32}\.[A-Za-z0-9]{32}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<zone>Z|[+-]\d{2}:?\d{2})?(?![\d.])"
)
_ORIGIN = re.compile(r"^https?://[^/]+")
_BASIC = re.compile(r"^Basic (b')?([A-Za-z0-9+/=]*)(')?$")
FIELDS = ("status", "content-type", "location", "allow", "registry header", "body")


class Normaliser:
    """One side's view of one execution's answers (ids interned as met)."""

    def __init__(self, side: Side, *, unordered: bool) -> None:
        self.side = side
        self.unordered = unordered
        self.ids: dict[str, str] = {}

    def text(self, value: str) -> str:
        for sent, placeholder in self.side.sent.items():
            if sent and len(sent) > 3:
                value = value.replace(sent, placeholder)
        if self.side.prefix:
            value = value.replace(self.side.prefix, "{m}")
        value = _SECRET.sub("<secret>", value)
        value = _UUID.sub(self._intern, value)
        return _DATETIME.sub(_datetime, value)

    def _intern(self, match: re.Match) -> str:
        found = match[0].lower()
        return self.ids.setdefault(found, f"<id{len(self.ids) + 1}>")

    def data(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def view(self, exchange: Exchange) -> dict[str, Any]:
        headers = exchange.response_headers
        payload = exchange.json()
        if payload is None and exchange.content not in (b"null",):
            body: Any = self.text(exchange.content.decode("utf-8", "replace"))
        elif operation(exchange.method, exchange.path) == LIST and exchange.status == 200:
            body = self._page(payload)
        else:
            body = self.data(payload)
        return {
            "status": exchange.status,
            "content-type": headers.get("content-type", "").lower(),
            "location": self.text(_ORIGIN.sub("<origin>", headers.get("location", ""))),
            "allow": ", ".join(sorted(allow_of(headers))),  # a set: its order is free
            "registry header": _registry(headers.get("authorization", "")),
            "body": body,
        }

    def _page(self, payload: Any) -> Any:
        if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
            return self.data(payload)
        ours = {made.api_key_id for made in self.side.made}
        items = []
        for item in payload["items"]:
            mine = isinstance(item, dict) and item.get("api_key_id") in ours
            if self.unordered:
                items.append(_shape(item))
            else:
                items.append(self.data(item) if mine else "<other client's key>")
        if self.unordered:
            items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        return {**self.data({k: v for k, v in payload.items() if k != "items"}), "items": items}


def _datetime(match: re.Match) -> str:
    zone = match["zone"]
    return "<date-time naive>" if zone is None else f"<date-time {zone}>"


def _shape(item: Any) -> Any:
    """A key object with nothing of which key it is: field names, and each
    value's type (a date-time's format). Under D13 a page may hold any of
    the user's keys, so only what every key shares can be compared."""
    if not isinstance(item, dict):
        return type(item).__name__
    shaped = {}
    for name, value in item.items():
        zone = _DATETIME.fullmatch(value) if isinstance(value, str) else None
        shaped[name] = _datetime(zone) if zone else type(value).__name__
    return shaped


def _registry(value: str) -> str:
    """The registry header's form: `Basic <base64 of ':' + password>`, or not."""
    if not value:
        return ""
    match = _BASIC.match(value)
    if match is None:
        return value[:80]
    try:
        decoded = base64.b64decode(match[2], validate=True)
    except (binascii.Error, ValueError):
        return "Basic <not base64>"
    inner = "<base64 of ':' + password>" if decoded.startswith(b":") else "<base64>"
    return f"Basic {match[1] or ''}{inner}{match[3] or ''}"


@dataclass(frozen=True)
class Difference:
    """The first field where the two answers differ, with both values."""

    field: str
    deployment: str
    mock: str


def first_difference(deployment: dict[str, Any], mock: dict[str, Any]) -> Difference | None:
    for name in FIELDS:
        if deployment[name] == mock[name]:
            continue
        if name == "status":
            return Difference(
                "status",
                f"{deployment['status']} {deployment['content-type']}".strip(),
                f"{mock['status']} {mock['content-type']}".strip(),
            )
        if name == "body":
            return _body_difference("body", deployment["body"], mock["body"])
        return Difference(name, _short(deployment[name]), _short(mock[name]))
    return None


def _body_difference(path: str, left: Any, right: Any) -> Difference:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in list(left) + [k for k in right if k not in left]:
            if key not in left or key not in right:
                return Difference(
                    f"{path}.{key}",
                    _short(left.get(key, "<absent>")),
                    _short(right.get(key, "<absent>")),
                )
            if left[key] != right[key]:
                return _body_difference(f"{path}.{key}", left[key], right[key])
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for a, b in zip(left, right, strict=True):
            if a != b:
                return _body_difference(f"{path}[]", a, b)
    return Difference(path, _short(left), _short(right))


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."
