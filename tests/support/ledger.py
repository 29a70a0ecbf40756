"""What a run created, so it touches nothing else and cleans up after itself.

Every key the suite creates is named with the run marker and recorded here
with its owner. Deletion is only ever attempted for recorded ids; a budget
bounds how many keys one run may create.
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass, field

MAX_NAME = 24
_ALPHABET = string.ascii_lowercase + string.digits


def new_marker() -> str:
    """A short marker, unique per run: `ck` and five random characters, then `-`."""
    return "ck" + "".join(secrets.choice(_ALPHABET) for _ in range(5)) + "-"


class BudgetExceeded(RuntimeError):
    """The run asked to create more keys than --max-keys allows."""


@dataclass
class KeyLedger:
    marker: str
    max_keys: int
    created: dict[str, str] = field(default_factory=dict)  # api_key_id -> owner label
    deleted: set[str] = field(default_factory=set)
    count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def name(self, suffix: str = "") -> str:
        """A key name carrying the marker, at most 24 characters."""
        return (self.marker + suffix)[:MAX_NAME]

    def reserve(self) -> None:
        """Count one creation attempt against the budget (raises past it)."""
        with self._lock:
            if self.count >= self.max_keys:
                raise BudgetExceeded(
                    f"this run may create at most {self.max_keys} keys (--max-keys)"
                )
            self.count += 1

    def release(self) -> None:
        """Give back a reservation whose create did not create a key."""
        with self._lock:
            self.count = max(0, self.count - 1)

    def record(self, api_key_id: str, owner: str) -> None:
        with self._lock:
            self.created[api_key_id] = owner

    def forget(self, api_key_id: str) -> None:
        """The key was deleted by the run itself."""
        with self._lock:
            self.deleted.add(api_key_id)

    def owns(self, api_key_id: str) -> bool:
        return api_key_id in self.created

    def alive(self) -> dict[str, str]:
        with self._lock:
            return {k: o for k, o in self.created.items() if k not in self.deleted}
