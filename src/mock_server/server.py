"""`MockServer`: the mock in a background thread, for a client's own tests.

    with MockServer() as mock:                  # or mock.start() ... mock.stop()
        alice = mock.user("alice")              # username, user_id, hotkey, api_key, jwt
        httpx.get(f"{mock.url}/api_keys/", headers={"Authorization": f"Bearer {alice.jwt}"})
        headers = mock.sign("alice", "GET", "/api_keys/")   # the three X-Chutes-* headers
        mock.requests(path="/api_keys/")        # the journal
        mock.reset(); mock.freeze_clock(1.8e9); mock.advance_clock(600)

The socket is bound before uvicorn starts (to a free loopback port unless
told otherwise), so the URL is known at once and a busy port fails before
anything is printed; `chutes-mock serve` binds the same way. Calls that
touch the mock's state run on the server's event loop, between requests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from mock_server import hotkeys, jwt_tokens, signing, spec
from mock_server.clock import LATEST
from mock_server.inprocess import call_app
from mock_server.journal import DEFAULT_SIZE, Journal, JournalEntry
from mock_server.quirks import parse_quirks
from mock_server.settings import DEFAULT_FIXTURES, Settings
from mock_server.state import MockState

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
NO_SOCKET_URL = "http://chutes-mock.invalid"  # `serve=False`: reachable by transport only
JWT_TTL = 86400  # the banner's and `user()`'s tokens are valid for a day
START_TIMEOUT = 30.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one); OSError
    when the address is taken or cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def socket_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass(frozen=True)
class MockUser:
    """A user of the mock with ready credentials (secrets hidden from repr)."""

    username: str
    user_id: str
    hotkey: str | None
    uri: str | None
    api_key: str | None = field(repr=False)  # the user's first admin key, if any
    jwt: str = field(repr=False)  # valid for a day from the mock's now


def user_credentials(state: MockState, username: str) -> MockUser:
    """`username`'s credentials: a fixture user's first admin key, and a
    fresh JWT; a user added later has no key."""
    fixture_user = next((u for u in state.fixture.users if u.username == username), None)
    stored = next((u for u in state.store.users() if u.username == username), None)
    if stored is None:
        names = ", ".join(u.username for u in state.store.users()) or "none"
        raise KeyError(f"no user {username!r} (users: {names})")
    admin_key = None
    if fixture_user is not None:
        admin_key = next((k.secret_key for k in fixture_user.keys if k.admin), None)
    return MockUser(
        username=stored.username,
        user_id=stored.user_id,
        hotkey=stored.hotkey,
        uri=fixture_user.uri if fixture_user else None,
        api_key=admin_key,
        jwt=jwt_tokens.mint(stored, state.jwt_secret, state.clock.now(), JWT_TTL),
    )


def credentials(state: MockState, url: str) -> dict[str, Any]:
    """What `serve --credentials-file` writes: the URL and each fixture
    user's credentials (as the banner shows them)."""
    settings = state.settings
    registered = set(state.store.metagraph().get(settings.netuid, []))
    users = []
    for fixture_user in state.fixture.users:
        user = user_credentials(state, fixture_user.username)
        users.append(
            {
                "username": user.username,
                "user_id": user.user_id,
                "hotkey": user.hotkey,
                "registered": user.hotkey in registered,
                "uri": user.uri,
                "api_key": user.api_key,
                "jwt": user.jwt,
            }
        )
    return {
        "url": url,
        "netuid": settings.netuid,
        "registry_password": settings.registry_password,
        "control": settings.control,
        "users": users,
    }


NO_SUB: Any = object()  # `jwt(sub=...)` not given


