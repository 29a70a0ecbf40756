"""One request and its answer, as the deviation recognisers read them.

An `Exchange` is a plain snapshot: the request (method, percent-decoded path
below the target's base path, query pairs, lower-case headers, exact body
bytes) and the response (status, lower-case headers, body bytes), plus when
the request left and the answer came back on the target's clock. Build one
with `from_httpx` (every suite request through `Target.client`) or
`from_requests` (a Schemathesis response).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.support.scrub import curl

_UNSET: Any = object()


def _text(value: str | bytes) -> str:
    """Header bytes as Starlette reads them (Latin-1)."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str  # percent-decoded, below the target's base path
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]  # request headers, lower-case names
    body: bytes
    status: int
    response_headers: Mapping[str, str]  # lower-case names
    content: bytes
    url: str = ""
    sent_at: float | None = None  # target clock, before the request left
    received_at: float | None = None  # target clock, after the answer came
    _json: Any = field(default=_UNSET, compare=False, repr=False)

    # Request ------------------------------------------------------------------
    def param(self, name: str) -> str | None:
        """The last value of a query parameter (as the server reads it)."""
        values = [value for key, value in self.query if key == name]
        return values[-1] if values else None

    def request_json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")

    @property
    def signed(self) -> bool:
        """Authenticated by hotkey: both hotkey and signature are non-empty."""
        return bool(self.headers.get("x-chutes-hotkey")) and bool(
            self.headers.get("x-chutes-signature")
        )

    @property
    def token(self) -> str:
        """The last space-separated word of `Authorization` (behaviour §2)."""
        return self.authorization.split(" ")[-1] if self.authorization else ""

    @property
    def bearer_jwt(self) -> bool:
        """`Bearer` with a token that is not an API key: a JWT (behaviour §2)."""
        lowered = self.authorization.lstrip().lower()
        return lowered.startswith("bearer ") and not self.token.startswith("cpk_")

    @property
    def api_key(self) -> str | None:
        """The API key the request authenticates with, if that is its credential."""
        if self.signed or not self.authorization or self.bearer_jwt:
            return None
        return self.token

    # Response -----------------------------------------------------------------
    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    def json(self) -> Any:
        """The response body as JSON, or None when it is not JSON."""
        if self._json is _UNSET:
            try:
                value = json.loads(self.content) if self.content else None
            except ValueError:
                value = None
            object.__setattr__(self, "_json", value)
        return self._json

    @property
    def detail(self) -> Any:
        payload = self.json()
        return payload.get("detail") if isinstance(payload, dict) else None

    def with_answer(self, **changes: Any) -> Exchange:
        """The same request with another answer (e.g. the contract's)."""
        return replace(self, _json=_UNSET, **changes)

    def curl(self) -> str:
        """A scrubbed curl command that repeats the request."""
        return curl(self.method, self.url or self.path, dict(self.headers), self.body)

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


def _split(url: str, base_path: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    path = unquote(parts.path)
    base = base_path.rstrip("/")
    if base and path.startswith(base):
        path = path[len(base) :] or "/"
    return path, tuple(parse_qsl(parts.query, keep_blank_values=True))


SENT_AT = "chutes.sent_at"  # request.extensions key set by the target's client
RECEIVED_AT = "chutes.received_at"  # response.extensions key


def from_httpx(response: Any, base_path: str = "", **times: float | None) -> Exchange:
    """An httpx response (and its request); times default to those the
    target's client stamped on them."""
    request = response.request
    times.setdefault("sent_at", request.extensions.get(SENT_AT))
    times.setdefault("received_at", response.extensions.get(RECEIVED_AT))
    path, query = _split(str(request.url), base_path)
    return Exchange(
        method=request.method.upper(),
        path=path,
        query=query,
        headers={_text(k).lower(): _text(v) for k, v in request.headers.raw},
        body=bytes(request.content or b""),
        status=response.status_code,
        response_headers={_text(k).lower(): _text(v) for k, v in response.headers.raw},
        content=bytes(response.content),
        url=str(request.url),
        sent_at=times.get("sent_at"),
        received_at=times.get("received_at"),
    )


def from_requests(response: Any, base_path: str = "", **times: float | None) -> Exchange:
    """A Schemathesis (or requests) response; its `request` is the prepared request."""
    request = response.request
    path, query = _split(request.url or "", base_path)
    body = request.body or b""
    headers = response.headers
    flat = {
        k.lower(): (", ".join(v) if isinstance(v, list | tuple) else v) for k, v in headers.items()
    }
    return Exchange(
        method=(request.method or "GET").upper(),
        path=path,
        query=query,
        headers={k.lower(): _text(v) for k, v in request.headers.items()},
        body=body.encode() if isinstance(body, str) else bytes(body),
        status=response.status_code,
        response_headers=flat,
        content=bytes(response.content or b""),
        url=request.url or "",
        sent_at=times.get("sent_at"),
        received_at=times.get("received_at"),
    )
