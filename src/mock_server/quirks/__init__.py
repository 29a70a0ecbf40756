"""Production's known defects (behaviour §7), reproducible on demand.

Each defect is a `Quirk` constant, D1 to D14; `--quirks production` turns on
all of them and `--quirks D3,D8` a selection, so a client author can face one
defect at a time. An unknown name is refused wherever one is given: by the
CLI, by `Settings`, by `Settings.quirk`.

The code of each family sits in its own module here, so that the contract
path reads without them:

    catch_all   D12  production's catch-all route (behaviour §9)
    caching     D3   the 60 s key cache that outlives deletion
    coercion    D10  lax types (and D1's missing lower bound)
    crashes     D1 D4 D6 D7 D11  where production answers 500
    formats     D2 D5  the registry header and naive date-times
    names       D9   the key-name rule anchored with `$`
    ordering    D13  the list in the table's physical order
    routing     D14  one route per operation: a 405 names the first one's method
    scopes      D8   a non-admin key checked against the path
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Quirk(StrEnum):
    """One of production's deviations; equal to its name ("D3")."""

    D1 = "D1"
    D2 = "D2"
    D3 = "D3"
    D4 = "D4"
    D5 = "D5"
    D6 = "D6"
    D7 = "D7"
    D8 = "D8"
    D9 = "D9"
    D10 = "D10"
    D11 = "D11"
    D12 = "D12"
    D13 = "D13"
    D14 = "D14"

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]

    @classmethod
    def named(cls, name: str) -> Quirk:
        """The quirk called `name` (case-insensitive); ValueError otherwise."""
        if isinstance(name, Quirk):
            return name
        try:
            return cls(str(name).strip().upper())
        except ValueError:
            raise ValueError(
                f"unknown quirk {name!r}: use 'production' or some of {', '.join(cls)}"
            ) from None


DESCRIPTIONS: dict[Quirk, str] = {
    Quirk.D1: "negative page/limit answer 500 (text/plain) instead of 422",
    Quirk.D2: "registry header is Basic b'<base64>' instead of Basic <base64>",
    Quirk.D3: "a deleted key is accepted up to 60 s after its first use",
    Quirk.D4: "scopes: null with admin: false answers 500 instead of 200",
    Quirk.D5: "date-times are naive (no offset)",
    Quirk.D6: "a nonce of non-ASCII digits or hundreds of digits answers 500 instead of 401",
    Quirk.D7: "page/limit beyond 64 bits answer 500 instead of 200 with no items",
    Quirk.D8: "on /a/b a non-admin key is checked as object type and id b, action by method",
    Quirk.D9: "a 24-character name plus a trailing newline is accepted",
    Quirk.D10: "lax types: admin 'yes' or 1, page=1.0 are coerced instead of 422",
    Quirk.D11: "a JWT with a non-string sub answers 500 instead of 401",
    Quirk.D12: "a catch-all route answers every other request: no 307, no 404 Not Found",
    Quirk.D13: "the list has no order: the table's physical one (a new key takes a freed place)",
    Quirk.D14: "a 405 names the methods of the path's first route only: Allow: GET",
}
PRODUCTION: frozenset[Quirk] = frozenset(Quirk)


def quirk_set(names: Iterable[str]) -> frozenset[Quirk]:
    """These names as quirks; ValueError names the first unknown one."""
    return frozenset(Quirk.named(name) for name in names)


def parse_quirks(value: str | None) -> frozenset[Quirk]:
    """`production`, a comma-separated list of D-numbers, `none` or empty."""
    if not value or value.strip().lower() in {"none", "contract"}:
        return frozenset()
    if value.strip().lower() == "production":
        return PRODUCTION
    chosen = {part.strip().upper() for part in value.split(",") if part.strip()}
    unknown = sorted(chosen - set(Quirk), key=str)
    if unknown:
        raise ValueError(
            f"unknown quirk(s) {', '.join(unknown)}: use 'production' or some of {', '.join(Quirk)}"
        )
    return quirk_set(chosen)
