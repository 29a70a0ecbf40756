"""D9: production's key-name rule, anchored with `$`.

`$` also matches before a final newline, so 24 characters plus a trailing
newline pass there; the contract refuses them (25 characters).
"""

from __future__ import annotations

import re
from collections.abc import Set

from mock_server.quirks import Quirk

ALLOWED = r"[\w$.\-\s\u0080-\uffff]{1,24}"
_CONTRACT = re.compile(ALLOWED)
_PRODUCTION = re.compile(rf"^{ALLOWED}$")


def name_allowed(quirks: Set[Quirk], name: str) -> bool:
    """Whether the key-name rule passes `name`."""
    if Quirk.D9 in quirks:
        return _PRODUCTION.match(name) is not None
    return _CONTRACT.fullmatch(name) is not None
