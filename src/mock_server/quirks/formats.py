"""How production writes some values: D2 (registry header), D5 (date-times)."""

from __future__ import annotations

from collections.abc import Set

from mock_server.quirks import Quirk


def registry_credentials(quirks: Set[Quirk], credentials: bytes) -> str:
    """The base64 credentials as the registry header shows them. Production
    formats the bytes object itself, `b'...'` (D2)."""
    return str(credentials) if Quirk.D2 in quirks else credentials.decode()


def naive_dates(quirks: Set[Quirk]) -> bool:
    """D5: production writes date-times without an offset."""
    return Quirk.D5 in quirks
