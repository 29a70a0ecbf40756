"""One recogniser per production deviation (behaviour §7): the exact
signature of each, read from the request and the answer.

`recognise(exchange, context)` returns a `Recognition`: the deviations the
exchange shows, and, where a deviation only changes a detail of an answer
that is otherwise the contract's (D2's header, D5's date-times), that answer
rewritten as the contract wants it, so the checks can carry on. Where the
whole answer is the deviation (a 500, a status the contract forbids) there
is nothing to carry on with (`contract` is None).

A bug that only resembles a deviation is not recognised: a non-admin key let
through where D8's scope rule does not, a registry value that is not exactly
`b'<base64 of ":" + password>'`, a deleted key honoured past D3's window, a
500 for a request that is not D1/D4/D6/D7/D11's.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.support import catch_all
from tests.support import details as D
from tests.support.exchange import Exchange
from tests.support.key_journal import D3_WINDOW, KeyJournal
from tests.support.lax import lax_bool, lax_int
from tests.support.routing import (
    CREATE,
    DELETE_KEY,
    GET_KEY,
    LIST,
    REGISTRY,
    allow_of,
    has_route,
    key_id_in,
    methods_of,
    operation,
)
from tests.support.secret import Secret, reveal

INT64_MAX = 2**63 - 1
DEFAULT_LIMIT = 25
_NAME = re.compile(r"[\w$.\-\s\u0080-\uffff]{1,24}")
_NAME_PRODUCTION = re.compile(r"^[\w$.\-\s\u0080-\uffff]{1,24}$")  # `$` allows a final "\n"
_STRICT_INT = re.compile(r"\s*[+-]?[0-9]+\s*")
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?$")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
ACTIONS = ("read", "write", "delete", "invoke")


@dataclass(frozen=True)
class Context:
    """What recognition needs beyond the exchange."""

    keys: KeyJournal = field(default_factory=KeyJournal)
    users: frozenset[str] = frozenset()  # hotkeys known to be users
    registry_password: Secret | str | None = None  # D2: the exact value, when known


@dataclass(frozen=True)
class Recognition:
    deviations: frozenset[str] = frozenset()
    contract: Exchange | None = None  # the answer as the contract wants it (D2, D5 only)

    def __bool__(self) -> bool:
        return bool(self.deviations)


def crashed(exchange: Exchange) -> bool:
    """Production's crash: 500, text/plain, `Internal Server Error`."""
    return (
        exchange.status == 500
        and exchange.content_type.startswith("text/plain")
        and exchange.content == b"Internal Server Error"
    )


# Lax parsing, as production's validation does it ---------------------------------
def _int(raw: str | None, default: int) -> tuple[int | None, bool]:
    """(value, coerced): strict integers as the contract reads them, else
    production's lax ones (`1.0`, `1_0`); None when neither parses."""
    if raw is None:
        return default, False
    if _STRICT_INT.fullmatch(raw):
        return int(raw), False
    value = lax_int(raw)
    return value, value is not None


def _bool(value: Any) -> tuple[bool | None, bool]:
    """(value, coerced) as production reads a boolean field."""
    read = lax_bool(value)
    return read, read is not None and not isinstance(value, bool)


def _paging(exchange: Exchange) -> tuple[int, int, bool] | None:
    """(page, limit, coerced) of a list request, None when either fails to parse."""
    page, lax_page = _int(exchange.param("page"), 0)
    limit, lax_limit = _int(exchange.param("limit"), 0)
    if page is None or limit is None:
        return None
    return page, limit, lax_page or lax_limit


# The recognisers ----------------------------------------------------------------
def d1_d7(exchange: Exchange) -> set[str]:
    """D1: negative page/limit; D7: beyond 64 bits (offset included) → the crash."""
    if operation(exchange.method, exchange.path) != LIST or not crashed(exchange):
        return set()
    paging = _paging(exchange)
    if paging is None:
        return set()
    page, limit, coerced = paging
    lax = {"D10"} if coerced else set()
    if page < 0 or limit < 0:
        return {"D1"} | lax
    if max(page, limit, page * (limit or DEFAULT_LIMIT)) > INT64_MAX:
        return {"D7"} | lax
    return set()


