"""The system under test: the in-process mock, or any deployment by URL.

Both speak HTTP through an `httpx.Client`, so every suite runs unchanged
against either. Credentials for a URL come from the environment:

    CHUTES_HOTKEY_URI | CHUTES_HOTKEY_SEED      user A (hotkey on the metagraph)
    CHUTES_HOTKEY2_URI | CHUTES_HOTKEY2_SEED    user B (isolation checks)
    CHUTES_API_KEY                              an admin key of A (optional)
    CHUTES_REGISTRY_PASSWORD                    to check the registry header (optional)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from substrateinterface import Keypair

from tests.support import exchange as exchanges
from tests.support import secret, transport
from tests.support.deviations import Recorder
from tests.support.ledger import KeyLedger, new_marker
from tests.support.signing import hotkey_headers, purpose_for

IN_PROCESS_URL = "http://testserver"
IN_FLIGHT = 32  # independent requests a URL run has in flight at once (pages, cleanup)


class MissingCredentials(Exception):
    """A URL target was named without the credentials it needs."""


@dataclass(frozen=True)
class Identity:
    """One user the suite acts as."""

    label: str  # "A" or "B"
    keypair: Keypair
    user_id: str | None = None

    @property
    def hotkey(self) -> str:
        return self.keypair.ss58_address


def keypair_from_env(environ: Mapping[str, str], prefix: str) -> Keypair | None:
    uri, seed = environ.get(f"{prefix}_URI"), environ.get(f"{prefix}_SEED")
    if uri:
        return Keypair.create_from_uri(secret.uri(uri).reveal())
    if seed:
        return Keypair.create_from_seed(secret.seed(seed).reveal().removeprefix("0x"))
    return None


@dataclass
class Target:
    """A target plus the run's identities, key ledger and helpers."""

    base_url: str
    client: httpx.Client
    user_a: Identity
    user_b: Identity
    ledger: KeyLedger
    app: Any = None  # the ASGI app when in-process
    has_control: bool = False
    api_key_a: secret.Secret | None = None  # an admin key of A
    registry_password: secret.Secret | None = None
    netuid: int = 64
    recorder: Recorder | None = None  # known deviations and the report (session-wide)
    resilience: transport.Resilience | None = None  # by URL: how requests survive the network

    def __post_init__(self) -> None:
        if self.resilience is not None:
            self.resilience.settle_create = self.settle_create
            self.resilience.alive = self.holds_key

    @property
    def in_process(self) -> bool:
        return self.app is not None

    @property
    def base_path(self) -> str:
        """The path prefix of the base URL ('' for none)."""
        return "/" + self.base_url.split("://", 1)[-1].partition("/")[2].rstrip("/")

    def attach(self, recorder: Recorder) -> None:
        """Report every exchange of `client` to `recorder`, each stamped with
        the target's clock when it left and when its answer came."""
        self.recorder = recorder
        recorder.users = frozenset({self.user_a.hotkey, self.user_b.hotkey})
        recorder.registry_password = self.registry_password
        if self.resilience is not None:
            self.resilience.log = recorder.transport
            self.resilience.coverage = recorder.coverage
            recorder.by_url = True

        def sent(request: httpx.Request) -> None:
            request.extensions[exchanges.SENT_AT] = self.now()

        def received(response: httpx.Response) -> None:
            response.extensions[exchanges.RECEIVED_AT] = self.now()
            if response.request.url.path.startswith(self.base_path.rstrip("/") + "/_mock/"):
                return
            response.read()
            recorder.saw(exchanges.from_httpx(response, self.base_path))

        self.client.event_hooks = {"request": [sent], "response": [received]}

    def exchange(self, response: httpx.Response) -> exchanges.Exchange:
        """A response of `client` as the recognisers read it."""
        return exchanges.from_httpx(response, self.base_path)

    def identity(self, label: str) -> Identity:
        return self.user_a if label == "A" else self.user_b

    # Time ----------------------------------------------------------------
    def now(self) -> float:
        """The target's clock: the mock's via control, else this machine's."""
        if self.app is not None:
            return self.app.state.mock.clock.now()
        if self.has_control:
            return self.client.get("/_mock/clock").json()["now"]
        return time.time()

    # Requests --------------------------------------------------------------
    def signed(
        self,
        identity: Identity,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        nonce: int | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A request signed by `identity`'s hotkey, over the exact body bytes."""
        nonce = int(self.now()) if nonce is None else nonce
        signed_headers = hotkey_headers(identity.keypair, nonce, purpose_for(method, path), body)
        if body:
            signed_headers["Content-Type"] = "application/json"
        return self.client.request(
            method, path, content=body, headers={**signed_headers, **(headers or {})}
        )

    def overlapped(self, send: Callable[[Any], Any], items: list) -> list:
        """`send(item)` for each item, results in order. By URL they overlap
        (`IN_FLIGHT` at once), so many independent requests cost a few round
        trips; in-process they go one by one (no round trip to save, and the
        mock's state is not shared across threads)."""
        if self.in_process or len(items) < 2:
            return [send(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(len(items), IN_FLIGHT)) as pool:
            return list(pool.map(send, items))

    def signed_all(self, identity: Identity, paths: list[str]) -> list[httpx.Response]:
        """Signed GETs of `paths` by `identity`, answers in order (`overlapped`)."""
        return self.overlapped(lambda path: self.signed(identity, "GET", path), paths)

    def with_key(self, api_key: str, method: str, path: str, scheme: str = "Basic", **kw):
        """A request authenticated by an API key (`Basic`, `Bearer` or '' for bare)."""
        value = f"{scheme} {api_key}" if scheme else api_key
        headers = {"Authorization": value, **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)

    # Keys this run owns ---------------------------------------------------------
    def create_key(
        self,
        identity: Identity,
        suffix: str = "",
        *,
        admin: bool = True,
        scopes: list[dict] | None = None,
    ) -> dict:
        """Create a run-marked key as `identity`; it is recorded for cleanup."""
        self.ledger.reserve()
        payload: dict[str, Any] = {"name": self.ledger.name(suffix), "admin": admin}
        if scopes is not None:
            payload["scopes"] = scopes
        response = self.signed(identity, "POST", "/api_keys/", body=json.dumps(payload).encode())
        response.raise_for_status()
        created = response.json()
        self.ledger.record(created["api_key_id"], identity.label)
        return created

    def holds_key(self, key_id: str, sent: transport.Sent) -> bool:
        """The run created this key, has not deleted it, and `sent` is signed by
        its owner (or made with a key or token: then it may be)."""
        owner = self.ledger.alive().get(key_id)
        if owner is None:
            return False
        signer = sent.headers.get("x-chutes-hotkey")
        return signer is None or signer == self.identity(owner).hotkey

    def settle_create(self, sent: transport.Sent) -> bool:
        """A create lost its answer (a gateway's 504, a drop): delete the key it
        made, if it made one: a key of that name the run has never seen (the
        run's names are unique). True when one was deleted."""
        try:
            name = json.loads(sent.body)["name"]
        except (ValueError, KeyError, TypeError):
            return False
        identity = next(
            (
                i
                for i in (self.user_a, self.user_b)
                if i.hotkey == sent.headers.get("x-chutes-hotkey")
            ),
            None,
        )
        auth = {"Authorization": sent.headers.get("authorization", "")}

        def call(method: str, path: str) -> httpx.Response:
            if identity is not None:
                return self.signed(identity, method, path)
            return self.client.request(method, path, headers=auth)

        seen = self.recorder.journal.keys if self.recorder is not None else {}
        listed = call("GET", "/api_keys/?limit=10000")
        items = listed.json().get("items", []) if listed.status_code == 200 else []
        for item in items:
            key_id = item.get("api_key_id") if isinstance(item, dict) else None
            if item.get("name") == name and key_id not in seen and not self.ledger.owns(key_id):
                self.ledger.record(key_id, identity.label if identity else "A")
                try:
                    gone = call("DELETE", f"/api_keys/{key_id}").status_code in (200, 404)
                except transport.OutcomeUnknown:
                    gone = True  # the second send found no key
                if gone:
                    self.ledger.forget(key_id)
                return True
        return False

    def record_created(self, response: httpx.Response | Any, owner: str) -> None:
        """Record a create response made elsewhere (e.g. by Schemathesis)."""
        try:
            if response.status_code == 200:
                self.ledger.record(response.json()["api_key_id"], owner)
        except (ValueError, KeyError, TypeError):
            pass

    def delete_key(self, identity: Identity, api_key_id: str) -> httpx.Response:
        """Delete a key this run created (refuses any other id)."""
        if not self.ledger.owns(api_key_id):
            raise PermissionError(f"refusing to delete {api_key_id}: this run did not create it")
        try:
            response = self.signed(identity, "DELETE", f"/api_keys/{api_key_id}")
        except transport.OutcomeUnknown:
            self.ledger.forget(api_key_id)  # a gateway lost the answer; the key is gone
            raise
        if response.status_code in (200, 404):
            self.ledger.forget(api_key_id)
        return response

    def cleanup(self) -> list[str]:
        """Delete every key this run created and still holds; returns failures.
        By URL the deletes overlap (`IN_FLIGHT` at once): each is one round
        trip, and a run may hold hundreds of keys."""

        def delete(api_key_id: str, owner: str) -> str | None:
            try:
                response = self.delete_key(self.identity(owner), api_key_id)
            except transport.OutcomeUnknown:
                return None  # its answer was lost, and the key is gone
            except (Exception, transport.TransportProblem) as exc:
                return f"{api_key_id}: {exc}"
            if response.status_code not in (200, 404):
                return f"{api_key_id}: {response.status_code} {response.text[:200]}"
            return None

        alive = list(self.ledger.alive().items())
        outcomes = self.overlapped(lambda item: delete(*item), alive)
        failures = [failure for failure in outcomes if failure]
        failures += self._sweep()
        return failures

    def _sweep(self) -> list[str]:
        """Delete keys named with this run's marker that a lost response left behind."""
        failures = []
        for identity in (self.user_a, self.user_b):
            try:
                page = self.signed(identity, "GET", "/api_keys/?limit=10000")
                items = page.json().get("items", []) if page.status_code == 200 else []
            except (Exception, transport.TransportProblem):
                continue
            for item in items:
                if str(item.get("name", "")).startswith(self.ledger.marker):
                    self.ledger.record(item["api_key_id"], identity.label)
                    try:
                        response = self.delete_key(identity, item["api_key_id"])
                    except transport.OutcomeUnknown:
                        continue
                    except (Exception, transport.TransportProblem) as exc:
                        failures.append(f"{item['api_key_id']}: {exc}")
                        continue
                    if response.status_code not in (200, 404):
                        failures.append(f"{item['api_key_id']}: {response.status_code}")
        return failures


def in_process_target(
    *, quirks: frozenset[str] = frozenset(), max_keys: int = 500, **settings: Any
) -> Target:
    """The mock, in this process, seeded with alice (//Alice) and bob (//Bob);
    `settings` override the mock's Settings (e.g. for a broken-on-purpose run)."""
    from starlette.testclient import TestClient

    from mock_server.app import create_app
    from mock_server.settings import Settings

    app = create_app(Settings(quirks=quirks, **settings))
    state = app.state.mock
    users = {u.username: u for u in state.fixture.users}
    alice, bob = users["alice"], users["bob"]
    return Target(
        base_url=IN_PROCESS_URL,
        client=TestClient(app, base_url=IN_PROCESS_URL, follow_redirects=False),
        user_a=Identity("A", Keypair.create_from_uri(alice.uri), alice.user_id),
        user_b=Identity("B", Keypair.create_from_uri(bob.uri), bob.user_id),
        ledger=KeyLedger(new_marker(), max_keys),
        app=app,
        has_control=state.settings.control,
        api_key_a=secret.api_key(next(k.secret_key for k in alice.keys if k.admin)),
        registry_password=secret.password(state.settings.registry_password),
        netuid=state.settings.netuid,
    )


def missing_credentials(base_url: str, environ: Mapping[str, str]) -> str | None:
    """What a URL target lacks, as a message naming the variables; None if nothing."""
    missing = []
    if not (environ.get("CHUTES_HOTKEY_URI") or environ.get("CHUTES_HOTKEY_SEED")):
        missing.append("CHUTES_HOTKEY_URI or CHUTES_HOTKEY_SEED (user A, on the metagraph)")
    if not (environ.get("CHUTES_HOTKEY2_URI") or environ.get("CHUTES_HOTKEY2_SEED")):
        missing.append("CHUTES_HOTKEY2_URI or CHUTES_HOTKEY2_SEED (user B, for isolation checks)")
    if not missing:
        return None
    return f"--base-url {base_url} needs credentials from the environment: set " + "; ".join(
        missing
    )


def url_target(base_url: str, environ: Mapping[str, str], *, max_keys: int = 100) -> Target:
    """A deployment by URL; credentials from the environment (see module doc)."""
    problem = missing_credentials(base_url, environ)
    if problem:
        raise MissingCredentials(problem)
    try:
        user_a = keypair_from_env(environ, "CHUTES_HOTKEY")
        user_b = keypair_from_env(environ, "CHUTES_HOTKEY2")
    except Exception as exc:
        raise MissingCredentials(f"cannot make a hotkey from the environment: {exc}") from None
    assert user_a is not None and user_b is not None
    resilience = transport.Resilience()
    return Target(
        base_url=base_url.rstrip("/"),
        client=transport.client(resilience, base_url.rstrip("/")),
        resilience=resilience,
        user_a=Identity("A", user_a),
        user_b=Identity("B", user_b),
        ledger=KeyLedger(new_marker(), max_keys),
        api_key_a=secret.api_key(environ["CHUTES_API_KEY"])
        if environ.get("CHUTES_API_KEY")
        else None,
        registry_password=(
            secret.password(environ["CHUTES_REGISTRY_PASSWORD"])
            if environ.get("CHUTES_REGISTRY_PASSWORD")
            else None
        ),
    )
