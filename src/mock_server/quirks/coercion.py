"""D10: production's lax types, and D1's missing lower bound.

Production's models coerce where the contract's strict JSON types refuse:
`admin: "yes"` or `1`, `page=1.0`. `validation` asks these predicates when
to be lax, and reads values with `lax_int` and `lax_bool` then.
"""

from __future__ import annotations

import re
from collections.abc import Set
from typing import Any

from mock_server.quirks import Quirk

# Text as pydantic reads an integer: surrounding whitespace, a sign, Python's
# digit grouping (`1_000`, not `1__0`, `_1` or `1_`) and a zero fraction
# (`1.0`, `1_0.00`; not `1.`, `1.5` or `1.0_0`).
_LAX_INT = re.compile(r"\s*[+-]?[0-9](?:_?[0-9])*(?:\.0+)?\s*")
# Text pydantic reads as a boolean (any case; not stripped: " yes" is refused).
_LAX_BOOLS = dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True) | dict.fromkeys(
    ("0", "off", "f", "false", "n", "no"), False
)


def lax_types(quirks: Set[Quirk]) -> bool:
    """D10: coerce parameters and bodies the lax way."""
    return Quirk.D10 in quirks


def no_lower_bounds(quirks: Set[Quirk]) -> bool:
    """D1: production declares no minimum for page and limit (they crash later)."""
    return Quirk.D1 in quirks


def lax_int(raw: str) -> int | None:
    """The integer pydantic reads from `raw`, None when it reads none
    (Python's 4300-digit limit aside: `int` raises ValueError past it)."""
    if not _LAX_INT.fullmatch(raw):
        return None
    return int(raw.strip().split(".")[0])


def lax_bool(value: Any) -> Any:
    """The boolean pydantic reads from `value` ('yes', 'OFF', 1, 0.0...), or
    `value` itself when it reads none."""
    if isinstance(value, str) and value.lower() in _LAX_BOOLS:
        return _LAX_BOOLS[value.lower()]
    if type(value) in (int, float) and value in (0, 1):
        return bool(value)
    return value
