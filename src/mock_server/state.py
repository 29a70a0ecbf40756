"""`MockState`: the one owner of the store, clock and authenticator."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from typing import Any

from mock_server.auth import Authenticator
from mock_server.clock import Clock
from mock_server.faults import FaultBook
from mock_server.fixtures import Fixture, load_fixture
from mock_server.settings import Settings
from mock_server.store import Store


@dataclass
class MockState:
    settings: Settings
    store: Store
    clock: Clock
    fixture: Fixture
    authenticator: Authenticator
    jwt_secret: str
    started_at: float = 0.0  # the fixture keys' `created_at`, at start and after every reset
    rng_state: Any = None  # a seeded generator's state after start (None: unseeded)
    faults: FaultBook | None = None  # the fault rules in force (faults.py)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> MockState:
        """Load the fixtures once and seed a fresh store from them."""
        rng = random.Random(settings.seed) if settings.seed is not None else random.SystemRandom()
        fixture = load_fixture(settings.fixtures, netuid=settings.netuid, rng=rng)
        store = Store(rng)
        clock = clock or Clock()
        jwt_secret = settings.jwt_secret or (
            f"{rng.getrandbits(256):064x}" if settings.seed is not None else secrets.token_hex(32)
        )
        started_at = clock.now()
        state = cls(
            settings,
            store,
            clock,
            fixture,
            Authenticator(store, clock, settings, jwt_secret),
            jwt_secret,
            started_at,
            rng.getstate() if settings.seed is not None else None,
            FaultBook(settings.seed, list(settings.fault_rules)),
        )
        fixture.apply(store, started_at)
        return state

    def reset(self) -> None:
        """Back to the start state: the same users (so JWTs minted before stay
        valid), registrations, keys, secrets, scope ids and `created_at`; the
        clock on real time. A seeded mock also replays its ids and secrets
        from where it started, so a run after a reset repeats a run after start."""
        self.clock.reset()
        self.store.reset()
        if self.faults is not None:
            self.faults.reset()  # the rules the server started with, the draws from the start
        self.authenticator.reset()
        if self.rng_state is not None:
            self.store.rng.setstate(self.rng_state)
        self.fixture.apply(self.store, self.started_at)
