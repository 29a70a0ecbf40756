"""Connection guards of a served mock: a bounded request head, read
timeouts, and a shutdown that never waits on a stalled client.

uvicorn's HTTP protocol reads a head of any size, waits forever for a
request that trickles in (or never comes), and at shutdown waits for a
request body that may never arrive. `guarded_protocol` returns its
httptools protocol with three guards:

- a head (request line and headers) over `max_head` bytes is answered
  `431` and the connection closed, before the app sees it;
- a request not read in full within `read_timeout` seconds of its first
  byte (or of the connection, when nothing comes) is cut off: the
  connection is closed and `timeout` logged. Between requests uvicorn's
  keep-alive timeout applies;
- at shutdown, a connection whose request body is still coming is closed
  at once (the app sees a disconnect), instead of holding the server up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_server.faults import CONNECTION_EXTENSION
from mock_server.redaction import loggable

MAX_HEAD_BYTES = 64 * 1024
READ_TIMEOUT = 30.0
KEEP_ALIVE_TIMEOUT = 5.0
HEAD_TOO_LARGE = f"Request header fields too large (limit {MAX_HEAD_BYTES} bytes)"
END_OF_HEAD = b"\r\n\r\n"

logger = logging.getLogger("mock_server.access")


def _answer_431(detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    return b"".join(
        [
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


def guarded_protocol(
    read_timeout: float = READ_TIMEOUT, max_head: int = MAX_HEAD_BYTES
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the guards above (give it as
    `uvicorn.Config(http=...)`)."""
    detail = f"Request header fields too large (limit {max_head} bytes)"

    class GuardedProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._in_head = True  # the next bytes belong to a request head
            self._head_bytes = 0
            self._tail = b""  # the last bytes of the head so far: its end may straddle reads
            self._refused = False
            self._read_timer: asyncio.TimerHandle | None = None
            self._arm_read_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_read_timer()
            super().connection_lost(exc)

        # Reading ------------------------------------------------------------
        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self._in_head:
                seen = self._tail + data
                end = seen.find(END_OF_HEAD)
                self._head_bytes += len(data) if end < 0 else end + 4 - len(self._tail)
                self._tail = seen[-3:] if end < 0 else b""
                if self._head_bytes > max_head:
                    self._refuse_head()
                    return
            if self._read_timer is None:
                self._arm_read_timer()
            super().data_received(data)

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._head_bytes = 0
            self._tail = b""
            # The app's way to cut this connection (a fault rule, a crash quirk):
            # set before the request's task runs, which is on the loop's next turn.
            self.scope.setdefault("extensions", {})[CONNECTION_EXTENSION] = self.transport
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm_read_timer()  # read in full: the app has it all
            self._in_head = True
            super().on_message_complete()

        def _refuse_head(self) -> None:
            self._refused = True
            self._disarm_read_timer()
            logger.warning("- - 431 - request head over %d bytes: connection closed", max_head)
            self.transport.write(_answer_431(detail))
            self.transport.close()

        # Timeouts and shutdown ------------------------------------------------
        def _arm_read_timer(self) -> None:
            self._disarm_read_timer()
            self._read_timer = self.loop.call_later(read_timeout, self._read_timed_out)

        def _disarm_read_timer(self) -> None:
            if getattr(self, "_read_timer", None) is not None:
                self._read_timer.cancel()
                self._read_timer = None

        def _read_timed_out(self) -> None:
            self._read_timer = None
            if self.transport.is_closing():
                return
            scope: Any = self.scope if not self._in_head else None
            if scope is not None and "method" in scope:
                scope.setdefault("state", {})["ended_by"] = "timeout"
                what = f"{scope['method']} {loggable(scope.get('path', '?'))}"
            else:
                what = "- -"  # the head never came whole
            logger.info(
                "%s timeout - (no whole request in %gs): connection closed", what, read_timeout
            )
            self.transport.close()

        def shutdown(self) -> None:
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete and cycle.more_body:
                self._cut_at_shutdown()  # its body may never come: do not wait for it
                return
            if cycle is not None and not cycle.response_complete:
                # An answer still being made (a fault's latency): cut it off just
                # before uvicorn would cancel it, which logs a traceback and sends a 500.
                grace = self.config.timeout_graceful_shutdown or 0
                self.loop.call_later(max(grace * 0.8, 0), self._cut_at_shutdown)
            super().shutdown()

        def _cut_at_shutdown(self) -> None:
            cycle = self.cycle
            if cycle is None or cycle.response_complete or self.transport.is_closing():
                return
            self.scope.setdefault("state", {})["ended_by"] = "shutdown"
            self.transport.close()

    return GuardedProtocol


def uvicorn_config(app: Any, settings: Any, **options: Any) -> Any:
    """The uvicorn configuration of a served mock: these guards, the
    settings' timeouts, and no WebSocket support (an upgrade request is
    answered as plain HTTP; uvicorn's WebSocket log lines would show its
    query). `options` go to `uvicorn.Config` as they are."""
    import uvicorn

    return uvicorn.Config(
        app,
        http=guarded_protocol(settings.read_timeout),
        ws="none",
        timeout_keep_alive=settings.keep_alive_timeout,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        log_level=settings.log_level,
        access_log=False,
        **options,
    )
