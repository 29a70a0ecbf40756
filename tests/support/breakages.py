"""Mocks broken on purpose, to prove the suites catch real defects.

Each breakage patches the in-process mock (never the mock's source) and may
override settings. Select one with `--mock-breakage NAME`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

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
