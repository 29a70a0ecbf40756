"""One access-log line per request: method, path, status, auth kind, latency.

A client that disconnected before its request was read gets no answer; its
line says `disconnected` where the status would be.

Only those fields are logged: never headers, bodies, query strings or
details, so secrets, signatures and tokens cannot reach the log.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("mock_server.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
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
            disconnected = scope.get("state", {}).get("disconnected", False)
            logger.info(
                "%s %s %s %s %.1fms",
                scope["method"],
                scope["path"],
                "disconnected" if disconnected else status,
                scope.get("state", {}).get("auth_kind", "-"),
                (time.perf_counter() - started) * 1000,
            )
