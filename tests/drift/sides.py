"""The two sides of a drift comparison, and how one step is sent to either.

The deployment is the session's target; the twin is a mock in this process
(called through `mock_server.transports`, which hands the app the request's
exact bytes, headers included), made afresh for every execution of a
sequence, with the quirks named by `--known-deviations` and the deployment's
users (same hotkeys, same place on the metagraph). Each side gets its own
nonces, signatures, ids and secrets.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from substrateinterface import Keypair

from tests.drift.steps import NAME_SLOT, OWNER, UNKNOWN_KEY_ID, Auth, AuthKind, Step
from tests.support import exchange as exchanges
from tests.support import secret
from tests.support.deviations import Recorder
from tests.support.exchange import Exchange
from tests.support.ledger import KeyLedger
from tests.support.signing import hotkey_headers, purpose_for
from tests.support.target import IN_PROCESS_URL, Identity, Target

STRANGER = Keypair.create_from_uri("//ChutesDriftStranger")  # a hotkey no deployment knows
UNPARSABLE_SIGNATURE = "zz12"
MALFORMED_KEY = "cpk_not.a.key"
UNKNOWN_KEY = f"cpk_{'0' * 31}1.{'0' * 31}2.{'A' * 32}"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
NONCE_SKEW = 700  # beyond the 600 s window either way


@dataclass
class Made:
    """A key the running execution created on this side."""

    api_key_id: str
    secret: str
    owner: str  # "A" or "B"
    deleted: bool = False


@dataclass
class Side:
    """One side of the comparison, during one execution of a sequence."""

    name: str  # "deployment" or "mock"
    target: Target
    prefix: str = ""  # what NAME_SLOT stands for in this execution
    made: list[Made] = field(default_factory=list)
    sent: dict[str, str] = field(default_factory=dict)  # nonce/signature value -> placeholder
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def shared(self) -> bool:
        """The deployment: keys count against the run's budget and ledger."""
        return self.name == "deployment"

    def begin(self, prefix: str) -> None:
        self.prefix, self.made, self.sent, self.exchanges = prefix, [], {}, []

    # Sending -------------------------------------------------------------------
    def send(self, step: Step) -> Exchange:
        path = step.path.replace("{key}", self._key_id(step.key))
        url = path + (f"?{step.query}" if step.query else "")
        body = (step.body or b"").replace(NAME_SLOT.encode(), self.prefix.encode())
        headers = self._credentials(step, path, body)
        if step.body is not None:
            headers["Content-Type"] = step.content_type
        creates = step.method == "POST" and path == "/api_keys/"
        if creates and self.shared:
            self.target.ledger.reserve()
        sent = {name: _latin1(value) for name, value in headers.items()}
        response = self.target.client.request(step.method, url, content=body, headers=sent)
        response.read()
        exchange = exchanges.from_httpx(response, self.target.base_path)
        self.exchanges.append(exchange)
        if creates:
            self._created(step.auth, exchange)
        if step.method == "DELETE" and step.key is not None and exchange.status == 200:
            self._deleted(step.key)
        return exchange

    def _key(self, ref: int) -> Made | None:
        return self.made[ref % len(self.made)] if self.made else None

    def _key_id(self, ref: int | None) -> str:
        made = self._key(ref) if ref is not None else None
        return made.api_key_id if made is not None else UNKNOWN_KEY_ID

    def _credentials(self, step: Step, path: str, body: bytes) -> dict[str, str]:
        auth, method, kind = step.auth, step.method, step.auth.kind
        if kind is AuthKind.KEY:
            made = self._key(auth.key)
            token = made.secret if made is not None else UNKNOWN_KEY
            return {"Authorization": f"{auth.scheme} {token}".strip()}
        if kind is AuthKind.MALFORMED_KEY:
            return {"Authorization": f"Basic {MALFORMED_KEY}"}
        if kind is AuthKind.UNKNOWN_KEY:
            return {"Authorization": f"Basic {UNKNOWN_KEY}"}
        if kind is AuthKind.JWT:
            return {"Authorization": f"Bearer {JWT}"}
        if kind is AuthKind.NONE:
            return {}
        user = self._user(auth.user, step.key)
        keypair = (
            STRANGER if kind is AuthKind.UNKNOWN_HOTKEY else self.target.identity(user).keypair
        )
        now = int(self.target.now())
        nonce: int | str = {
            AuthKind.STALE_NONCE: now - NONCE_SKEW,
            AuthKind.FUTURE_NONCE: now + NONCE_SKEW,
            AuthKind.BAD_NONCE: auth.nonce,
        }.get(kind, now)
        signer = STRANGER if kind is AuthKind.WRONG_SIGNATURE else keypair
        headers = hotkey_headers(signer, nonce, purpose_for(method, path), body)
        headers["X-Chutes-Hotkey"] = keypair.ss58_address
        if kind is AuthKind.UNPARSABLE_SIGNATURE:
            headers["X-Chutes-Signature"] = UNPARSABLE_SIGNATURE
        if kind is not AuthKind.BAD_NONCE:
            self.sent[headers["X-Chutes-Nonce"]] = "<nonce>"
        self.sent[headers["X-Chutes-Signature"]] = "<signature>"
        return headers

    def _user(self, user: str, ref: int | None) -> str:
        """A or B; OWNER is the owner of key `ref` (A when there is none)."""
        if user != OWNER:
            return user
        made = self._key(ref) if ref is not None else None
        return made.owner if made is not None else "A"

    # What the execution made -----------------------------------------------------
    def _created(self, auth: Auth, exchange: Exchange) -> None:
        payload = exchange.json()
        made = None
        if exchange.status == 200 and isinstance(payload, dict):
            key_id, secret = payload.get("api_key_id"), payload.get("secret_key")
            if isinstance(key_id, str) and isinstance(secret, str):
                made = Made(key_id, secret, self._owner(auth))
        if made is None:
            if self.shared:
                self.target.ledger.release()
            return
        self.made.append(made)
        if self.shared:
            self.target.ledger.record(made.api_key_id, made.owner)

    def _owner(self, auth: Auth) -> str:
        if auth.kind is AuthKind.KEY:
            made = self._key(auth.key)
            return made.owner if made is not None else "A"
        return self._user(auth.user, None)

    def _deleted(self, ref: int) -> None:
        made = self._key(ref)
        if made is None:
            return
        made.deleted = True
        if self.shared:
            self.target.ledger.forget(made.api_key_id)

    def end(self) -> None:
        """Delete what the execution created and did not delete (the deployment's
        leftovers, if any, are the session's cleanup's)."""
        if not self.shared:
            return
        for made in self.made:
            if not made.deleted and self.target.ledger.owns(made.api_key_id):
                try:
                    self.target.delete_key(self.target.identity(made.owner), made.api_key_id)
                except PermissionError:
                    continue

    # Other clients' keys ------------------------------------------------------------
    def key_counts(self) -> dict[str, int]:
        """How many keys users A and B hold now (this execution has made none yet)."""
        counts = {}
        for label in ("A", "B"):
            page = self.target.signed(self.target.identity(label), "GET", "/api_keys/?limit=10000")
            body = page.json() if page.status_code == 200 else {}
            counts[label] = body.get("total", 0) if isinstance(body, dict) else 0
        return counts


