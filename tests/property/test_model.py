"""The model's predictions of production's deviations (behaviour §7), alone:
which variants it offers, and where it offers none (so a look-alike fails)."""

from __future__ import annotations

import base64

import pytest

from tests.property.model import (
    D3_WINDOW,
    Expected,
    Key,
    Model,
    error,
    matches,
    with_scopes_in_any_order,
)
from tests.support.details import API_KEY_REFUSED, GET_KEY_NOT_FOUND

USER = "a11ce000-0000-4000-8000-000000000001"
KEY_ID = "5a875022-b29a-4c02-a043-2508e97036b7"


def variants(expected: Expected) -> dict[frozenset[str], Expected]:
    return {v.deviations: v.expected for v in expected.variants}


def new_key(model: Model, admin: bool = True, scopes: list[dict] | None = None) -> Key:
    body = {
        "api_key_id": KEY_ID,
        "user_id": USER,
        "admin": admin,
        "name": "k",
        "created_at": "2026-12-01T00:00:00+00:00",
        "last_used_at": None,
        "scopes": [],
        "secret_key": "cpk_" + "0" * 32 + "." + "1" * 32 + "." + "a" * 32,
    }
    return model.created("A", body, {"scopes": scopes})


def test_a_deleted_key_is_honoured_within_the_window_of_its_last_cached_use() -> None:
    model = Model(user_ids={"A": USER, "B": None})
    key = new_key(model)
    model.used(key, 0.0, 0.1)
    model.used(key, 30.0, 30.1)  # inside the first window: no new entry
    model.used(key, 70.0, 70.1)  # the first window is over: a new one opens
    model.deleted(key.api_key_id)
    path = f"/api_keys/{key.api_key_id}"
    honoured = error(404, GET_KEY_NOT_FOUND.format(api_key_id=key.api_key_id))
    assert variants(model.with_key(key, path, 100.0)) == {frozenset({"D3"}): honoured}
    assert not variants(model.with_key(key, path, 70.1 + D3_WINDOW))


def test_a_key_deleted_before_any_use_is_never_honoured() -> None:
    model = Model(user_ids={"A": USER, "B": None})
    key = new_key(model)
    model.deleted(key.api_key_id)
    model.used(key, 1.0, 1.1)  # refused: no cache entry
    assert not variants(model.with_key(key, "/api_keys/", 2.0))


@pytest.mark.parametrize(
    ("scope", "passes"),
    [
        ({"object_type": "chutes"}, True),
        ({"object_type": "chutes", "object_id": "chutes", "action": "read"}, True),
        ({"object_type": "chutes", "object_id": "some-chute"}, False),
        ({"object_type": "chutes", "action": "write"}, False),
        ({"object_type": "images", "action": "read"}, False),
    ],
)
def test_a_non_admin_key_passes_only_where_its_scope_matches_the_path(
    scope: dict, passes: bool
) -> None:
    model = Model(user_ids={"A": USER, "B": None})
    key = new_key(model, admin=False, scopes=[scope])
    expected = model.with_key(key, "/api_keys/chutes", 0.0)
    assert expected == error(401, API_KEY_REFUSED)
    through = error(404, GET_KEY_NOT_FOUND.format(api_key_id="chutes"))
    assert variants(expected) == ({frozenset({"D8"}): through} if passes else {})


def test_the_registry_header_variant_is_exactly_the_bytes_of_colon_and_password() -> None:
    expected = Model(registry_password="pw").registry()
    encoded = base64.b64encode(b":pw").decode()
    assert expected.headers == {"authorization": f"Basic {encoded}"}
    [variant] = expected.variants
    assert variant.expected.headers == {"authorization": f"Basic b'{encoded}'"}


@pytest.mark.parametrize(
    ("name", "shows"),
    [("x" * 24 + "\n", {"D9"}), ("x" * 25, None), ("x" * 23 + "\n", None)],
)
def test_a_name_of_24_characters_and_a_newline_is_production_s_only(name, shows) -> None:
    expected = Model(user_ids={"A": USER, "B": None}).create("A", {"name": name, "admin": True})
    created = [v.deviations for v in expected.variants if v.expected.status == 200]
    if shows is None:
        assert expected.status in (200, 400) and not created
    else:
        assert expected.status == 400 and created == [frozenset(shows)]


def test_a_deviation_is_found_behind_hypothesis_replay_error() -> None:
    """Hypothesis may raise another error while replaying a failure (an answer
    not the same twice, as D13's order): the report still names the deviation."""
    from tests.property.conftest import deviates_in
    from tests.property.judge import Deviates

    shown = Deviates("[D13] pages in another order", None, None, frozenset({"D13"}))
    try:
        try:
            raise shown
        except Deviates:
            raise RuntimeError("Inconsistent data generation") from None
    except RuntimeError as replayed:
        assert deviates_in(replayed) is shown
    assert deviates_in(BaseExceptionGroup("two", [ValueError(), shown])) is shown
    assert deviates_in(ValueError("nothing")) is None


def test_the_end_of_d3s_window_is_known_to_the_first_uses_span():
    """The entry starts between the use's send (10) and its answer (10.5): its
    end is somewhere in [70, 70.5], and a request near it could go either way."""
    key = Key(view={"api_key_id": "k", "admin": True}, owner="A", secret="s")
    assert key.d3_edge_wait(0.0, 2.0) == 0.0  # never used: no window
    Model().used(key, 10.0, 10.5)
    assert key.d3_edge_wait(60.0, 2.0) == 0.0  # surely inside
    assert key.d3_edge_wait(67.9, 2.0) == 0.0
    assert key.d3_edge_wait(68.0, 2.0) == pytest.approx(4.5)  # wait until 72.5
    assert key.d3_edge_wait(70.2, 2.0) == pytest.approx(2.3)
    assert key.d3_edge_wait(72.6, 2.0) == 0.0  # surely over


def test_a_keys_scopes_match_in_any_order_but_each_once():
    first = {"scope_id": "s1", "object_type": "chutes", "object_id": None, "method": None}
    second = {"scope_id": "s2", "object_type": "images", "object_id": None, "method": "read"}
    view = with_scopes_in_any_order({"api_key_id": "k", "scopes": [first, second]})
    assert matches(view, {"api_key_id": "k", "scopes": [second, first]})
    assert matches(view, {"api_key_id": "k", "scopes": [first, second]})
    assert not matches(view, {"api_key_id": "k", "scopes": [first, first]})
    assert not matches(view, {"api_key_id": "k", "scopes": [first]})
    assert not matches(view, {"api_key_id": "k", "scopes": [first, second, second]})
