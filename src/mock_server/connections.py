"""The connection after a 500: closed, as production's server closes it.

Production's 500s (D1, D4, D6, D7, D11) are unhandled exceptions. Its
framework answers `500 Internal Server Error` and raises the exception on,
and uvicorn, seeing an exception after a complete answer, closes the
connection without having said `Connection: close`. A client that sends its
next request on that keep-alive connection meets a reset about two times in
three. `close_after_500` gives a served mock the same behaviour: after a 500
it raises `ClosedAfterCrash`, uvicorn closes the connection, and a logging
filter keeps uvicorn's "Exception in ASGI application" traceback out of the
log (the access line still shows the 500). In-process (TestClient) the app
is not wrapped: there is no connection to close.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVER_LOGGER = "uvicorn.error"


class ClosedAfterCrash(Exception):
    """Raised after a complete 500, so that the server closes the connection."""


class _QuietClose(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ClosedAfterCrash)


def close_after_500(app: ASGIApp) -> ASGIApp:
    """`app`, closing the connection after each 500 it answers (served only)."""
    logger = logging.getLogger(SERVER_LOGGER)
    if not any(isinstance(f, _QuietClose) for f in logger.filters):
        logger.addFilter(_QuietClose())

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await app(scope, receive, watched)
        if status == 500:
            raise ClosedAfterCrash()

    return served
