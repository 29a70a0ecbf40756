"""The target's clock, as well as a client can know it (for the nonce window).

By URL, two sources:
- its `Date` header: whole seconds, and a server may cache it (uvicorn
  refreshes it once a second), so it only bounds the clock from below, and
  within about two seconds from above;
- the `created_at` of a key it creates: its own clock, to the microsecond,
  read between the request leaving and the answer coming back. This narrows
  the estimate to about one round trip (a few milliseconds on loopback).

`estimate` combines them into bounds on the target's clock; `around_a_second`
sends a request so that the target handles it just after or just before a
whole second, and says how far from it it may have been (it repeats a
"before" request whose answer came too late to be sure). In-process the
mock's clock is read exactly.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.support.target import Target

DATE_STALENESS = 1.2  # a Date header may lag the clock by this much (uvicorn: ~1 s)
STRICT = 0.002  # keeps an "inside" nonce strictly inside, past scheduling noise


@dataclass(frozen=True)
class ServerClock:
    """Bounds on `target clock - local clock`; `rtt`, a round trip seen."""

    low: float
    high: float
    source: str  # "exact", "created_at" or "Date"
    date_width: float  # how wide the Date header alone left it
    rtt: float = 0.0

    @property
    def width(self) -> float:
        return self.high - self.low


def _parse_time(value: str) -> float:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # production's naive times are UTC (D5)
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def estimate(target: Target, key_suffix: str | None = "clock") -> ServerClock:
    """Bounds from three `Date` headers, narrowed by one key's `created_at`.

    A request sent at local `sent` and answered by local `back` was handled
    when the target's clock read between `sent + low` and `back + high`."""
    if target.in_process:
        return ServerClock(0.0, 0.0, "exact", 0.0)
    low, high, rtt = -math.inf, math.inf, 0.0
    for _ in range(3):
        sent = time.time()
        answer = target.client.get("/api_keys/")
        back = time.time()
        rtt = max(rtt, back - sent)
        date = answer.headers.get("date")
        if date:
            server = email.utils.parsedate_to_datetime(date).timestamp()
            low = max(low, server - back)
            high = min(high, server + 1 + DATE_STALENESS - sent)
    date_width = high - low
    if key_suffix is not None:
        from tests.contract.probes import own_key

        sent = time.time()
        created = own_key(target, key_suffix)
        back = time.time()
        try:
            made = _parse_time(created["created_at"])
        except (KeyError, ValueError):
            made = None
        if made is not None:
            fine_low, fine_high = made - back, made - sent
            if fine_low >= low - 0.01 and fine_high <= high + 0.01:  # agrees with Date
                return ServerClock(fine_low, fine_high, "created_at", date_width, back - sent)
    return ServerClock(low, high, "Date", date_width, rtt)


@dataclass(frozen=True)
class Timed:
    """A request timed around a whole second `k` of the target's clock; it was
    handled between `k` and `k + margin` ("after") or `k - margin` and `k`
    ("before")."""

    response: Any
    k: int
    margin: float


def around_a_second(clock: ServerClock, whole: str, send: Callable[[int], Any]) -> Timed:
    """Call `send(k)` so that the target handles it just after (`whole="after"`)
    or just before (`"before"`) its clock reaches a whole second k.

    "after" holds by construction: nothing is handled before it is sent.
    "before" is judged once the answer is back, and the call repeated (at
    most 20 times, about a second each) until the answer came in time."""
    for _ in range(20):
        now = time.time()
        if whole == "after":
            k = math.ceil(now + clock.low + STRICT)
            time.sleep(max(0.0, k - (now + clock.low)))
            sent = time.time()
            response = send(k)
            back = time.time()
            if sent + clock.low > k:
                return Timed(response, k, back + clock.high - k)
        else:
            lead = 2 * clock.rtt + 0.005  # the answer must come back before k
            k = math.ceil(now + clock.high + lead + STRICT)
            time.sleep(max(0.0, k - STRICT - lead - (now + clock.high)))
            sent = time.time()
            response = send(k)
            back = time.time()
            if back + clock.high <= k - STRICT:
                return Timed(response, k, k - (sent + clock.low))
    raise RuntimeError("could not time a request around a whole second of the target's clock")
