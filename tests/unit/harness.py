"""An in-process mock plus the helpers the unit tests speak HTTP through."""

from __future__ import annotations

import asyncio
import base64
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from substrateinterface import Keypair

from mock_server.state import MockState
from tests.support.signing import hotkey_headers, purpose_for

with warnings.catch_warnings():  # starlette 1.x: "install httpx2" (a UserWarning)
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NOW = 1_800_000_000  # the frozen clock of every test (a whole second)
BASE = "http://testserver"
ALICE = Keypair.create_from_uri("//Alice")
BOB = Keypair.create_from_uri("//Bob")
ALICE_ID = "a11ce000-0000-4000-8000-000000000001"
BOB_ID = "b0b00000-0000-4000-8000-000000000002"
REGISTRY_PASSWORD = "chutes-mock-registry"
ENDPOINTS = (
    ("GET", "/registry/auth"),
    ("GET", "/api_keys/"),
    ("POST", "/api_keys/"),
    ("GET", "/api_keys/{id}"),
    ("DELETE", "/api_keys/{id}"),
)


def basic_registry_header(password: str) -> str:
    return "Basic " + base64.b64encode(f":{password}".encode()).decode()


def body_of(payload: Any) -> bytes:
    return json.dumps(payload).encode()


@dataclass(frozen=True)
class RawResponse:
    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return json.loads(self.content)


def raw_request(
    app: Starlette,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    query: bytes = b"",
) -> RawResponse:
    """One request straight through ASGI, header bytes untouched (the
    TestClient re-encodes non-ASCII header values as UTF-8)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return RawResponse(
        start["status"],
        {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])},
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
    )


@dataclass
class Mock:
    """One app, its TestClient (no redirects followed) and request helpers."""

    app: Starlette
    client: TestClient

    @property
    def state(self) -> MockState:
        return self.app.state.mock

    def now(self) -> int:
        return int(self.state.clock.now())

    def admin_key(self, username: str = "alice") -> str:
        """The seeded admin key of a fixture user."""
        user = next(u for u in self.state.fixture.users if u.username == username)
        return next(k.secret_key for k in user.keys if k.admin)

    # Requests ------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, **kwargs)

    def signed(
        self,
        keypair: Keypair,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        nonce: int | str | None = None,
        purpose: Any = ...,  # ...: from the path; None: the body hash
        headers: Mapping[str, Any] | None = None,
        content_type: str | None = "application/json",
    ) -> httpx.Response:
        """Signed like the real client: exact body bytes, purpose from the path."""
        nonce = self.now() if nonce is None else nonce
        chosen = purpose_for(method, path) if purpose is ... else purpose
        signed = hotkey_headers(keypair, nonce, chosen, body)
        if body and content_type:
            signed["Content-Type"] = content_type
        return self.client.request(
            method, path, content=body, headers={**signed, **(headers or {})}
        )

    def with_auth(
        self, authorization: str | bytes, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": authorization, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def with_key(
        self, token: str, method: str, path: str, scheme: str = "Basic", **kwargs: Any
    ) -> httpx.Response:
        value = f"{scheme} {token}" if scheme else token
        return self.with_auth(value, method, path, **kwargs)

    # Objects -------------------------------------------------------------------
    def create(
        self, keypair: Keypair, name: str, admin: bool = True, scopes: Any = ..., **extra: Any
    ) -> httpx.Response:
        payload: dict[str, Any] = {"name": name, "admin": admin, **extra}
        if scopes is not ...:
            payload["scopes"] = scopes
        return self.signed(keypair, "POST", "/api_keys/", body_of(payload))

    def created(self, keypair: Keypair, name: str, admin: bool = True, scopes: Any = ...) -> dict:
        response = self.create(keypair, name, admin, scopes)
        assert response.status_code == 200, response.text
        return response.json()

    def add_key(self, user_id: str, name: str, admin: bool = True, **extra: Any) -> dict:
        """A key made through the control API (no signing)."""
        response = self.client.post(
            "/_mock/keys", json={"user_id": user_id, "name": name, "admin": admin, **extra}
        )
        assert response.status_code == 200, response.text
        return response.json()

    def jwt(self, user_id: str = ALICE_ID, **claims: Any) -> str:
        response = self.client.post("/_mock/jwt", json={"user_id": user_id, **claims})
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def add_user(self, username: str, **fields: Any) -> dict:
        response = self.client.post("/_mock/users", json={"username": username, **fields})
        assert response.status_code == 200, response.text
        return response.json()

    def register(self, hotkey: str, netuid: int = 64) -> None:
        response = self.client.put(f"/_mock/metagraph/{netuid}/{hotkey}")
        assert response.status_code == 200, response.text
