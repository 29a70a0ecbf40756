"""Production's catch-all route (behaviour §9, deviation D12), as the suites
predict it: which requests reach it and the answers it can give.

Production registers, after its five operations, a route for every path and
the methods GET, POST, PUT, DELETE, PATCH and HEAD. It answers every request
that is not one of the five operations:
- R1: one of those six methods → the catch-all's answer (below);
- R2: any other method → `405 {"detail":"Method Not Allowed"}`, `Allow: GET`
  on the contract's paths, else the six methods (in any order);
- R3: the five operations are unchanged.
The catch-all checks the credential by its own rules and answers 401
`AUTHENTICATION_REQUIRED` for nobody, 404 `NO_MATCHING_CHUTE` for a user
(`details`); HEAD gets the same status and headers and no body.

`answers(exchange, ctx)` is the set of (status, detail) production can give
to a request that reaches it; where the suite cannot know (a hotkey that is
not one of its users, a JWT's signature, an API key it never met) the set
holds every possibility.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from substrateinterface import Keypair

from tests.support import details as D
from tests.support.exchange import Exchange
from tests.support.key_journal import D3_WINDOW, KeyJournal, key_id_of
from tests.support.routing import allow_of, has_route, operation

CATCH_ALL_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"})
JWT_REFUSED = (D.JWT_INVALID, D.JWT_EXPIRED)
NONCE_WINDOW = 600
# How production maps a method to a scope's action (behaviour §7, D8); any other: read.
ACTIONS = {"POST": "write", "PUT": "write", "PATCH": "write", "DELETE": "delete"}
NO_OBJECT_ID = "__list_or_invalid__"  # production's object id for a path not shaped /a/b

Answer = tuple[int, str | None]
# Hotkeys no deployment has a user for: the suites' stranger (`rules.STRANGER`).
NO_USER_HOTKEYS = frozenset({Keypair.create_from_uri("//chutes-conformance-stranger").ss58_address})


@dataclass(frozen=True)
class Facts:
    """What the prediction needs beyond the exchange."""

    keys: KeyJournal
    users: frozenset[str]  # hotkeys the suite knows to be users


def reaches_catch_all(exchange: Exchange) -> bool:
    """R1: one of its six methods, and not one of the five operations."""
    return (
        exchange.method in CATCH_ALL_METHODS and operation(exchange.method, exchange.path) is None
    )


def r2_answer_matches(exchange: Exchange) -> bool:
    """R2: another method on a path no operation has with it: 405 and its Allow."""
    if exchange.method in CATCH_ALL_METHODS or operation(exchange.method, exchange.path):
        return False
    if exchange.status != 405 or exchange.detail != "Method Not Allowed":
        return False
    # On a contract path R2's 405 is the contract's own (its `Allow` naming
    # GET alone there is D14, not the catch-all); elsewhere it names the six.
    return not has_route(exchange.path) and allow_of(exchange.response_headers) == set(
        CATCH_ALL_METHODS
    )


def path_object(path: str) -> tuple[str, str]:
    """(object type, object id) production reads from a path (D8): the type is
    the last segment; the id is the second segment of a path `/a/b`, and a
    placeholder for any other shape."""
    segments = path.split("/")
    two_segments = len(segments) == 3 and segments[0] == "" and segments[1] and segments[2]
    return segments[-1], segments[2] if two_segments else NO_OBJECT_ID


def scope_allows(scopes, method: str, path: str) -> bool:
    """D8: a scope with the path's object type, an object id that is null or
    the path's, an action that is null or the method's."""
    object_type, object_id = path_object(path)
    action = ACTIONS.get(method, "read")
    return any(
        wanted_type == object_type and wanted_id in (None, object_id) and wanted in (None, action)
        for wanted_type, wanted_id, wanted in scopes
    )


def _nonce_outcomes(exchange: Exchange) -> tuple[bool, bool]:
    """(may be refused as a bad nonce, may pass the nonce check)."""
    nonce = exchange.headers.get("x-chutes-nonce", "")
    if not nonce or not (nonce.isascii() and nonce.isdigit()):
        return True, False
    value = int(nonce)
    sent = exchange.sent_at if exchange.sent_at is not None else time.time() - 60
    received = exchange.received_at if exchange.received_at is not None else time.time() + 60
    surely_in = abs(sent - value) < NONCE_WINDOW and abs(received - value) < NONCE_WINDOW
    surely_out = min(abs(sent - value), abs(received - value)) >= NONCE_WINDOW and not (
        sent <= value <= received
    )
    return not surely_in, not surely_out


def _hotkey_answers(exchange: Exchange, facts: Facts) -> set[Answer]:
    found: set[Answer] = set()
    refused, passes = _nonce_outcomes(exchange)
    if refused:
        found.add((401, D.INVALID_NONCE))
    if not passes:
        return found
    if exchange.method in ("GET", "HEAD", "DELETE"):
        return found | {(401, D.SIGNED_WITHOUT_BODY)}
    hotkey = exchange.headers["x-chutes-hotkey"]
    signature = exchange.headers["x-chutes-signature"]
    nonce = exchange.headers.get("x-chutes-nonce", "")
    try:
        raw = bytes.fromhex(signature)
    except ValueError as exc:
        return found | {(401, D.UNPARSEABLE_SIGNATURE.format(signature=signature, error=exc))}
    message = f"{hotkey}:{nonce}:{hashlib.sha256(exchange.body).hexdigest()}"
    try:
        verified = Keypair(ss58_address=hotkey).verify(message, raw)
    except Exception:
        verified = False
    if not verified:
        return found | {(401, D.BAD_SIGNATURE.format(hotkey=hotkey, message=message))}
    if hotkey in facts.users:
        return found | {(404, D.NO_MATCHING_CHUTE)}
    if hotkey in NO_USER_HOTKEYS:
        return found | {(401, D.AUTHENTICATION_REQUIRED)}
    return found | {(404, D.NO_MATCHING_CHUTE), (401, D.AUTHENTICATION_REQUIRED)}


def _api_key_answers(exchange: Exchange, token: str, facts: Facts) -> set[Answer]:
    if key_id_of(token) is None:
        return {(401, D.MALFORMED_API_KEY)}
    if facts.keys.wrong_secret(token):  # a key of this run with another secret
        return {(401, D.API_KEY_REFUSED)}
    known = facts.keys.facts(token)
    if known is None or known.admin is None:
        return {(401, D.API_KEY_REFUSED), (404, D.NO_MATCHING_CHUTE)}
    if known.deleted_at is not None:
        sent = exchange.sent_at
        cached = known.cached_at
        in_window = (
            sent is not None and cached is not None and sent - cached < D3_WINDOW
        )  # D3: honoured for its window
        return {(401, D.API_KEY_REFUSED)} | ({(404, D.NO_MATCHING_CHUTE)} if in_window else set())
    if known.admin or scope_allows(known.scopes, exchange.method, exchange.path):
        return {(404, D.NO_MATCHING_CHUTE)}
    return {(401, D.API_KEY_REFUSED)}


def answers(exchange: Exchange, facts: Facts) -> set[Answer]:
    """Every (status, detail) the catch-all can answer to this request."""
    if exchange.signed:
        return _hotkey_answers(exchange, facts)
    if exchange.authorization:
        if exchange.bearer_jwt:
            return {(401, d) for d in JWT_REFUSED} | {(404, D.NO_MATCHING_CHUTE)}
        return _api_key_answers(exchange, exchange.token, facts)
    return {(401, D.AUTHENTICATION_REQUIRED)}


def _json_length(detail: str) -> int:
    return len(json.dumps({"detail": detail}, ensure_ascii=False, separators=(",", ":")).encode())


def answered_by_catch_all(exchange: Exchange, facts: Facts) -> bool:
    """The answer is one the catch-all gives to this request (R1), in its form."""
    if not reaches_catch_all(exchange):
        return False
    possible = answers(exchange, facts)
    if exchange.status == 500:
        return False  # a crash through the catch-all: see `recognisers.recognise`
    if not exchange.content_type.startswith("application/json"):
        return False
    if exchange.method == "HEAD":
        if exchange.content:
            return False
        length = exchange.response_headers.get("content-length", "")
        return any(
            status == exchange.status and detail is not None and str(_json_length(detail)) == length
            for status, detail in possible
        )
    return (exchange.status, exchange.detail) in possible
