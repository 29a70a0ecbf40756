"""What may be written about a request: secrets masked, control characters
escaped.

A client can put a secret where it does not belong (`GET /api_keys/cpk_…`,
a JWT or a signature in the path), and anyone can put CR/LF in a
percent-encoded path to forge a log line. Every path the access log or the
journal keeps goes through `masked`; every field the log writes, through
`loggable`.
"""

from __future__ import annotations

import re

MASK = "***"

# An API key secret, a JWT, and a long hex run (a 128-hex signature, a 64-hex
# seed with or without 0x). A UUID has hyphens, an ss58 hotkey is base58:
# neither matches.
_SECRET = re.compile(
    r"cpk_[^/?#\s]*"
    r"|eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?"
    r"|(?<![0-9A-Za-z])(?:0x)?[0-9a-fA-F]{64,}"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")


def masked(text: str) -> str:
    """`text` with anything shaped like a secret replaced by `***`."""
    return _SECRET.sub(MASK, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def loggable(text: str) -> str:
    """`text` for one log line: secrets masked, control characters (and
    the backslash, so an escape cannot be forged) written as escapes."""
    return _CONTROL.sub(_escape, masked(text))