class MockControlError(ValueError):
    """The control API refused a helper's call: its status and detail."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        detail = body.get("detail") if isinstance(body, dict) else body
        super().__init__(f"{method} {path} answered {status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class MockKey:
    """A key `add_key` made, with its secret (hidden from repr)."""

    api_key_id: str
    user_id: str
    name: str
    admin: bool
    scopes: list[dict[str, Any]]
    created_at: str
    secret_key: str = field(repr=False)

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> MockKey:
        return cls(
            api_key_id=view["api_key_id"],
            user_id=view["user_id"],
            name=view["name"],
            admin=view["admin"],
            scopes=view["scopes"],
            created_at=view["created_at"],
            secret_key=view["secret_key"],
        )


class FaultHandle:
    """A fault rule `MockServer.fault` added; in `with`, removed on exit."""

    def __init__(self, server: MockServer, rule_id: int) -> None:
        self.server = server
        self.id = rule_id

    def remove(self) -> None:
        """Remove the rule (nothing if it is gone already, e.g. after a reset)."""
        with contextlib.suppress(MockControlError):
            self.server._control("DELETE", f"/_mock/faults/{self.id}")

    def state(self) -> dict[str, Any]:
        """The rule as `GET /_mock/faults` shows it (`fired`, `uses_left`)."""
        return next(r for r in self.server.faults() if r["id"] == self.id)

    def __enter__(self) -> FaultHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


class MockServer:
    """The mock on a free loopback port in a background thread.

    A context manager; or `start()` and `stop()`. Stopping frees the port
    and ends the thread. With `serve=False` there is no socket and no
    uvicorn: clients reach the app through `transport()` or
    `async_transport()` alone, and `url` is a name that never resolves.
    """

    def __init__(
        self,
        *,
        quirks: str | Iterable[str] | None = None,
        fixtures: str | Path | None = None,
        seed: int | None = None,
        registry_password: str = "chutes-mock-registry",
        netuid: int = 64,
        journal_size: int = DEFAULT_SIZE,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        serve: bool = True,
        control: bool = True,
        control_token: str | None = None,
        read_timeout: float = 30.0,
        keep_alive_timeout: float = 5.0,
        shutdown_timeout: float = 1.0,
    ) -> None:
        if quirks is not None and not isinstance(quirks, str):
            quirks = ",".join(quirks)
        self.settings = Settings(
            host=host,
            port=port,
            fixtures=Path(fixtures) if fixtures is not None else DEFAULT_FIXTURES,
            netuid=netuid,
            registry_password=registry_password,
            quirks=parse_quirks(quirks),
            log_level=log_level,
            seed=seed,
            journal_size=journal_size,
            control=control,
            control_token=control_token or None,
            read_timeout=read_timeout,
            keep_alive_timeout=keep_alive_timeout,
            shutdown_timeout=shutdown_timeout,
        )
        refusal = self.settings.unsafe_exposure()
        if refusal:  # as `serve` refuses it, in the words of the constructor
            raise ValueError(
                refusal.replace("--control-token TOKEN", "control_token=...").replace(
                    "--no-control", "control=False"
                )
            )
        self._serve = serve
        self._app: Any = None
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._serving: concurrent.futures.Future[None] | None = None
        self._failure: BaseException | None = None
        self._url: str | None = None
        self._operations: list[spec.Operation] = []
        self._signers: dict[str, Any] = {}  # users added with a uri or seed: their keypairs

    # Life cycle ------------------------------------------------------------
    def start(self) -> MockServer:
        """Build the mock, start its loop thread and (unless `serve=False`)
        bind its port and serve; returns once it answers."""
        from mock_server.app import create_app

        if self._thread is not None:
            raise RuntimeError("this MockServer is already running")
        self._app = create_app(self.settings)
        self._operations = spec.operations(
            spec.load_document(self.settings.spec_path), spec.Document.AUTH
        )
        if self._serve:
            self._socket = bind_socket(self.settings.host, self.settings.port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="chutes-mock", daemon=True
        )
        self._thread.start()
        if not self._serve:
            self._url = NO_SOCKET_URL
            return self
        self._url = socket_url(self._socket)
        self._start_uvicorn()
        return self

    def _start_uvicorn(self) -> None:
        import uvicorn

        from mock_server.connections import close_after_500
        from mock_server.guards import uvicorn_config

        config = uvicorn_config(
            close_after_500(self._app), self.settings, log_config=None, lifespan="off"
        )
        self._server = server = uvicorn.Server(config)
        self._failure = None
        sockets = [self._socket]

        async def serve() -> None:
            try:
                await server.serve(sockets=sockets)
            except BaseException as exc:  # reported by start(); SystemExit included
                self._failure = exc

        self._serving = asyncio.run_coroutine_threadsafe(serve(), self._loop)
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if self._serving.done() or time.monotonic() > deadline:
                failure = self._failure
                self.stop()
                raise RuntimeError(f"the mock did not start: {failure!r}") from failure
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving, free the port and end the thread (idempotent)."""
        if self._thread is None:
            return
        if self._server is not None:
            self._server.should_exit = True
        if self._serving is not None:
            with contextlib.suppress(concurrent.futures.TimeoutError):
                self._serving.result(timeout=START_TIMEOUT)
        loop = self._loop
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=START_TIMEOUT)
        if not self._thread.is_alive():
            loop.close()
        if self._socket is not None:
            self._socket.close()
        self._thread = self._server = self._socket = self._loop = self._serving = None
        self._url = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, no trailing slash (`serve=False`:
        `http://chutes-mock.invalid`, for a client on a transport)."""
        if self._url is None:
            raise RuntimeError("the MockServer is not running: use it in `with` or call start()")
        return self._url

    def _state(self) -> MockState:
        """The mock's state object (touch it only on the loop: `_on_loop`)."""
        if self._app is None:
            raise RuntimeError("the MockServer has not been started")
        return self._app.state.mock

    def _on_loop(self, func: Callable[[], T]) -> T:
        """Run `func` on the server's event loop, between requests."""

        async def call() -> T:
            return func()

        return self._submit(call()).result(timeout=START_TIMEOUT)

    def _submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        loop = self._loop
        if loop is None or self._thread is None:
            coroutine.close()
            raise RuntimeError("the MockServer is not running: use it in `with` or call start()")
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

    # Transports --------------------------------------------------------------
    def transport(self) -> httpx.BaseTransport:
        """A sync httpx transport that calls the app in-process (no socket):
        `httpx.Client(transport=mock.transport(), base_url=mock.url)`."""
        from mock_server.transports import MockTransport

        self._submit_check()
        return MockTransport(self._app, self._submit, START_TIMEOUT)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """The same for `httpx.AsyncClient`, from any event loop."""
        from mock_server.transports import AsyncMockTransport

        self._submit_check()
        return AsyncMockTransport(self._app, self._submit)

    def _submit_check(self) -> None:
        if self._thread is None:
            raise RuntimeError("the MockServer is not running: use it in `with` or call start()")

    # The control API, in-process -----------------------------------------------
    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the control API on the mock's loop, without the wire: the
        same validation, bounds and answers as over HTTP."""
        headers = [(b"content-type", b"application/json")]
        if self.settings.control_token:
            headers.append((b"x-mock-control-token", self.settings.control_token.encode()))
        payload = b"" if body is None else json.dumps(body).encode()
        if self._app is None or self._thread is None:
            raise RuntimeError("the MockServer is not running: use it in `with` or call start()")
        if not self.settings.control:
            raise RuntimeError("this helper uses the control API, which control=False turns off")
        answer = self._submit(call_app(self._app, method, path.encode(), headers, payload)).result(
            timeout=START_TIMEOUT
        )
        data = json.loads(answer.body) if answer.body else None
        if answer.status >= 300:
            raise MockControlError(method, path, answer.status, data)
        return data

    def _user_id(self, username: str) -> str:
        state = self._state()
        user = self._on_loop(
            lambda: next((u for u in state.store.users() if u.username == username), None)
        )
        if user is None:
            raise KeyError(f"no user {username!r}")
        return user.user_id

    def state(self) -> dict[str, Any]:
        """Users, metagraph and keys, never a secret (as `GET /_mock/state`)."""
        return self._control("GET", "/_mock/state")

    def add_user(
        self,
        username: str,
        *,
        hotkey: str | None = None,
        uri: str | None = None,
        seed: str | None = None,
        user_id: str | None = None,
        registered_on: Iterable[int] = (),
    ) -> MockUser:
        """Add a user (as `POST /_mock/users`); `uri` or `seed` gives it a
        hotkey this object can sign with. Returns it with a fresh JWT."""
        body: dict[str, Any] = {"username": username, "registered_on": list(registered_on)}
        for name, value in (("hotkey", hotkey), ("uri", uri), ("seed", seed), ("user_id", user_id)):
            if value is not None:
                body[name] = value
        self._control("POST", "/_mock/users", body)
        if uri is not None or seed is not None:
            self._signers[username] = hotkeys.keypair_from(uri=uri, seed=seed)
        return self.user(username)

    def register(self, hotkey: str, netuid: int | None = None) -> None:
        """Put `hotkey` on the metagraph of `netuid` (default: the mock's)."""
        netuid = self.settings.netuid if netuid is None else netuid
        self._control("PUT", f"/_mock/metagraph/{netuid}/{quote(hotkey, safe='')}")

    def unregister(self, hotkey: str, netuid: int | None = None) -> None:
        """Take `hotkey` off the metagraph of `netuid` (default: the mock's)."""
        netuid = self.settings.netuid if netuid is None else netuid
        self._control("DELETE", f"/_mock/metagraph/{netuid}/{quote(hotkey, safe='')}")

    def add_key(
        self,
        username: str,
        name: str,
        *,
        admin: bool = True,
        scopes: Iterable[dict[str, Any]] = (),
        secret_key: str | None = None,
    ) -> MockKey:
        """Give `username` a key without signing (as `POST /_mock/keys`);
        scopes are `{"object_type", "object_id"?, "action"?}` for a non-admin key."""
        body: dict[str, Any] = {
            "user_id": self._user_id(username),
            "name": name,
            "admin": admin,
            "scopes": list(scopes),
        }
        if secret_key is not None:
            body["secret_key"] = secret_key
        return MockKey.from_view(self._control("POST", "/_mock/keys", body))

    def fault(self, **rule: Any) -> FaultHandle:
        """Add a fault rule (as `POST /_mock/faults`): `match`, `latency_ms`,
        `error`, `connection`, `when`, `times`, `probability`. Use it in
        `with` to remove the rule on exit, or call `.remove()`."""
        created = self._control("POST", "/_mock/faults", rule)
        return FaultHandle(self, created["id"])

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules, each with `fired` and `uses_left` (as `GET /_mock/faults`)."""
        return self._control("GET", "/_mock/faults")["faults"]

    def clear_faults(self) -> None:
        """Remove every fault rule (as `DELETE /_mock/faults`)."""
        self._control("DELETE", "/_mock/faults")

    def jwt(self, username: str, *, ttl: float = JWT_TTL, sub: Any = NO_SUB) -> str:
        """A JWT for `username`, valid `ttl` seconds from the mock's now
        (negative: already expired); `sub` overrides its subject claim."""
        body: dict[str, Any] = {"user_id": self._user_id(username), "ttl": ttl}
        if sub is not NO_SUB:
            body["sub"] = sub
        return self._control("POST", "/_mock/jwt", body)["token"]

    # Users and signing -------------------------------------------------------
    def user(self, name: str) -> MockUser:
        """A user by username, with an admin API key (fixture users) and a JWT."""
        state = self._state()
        return self._on_loop(lambda: user_credentials(state, name))

    def sign(
        self,
        username: str,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        nonce: int | str | None = None,
    ) -> dict[str, str]:
        """The three `X-Chutes-*` headers for exactly this request, signed by
        `username`'s hotkey (a fixture user with a dev URI or a seed, or one
        `add_user` gave a `uri` or `seed`): the purpose is the contract's, or
        the sha256 of `body` for `POST /api_keys/`. The nonce defaults to
        the mock's clock."""
        state = self._state()
        fixture_user = next((u for u in state.fixture.users if u.username == username), None)
        if fixture_user is not None and (fixture_user.uri or fixture_user.seed):
            keypair = hotkeys.keypair_from(uri=fixture_user.uri, seed=fixture_user.seed)
        elif username in self._signers:
            keypair = self._signers[username]
        else:
            raise ValueError(
                f"cannot sign as {username!r}: only a user with a 'uri' or 'seed' (in the"
                " fixtures, or given to add_user) can sign"
            )
        method = method.upper()
        purpose = signing.contract_purpose(self._operations, method, path, body)
        if nonce is None:
            nonce = int(self._on_loop(state.clock.now))
        return signing.signature_headers(keypair, nonce, purpose)

    # Journal, reset and clock ------------------------------------------------
    def requests(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[JournalEntry]:
        """The journal, oldest first, filtered as `GET /_mock/requests` does."""
        journal = self._journal()
        return self._on_loop(lambda: journal.entries(method=method, path=path, status=status))

    def clear_requests(self) -> None:
        """Empty the journal (as `DELETE /_mock/requests`)."""
        self._on_loop(self._journal().clear)

    def _journal(self) -> Journal:
        if self._app is None:
            raise RuntimeError("the MockServer has not been started")
        return self._app.state.journal

    def reset(self) -> None:
        """Back to the seeded state (as `POST /_mock/reset`); the journal stays."""
        self._on_loop(self._state().reset)

    def freeze_clock(self, at: float | None) -> None:
        """Freeze the mock's clock at `at` (Unix seconds); None: real time."""
        if at is not None and not 0 <= at <= LATEST:
            raise ValueError(f"the clock goes from 0 to {LATEST:.0f}, not {at}")
        clock = self._state().clock
        self._on_loop(lambda: clock.set(at))

    def advance_clock(self, seconds: float) -> None:
        """Move the mock's clock by `seconds` (negative: back)."""
        clock = self._state().clock

        def advance() -> None:
            if not 0 <= clock.now() + seconds <= LATEST:
                raise ValueError(f"the clock goes from 0 to {LATEST:.0f}")
            clock.advance(seconds)

        self._on_loop(advance)

    def now(self) -> float:
        """The mock's clock."""
        return self._on_loop(self._state().clock.now)
