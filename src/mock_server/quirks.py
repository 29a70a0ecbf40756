"""Production's known defects (SEMANTICS §7), reproducible on demand.

`--quirks production` turns on all of them; `--quirks D3,D8` a selection, so
a client author can face one defect at a time.
"""

from __future__ import annotations

DEFECTS: dict[str, str] = {
    "D1": "negative page/limit answer 500 (text/plain) instead of 422",
    "D2": "registry header is Basic b'<base64>' instead of Basic <base64>",
    "D3": "a deleted key is accepted up to 60 s after its first use",
    "D4": "scopes: null with admin: false answers 500 instead of 200",
    "D5": "date-times are naive (no offset)",
    "D6": "a nonce of non-ASCII digits or hundreds of digits answers 500 instead of 401",
    "D7": "page/limit beyond 64 bits answer 500 instead of 200 with no items",
    "D8": "a non-admin key passes auth on /api_keys/chutes and the like (answers 404)",
    "D9": "a 24-character name plus a trailing newline is accepted",
    "D10": "lax types: admin 'yes' or 1, page=1.0 are coerced instead of 422",
    "D11": "a JWT with a non-string sub answers 500 instead of 401",
}
PRODUCTION = frozenset(DEFECTS)


def parse_quirks(value: str | None) -> frozenset[str]:
    """`production`, a comma-separated list of D-numbers, `none` or empty."""
    if not value or value.strip().lower() in {"none", "contract"}:
        return frozenset()
    if value.strip().lower() == "production":
        return PRODUCTION
    chosen = {part.strip().upper() for part in value.split(",") if part.strip()}
    unknown = sorted(chosen - PRODUCTION)
    if unknown:
        raise ValueError(
            f"unknown quirk(s) {', '.join(unknown)}: use 'production' or some of "
            f"{', '.join(DEFECTS)}"
        )
    return frozenset(chosen)
