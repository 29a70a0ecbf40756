"""Where production answers 500: D1, D4, D6, D7, D11.

Each check raises `ProductionDefect` (rendered as production's bare
`500 Internal Server Error`) when its quirk is on and the input is one that
crashes production; otherwise it returns and the contract's answer follows.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from mock_server.errors import ProductionDefect
from mock_server.quirks import Quirk

INT64_MAX = 2**63 - 1
FLOAT_MAX_DIGITS = 308  # past this many digits production's window check overflows a float


def negative_paging(quirks: Set[Quirk], page: int, limit: int) -> None:
    """D1: a negative page or limit reaches the database and fails there."""
    if Quirk.D1 in quirks and (page < 0 or limit < 0):
        raise ProductionDefect(Quirk.D1)


def null_scopes(quirks: Set[Quirk]) -> None:
    """D4: `scopes: null` on a non-admin key is iterated and fails."""
    if Quirk.D4 in quirks:
        raise ProductionDefect(Quirk.D4)


def nonce(quirks: Set[Quirk], value: str | None) -> None:
    """D6: production runs int() after str.isdigit(): a non-ASCII digit such
    as '²', or hundreds of digits, blow up there. Called for a nonce already
    found invalid."""
    if Quirk.D6 not in quirks or not value or not value.isdigit():
        return
    if not value.isascii() or len(value) > FLOAT_MAX_DIGITS:
        raise ProductionDefect(Quirk.D6)


def paging_beyond_int64(quirks: Set[Quirk], page: int, limit: int, offset: int) -> None:
    """D7: paging values past 64 bits overflow the database's integers."""
    if Quirk.D7 in quirks and max(page, limit, offset) > INT64_MAX:
        raise ProductionDefect(Quirk.D7)


def jwt_subject(quirks: Set[Quirk], sub: Any) -> None:
    """D11: a JWT whose `sub` is present but not a string fails the user lookup.
    Called for a `sub` already found not to be a string."""
    if Quirk.D11 in quirks and sub is not None:
        raise ProductionDefect(Quirk.D11)
