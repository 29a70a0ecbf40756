"""Mocks broken on purpose, to prove the suites catch real defects.

Each breakage patches the in-process mock (never the mock's source) and may
override settings. Select one with `--mock-breakage NAME`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mock_server import errors
from tests.support import details as D

Breakage = Callable[[pytest.MonkeyPatch], dict[str, Any]]


def any_signature(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Accepts any well-formed signature, whoever made it."""
    from mock_server import hotkeys

    mp.setattr(hotkeys, "verify", lambda *args: True)
    return {}


def shows_other_users_keys(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Lists, gets and deletes every user's keys, not only the caller's."""
    from mock_server.store import Store

    def list_all(self, user_id, offset, limit):
        every = sorted(self._keys.values(), key=lambda k: k.order)
        return len(every), every[offset : offset + limit]

    mp.setattr(Store, "list_keys", list_all)
    mp.setattr(Store, "owned_key", lambda self, user_id, api_key_id: self._keys.get(api_key_id))
    return {}


def secret_in_get_key(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Leaves a `secret_key` in the get_key response."""
    from mock_server import routes

    original = routes.HANDLERS["get_key"]

    def leaky(ctx):
        payload, headers = original(ctx)
        key_id = payload["api_key_id"].replace("-", "")
        user_id = payload["user_id"].replace("-", "")
        return {**payload, "secret_key": f"cpk_{key_id}.{user_id}.{'x' * 32}"}, headers

    mp.setitem(routes.HANDLERS, "get_key", leaky)
    return {}


def deleted_key_authenticates(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Deleting a key hides it from the list, but it keeps authenticating, for
    good (looks like D3, whose window closes 60 s after the key's use)."""
    from mock_server.store import Store

    original = Store.delete_key

    def half_delete(self, user_id, api_key_id):
        key = self.owned_key(user_id, api_key_id)
        deleted = original(self, user_id, api_key_id)
        if deleted and key is not None:
            self._keys[api_key_id] = key  # still found by authentication
        return deleted

    mp.setattr(Store, "delete_key", half_delete)
    mp.setattr(Store, "owned_key", _owned_listed_only)
    return {}


def _owned_listed_only(self, user_id, api_key_id):
    owned = self._user_keys.get(user_id)
    return next((k for k in owned.ordered if k.api_key_id == api_key_id), None) if owned else None


def non_admin_key_accepted(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Lets every non-admin key through on the five operations (looks like D8,
    but D8 lets one through only where its scope matches the path)."""
    from mock_server.auth import Authenticator

    mp.setattr(Authenticator, "_contract_scope", lambda self, *args: True)
    return {}


def registry_header_no_colon(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The registry header in production's form, `Basic b'<base64>'`, but of
    the password alone, without the ':' before it (looks like D2, is not)."""
    import base64

    from mock_server import routes

    def registry_auth(ctx):
        encoded = base64.b64encode(ctx.state.settings.registry_password.encode())
        return {"authenticated": True}, {"Authorization": f"Basic {encoded}"}

    mp.setitem(routes.HANDLERS, "registry_auth", registry_auth)
    return {}


def nonce_off_by_one(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Accepts a nonce exactly 600 s away (the window is open, not closed)."""
    return {"nonce_window": 601.0}


BREAKAGES: dict[str, Breakage] = {
    "any_signature": any_signature,
    "shows_other_users_keys": shows_other_users_keys,
    "secret_in_get_key": secret_in_get_key,
    "deleted_key_authenticates": deleted_key_authenticates,
    "nonce_off_by_one": nonce_off_by_one,
    "non_admin_key_accepted": non_admin_key_accepted,
    "registry_header_no_colon": registry_header_no_colon,
}


# Bugs a person would plausibly make, one per rule of behaviour §1–§6 and §9:
# a flipped comparison, a missed index update, a wrong status, a dropped
# character. Each is caught by the rule check named in tests/README.md; the
# teeth (tests/contract/test_rule_teeth.py) show it, in-process and by URL.


# §1 routing, errors, order ---------------------------------------------------------
def redirect_drops_query(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The slash redirect's Location loses the query string."""
    from starlette import responses, routing

    def redirect(url, *args, **kwargs):
        return responses.RedirectResponse(str(url).split("?")[0], *args, **kwargs)

    mp.setattr(routing, "RedirectResponse", redirect)
    return {}


def no_slash_redirect(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The router built with `redirect_slashes=False`: no 307, a 404."""
    from starlette.routing import Router

    original = Router.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.redirect_slashes = False

    mp.setattr(Router, "__init__", init)
    return {}


def _http_error_with(mp: pytest.MonkeyPatch, render) -> None:
    from mock_server import app
    from mock_server.responses import json_response

    async def handler(request, exc):
        status, detail = render(exc.status_code, exc.detail)
        return json_response({"detail": detail}, status, exc.headers)

    mp.setattr(app, "_http_error", handler)


def wrong_method_is_404(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Routing errors all rendered as 404, whatever their status."""
    _http_error_with(mp, lambda status, detail: (404, detail))
    return {}


def not_found_lower_case(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Routing details capitalised like a sentence: 'Not found'."""
    _http_error_with(mp, lambda status, detail: (status, str(detail).capitalize()))
    return {}


def bad_json_ignored(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A body that is not JSON is dropped silently, so authentication answers first."""
    from mock_server import pipeline
    from mock_server.errors import ApiError

    original = pipeline.decode_body

    def decode(raw, content_type):
        try:
            return original(raw, content_type)
        except ApiError:
            return None

    mp.setattr(pipeline, "decode_body", decode)
    return {}


def unparsable_page_is_zero(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """`int(page) if page.isdigit() else 0`: a page that is no integer is page 0."""
    from mock_server import pipeline

    original = pipeline.validate_params

    def validate(operation, query, path_params, **kwargs):
        query = {
            k: (v if k not in ("page", "limit") or v.isdigit() else "0") for k, v in query.items()
        }
        return original(operation, query, path_params, **kwargs)

    mp.setattr(pipeline, "validate_params", validate)
    return {}


def missing_field_loc_is_body(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A missing field reported at `["body"]`, its name dropped from `loc`."""
    from mock_server import pipeline

    original = pipeline.validate_body

    def validate(operation, body, **kwargs):
        body, entries = original(operation, body, **kwargs)
        for entry in entries:
            if entry.get("type") == "missing":
                entry["loc"] = entry["loc"][:1]
        return body, entries

    mp.setattr(pipeline, "validate_body", validate)
    return {}


def unknown_query_refused(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Query parameters checked with `extra="forbid"`: the real client's `name=` is a 422."""
    from mock_server import pipeline

    original = pipeline.validate_params

    def validate(operation, query, path_params, **kwargs):
        values, entries = original(operation, query, path_params, **kwargs)
        known = {p.name for p in operation.parameters}
        for name in sorted(set(query) - known):
            entries.append(
                {
                    "type": "extra_forbidden",
                    "loc": ["query", name],
                    "msg": "Extra inputs are not permitted",
                    "input": query[name],
                }
            )
        return values, entries

    mp.setattr(pipeline, "validate_params", validate)
    return {}


def unknown_body_field_refused(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The create body checked with `extra="forbid"`: a field it does not name is a 422."""
    from mock_server import pipeline

    original = pipeline.validate_body

    def validate(operation, body, **kwargs):
        body, entries = original(operation, body, **kwargs)
        if isinstance(body, dict):
            for name in sorted(set(body) - {"admin", "name", "scopes"}):
                entries.append(
                    {
                        "type": "extra_forbidden",
                        "loc": ["body", name],
                        "msg": "Extra inputs are not permitted",
                        "input": body[name],
                    }
                )
        return body, entries

    mp.setattr(pipeline, "validate_body", validate)
    return {}


# §2 authentication choice ------------------------------------------------------------
def no_credentials_detail_without_face(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The no-credentials detail lost its ' :(' (dropped characters)."""
    from mock_server import auth

    mp.setattr(auth, "NO_CREDENTIALS", errors.NO_CREDENTIALS.removesuffix(" :("))
    return {}


def authorization_before_hotkey(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """`Authorization` looked at first: a signed request with a bad one is refused."""
    from mock_server.auth import Authenticator

    original = Authenticator.authenticate

    def authenticate(self, operation, headers, body, path_params):
        if headers.get("authorization"):
            headers = {k: v for k, v in headers.items() if not k.startswith("x-chutes-")}
        return original(self, operation, headers, body, path_params)

    mp.setattr(Authenticator, "authenticate", authenticate)
    return {}


def bearer_case_sensitive(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """`startswith("bearer ")` without `.lower()`: `Bearer x` is taken for an API key."""
    from mock_server import auth

    def bearer_jwt(authorization: str):
        token = authorization.split(" ")[-1]
        if authorization.lstrip().startswith("bearer ") and not token.startswith("cpk_"):
            return token
        return None

    mp.setattr(auth, "bearer_jwt", bearer_jwt)
    return {}


def every_token_is_jwt(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The scheme not looked at: any token not starting `cpk_` is a JWT."""
    from mock_server import auth

    def bearer_jwt(authorization: str):
        token = authorization.split(" ")[-1]
        return None if token.startswith("cpk_") else token

    mp.setattr(auth, "bearer_jwt", bearer_jwt)
    return {}


# §3 hotkey ----------------------------------------------------------------------------
def _patch_check_nonce(mp: pytest.MonkeyPatch, check) -> None:
    from mock_server.auth import Authenticator

    mp.setattr(Authenticator, "check_nonce", check)


def missing_nonce_unchecked(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """`if nonce and ...`: a missing nonce skips the check (the signature then fails)."""
    from mock_server.auth import Authenticator

    original = Authenticator.check_nonce

    def check(self, nonce):
        if nonce is not None:
            original(self, nonce)

    _patch_check_nonce(mp, check)
    return {}


def nonce_leading_digits(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The nonce read by its leading digits (`re.match(r"\\d+")`): `123a` is 123."""
    import re

    from mock_server.auth import Authenticator

    original = Authenticator.check_nonce

    def check(self, nonce):
        digits = re.match(r"\d+", nonce or "")
        original(self, digits.group() if digits else nonce)

    _patch_check_nonce(mp, check)
    return {}


def nonce_window_inclusive(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The window checked with `<=` for `<`: a nonce exactly 600 s away passes."""
    from mock_server.auth import Authenticator
    from mock_server.errors import INVALID_NONCE, Unauthorized

    original = Authenticator.check_nonce

    def check(self, nonce):
        if nonce and nonce.isascii() and nonce.isdigit() and len(nonce) <= 20:
            now, window = self.clock.now(), self.settings.nonce_window
            if not now - window <= int(nonce) <= now + window:
                raise Unauthorized(INVALID_NONCE)
            return
        original(self, nonce)

    _patch_check_nonce(mp, check)
    return {}


def nonce_future_skew(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A second of clock skew allowed on the future side: `< now + window + 1`."""
    from mock_server.auth import Authenticator
    from mock_server.errors import INVALID_NONCE, Unauthorized

    original = Authenticator.check_nonce

    def check(self, nonce):
        if nonce and nonce.isascii() and nonce.isdigit() and len(nonce) <= 20:
            now, window = self.clock.now(), self.settings.nonce_window
            if not now - window < int(nonce) < now + window + 1:
                raise Unauthorized(INVALID_NONCE)
            return
        original(self, nonce)

    _patch_check_nonce(mp, check)
    return {}


def signature_detail_without_with(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The unparsable-signature detail lost its 'with' (dropped word)."""
    from mock_server import auth

    mp.setattr(auth, "UNPARSEABLE_SIGNATURE", errors.UNPARSEABLE_SIGNATURE.replace("with ", ""))
    return {}


def signature_lower_case_only(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The signature checked against `[0-9a-f]+` before `bytes.fromhex`."""
    import re

    from mock_server.auth import Authenticator
    from mock_server.errors import UNPARSEABLE_SIGNATURE, Unauthorized

    original = Authenticator.check_signature

    def check(hotkey, signature, message):
        if not re.fullmatch(r"[0-9a-f]*", signature):
            error = D.NOT_HEX_AT_0
            raise Unauthorized(UNPARSEABLE_SIGNATURE.format(signature=signature, error=error))
        original(hotkey, signature, message)

    mp.setattr(Authenticator, "check_signature", staticmethod(check))
    return {}


def no_bytes_wrapper(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Only the bare message verifies: `<Bytes>message</Bytes>` is refused."""
    from mock_server import hotkeys

    def verify(ss58_address, message, signature):
        public_key = hotkeys._public_key(ss58_address)
        if public_key is None or len(signature) != 64:
            return False
        return bool(hotkeys.sr25519.verify(signature, message.encode(), public_key))

    mp.setattr(hotkeys, "verify", verify)
    return {}


def signed_request_replay_refused(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replay protection switched on: a signature seen before is refused."""
    from mock_server.auth import Authenticator
    from mock_server.errors import INVALID_NONCE, Unauthorized

    original = Authenticator._hotkey
    seen: set[str] = set()

    def hotkey(self, operation, hotkey, signature, nonce, body):
        caller = original(self, operation, hotkey, signature, nonce, body)
        if signature in seen:
            raise Unauthorized(INVALID_NONCE)
        seen.add(signature)
        return caller

    mp.setattr(Authenticator, "_hotkey", hotkey)
    return {}


def any_purpose_accepted(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A signature for the registry accepted on any operation (purpose not compared)."""
    from mock_server.auth import Authenticator

    original = Authenticator.check_signature

    def check(hotkey, signature, message):
        try:
            original(hotkey, signature, message)
        except Exception:
            original(hotkey, signature, message.rsplit(":", 1)[0] + ":registry")

    mp.setattr(Authenticator, "check_signature", staticmethod(check))
    return {}


def create_signed_with_purpose(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A create's message built with the purpose `api_keys`, not the body's hash."""
    from mock_server.auth import Authenticator

    original = Authenticator._hotkey

    def hotkey(self, operation, hotkey, signature, nonce, body):
        if operation.purpose is None:
            import dataclasses

            operation = dataclasses.replace(operation, purpose="api_keys")
        return original(self, operation, hotkey, signature, nonce, body)

    mp.setattr(Authenticator, "_hotkey", hotkey)
    return {}


def registry_checks_subnet_only(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The metagraph check asks whether the subnet exists, not the hotkey on it."""
    from mock_server.store import Store

    mp.setattr(Store, "is_registered", lambda self, netuid, hotkey: netuid in self._metagraph)
    return {}


def registry_check_flipped(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The metagraph check's condition flipped: registered hotkeys are refused."""
    from mock_server.store import Store

    original = Store.is_registered
    mp.setattr(
        Store, "is_registered", lambda self, netuid, hotkey: not original(self, netuid, hotkey)
    )
    return {}


def unknown_hotkey_detail_without_colon(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The unknown-hotkey detail lost its ':' (dropped character)."""
    from mock_server import auth

    mp.setattr(auth, "UNKNOWN_HOTKEY", errors.UNKNOWN_HOTKEY.replace(":", ""))
    return {}


# §4 API keys ------------------------------------------------------------------------
def key_secret_not_compared(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The key found by its id, its secret never compared with the stored hash."""
    from mock_server import keys

    mp.setattr(keys, "token_matches", lambda token, stored_hash: stored_hash is not None)
    return {}


def key_format_off_by_one(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The key format takes a 31-character secret too (`{31,32}`)."""
    import re

    from mock_server import keys

    pattern = r"cpk_([a-f0-9]{32})\.([a-f0-9]{32})\.([a-zA-Z0-9]{31,32})"
    mp.setattr(keys, "TOKEN_PATTERN", re.compile(pattern))
    return {}


def empty_scopes_allow_all(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A non-admin key passes when `all` its scopes match: with none, vacuously."""
    from mock_server.auth import Authenticator

    mp.setattr(
        Authenticator,
        "_contract_scope",
        lambda self, key, operation, params: all(
            scope.object_type == operation.path for scope in key.scopes
        ),
    )
    return {}


def _name_pattern(mp: pytest.MonkeyPatch, pattern: str) -> None:
    import re

    from mock_server.quirks import names

    mp.setattr(names, "_CONTRACT", re.compile(pattern))


def name_max_23(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The name's length checked with `<` for `<=`: 24 characters refused."""
    _name_pattern(mp, r"[\w$.\-\s\u0080-\uffff]{1,23}")
    return {}


def name_max_25(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The name's length off by one the other way: 25 characters pass."""
    _name_pattern(mp, r"[\w$.\-\s\u0080-\uffff]{1,25}")
    return {}


def name_astral_allowed(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The name's range written `\\u0080-\\U0010ffff`: emoji pass."""
    _name_pattern(mp, r"[\w$.\-\s\u0080-\U0010ffff]{1,24}")
    return {}


def name_without_dollar(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The name's character class lost its `$` (dropped character)."""
    _name_pattern(mp, r"[\w.\-\s\u0080-\uffff]{1,24}")
    return {}


def object_type_checked_for_admin(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The object-type check's `admin` condition flipped: non-admin scopes pass unchecked."""
    from mock_server import rules
    from mock_server.errors import BAD_OBJECT_TYPE, BadRequest

    def check_scopes(admin, scopes, quirks):
        scopes = scopes or []
        if admin and any(s["object_type"] not in rules.OBJECT_TYPES for s in scopes):
            raise BadRequest(BAD_OBJECT_TYPE)
        return (
            []
            if admin
            else [(s["object_type"], s.get("object_id"), s.get("action")) for s in scopes]
        )

    mp.setattr(rules, "check_scopes", check_scopes)
    return {}


def admin_keeps_scopes(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """An admin key's scopes stored, not dropped."""
    from mock_server import rules

    original = rules.check_scopes

    def check_scopes(admin, scopes, quirks):
        kept = original(False, scopes, quirks)
        return kept

    mp.setattr(rules, "check_scopes", check_scopes)
    return {}


def duplicate_name_is_400(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A duplicate name raised as BadRequest (400) instead of Conflict (409)."""
    from mock_server import store
    from mock_server.errors import BadRequest

    mp.setattr(store, "Conflict", BadRequest)
    return {}


def _wrap_create(mp: pytest.MonkeyPatch, taken) -> None:
    """create_api_key's handler with its own (wrong) duplicate check first."""
    from mock_server import routes
    from mock_server.errors import DUPLICATE_KEY_NAME, Conflict

    original = routes.HANDLERS["create_api_key"]

    def create_api_key(ctx):
        if taken(ctx.state.store, ctx.user_id, ctx.body["name"]):
            raise Conflict(DUPLICATE_KEY_NAME)
        return original(ctx)

    mp.setitem(routes.HANDLERS, "create_api_key", create_api_key)


def duplicate_name_any_case(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Names compared with `.lower()`: `ab` and `AB` collide."""
    _wrap_create(
        mp,
        lambda store, user_id, name: (
            name.lower() in {n.lower() for n in store._user_keys[user_id].names}
        ),
    )
    return {}


def names_unique_across_users(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The duplicate check misses its user filter: B cannot take A's name."""
    _wrap_create(
        mp,
        lambda store, user_id, name: any(name in keys.names for keys in store._user_keys.values()),
    )
    return {}


def _list_handler(mp: pytest.MonkeyPatch, window) -> None:
    from mock_server import routes, views

    def list_keys(ctx):
        page, limit = ctx.params["page"], ctx.params["limit"]
        total, _ = ctx.state.store.list_keys(ctx.user_id, 0, 0)
        offset, size = window(page, limit, total)
        total, items = ctx.state.store.list_keys(ctx.user_id, offset, size)
        return {
            "total": total,
            "page": page,
            "limit": limit,
            "items": [views.key_view(k, naive=ctx.naive_dates) for k in items],
            "cord_refs": None,
        }, {}

    mp.setitem(routes.HANDLERS, "list_keys", list_keys)


def limit_zero_is_zero(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """`limit if limit is not None else 25`: limit=0 lists nothing."""
    _list_handler(mp, lambda page, limit, total: (page * limit, limit))
    return {}


def pages_counted_from_one(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The offset `(page - 1) * limit`, as if pages counted from 1."""
    _list_handler(mp, lambda page, limit, total: (max(0, (page - 1) * (limit or 25)), limit or 25))
    return {}


def list_repeats_a_key(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A page of two or more keys shows its first key again in its last place
    (a join that doubles a row): one key twice, one left out. Not D13."""
    from mock_server.quirks import ordering

    original = ordering.list_keys

    def list_keys(quirks, store, user_id, offset, limit):
        total, items = original(quirks, store, user_id, offset, limit)
        return total, ([*items[:-1], items[0]] if len(items) >= 2 else items)

    mp.setattr(ordering, "list_keys", list_keys)
    return {}


def page_past_end_clamped(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A page past the end answered with the last page."""

    def window(page, limit, total):
        size = limit or 25
        last = max(0, (total - 1) // size)
        return min(page, last) * size, size

    _list_handler(mp, window)
    return {}


def get_answers_delete_detail(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """get_key's 404 uses delete's detail (copied handler)."""
    from mock_server import routes
    from mock_server.errors import DELETE_KEY_NOT_FOUND

    mp.setattr(routes, "GET_KEY_NOT_FOUND", DELETE_KEY_NOT_FOUND)
    return {}


def delete_unknown_is_200(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Delete made idempotent: an unknown id answers 200 `deleted: false`."""
    from mock_server import routes

    def delete_api_key(ctx):
        api_key_id = ctx.params["api_key_id"]
        deleted = ctx.state.store.delete_key(ctx.user_id, api_key_id)
        return {"api_key_id": api_key_id, "deleted": deleted}, {}

    mp.setitem(routes.HANDLERS, "delete_api_key", delete_api_key)
    return {}


def delete_misses_list_index(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Delete removes the key but not its entry in the user's ordered list."""
    from mock_server.store import Store

    def delete_key(self, user_id, api_key_id):
        with self._lock:
            key = self.owned_key(user_id, api_key_id)
            if key is None:
                return False
            self._user_keys[user_id].names.discard(key.name)
            del self._keys[api_key_id]
            return True

    mp.setattr(Store, "delete_key", delete_key)
    return {}


def registry_refuses_api_keys(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The registry wants a hotkey: an admin API key is refused."""
    from mock_server import routes
    from mock_server.errors import NOT_REGISTERED, Unauthorized

    original = routes.HANDLERS["registry_auth"]

    def registry_auth(ctx):
        if ctx.caller is not None and ctx.caller.kind == "api_key":
            raise Unauthorized(NOT_REGISTERED.format(netuid=ctx.state.settings.netuid))
        return original(ctx)

    mp.setitem(routes.HANDLERS, "registry_auth", registry_auth)
    return {}


# §5 JWT -------------------------------------------------------------------------------
def _jwt_authenticate(mp: pytest.MonkeyPatch, wrap) -> None:
    from mock_server import jwt_tokens

    mp.setattr(jwt_tokens, "authenticate", wrap(jwt_tokens.authenticate))


def jwt_valid_at_its_exp(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """`exp < now` for expired, so a token still works at the second of its `exp`."""

    def wrap(original):
        def authenticate(token, store, server_secret, now, quirks=frozenset()):
            return original(token, store, server_secret, now - 1, quirks)

        return authenticate

    _jwt_authenticate(mp, wrap)
    return {}


def jwt_signature_unverified(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The JWT decoded with `verify_signature: False` and trusted."""
    import jwt

    from mock_server.errors import JWT_INVALID, Unauthorized

    def wrap(original):
        def authenticate(token, store, server_secret, now, quirks=frozenset()):
            try:
                claims = jwt.decode(token, options={"verify_signature": False})
            except jwt.PyJWTError:
                raise Unauthorized(JWT_INVALID) from None
            user = store.user(claims.get("sub")) if isinstance(claims.get("sub"), str) else None
            if user is None:
                raise Unauthorized(JWT_INVALID)
            return user

        return authenticate

    _jwt_authenticate(mp, wrap)
    return {}


def jwt_expiry_exclusive(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Expiry checked with `exp < now` for `exp <= now`: a token at its exp passes."""
    import jwt

    from mock_server import jwt_tokens

    def wrap(original):
        def authenticate(token, store, server_secret, now, quirks=frozenset()):
            try:
                exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
            except jwt.PyJWTError:
                exp = None
            if isinstance(exp, int | float) and exp == now:
                now = now - 1  # what `exp < now` lets through
            return original(token, store, server_secret, now, quirks)

        return authenticate

    mp.setattr(jwt_tokens, "authenticate", wrap(jwt_tokens.authenticate))
    return {}


def jwt_unknown_user_is_404(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """An unknown JWT user raised as NotFound (404) instead of 401."""
    import jwt

    from mock_server.errors import NotFound

    def wrap(original):
        def authenticate(token, store, server_secret, now, quirks=frozenset()):
            try:
                sub = jwt.decode(token, options={"verify_signature": False}).get("sub")
            except jwt.PyJWTError:
                sub = None
            if isinstance(sub, str) and store.user(sub) is None:
                raise NotFound("User not found")
            return original(token, store, server_secret, now, quirks)

        return authenticate

    _jwt_authenticate(mp, wrap)
    return {}


def jwt_sub_type_is_422(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A non-string `sub` refused as a validation error (422), not 401."""
    import jwt

    from mock_server.errors import ValidationFailed

    def wrap(original):
        def authenticate(token, store, server_secret, now, quirks=frozenset()):
            try:
                sub = jwt.decode(token, options={"verify_signature": False}).get("sub", "")
            except jwt.PyJWTError:
                sub = ""
            if not isinstance(sub, str):
                entry = {
                    "type": "string_type",
                    "loc": ["sub"],
                    "msg": "Input should be a valid string",
                    "input": sub,
                }
                raise ValidationFailed([entry])
            return original(token, store, server_secret, now, quirks)

        return authenticate

    _jwt_authenticate(mp, wrap)
    return {}


# §9 the catch-all (D12), planted in a production mock -------------------------------
def catch_all_detail_without_stop(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all's AUTHENTICATION_REQUIRED lost its full stop."""
    from mock_server.quirks import catch_all

    mp.setattr(catch_all, "AUTHENTICATION_REQUIRED", errors.AUTHENTICATION_REQUIRED.rstrip("."))
    return {}


def catch_all_checks_get_signatures(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all's unsignable methods lost GET and DELETE: their signature is checked."""
    from mock_server.quirks import catch_all

    mp.setattr(catch_all, "UNSIGNABLE_METHODS", frozenset({"HEAD"}))
    return {}


def _relaid_routes(mp: pytest.MonkeyPatch, relay: Callable[[list], list]) -> None:
    """Production's routes laid out, then changed by `relay`."""
    from mock_server.quirks import catch_all

    original = catch_all.with_catch_all
    mp.setattr(catch_all, "with_catch_all", lambda routes, state: relay(original(routes, state)))


def catch_all_without_patch(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all's methods lost PATCH (a missed method): R1 answers 405 instead."""
    from mock_server.quirks import catch_all

    mp.setattr(catch_all, "CATCH_ALL_METHODS", ("GET", "POST", "PUT", "DELETE", "HEAD"))
    return {}


def catch_all_one_segment(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all's path `/{path}`, its `:path` converter forgotten: one segment only."""
    from starlette.routing import Route

    from mock_server.quirks import catch_all

    def relay(routes: list) -> list:
        last = routes[-1]
        return [*routes[:-1], Route("/{path}", last.endpoint, methods=catch_all.CATCH_ALL_METHODS)]

    _relaid_routes(mp, relay)
    return {}


def implicit_head_kept(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The GET routes kept Starlette's implicit HEAD: `Allow: GET, HEAD`, HEAD a real route."""
    from starlette.routing import Route

    def relay(routes: list) -> list:
        for route in routes[:-1]:
            operations = getattr(getattr(route, "endpoint", None), "operations", None)
            if isinstance(route, Route) and route.methods == {"GET"} and operations:
                route.methods = {"GET", "HEAD"}
                mp.setitem(operations, "HEAD", operations["GET"])  # HEAD served as GET
        return routes

    _relaid_routes(mp, relay)
    return {}


def catch_all_first(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all registered before the real routes (a flipped order): it answers all."""
    _relaid_routes(mp, lambda routes: [routes[-1], *routes[:-1]])
    return {}


def catch_all_head_length_zero(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """HEAD at the catch-all built from the empty body it sends: `content-length: 0`."""
    from mock_server.quirks.catch_all import CatchAll

    original = CatchAll.__call__

    async def call(self, scope, receive, send):
        async def sending(message):
            if scope["method"] == "HEAD" and message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k != b"content-length"]
                message = {**message, "headers": [*headers, (b"content-length", b"0")]}
            await send(message)

        await original(self, scope, receive, sending)

    mp.setattr(CatchAll, "__call__", call)
    return {}


def routes_on_raw_path(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Production's routes matched on the raw path, not the percent-decoded one."""

    def relay(routes: list) -> list:
        for route in routes:
            matches = route.matches

            def raw_matches(scope, matches=matches):
                raw = scope.get("raw_path") or scope["path"].encode()
                return matches({**scope, "path": raw.decode("latin-1").split("?")[0]})

            route.matches = raw_matches
        return routes

    _relaid_routes(mp, relay)
    return {}


def _catch_all_caller(mp: pytest.MonkeyPatch, bug: str) -> None:
    """The catch-all's `caller` (A, B, C) as written, with one `bug`."""
    import hashlib

    from mock_server.auth import AuthKind, Caller, bearer_jwt
    from mock_server.errors import SIGNED_WITHOUT_BODY, Unauthorized
    from mock_server.pipeline import has_body, header_map, read_body
    from mock_server.quirks import catch_all, scopes

    def allows(key, method: str, path: str) -> bool:
        if bug == "scope_first_segment":  # the object type read from the first segment
            path = "/".join(path.split("/")[:2])
        return scopes.key_allows(key, method, path)

    async def caller(self, scope, receive):
        authenticator = self.state.authenticator
        headers = header_map(scope)
        method = scope["method"]
        hotkey = headers.get("x-chutes-hotkey", "")
        signature = headers.get("x-chutes-signature", "")
        if hotkey and signature:
            nonce = headers.get("x-chutes-nonce")
            if bug != "nonce_last":
                authenticator.check_nonce(nonce)
            if method in catch_all.UNSIGNABLE_METHODS:
                raise Unauthorized(SIGNED_WITHOUT_BODY)
            limit = self.state.settings.max_body_bytes
            read = has_body(headers) and bug != "body_unread"
            raw = await read_body(scope, receive, headers, limit) if read else b""
            message = f"{hotkey}:{nonce}:{hashlib.sha256(raw).hexdigest()}"
            authenticator.check_signature(hotkey, signature, message)
            if bug == "nonce_last":
                authenticator.check_nonce(nonce)
            user = self.state.store.user_by_hotkey(hotkey)
            if user is None and bug == "unknown_hotkey_refused":
                raise Unauthorized(errors.UNKNOWN_HOTKEY.format(hotkey=hotkey))
            return self._seen(scope, Caller(AuthKind.HOTKEY, user))
        authorization = headers.get("authorization", "")
        if authorization:
            token = bearer_jwt(authorization)
            if token is not None:
                return self._seen(scope, Caller(AuthKind.JWT, authenticator.jwt_user(token)))
            path = scope["path"]
            cache = authenticator.key_cache
            if bug == "key_uncached":  # the store asked directly, the key cache passed by
                authenticator.key_cache = None
            try:
                caller = authenticator.api_key(
                    authorization.split(" ")[-1], lambda key: allows(key, method, path)
                )
            finally:
                authenticator.key_cache = cache
            return self._seen(scope, caller)
        return None

    mp.setattr(catch_all.CatchAll, "caller", caller)


def catch_all_nonce_last(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all checks the nonce after the signature (a flipped order)."""
    _catch_all_caller(mp, "nonce_last")
    return {}


def catch_all_body_unread(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all's message hashes an empty body, the raw one never read."""
    _catch_all_caller(mp, "body_unread")
    return {}


def catch_all_unknown_hotkey_refused(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all refuses a hotkey with no user, as the real routes do."""
    _catch_all_caller(mp, "unknown_hotkey_refused")
    return {}


def catch_all_scope_first_segment(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all reads a scope's object type from the path's first segment, not its last."""
    _catch_all_caller(mp, "scope_first_segment")
    return {}


def catch_all_key_uncached(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all looks API keys up in the store, past D3's key cache: no use counted."""
    _catch_all_caller(mp, "key_uncached")
    return {}


def catch_all_nobody_unchecked(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """`if caller is None`, `caller.user is None` forgotten: a hotkey with no user passes."""
    from mock_server.auth import Caller
    from mock_server.quirks.catch_all import CatchAll

    original = CatchAll.caller

    async def caller(self, scope, receive):
        found = await original(self, scope, receive)
        if found is not None and found.user is None:
            return Caller(found.kind, object())  # not None: the 404 for a user follows
        return found

    mp.setattr(CatchAll, "caller", caller)
    return {}


def catch_all_no_chute_without_bang(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The catch-all's NO_MATCHING_CHUTE lost its '!'."""
    from mock_server.quirks import catch_all

    mp.setattr(catch_all, "NO_MATCHING_CHUTE", errors.NO_MATCHING_CHUTE.rstrip("!"))
    return {}


def limit_zero_offset_from_zero(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """`limit=0` means 25 items, but the offset is still `page * 0`: every page is page 0."""
    from mock_server import routes
    from mock_server.quirks import ordering

    def list_keys(ctx):
        page, limit = ctx.params["page"], ctx.params["limit"]
        store = ctx.state.store
        total, items = ordering.list_keys(
            ctx.state.settings.quirks, store, ctx.user_id, page * limit, limit or 25
        )
        return {
            "total": total,
            "page": page,
            "limit": limit,
            "items": [routes.views.key_view(k, naive=ctx.naive_dates) for k in items],
            "cord_refs": None,
        }, {}

    mp.setitem(routes.HANDLERS, "list_keys", list_keys)
    return {}


def registry_accepts_any_account(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """The registry lets in any hotkey with a user account, on the metagraph or not."""
    from mock_server.store import Store

    original = Store.is_registered

    def is_registered(self, netuid, hotkey):
        return original(self, netuid, hotkey) or self.user_by_hotkey(hotkey) is not None

    mp.setattr(Store, "is_registered", is_registered)
    return {}


def create_hashes_reserialised_body(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """A create's message hashes the body parsed and dumped again, not the bytes sent."""
    import contextlib
    import json

    from mock_server.auth import Authenticator

    original = Authenticator._hotkey

    def hotkey(self, operation, hotkey, signature, nonce, body):
        if operation.purpose is None and body:
            with contextlib.suppress(ValueError):
                body = json.dumps(json.loads(body)).encode()
        return original(self, operation, hotkey, signature, nonce, body)

    mp.setattr(Authenticator, "_hotkey", hotkey)
    return {}


def json_only_as_exact_content_type(mp: pytest.MonkeyPatch) -> dict[str, Any]:
    """Only `Content-Type: application/json` exactly is read as JSON (no charset, no +json)."""
    from mock_server import pipeline

    original = pipeline.decode_body

    def decode(raw, content_type):
        if raw and content_type and content_type != "application/json":
            return raw.decode("utf-8", errors="replace")
        return original(raw, content_type)

    mp.setattr(pipeline, "decode_body", decode)
    return {}


BREAKAGES.update(
    {
        breakage.__name__: breakage
        for breakage in (
            redirect_drops_query,
            no_slash_redirect,
            list_repeats_a_key,
            wrong_method_is_404,
            not_found_lower_case,
            bad_json_ignored,
            unparsable_page_is_zero,
            missing_field_loc_is_body,
            unknown_query_refused,
            unknown_body_field_refused,
            no_credentials_detail_without_face,
            authorization_before_hotkey,
            bearer_case_sensitive,
            every_token_is_jwt,
            missing_nonce_unchecked,
            nonce_leading_digits,
            nonce_window_inclusive,
            nonce_future_skew,
            signature_detail_without_with,
            signature_lower_case_only,
            no_bytes_wrapper,
            signed_request_replay_refused,
            any_purpose_accepted,
            create_signed_with_purpose,
            registry_checks_subnet_only,
            registry_check_flipped,
            unknown_hotkey_detail_without_colon,
            key_secret_not_compared,
            key_format_off_by_one,
            empty_scopes_allow_all,
            name_max_23,
            name_max_25,
            name_astral_allowed,
            name_without_dollar,
            object_type_checked_for_admin,
            admin_keeps_scopes,
            duplicate_name_is_400,
            duplicate_name_any_case,
            names_unique_across_users,
            limit_zero_is_zero,
            limit_zero_offset_from_zero,
            registry_accepts_any_account,
            create_hashes_reserialised_body,
            json_only_as_exact_content_type,
            pages_counted_from_one,
            page_past_end_clamped,
            get_answers_delete_detail,
            delete_unknown_is_200,
            delete_misses_list_index,
            registry_refuses_api_keys,
            jwt_signature_unverified,
            jwt_valid_at_its_exp,
            jwt_expiry_exclusive,
            jwt_unknown_user_is_404,
            jwt_sub_type_is_422,
            catch_all_detail_without_stop,
            catch_all_checks_get_signatures,
            catch_all_without_patch,
            catch_all_one_segment,
            implicit_head_kept,
            catch_all_first,
            catch_all_head_length_zero,
            routes_on_raw_path,
            catch_all_nonce_last,
            catch_all_body_unread,
            catch_all_unknown_hotkey_refused,
            catch_all_scope_first_segment,
            catch_all_no_chute_without_bang,
            catch_all_key_uncached,
            catch_all_nobody_unchecked,
        )
    }
)