def d10_list(exchange: Exchange) -> set[str]:
    """D10 on list: a lax integer (`page=1.0`) accepted where the contract wants 422."""
    if operation(exchange.method, exchange.path) != LIST or exchange.status in (422, 500):
        return set()
    paging = _paging(exchange)
    return {"D10"} if paging is not None and paging[2] and exchange.status == 200 else set()


@dataclass(frozen=True)
class _CreateRequest:
    name_contract: bool  # the contract's name rule passes
    name_production: bool  # production's passes
    admin: bool
    coerced: bool  # admin was not a boolean
    null_scopes: bool


def _create_request(exchange: Exchange) -> _CreateRequest | None:
    """A create body whose only flaws (if any) production lets through."""
    body = exchange.request_json()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or "admin" not in body:
        return None
    admin, coerced = _bool(body["admin"])
    scopes = body.get("scopes", [])
    if admin is None or not (scopes is None or isinstance(scopes, list)):
        return None
    for scope in scopes or []:
        if not (
            isinstance(scope, dict)
            and isinstance(scope.get("object_type"), str)
            and (scope.get("object_id") is None or isinstance(scope.get("object_id"), str))
            and (scope.get("action") is None or scope.get("action") in ACTIONS)
        ):
            return None
    name = body["name"]
    return _CreateRequest(
        bool(_NAME.fullmatch(name)),
        bool(_NAME_PRODUCTION.match(name)),
        admin,
        coerced,
        admin is False and "scopes" in body and body["scopes"] is None,
    )


def create_deviations(exchange: Exchange) -> set[str]:
    """D4 (scopes null → the crash), D9 (a name with a final newline accepted),
    D10 (a lax `admin` accepted), alone or together."""
    if operation(exchange.method, exchange.path) != CREATE:
        return set()
    request = _create_request(exchange)
    if request is None:
        return set()
    if not request.name_production:
        # a lax `admin` let through (D10), then refused by the name rule
        refused = exchange.status == 400 and exchange.detail == D.BAD_KEY_NAME
        return {"D10"} if refused and request.coerced else set()
    found = {"D10"} if request.coerced else set()
    if not request.name_contract:
        found.add("D9")
    if crashed(exchange):
        return (found | {"D4"}) if request.null_scopes else set()
    if request.null_scopes:
        return set()  # production crashes here; anything else is another answer
    payload = exchange.json()
    if exchange.status == 200:
        name = exchange.request_json()["name"]
        if not isinstance(payload, dict) or payload.get("name") != name:
            return set()
        if payload.get("admin") is not request.admin:
            return set()
        return found
    if exchange.status == 409 and exchange.detail == D.DUPLICATE_KEY_NAME:
        return found
    if exchange.status == 400 and exchange.detail == D.BAD_OBJECT_TYPE and not request.admin:
        return found  # let through (D9, D10), then refused by the object-type rule
    return set()


def d2(exchange: Exchange, context: Context) -> Exchange | None:
    """D2: `Basic b'<base64>'`; the contract's answer has `Basic <base64>`."""
    if operation(exchange.method, exchange.path) != REGISTRY or exchange.status != 200:
        return None
    value = exchange.response_headers.get("authorization", "")
    if not (value.startswith("Basic b'") and value.endswith("'")):
        return None
    encoded = value[len("Basic b'") : -1]
    if not _BASE64.fullmatch(encoded):
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    password = context.registry_password
    if password is not None and decoded != f":{reveal(password)}".encode():
        return None
    if password is None and not decoded.startswith(b":"):
        return None
    headers = {**exchange.response_headers, "authorization": f"Basic {encoded}"}
    return exchange.with_answer(response_headers=headers)


