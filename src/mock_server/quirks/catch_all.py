"""D12: production's catch-all route (behaviour §9).

Production registers, after all of its real routes, one more route: every
path, for GET, POST, PUT, DELETE, PATCH and HEAD. Routes are tried in order
and the first that matches path and method answers; the first that matches
the path only is remembered for a 405. Hence:

    R1  GET POST PUT DELETE PATCH HEAD, no real route for path and method
                                    -> the catch-all
    R2  any other method, no real route for path and method
                                    -> 405 Method Not Allowed, `Allow` the
                                       methods of the first route whose path
                                       matched (under D14: one operation
                                       per route, so `GET`)
    R3  one of the five operations  -> unchanged

No 307 and no `404 Not Found`, ever; HEAD is never a real route; routing uses
the percent-decoded path. The catch-all answers, in this order:

    A  X-Chutes-Hotkey and X-Chutes-Signature (Authorization ignored):
         bad nonce                     -> 401 INVALID_NONCE  (D6: 500)
         GET, HEAD, DELETE             -> 401 Either payload_str or purpose ...
         message "{hotkey}:{nonce}:{sha256 hex of the raw body}"
         signature not hex             -> 401 Invalid signature: ...
         bad signature or address      -> 401 Invalid request signature ...
         caller: the user with that hotkey, or nobody (no metagraph check)
    B  Authorization: a JWT (D11: 500) or an API key, a non-admin key checked
       against the path as `quirks.scopes` says; the key's use counts for D3
    C  neither                         -> nobody
    then nobody -> 401 Authentication required.
         a user -> 404 No matching chute found!

HEAD gets the same status and headers (the length of the body it would
have had) and no body. The body is never parsed, only hashed.
"""

from __future__ import annotations

import hashlib

from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from mock_server.auth import AuthKind, Caller, bearer_jwt
from mock_server.errors import (
    AUTHENTICATION_REQUIRED,
    NO_MATCHING_CHUTE,
    SIGNED_WITHOUT_BODY,
    ApiError,
    NotFound,
    ProductionDefect,
    Unauthorized,
)
from mock_server.pipeline import has_body, header_map, read_body
from mock_server.quirks import scopes
from mock_server.responses import error_response, production_500
from mock_server.state import MockState

CATCH_ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")
UNSIGNABLE_METHODS = frozenset({"GET", "HEAD", "DELETE"})  # no body to sign: refused unchecked


def with_catch_all(routes: list[BaseRoute], state: MockState) -> list[BaseRoute]:
    """`routes` and, after them all, the catch-all (R1). Where D14 is on too,
    `routes` come one per operation (`quirks.routing`), so R2's `Allow` names
    a path's first operation; without it, every method of the path."""
    return [*routes, Route("/{path:path}", CatchAll(state), methods=CATCH_ALL_METHODS)]


class CatchAll:
    """The ASGI app of the catch-all route over one state."""

    def __init__(self, state: MockState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            caller = await self.caller(scope, receive)
            if caller is None or caller.user is None:
                raise Unauthorized(AUTHENTICATION_REQUIRED)
            raise NotFound(NO_MATCHING_CHUTE)
        except ApiError as error:
            response = error_response(error)
        except ProductionDefect:
            response = production_500()
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.raw_headers,  # HEAD too: the length of the body it would get
            }
        )
        body = b"" if scope["method"] == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})

    async def caller(self, scope: Scope, receive: Receive) -> Caller | None:
        """Who calls, by the catch-all's own rules (A, B, C); None: nobody."""
        authenticator = self.state.authenticator
        headers = header_map(scope)
        method = scope["method"]
        hotkey = headers.get("x-chutes-hotkey", "")
        signature = headers.get("x-chutes-signature", "")
        if hotkey and signature:  # A
            nonce = headers.get("x-chutes-nonce")
            authenticator.check_nonce(nonce)
            if method in UNSIGNABLE_METHODS:
                raise Unauthorized(SIGNED_WITHOUT_BODY)
            limit = self.state.settings.max_body_bytes
            raw = await read_body(scope, receive, headers, limit) if has_body(headers) else b""
            message = f"{hotkey}:{nonce}:{hashlib.sha256(raw).hexdigest()}"
            authenticator.check_signature(hotkey, signature, message)
            return self._seen(
                scope, Caller(AuthKind.HOTKEY, self.state.store.user_by_hotkey(hotkey))
            )
        authorization = headers.get("authorization", "")
        if authorization:  # B
            token = bearer_jwt(authorization)
            if token is not None:
                return self._seen(scope, Caller(AuthKind.JWT, authenticator.jwt_user(token)))
            path = scope["path"]
            caller = authenticator.api_key(
                authorization.split(" ")[-1], lambda key: scopes.key_allows(key, method, path)
            )
            return self._seen(scope, caller)
        return None  # C

    @staticmethod
    def _seen(scope: Scope, caller: Caller) -> Caller:
        scope.setdefault("state", {})["auth_kind"] = caller.kind  # for the access log
        return caller
