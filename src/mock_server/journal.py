"""The request journal: what clients sent to the API, for tests to assert on.

Every request outside the control API (`/_mock/`) and `/openapi.json` is
recorded: the five operations, and also a wrong path or method, so that a
client's mistake shows. An entry holds the time (the mock's clock), method,
path, query, auth kind, user id, status and latency, and nothing else: no
header value, body, secret, signature or token. Of the query, only the
parameters the contract declares (`page`, `limit`) keep their values; any
other parameter is recorded by name with the value `***`, since a client
could put a secret there.

A path is kept masked (anything shaped like a secret shows `***`, see
`redaction.py`) and cut at 512 characters, with its full length beside it;
the raw query is cut at 512 bytes. A request that got no answer (the client
hung up, a read timed out, the server stopped) is recorded with status
`null` and the reason.

The journal is a ring buffer: the last `--journal-size` requests (default
1,000, at most 100,000; 0 turns it off), and at most 64 MiB of paths and
queries, the oldest dropped first. An entry costs about 300 bytes, 1.4 KB at
most. Recording costs one tuple per request; entries are built when read,
a page at a time (`limit`, `after`).
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from fnmatch import translate
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.redaction import masked

DEFAULT_SIZE = 1000
MAX_SIZE = 100_000
MAX_BYTES = 64 * 1024 * 1024
MAX_PATH = 512  # characters of a path kept
MAX_QUERY = 512  # bytes of a raw query kept
ENTRY_OVERHEAD = 200  # bytes an entry costs besides its path and query
DEFAULT_PAGE = 1000  # entries `GET /_mock/requests` gives at once
MAX_PAGE = 5000
MASK = "***"
UNRECORDED_PREFIXES = ("/_mock/", "/openapi.json")


@dataclass(frozen=True)
class JournalEntry:
    """One request, as `GET /_mock/requests` shows it."""

    seq: int  # its place in the journal: 1 for the first request recorded, then 2, ...
    time: float  # the mock's clock when the request arrived (Unix seconds)
    method: str
    path: str  # masked, at most MAX_PATH characters
    path_length: int  # the path's length as sent
    query: dict[str, str]
    auth_kind: str | None  # "hotkey", "api_key" or "jwt"; None when not authenticated
    user_id: str | None
    status: int | None  # None: no answer was sent
    reason: str | None  # why there was no answer ("disconnected", "timeout", "shutdown", "fault")
    fault: str | None  # the fault rule applied ("rule 2: error 503"), if any
    latency_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# What the hot path stores: (seq, time, method, masked cut path, path length, cut raw
# query, auth kind, user id, status, reason, fault, latency in s). Only atomic values: no
# reference to the store's objects, so the collector has nothing to walk in a full journal.
_Raw = tuple[
    int,
    float,
    str,
    str,
    int,
    bytes,
    str | None,
    str | None,
    int | None,
    str | None,
    str | None,
    float,
]


def _cost(raw: _Raw) -> int:
    return len(raw[3]) + len(raw[5]) + ENTRY_OVERHEAD


class Journal:
    """A bounded record of requests (appended and read on the server's loop)."""

    def __init__(
        self, size: int = DEFAULT_SIZE, query_names: Iterable[str] = (), max_bytes: int = MAX_BYTES
    ) -> None:
        if size < 0:
            raise ValueError("the journal size must be 0 or more")
        self.size = size
        self.max_bytes = max_bytes
        self.query_names = frozenset(query_names)
        self._raw: deque[_Raw] = deque()
        self._bytes = 0
        self._seq = 0

    def __len__(self) -> int:
        return len(self._raw)

    def record(
        self,
        at: float,
        method: str,
        path: str,
        query: bytes,
        auth_kind: str | None,
        user_id: str | None,
        status: int | None,
        reason: str | None,
        seconds: float,
        fault: str | None = None,
    ) -> None:
        """Keep one request, in its bounded form; drop the oldest past the bounds."""
        self._seq += 1
        raw = (
            self._seq,
            at,
            method[:16],
            masked(path[: MAX_PATH + 64])[:MAX_PATH],  # cut first: masking stays cheap
            len(path),
            query[:MAX_QUERY],
            auth_kind,
            user_id,
            status,
            reason,
            fault,
            seconds,
        )
        self._raw.append(raw)
        self._bytes += _cost(raw)
        while len(self._raw) > self.size or self._bytes > self.max_bytes:
            self._bytes -= _cost(self._raw.popleft())

    def clear(self) -> None:
        self._raw.clear()
        self._bytes = 0

    def entries(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        *,
        after: int = 0,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Oldest first, from `after` (a `seq`) on, at most `limit`; `method`
        in any case, `path` exact or a glob (`/api_keys/*`), `status` exact."""
        views = self.views(method, path, status, after=after, limit=limit)
        return [JournalEntry(**view) for view in views]

    def views(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        *,
        after: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """`entries`, as `GET /_mock/requests` shows them (plain dicts: a
        page of 10,000 is built in a few tens of milliseconds)."""
        wanted = method.upper() if method else None
        matches = re.compile(translate(path)).match if path is not None else None
        result = []
        for raw in tuple(self._raw):
            if raw[0] <= after:
                continue
            if wanted is not None and raw[2] != wanted:
                continue
            if matches is not None and matches(raw[3]) is None:
                continue
            if status is not None and raw[8] != status:
                continue
            result.append(self._view(raw))
            if limit is not None and len(result) >= limit:
                break
        return result

    def _view(self, raw: _Raw) -> dict[str, Any]:
        seq, at, method, path, length, query, auth_kind, user_id, status, reason, fault, seconds = (
            raw
        )
        return {
            "seq": seq,
            "time": at,
            "method": method,
            "path": path,
            "path_length": length,
            "query": self._query(query) if query else {},
            "auth_kind": auth_kind,
            "user_id": user_id,
            "status": status,
            "reason": reason,
            "fault": fault,
            "latency_ms": round(seconds * 1000, 3),
        }

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
        status: int | None = None

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        crashed = False
        try:
            await self.app(scope, receive, send_and_record)
        except BaseException:
            crashed = True
            raise
        finally:
            scope_state = scope.get("state", {})
            caller = scope_state.get("caller")
            user = caller.user if caller is not None else None
            reason = None
            if status is None:
                if crashed and not scope_state.get("disconnected"):
                    status = 500  # the server answers an unhandled error with a 500
                else:
                    reason = scope_state.get("ended_by", "disconnected")
            self.journal.record(
                at,
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                caller.kind if caller is not None else None,
                user.user_id if user is not None else None,
                status,
                reason,
                time.perf_counter() - started,
                scope_state.get("fault"),
            )