def _latin1(value: str) -> str | bytes:
    """A header value as its bytes where it is not ASCII (a server reads Latin-1)."""
    return value if value.isascii() else value.encode("latin-1")


# The twin ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TwinPlan:
    """How to make the twin: the deployment's users, the known deviations."""

    quirks: frozenset[str]
    fixtures: Path
    netuid: int
    registry_password: str | None


def plan_twin(deployment: Target, known: frozenset[str], b_registered: bool) -> TwinPlan:
    """A fixture with the deployment's two hotkeys (B on the metagraph when it is there)."""
    users = [
        {"username": "a", "hotkey": deployment.user_a.hotkey, "registered": True},
        {"username": "b", "hotkey": deployment.user_b.hotkey, "registered": b_registered},
    ]
    with tempfile.NamedTemporaryFile(
        "w", suffix=".yaml", prefix="chutes-drift-", delete=False, encoding="utf-8"
    ) as handle:
        yaml.safe_dump({"users": users}, handle)
    password = deployment.registry_password.reveal() if deployment.registry_password else None
    return TwinPlan(known, Path(handle.name), deployment.netuid, password)


def _run_now(call: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
    """Run one request on a loop of its own, here (the twin serves one client)."""
    done: concurrent.futures.Future = concurrent.futures.Future()
    done.set_result(asyncio.run(call))
    return done


def make_twin(plan: TwinPlan, deployment: Target, counts: dict[str, int]) -> Target:
    """A fresh mock as the plan says, signed for with the deployment's hotkeys,
    holding as many keys per user as `counts` (other clients' keys shift the
    pages of a list, so both sides hold the same number)."""
    from mock_server.app import create_app
    from mock_server.quirks import parse_quirks
    from mock_server.settings import Settings
    from mock_server.transports import MockTransport

    settings = {"registry_password": plan.registry_password} if plan.registry_password else {}
    app = create_app(
        Settings(
            quirks=parse_quirks(",".join(sorted(plan.quirks)) or None),
            fixtures=plan.fixtures,
            netuid=plan.netuid,
            **settings,
        )
    )
    state = app.state.mock
    users = {u.username: u for u in state.fixture.users}
    twin = Target(
        base_url=IN_PROCESS_URL,
        client=httpx.Client(
            transport=MockTransport(app, _run_now, 30.0),
            base_url=IN_PROCESS_URL,
            follow_redirects=False,
        ),
        user_a=Identity("A", deployment.user_a.keypair, users["a"].user_id),
        user_b=Identity("B", deployment.user_b.keypair, users["b"].user_id),
        ledger=KeyLedger("twin", 10**9),
        app=app,
        registry_password=secret.password(state.settings.registry_password),
        netuid=state.settings.netuid,
    )
    for label, identity in (("A", twin.user_a), ("B", twin.user_b)):
        for n in range(counts.get(label, 0)):
            state.store.create_key(identity.user_id, f"other-{n}", True, (), state.clock.now())
    twin.attach(Recorder(known=plan.quirks))
    return twin
