"""The contract's detail strings (behaviour §2–§6), word for word, read from
the contract (`x-chutes-details` in openapi/auth.yaml): clients match on
them, so every check and every test takes them from here.
`tests/unit/test_details.py` checks that the mock's copy (`mock_server.errors`)
says the same. Production's catch-all (D12) is no part of the contract: its
three details are written here.

A template's `{fields}` are filled with `str.format`; `pattern` turns one into
a regular expression that matches any filling.
"""

from __future__ import annotations

import re
import string

import yaml

from mock_server.settings import DEFAULT_SPEC

CONTRACT: dict[str, str] = yaml.load(
    DEFAULT_SPEC.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
)["x-chutes-details"]

# 401, authentication (§2, §3, §4, §5).
NO_CREDENTIALS = CONTRACT["NO_CREDENTIALS"]
INVALID_NONCE = CONTRACT["INVALID_NONCE"]
UNPARSEABLE_SIGNATURE = CONTRACT["UNPARSEABLE_SIGNATURE"]
BAD_SIGNATURE = CONTRACT["BAD_SIGNATURE"]
NOT_REGISTERED = CONTRACT["NOT_REGISTERED"]
UNKNOWN_HOTKEY = CONTRACT["UNKNOWN_HOTKEY"]
MALFORMED_API_KEY = CONTRACT["MALFORMED_API_KEY"]
API_KEY_REFUSED = CONTRACT["API_KEY_REFUSED"]
JWT_INVALID = CONTRACT["JWT_INVALID"]
JWT_EXPIRED = CONTRACT["JWT_EXPIRED"]
NOT_HEX_AT_0 = CONTRACT["NOT_HEX_AT_0"]
# 400, 404, 409: the key rules (§4); 400 for a body not UTF-8 (§1).
BAD_KEY_NAME = CONTRACT["BAD_KEY_NAME"]
BAD_OBJECT_TYPE = CONTRACT["BAD_OBJECT_TYPE"]
DUPLICATE_KEY_NAME = CONTRACT["DUPLICATE_KEY_NAME"]
GET_KEY_NOT_FOUND = CONTRACT["GET_KEY_NOT_FOUND"]
DELETE_KEY_NOT_FOUND = CONTRACT["DELETE_KEY_NOT_FOUND"]
BODY_NOT_UTF8 = CONTRACT["BODY_NOT_UTF8"]
# 422 for a negative page or limit (§4): the entry's message.
BELOW_ZERO = CONTRACT["BELOW_ZERO"]

# Production's catch-all route (D12, behaviour §9).
SIGNED_WITHOUT_BODY = "Either payload_str or purpose must be provided"
AUTHENTICATION_REQUIRED = "Authentication required."
NO_MATCHING_CHUTE = "No matching chute found!"


def prefix(template: str) -> str:
    """The text of `template` before its first field."""
    return template.split("{", 1)[0]


def pattern(template: str, **fields: str) -> str:
    """A regular expression for `template`: its text escaped, each `{name}`
    a group `(?P<name>...)` matching `fields[name]`, by default `.*`."""
    parts = []
    for text, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(text))
        if name is not None:
            parts.append(f"(?P<{name}>{fields.get(name, '.*')})")
    return "".join(parts)
