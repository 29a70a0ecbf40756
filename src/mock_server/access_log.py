"""One access-log line per request: method, path, status, auth kind, latency.

A request that got no answer says why where the status would be:
`disconnected` (the client hung up before its request was read), `timeout`
or `shutdown` (the server cut it off).

Only those fields are logged: never headers, bodies, query strings or
details. The path is masked (a secret a client put there shows `***`) and
control characters are escaped, so no line can be forged (`redaction.py`).
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.redaction import loggable

logger = logging.getLogger("mock_server.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | str = 500  # an unhandled error is answered 500 by the server

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            scope_state = scope.get("state", {})
            if scope_state.get("disconnected"):
                status = scope_state.get("ended_by", "disconnected")
            logger.info(
                "%s %s %s %s %.1fms",
                loggable(scope["method"]),
                loggable(scope["path"]),
                status,
                scope_state.get("auth_kind", "-"),
                (time.perf_counter() - started) * 1000,
            )
