"""The mock's clock: real time by default, frozen or shifted on request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# The last second a timestamp can show (9999-12-31T23:59:59Z): the clock stays
# in [0, LATEST] so that every `created_at` it stamps can be written.
LATEST = 253_402_300_799.0


class Clock:
    """Unix seconds (fractional). `set` freezes it, `advance` moves it."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._frozen: float | None = None
        self._offset = 0.0

    def now(self) -> float:
        """The time; a running clock moved close to LATEST stops there."""
        frozen = self._frozen
        return frozen if frozen is not None else min(self._source() + self._offset, LATEST)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def set(self, now: float | None) -> None:
        """Freeze at `now`, or go back to real time with `None`."""
        with self._lock:
            self._frozen = now
            self._offset = 0.0

    def advance(self, seconds: float) -> None:
        """Move by `seconds` from the time `now` shows (a running clock held
        at LATEST moves from there, not from where it would have been)."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                source = self._source()
                self._offset = min(source + self._offset, LATEST) + seconds - source

    def reset(self) -> None:
        self.set(None)
