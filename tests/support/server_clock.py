"""The target's clock, as well as a client can know it (for the nonce window).

By URL, two sources:
- its `Date` header: whole seconds, and a server may cache it (uvicorn
  refreshes it once a second), so it only bounds the clock from below, and
  within about two seconds from above;
- the `created_at` of a key it creates: its own clock, to the microsecond,
  read between the request leaving and the answer coming back. This narrows
  the estimate to about one round trip (a few milliseconds on loopback).

`estimate` combines them into bounds on the target's clock at the moment a
request is sent; `send_at` waits (at most about a second) until those bounds
sit on the side of a whole second a check needs, and says how far from it
they may be. In-process the mock's clock is read exactly.
"""

from __future__ import annotations

import email.utils
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from tests.support.target import Target

DATE_STALENESS = 1.2  # a Date header may lag the clock by this much (uvicorn: ~1 s)
STRICT = 0.002  # keeps an "inside" nonce strictly inside, past scheduling noise


@dataclass(frozen=True)
class ServerClock:
    """Bounds on `target clock - local clock`, transit to the target included."""

    low: float
    high: float
    source: str  # "exact", "created_at" or "Date"
    date_width: float  # how wide the Date header alone left it

    @property
    def width(self) -> float:
        return self.high - self.low

    def bounds(self, local: float) -> tuple[float, float]:
        return local + self.low, local + self.high


def _parse_time(value: str) -> float:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # production's naive times are UTC (D5)
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def estimate(target: Target, key_suffix: str | None = "clock") -> ServerClock:
    """Bounds from three `Date` headers, narrowed by one key's `created_at`."""
    if target.in_process:
        return ServerClock(0.0, 0.0, "exact", 0.0)
    low, high = -math.inf, math.inf
    for _ in range(3):
        sent = time.time()
        answer = target.client.get("/api_keys/")
        back = time.time()
        date = answer.headers.get("date")
        if date:
            server = email.utils.parsedate_to_datetime(date).timestamp()
            low = max(low, server - back)
            high = min(high, server + 1 + DATE_STALENESS - sent + (back - sent))
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
            fine_low, fine_high = made - back, made - sent + (back - sent)
            if fine_low >= low - 0.01 and fine_high <= high + 0.01:  # agrees with Date
                return ServerClock(fine_low, fine_high, "created_at", date_width)
    return ServerClock(low, high, "Date", date_width)


def send_at(clock: ServerClock, whole: str) -> tuple[int, float]:
    """Wait until the target's clock is just past (`whole="after"`) or just
    before (`"before"`) a whole second k, and return (k, margin): the clock
    is then in [k, k + margin] or [k - margin, k - STRICT]. Call right
    before sending; waits at most about a second."""
    for _ in range(20):
        low, high = clock.bounds(time.time())
        if whole == "after":
            k = math.ceil(low)
            time.sleep(max(0.0, k - low))
            low, high = clock.bounds(time.time())
            if low >= k and high - k < 1:
                return k, high - k
        else:
            k = math.ceil(high + STRICT)
            time.sleep(max(0.0, k - STRICT - high - 0.001))
            low, high = clock.bounds(time.time())
            if high <= k - STRICT and k - low < 1:
                return k, k - low
    raise RuntimeError("could not time a request around a whole second of the target's clock")