def key_objects(label: str | None, payload: Any) -> list[dict]:
    """The key objects an answer of this operation carries (list items, or the key)."""
    if not isinstance(payload, dict):
        return []
    if label == LIST:
        return [item for item in payload.get("items") or [] if isinstance(item, dict)]
    if label in (CREATE, GET_KEY):
        return [payload]
    return []


def d5(exchange: Exchange) -> Exchange | None:
    """D5: naive date-times in the key objects; the contract's answer has `+00:00`."""
    label = operation(exchange.method, exchange.path)
    if exchange.status != 200 or label not in (LIST, CREATE, GET_KEY):
        return None
    payload = copy.deepcopy(exchange.json())
    naive = 0
    for key in key_objects(label, payload):
        for name in ("created_at", "last_used_at"):
            value = key.get(name)
            if isinstance(value, str) and _NAIVE.fullmatch(value):
                key[name] = value + "+00:00"
                naive += 1
    if not naive:
        return None
    content = json.dumps(payload).encode()
    headers = {**exchange.response_headers, "content-length": str(len(content))}
    return exchange.with_answer(content=content, response_headers=headers)


def d6(exchange: Exchange) -> bool:
    """D6: a nonce Python calls digits that int()/float() cannot take → the crash."""
    if not exchange.signed or not crashed(exchange):
        return False
    nonce = exchange.headers.get("x-chutes-nonce", "")
    if not nonce.isdigit():
        return False
    try:
        float(int(nonce))
    except (ValueError, OverflowError):
        return True
    return False


def d11(exchange: Exchange) -> bool:
    """D11: a JWT whose `sub` is not a string → the crash."""
    if exchange.signed or not exchange.bearer_jwt or not crashed(exchange):
        return False
    parts = exchange.token.split(".")
    if len(parts) != 3:
        return False
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return False
    return (
        isinstance(claims, dict)
        and claims.get("sub") is not None
        and not isinstance(claims.get("sub"), str)
    )


def _honoured(exchange: Exchange) -> bool:
    """The answer shows the credential passed authentication."""
    return exchange.status in (200, 400, 404, 409, 422)


def d3(exchange: Exchange, context: Context) -> bool:
    """D3: a deleted key honoured less than 60 s after production cached it."""
    facts = context.keys.facts(exchange.api_key)
    if facts is None or facts.deleted_at is None or facts.cached_at is None:
        return False
    sent = exchange.sent_at
    if sent is None or sent < facts.deleted_at or facts.cached_at > facts.deleted_at:
        return False
    if exchange.status == 404 and catch_all.reaches_catch_all(exchange):
        honoured = exchange.detail == D.NO_MATCHING_CHUTE or exchange.method == "HEAD"
    else:
        honoured = _honoured(exchange)
    return honoured and sent - facts.cached_at < D3_WINDOW


def d8(exchange: Exchange, context: Context) -> bool:
    """D8: a non-admin key with a scope for the path's object (type: the last
    segment; id: the second segment of `/a/b`; the method's action, see
    `catch_all.scope_allows`) passes authentication, and the route answers 404."""
    facts = context.keys.facts(exchange.api_key)
    if facts is None or facts.admin is not False or exchange.status != 404:
        return False
    if not catch_all.scope_allows(facts.scopes, exchange.method, exchange.path):
        return False
    label = operation(exchange.method, exchange.path)
    if label == GET_KEY:
        return exchange.detail == D.GET_KEY_NOT_FOUND.format(api_key_id=key_id_in(exchange.path))
    if label == DELETE_KEY:
        return exchange.detail == D.DELETE_KEY_NOT_FOUND
    if catch_all.reaches_catch_all(exchange):
        return exchange.detail == D.NO_MATCHING_CHUTE or exchange.method == "HEAD"
    return False


def d12(exchange: Exchange, context: Context) -> bool:
    """D12: production's catch-all (R1) or its 405 (R2) instead of §1's routing."""
    if catch_all.r2_answer_matches(exchange):
        return True
    facts = catch_all.Facts(context.keys, context.users)
    return catch_all.answered_by_catch_all(exchange, facts)


