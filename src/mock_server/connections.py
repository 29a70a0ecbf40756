"""The connection after a 500: closed, as production's server closes it.

Production's 500s (D1, D4, D6, D7, D11) are unhandled exceptions. Its
framework answers `500 Internal Server Error` and raises the exception on,
and uvicorn, seeing an exception after a complete answer, closes the
connection without having said `Connection: close`. A client that sends its
next request on that keep-alive connection meets a reset about two times in
three. `close_after_500` gives a served mock the same behaviour with the
mechanism of the `close_after` fault (`faults.cut_connection`): after a
complete 500 the connection is closed. In-process there is no connection.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.faults import cut_connection

CRASH = 0  # the "rule" a crash quirk's close is counted under


def close_after_500(app: ASGIApp) -> ASGIApp:
    """`app`, closing the connection after each 500 it answers (served only)."""

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def watched(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                scope.setdefault("state", {})["answered_status"] = message["status"]
            elif (
                message["type"] == "http.response.body"
                and not message.get("more_body", False)
                and scope.get("state", {}).get("answered_status") == 500
            ):
                cut_connection(scope, "close", CRASH)

        await app(scope, receive, watched)

    return served
