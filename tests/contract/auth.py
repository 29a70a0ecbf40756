"""requests auth objects that Schemathesis passes to every generated request.

They run when `requests` prepares the request, so they see the exact body
bytes that go on the wire (both in-process over ASGI and over a URL). Any
generated `X-Chutes-*` or `Authorization` header is dropped first.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from substrateinterface import Keypair

from tests.support.secret import Secret
from tests.support.signing import hotkey_headers, purpose_for


def strip_credentials(request: requests.PreparedRequest) -> None:
    """Remove generated credential headers (`X-Chutes-*`, `Authorization`)."""
    for name in list(request.headers):
        lower = name.lower()
        if lower.startswith("x-chutes-") or lower == "authorization":
            del request.headers[name]


def body_bytes(request: requests.PreparedRequest) -> bytes:
    body = request.body or b""
    return body.encode() if isinstance(body, str) else bytes(body)


class HotkeyAuth(requests.auth.AuthBase):
    """Signs as one hotkey: the purpose for GET/DELETE, sha256(body) for create."""

    def __init__(self, keypair: Keypair, clock: Callable[[], float], base_path: str = "") -> None:
        self.keypair = keypair
        self.clock = clock
        self.base_path = base_path.rstrip("/")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        strip_credentials(request)
        path = urlsplit(request.url or "").path
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path) :]
        purpose = purpose_for(request.method or "GET", path)
        nonce = int(self.clock())
        request.headers.update(hotkey_headers(self.keypair, nonce, purpose, body_bytes(request)))
        return request


class ApiKeyAuth(requests.auth.AuthBase):
    """`Authorization: Basic <api key>`, as the real client tells users to send it."""

    def __init__(self, api_key: Secret) -> None:
        self.api_key = api_key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        strip_credentials(request)
        request.headers["Authorization"] = f"Basic {self.api_key.reveal()}"
        return request
