"""The request journal: what clients sent to the API, for tests to assert on.

Every request outside the control API (`/_mock/`) and `/openapi.json` is
recorded: the five operations, and also a wrong path or method, so that a
client's mistake shows. An entry holds the time (the mock's clock), method,
path, query, auth kind, user id, status and latency, and nothing else: no
header value, body, secret, signature or token. Of the query, only the
parameters the contract declares (`page`, `limit`) keep their values; any
other parameter is recorded by name with the value `***`, since a client
could put a secret there.

The journal is a ring buffer (`--journal-size`, default 1,000; 0 turns it
off). Recording costs one tuple per request; entries are built when read.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_SIZE = 1000
MASK = "***"
UNRECORDED_PREFIXES = ("/_mock/", "/openapi.json")


@dataclass(frozen=True)
class JournalEntry:
    """One request, as `GET /_mock/requests` shows it."""

    time: float  # the mock's clock when the request arrived (Unix seconds)
    method: str
    path: str
    query: dict[str, str]
    auth_kind: str | None  # "hotkey", "api_key" or "jwt"; None when not authenticated
    user_id: str | None
    status: int
    latency_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# What the hot path stores: (time, method, path, raw query, auth kind, user id, status,
# latency in s). Only atomic values: no reference to the store's objects, so the
# collector has nothing to walk in a full journal.
_Raw = tuple[float, str, str, bytes, str | None, str | None, int, float]


class Journal:
    """A bounded, thread-safe-enough (appends and copies are atomic in
    CPython) record of requests."""

    def __init__(self, size: int = DEFAULT_SIZE, query_names: Iterable[str] = ()) -> None:
        if size < 0:
            raise ValueError("the journal size must be 0 or more")
        self.size = size
        self.query_names = frozenset(query_names)
        self._raw: deque[_Raw] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._raw)

    def append(self, raw: _Raw) -> None:
        self._raw.append(raw)

    def clear(self) -> None:
        self._raw.clear()

    def entries(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[JournalEntry]:
        """Oldest first; `method` in any case, `path` exact or a glob
        (`/api_keys/*`), `status` exact."""
        wanted = method.upper() if method else None
        result = []
        for raw in tuple(self._raw):
            entry = self._entry(raw)
            if wanted is not None and entry.method != wanted:
                continue
            if path is not None and not fnmatchcase(entry.path, path):
                continue
            if status is not None and entry.status != status:
                continue
            result.append(entry)
        return result

    def _entry(self, raw: _Raw) -> JournalEntry:
        at, method, path, query, auth_kind, user_id, status, seconds = raw
        return JournalEntry(
            time=at,
            method=method,
            path=path,
            query=self._query(query),
            auth_kind=auth_kind,
            user_id=user_id,
            status=status,
            latency_ms=round(seconds * 1000, 3),
        )

    def _query(self, query: bytes) -> dict[str, str]:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        return {name: value if name in self.query_names else MASK for name, value in pairs}


class JournalMiddleware:
    """Records each request outside the control API into `journal`."""

    def __init__(self, app: ASGIApp, journal: Journal, now: Callable[[], float]) -> None:
        self.app = app
        self.journal = journal
        self.now = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.journal.size
            or scope["path"].startswith(UNRECORDED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        at = self.now()
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            caller = scope.get("state", {}).get("caller")
            user = caller.user if caller is not None else None
            self.journal.append(
                (
                    at,
                    scope["method"],
                    scope["path"],
                    scope.get("query_string", b""),
                    caller.kind if caller is not None else None,
                    user.user_id if user is not None else None,
                    status,
                    time.perf_counter() - started,
                )
            )
