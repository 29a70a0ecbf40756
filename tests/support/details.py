"""The contract's detail strings (behaviour §2–§6), word for word: the suites'
one copy. Clients match on them, so every check and every test reads them
from here; `tests/unit/test_details.py` checks that the mock's copy
(`mock_server.errors`) and the contract's text say the same.

A template's `{fields}` are filled with `str.format`; `pattern` turns one into
a regular expression that matches any filling.
"""

from __future__ import annotations

import re
import string

# 401, authentication (§2, §3, §4, §5).
NO_CREDENTIALS = "Can't find a user with that api key in our db :("
INVALID_NONCE = "Invalid nonce!"
UNPARSEABLE_SIGNATURE = "Invalid signature: {signature}, with error: {error}"
BAD_SIGNATURE = "Invalid request signature for hotkey {hotkey}. Message: {message}"
NOT_REGISTERED = "Hotkey is not registered on netuid {netuid}"
UNKNOWN_HOTKEY = "Could not find user with hotkey: {hotkey}"
MALFORMED_API_KEY = "Missing or invalid authorization header(s)"
API_KEY_REFUSED = "Invalid token or user not found"
JWT_INVALID = "Invalid token."
JWT_EXPIRED = "Token expired."
# Python's message for a signature that is not hex from its first character,
# the `{error}` of UNPARSEABLE_SIGNATURE then.
NOT_HEX_AT_0 = "non-hexadecimal number found in fromhex() arg at position 0"

# Production's catch-all route (D12, behaviour §9).
SIGNED_WITHOUT_BODY = "Either payload_str or purpose must be provided"
AUTHENTICATION_REQUIRED = "Authentication required."
NO_MATCHING_CHUTE = "No matching chute found!"

# 400, 404, 409: the key rules (§4).
BAD_KEY_NAME = (
    "Invalid request: API key name should start with alphanumeric character and contain "
    "up to 32 total allowed characters (letters, numbers, dashes, underscores, or spaces)"
)
BAD_OBJECT_TYPE = "Invalid request: Invalid object_type, must be one of images, chutes, invocations"
DUPLICATE_KEY_NAME = "An API key already exists with this name"
GET_KEY_NOT_FOUND = "API key with id {api_key_id} not found or doesn't belong to you"
DELETE_KEY_NOT_FOUND = "API key not found, or does not belong to you"

# 400 for a body that is not UTF-8 (§1: the framework's, before any rule).
BODY_NOT_UTF8 = "There was an error parsing the body"

# 422 for a negative page or limit (§4): FastAPI's entry's message.
BELOW_ZERO = "Input should be greater than or equal to 0"


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
