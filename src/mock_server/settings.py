"""One frozen Settings object; the CLI builds it (flag > env var > default)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_server.quirks import Quirk, quirk_set
from mock_server.spec_files import spec_file

DEFAULT_SPEC = spec_file("auth.yaml")
DEFAULT_CONTROL_SPEC = spec_file("control.yaml")
DEFAULT_FIXTURES = Path(__file__).resolve().parent / "data" / "default.yaml"
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything the mock is configured with."""

    host: str = "127.0.0.1"
    port: int = 8000
    fixtures: Path = DEFAULT_FIXTURES
    netuid: int = 64
    registry_password: str = "chutes-mock-registry"
    quirks: frozenset[Quirk] = field(default_factory=frozenset)
    log_level: str = "info"
    control: bool = True
    control_token: str | None = None
    seed: int | None = None
    jwt_secret: str | None = None
    spec_path: Path = DEFAULT_SPEC
    control_spec_path: Path = DEFAULT_CONTROL_SPEC
    max_body_bytes: int = MAX_BODY_BYTES
    nonce_window: float = 600.0
    key_cache_seconds: float = 60.0
    journal_size: int = 1000  # requests the journal keeps; 0 turns it off
    read_timeout: float = 30.0  # seconds to read a whole request, from its first byte
    keep_alive_timeout: float = 5.0  # seconds an idle connection stays open between requests
    shutdown_timeout: float = 3.0  # seconds a stop waits for answers in flight
    fault_rules: tuple[dict[str, Any], ...] = ()  # rules in force at start and after a reset

    def __post_init__(self) -> None:
        # Names become `Quirk` constants; an unknown one raises ValueError here,
        # so a typo can never switch a defect silently off.
        object.__setattr__(self, "quirks", quirk_set(self.quirks))

    def quirk(self, name: Quirk | str) -> bool:
        """Whether that quirk is on; ValueError for a name that is none."""
        return Quirk.named(name) in self.quirks

    def unsafe_exposure(self) -> str | None:
        """Why these settings must not start, or None when they may."""
        if not self.control or self.control_token or is_loopback(self.host):
            return None
        return (
            f"refusing to serve the control API on non-loopback host {self.host!r}: "
            "it can mint keys and move time. Pass --control-token TOKEN "
            "(then every /_mock/ call needs X-Mock-Control-Token) or --no-control."
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
