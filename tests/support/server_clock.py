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
whole second, and says how far from it it may have been. A send too far
from the second to decide (a slow server or network) is made again a
bounded number of times; after that the check is `Undecided` and reported
as a skip with the round trip measured: slowness never fails a check. In-
process the mock's clock is read exactly.
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

DATE_STALENESS = 1.2  # a Date header may lag the clock by about this much (uvicorn: ~1 s)
STRICT = 0.002  # keeps an "inside" nonce strictly inside, past scheduling noise
MAX_MARGIN = 0.5  # widest uncertainty a window check may have: a window 1 s off is caught
ESTIMATES = 3  # keys created, at most, to narrow the clock
ATTEMPTS = 6  # sends of a timed probe, at most, before it is not decided


@dataclass(frozen=True)
class ServerClock:
    """Bounds on `target clock - local clock`; `rtt`, the longest round trip seen."""

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
    """Bounds from three `Date` headers, narrowed by a key's `created_at`.

    A request sent at local `sent` and answered by local `back` was handled
    when the target's clock read between `sent + low` and `back + high`.

    The Date header bounds the clock firmly from below only: it is whole
    seconds and a server may serve it stale, by more than its usual second
    when it is busy, so its upper bound is a guess. A created key's
    `created_at` bounds the clock on both sides, to one round trip; it is
    kept when it does not contradict the Date header's firm bound. Up to
    `ESTIMATES` keys are made while the bounds stay wider than
    `MAX_MARGIN / 2` (a slow answer widens them); the narrowest are kept."""
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
    best = ServerClock(low, high, "Date", high - low, rtt)
    if key_suffix is None:
        return best
    from tests.contract.probes import own_key

    for attempt in range(ESTIMATES):
        sent = time.time()
        created = own_key(target, f"{key_suffix}{attempt}" if attempt else key_suffix)
        back = time.time()
        rtt = max(rtt, back - sent)
        try:
            made = _parse_time(created["created_at"])
        except (KeyError, ValueError):
            break
        fine_low, fine_high = made - back, made - sent
        if fine_high < low - 0.01:  # behind what the Date header proves: another clock
            break
        if best.source == "Date" or fine_high - fine_low < best.width:
            best = ServerClock(max(fine_low, low), fine_high, "created_at", high - low, rtt)
        if best.width <= MAX_MARGIN / 2:
            break
    return ServerClock(best.low, best.high, best.source, best.date_width, rtt)


@dataclass(frozen=True)
class Timed:
    """A request timed around a whole second `k` of the target's clock; it was
    handled between `k` and `k + margin` ("after") or `k - margin` and `k`
    ("before")."""

    response: Any
    k: int
    margin: float


@dataclass(frozen=True)
class Undecided:
    """No send came close enough to the second to decide the rule."""

    clock: ServerClock
    rtt: float  # the longest round trip of the probe's sends
    margin: float  # the best margin a send achieved (inf: none answered in time)

    def reason(self) -> str:
        return (
            f"not decided: the target's clock is known within {self.clock.width:.3f} s "
            f"(from {self.clock.source}) and a probe took up to {self.rtt:.3f} s, so the "
            f"best a send achieved was {self.margin:.3f} s from the second, where a "
            f"decision needs {MAX_MARGIN} s or less (a slow target or network)"
        )


def around_a_second(
    clock: ServerClock, whole: str, send: Callable[[int], Any]
) -> Timed | Undecided:
    """Call `send(k)` so that the target handles it just after (`whole="after"`)
    or just before (`"before"`) its clock reaches a whole second k.

    "after" holds by construction: nothing is handled before it is sent.
    "before" is judged once the answer is back. A send whose margin is wider
    than `MAX_MARGIN` (or, "before", whose answer came too late to be sure)
    is made again, `ATTEMPTS` times at most; then the check is `Undecided`.
    Slowness can only leave a check undecided, never fail it."""
    rtt, best = 0.0, math.inf
    if clock.width > MAX_MARGIN:
        return Undecided(clock, clock.rtt, clock.width)
    for _ in range(ATTEMPTS):
        now = time.time()
        if whole == "after":
            k = math.ceil(now + clock.low + STRICT)
            time.sleep(max(0.0, k - (now + clock.low)))
            sent = time.time()
            response = send(k)
            back = time.time()
            rtt = max(rtt, back - sent)
            if sent + clock.low > k:
                margin = back + clock.high - k
                best = min(best, margin)
                if margin <= MAX_MARGIN:
                    return Timed(response, k, margin)
        else:
            lead = 2 * max(clock.rtt, rtt) + 0.005  # the answer must come back before k
            k = math.ceil(now + clock.high + lead + STRICT)
            time.sleep(max(0.0, k - STRICT - lead - (now + clock.high)))
            sent = time.time()
            response = send(k)
            back = time.time()
            rtt = max(rtt, back - sent)
            if back + clock.high <= k - STRICT:
                margin = k - (sent + clock.low)
                best = min(best, margin)
                if margin <= MAX_MARGIN:
                    return Timed(response, k, margin)
    return Undecided(clock, rtt, best)
