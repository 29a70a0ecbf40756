"""D10: production's lax types, and D1's missing lower bound.

Production's models coerce where the contract's strict JSON types refuse:
`admin: "yes"` or `1`, `page=1.0`. The coercion itself is done by
`validation` when asked to be lax; these say when to ask.
"""

from __future__ import annotations

from collections.abc import Set

from mock_server.quirks import Quirk


def lax_types(quirks: Set[Quirk]) -> bool:
    """D10: coerce parameters and bodies the lax way."""
    return Quirk.D10 in quirks


def no_lower_bounds(quirks: Set[Quirk]) -> bool:
    """D1: production declares no minimum for page and limit (they crash later)."""
    return Quirk.D1 in quirks
