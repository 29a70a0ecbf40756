"""`MockState`: the one owner of the store, clock and authenticator."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

from mock_server.auth import Authenticator
from mock_server.clock import Clock
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
        state = cls(
            settings,
            store,
            clock,
            fixture,
            Authenticator(store, clock, settings, jwt_secret),
            jwt_secret,
        )
        fixture.apply(store, clock.now())
        return state

    def reset(self) -> None:
        """Back to the seeded state: same users, registrations and keys; real time."""
        self.clock.reset()
        self.store.reset()
        self.authenticator.reset()
        self.fixture.apply(self.store, self.clock.now())
