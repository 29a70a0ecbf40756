"""D3: production caches a key for 60 s after its first use, deletion or not.

Production loads keys through a time-to-live cache: the first use of a key
stores the key as it is then, and every use within the next 60 s is checked
against that copy, even after the key was deleted. Once the window is over
the entry goes, and the next use loads the key afresh (and opens a new
window if the key still exists).

A window is the 60 s from a key's first use on the mock's clock as it is
now: moving the clock past its end, or back before its start, ends it (the
next use loads the key afresh).

Memory stays bounded by the keys used within the last window: each entry is
evicted once its window is over.
"""

from __future__ import annotations

import heapq

from mock_server.store import ApiKey


class KeyCache:
    """Keys by id, each until its window ends (on the mock's clock)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[ApiKey, float, float]] = {}  # key, first use, end
        self._expiries: list[tuple[float, str]] = []  # a heap: the next window to end first
        self._latest_start = float("-inf")  # the last window's start: the clock went back?

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, api_key_id: str, now: float) -> ApiKey | None:
        """The key cached under this id while its window lasts."""
        self.evict(now)
        entry = self._entries.get(api_key_id)
        return entry[0] if entry is not None and entry[1] <= now < entry[2] else None

    def remember(self, key: ApiKey, now: float) -> None:
        """Cache a key just loaded, unless its window is still open."""
        if self.get(key.api_key_id, now) is not None:
            return
        expires = now + self.seconds
        self._entries[key.api_key_id] = (key, now, expires)
        self._latest_start = max(self._latest_start, now)
        heapq.heappush(self._expiries, (expires, key.api_key_id))

    def evict(self, now: float) -> None:
        """Drop every entry whose window is over, or (the clock moved back)
        not yet begun."""
        if now < self._latest_start:
            self._drop_windows_after(now)
        expiries, entries = self._expiries, self._entries
        evicted = False
        while expiries and expiries[0][0] <= now:
            expires, api_key_id = heapq.heappop(expiries)
            entry = entries.get(api_key_id)
            if entry is not None and entry[2] == expires:
                del entries[api_key_id]
            evicted = True
        if evicted and not entries:
            self.clear()  # fresh containers: a dict keeps its peak size when emptied

    def _drop_windows_after(self, now: float) -> None:
        kept = {i: entry for i, entry in self._entries.items() if entry[1] <= now}
        self._entries = kept
        self._expiries = [(entry[2], i) for i, entry in kept.items()]
        heapq.heapify(self._expiries)
        self._latest_start = max((entry[1] for entry in kept.values()), default=float("-inf"))

    def clear(self) -> None:
        self._entries = {}
        self._expiries = []
        self._latest_start = float("-inf")
