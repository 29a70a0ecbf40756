"""httpx transports that call the mock's app in-process, with no socket.

Each request runs on the mock's own event loop (the thread `MockServer`
keeps), so a client on a transport and a client over the wire see one
state, changed by one thread. The request's bytes reach the app exactly as
sent, so a signature over the body holds as it does over the wire.

    with MockServer(serve=False) as mock:
        client = httpx.Client(transport=mock.transport(), base_url=mock.url)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from mock_server.faults import ConnectionFault
from mock_server.inprocess import Answer, call_app

# Runs a coroutine on the mock's loop (asyncio.run_coroutine_threadsafe).
Submit = Callable[[Coroutine[Any, Any, Answer]], "concurrent.futures.Future[Answer]"]


def _call(app: Any, request: httpx.Request) -> Coroutine[Any, Any, Answer]:
    return call_app(
        app,
        request.method,
        request.url.raw_path,
        request.headers.raw,
        request.content,
        scheme=request.url.scheme,
    )


def _response(answer: Answer, request: httpx.Request) -> httpx.Response:
    """The app's answer as a client over the wire gets it: a HEAD has no body
    (the server sends its headers alone)."""
    body = b"" if request.method == "HEAD" else answer.body
    return httpx.Response(
        answer.status,
        headers=answer.headers,
        stream=httpx.ByteStream(body),
        request=request,
    )


class MockTransport(httpx.BaseTransport):
    """A sync httpx transport into the mock's app."""

    def __init__(self, app: Any, submit: Submit, timeout: float) -> None:
        self._app = app
        self._submit = submit
        self._timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a streamed body is read here: the loop must not wait on it
        try:
            answer = self._submit(_call(self._app, request)).result(timeout=self._timeout)
        except ConnectionFault as cut:
            raise httpx.ReadError(str(cut), request=request) from None
        return _response(answer, request)


class AsyncMockTransport(httpx.AsyncBaseTransport):
    """An async httpx transport into the mock's app, usable from any event loop."""

    def __init__(self, app: Any, submit: Submit) -> None:
        self._app = app
        self._submit = submit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        try:
            answer = await asyncio.wrap_future(self._submit(_call(self._app, request)))
        except ConnectionFault as cut:
            raise httpx.ReadError(str(cut), request=request) from None
        return _response(answer, request)