def d14(exchange: Exchange) -> bool:
    """D14: a 405 on a contract path whose `Allow` names only the method of the
    path's first route (GET), where the path has more."""
    if exchange.status != 405 or not has_route(exchange.path):
        return False
    if operation(exchange.method, exchange.path) is not None:
        return False
    if exchange.method != "HEAD" and exchange.detail != "Method Not Allowed":
        return False
    return allow_of(exchange.response_headers) == {"GET"} != methods_of(exchange.path)


# D13 is read from several lists, not one exchange -----------------------------------
def _moment(value: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # D5: naive is UTC


def contract_order(items: Iterable[dict]) -> list[str]:
    """The ids of these key objects in the contract's order: `created_at`, then id."""
    keyed = [(_moment(i.get("created_at")), str(i.get("api_key_id"))) for i in items]
    return [key_id for _, key_id in sorted(keyed)]


def d13(shown: Sequence[str], contract: Sequence[str]) -> bool:
    """D13: the same keys as the contract's list, each once, in another order.
    A key shown twice or left out is not D13."""
    return (
        list(shown) != list(contract)
        and len(set(shown)) == len(shown)
        and Counter(shown) == Counter(contract)
    )


def d13_page(shown: Sequence[str], contract_page: Sequence[str], keys: Iterable[str]) -> bool:
    """D13 on one page: as many keys as the contract's page, each once, each
    one of the user's `keys`, but not that page (a window on an order the
    client cannot see)."""
    pool = set(keys)
    return (
        list(shown) != list(contract_page)
        and len(shown) == len(contract_page)
        and len(set(shown)) == len(shown)
        and set(shown) <= pool
    )


def d13_exchange(exchange: Exchange) -> Exchange | None:
    """D13 on one list page: its keys, each once and all one user's, out of the
    contract's order (a window on a sorted list is sorted). The answer as the
    contract wants it has them sorted; whether they are the right keys is for
    the other checks to say."""
    if operation(exchange.method, exchange.path) != LIST or exchange.status != 200:
        return None
    payload = exchange.json()
    items = key_objects(LIST, payload)
    ids = [item.get("api_key_id") for item in items]
    if len(items) != len((payload or {}).get("items") or []) or len(set(ids)) != len(ids):
        return None
    if len({item.get("user_id") for item in items}) > 1:
        return None
    wanted = contract_order(items)
    if ids == wanted:
        return None
    by_id = {item["api_key_id"]: item for item in items}
    content = json.dumps({**payload, "items": [by_id[i] for i in wanted]}).encode()
    headers = {**exchange.response_headers, "content-length": str(len(content))}
    return exchange.with_answer(content=content, response_headers=headers)


def recognise(exchange: Exchange, context: Context) -> Recognition:
    """Every deviation the exchange shows, and the contract's answer where it
    differs only in a detail (see the module docstring)."""
    found = d1_d7(exchange) | d10_list(exchange) | create_deviations(exchange)
    crash = {name for name, shown in (("D6", d6(exchange)), ("D11", d11(exchange))) if shown}
    found |= crash
    if crash and catch_all.reaches_catch_all(exchange):
        found.add("D12")
    if d3(exchange, context):
        found.add("D3")
    if d8(exchange, context):
        found.add("D8")
    if d12(exchange, context):
        found.add("D12")
    if d14(exchange):
        found.add("D14")
    contract = None
    if not found:
        rewritten = d2(exchange, context)
        if rewritten is not None:
            found.add("D2")
        else:
            rewritten = d5(exchange)
            if rewritten is not None:
                found.add("D5")
            sorted_page = d13_exchange(rewritten or exchange)
            if sorted_page is not None:
                found.add("D13")
                rewritten = sorted_page
        contract = rewritten
    elif exchange.status == 200 and d5(exchange) is not None:
        found.add("D5")  # shown too, though the whole answer is another deviation's
    return Recognition(frozenset(found), contract)
