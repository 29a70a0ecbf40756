"""Create, get and delete (behaviour §4): the rules, in their order."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support import details as D
from tests.unit.harness import ALICE, ALICE_ID, BOB, Mock

BAD_NAME = {"detail": D.BAD_KEY_NAME}
BAD_OBJECT_TYPE = {"detail": D.BAD_OBJECT_TYPE}
DUPLICATE = {"detail": D.DUPLICATE_KEY_NAME}
KEY_FIELDS = ("api_key_id", "user_id", "admin", "name", "created_at", "last_used_at", "scopes")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "a" * 24,
        "laptop-2 $.x_y",
        "   ",
        "\t",
        "a" * 23 + "\n",
        "naïve",
        "ключ",
        "钥匙",
        "\u0080",
        "\uffff",
        "-leading",
        "١٢٣",
    ],
)
def test_names_that_pass(mock: Mock, name: str) -> None:
    response = mock.create(ALICE, name)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a" * 25,
        "a" * 24 + "\n",
        "😀",
        "key😀",
        "a/b",
        "a!",
        "a@b",
        "a:b",
        "a,b",
        "(x)",
        "\x00",
        "\x7f",
    ],
)
def test_names_that_are_refused(mock: Mock, name: str) -> None:
    response = mock.create(ALICE, name)
    assert (response.status_code, response.json()) == (400, BAD_NAME)


def test_non_admin_object_type_rule(mock: Mock) -> None:
    scopes = [{"object_type": "chutes"}, {"object_type": "users"}]
    response = mock.create(ALICE, "k", admin=False, scopes=scopes)
    assert (response.status_code, response.json()) == (400, BAD_OBJECT_TYPE)


@pytest.mark.parametrize("object_type", ["images", "chutes", "invocations"])
def test_allowed_object_types(mock: Mock, object_type: str) -> None:
    response = mock.create(ALICE, "k", admin=False, scopes=[{"object_type": object_type}])
    assert response.status_code == 200
    assert response.json()["scopes"][0]["object_type"] == object_type


def test_name_rule_comes_before_the_object_type_rule(mock: Mock) -> None:
    response = mock.create(ALICE, "a/b", admin=False, scopes=[{"object_type": "users"}])
    assert response.json() == BAD_NAME


def test_object_type_rule_comes_before_the_duplicate_rule(mock: Mock) -> None:
    response = mock.create(ALICE, "mock-admin", admin=False, scopes=[{"object_type": "users"}])
    assert (response.status_code, response.json()) == (400, BAD_OBJECT_TYPE)


def test_admin_scopes_are_dropped(mock: Mock) -> None:
    response = mock.create(ALICE, "k", admin=True, scopes=[{"object_type": "users"}])
    assert response.status_code == 200
    assert response.json()["scopes"] == []


def test_null_scopes_mean_no_scopes(mock: Mock) -> None:
    response = mock.create(ALICE, "k", admin=False, scopes=None)
    assert (response.status_code, response.json()["scopes"]) == (200, [])


def test_missing_scopes_mean_no_scopes(mock: Mock) -> None:
    response = mock.create(ALICE, "k", admin=False)
    assert (response.status_code, response.json()["scopes"]) == (200, [])


def test_duplicate_name_is_409(mock: Mock) -> None:
    response = mock.create(ALICE, "mock-admin")
    assert (response.status_code, response.json()) == (409, DUPLICATE)


def test_names_are_case_sensitive(mock: Mock) -> None:
    assert mock.create(ALICE, "Mock-Admin").status_code == 200
    assert mock.create(ALICE, "Mock-Admin").json() == DUPLICATE


def test_another_user_may_reuse_a_name(mock: Mock) -> None:
    mock.created(ALICE, "shared")
    assert mock.create(BOB, "shared").status_code == 200


def test_a_deleted_keys_name_is_free_again(mock: Mock) -> None:
    key = mock.created(ALICE, "again")
    mock.signed(ALICE, "DELETE", f"/api_keys/{key['api_key_id']}")
    assert mock.create(ALICE, "again").status_code == 200


def test_create_response_shape(mock: Mock) -> None:
    scopes = [
        {"object_type": "chutes", "object_id": "c1", "action": "invoke"},
        {"object_type": "images", "object_id": None, "action": None},
    ]
    body = mock.created(ALICE, "shape", admin=False, scopes=scopes)
    assert set(body) == {*KEY_FIELDS, "secret_key"}
    assert uuid.UUID(body["api_key_id"]).version == 4
    assert (body["user_id"], body["admin"], body["name"]) == (ALICE_ID, False, "shape")
    assert DATE_TIME.fullmatch(body["created_at"])
    assert body["created_at"] == "2027-01-15T08:00:00+00:00"
    assert body["last_used_at"] is None
    assert [{k: v for k, v in s.items() if k != "scope_id"} for s in body["scopes"]] == [
        {"object_type": "chutes", "object_id": "c1", "method": None},
        {"object_type": "images", "object_id": None, "method": None},
    ]
    assert all(uuid.UUID(s["scope_id"]) for s in body["scopes"])


def test_secret_only_in_the_create_response(mock: Mock) -> None:
    created = mock.created(ALICE, "once")
    path = f"/api_keys/{created['api_key_id']}"
    got = mock.signed(ALICE, "GET", path).json()
    assert got == {k: v for k, v in created.items() if k != "secret_key"}
    listed = mock.signed(ALICE, "GET", "/api_keys/").text
    assert "secret_key" not in listed and created["secret_key"] not in listed
    deleted = mock.signed(ALICE, "DELETE", path).text
    assert created["secret_key"] not in deleted


def test_get_own_key(mock: Mock) -> None:
    created = mock.created(ALICE, "mine", admin=False, scopes=[{"object_type": "images"}])
    response = mock.signed(ALICE, "GET", f"/api_keys/{created['api_key_id']}")
    assert response.status_code == 200
    assert response.json()["scopes"] == created["scopes"]


def test_delete_own_key(mock: Mock) -> None:
    key_id = mock.created(ALICE, "gone")["api_key_id"]
    response = mock.signed(ALICE, "DELETE", f"/api_keys/{key_id}")
    assert (response.status_code, response.json()) == (200, {"api_key_id": key_id, "deleted": True})
    again = mock.signed(ALICE, "GET", f"/api_keys/{key_id}")
    assert again.status_code == 404


@pytest.mark.parametrize("key_id", [str(uuid.UUID(int=7)), "not-a-uuid", "chutes"])
def test_get_and_delete_of_an_unknown_key(mock: Mock, key_id: str) -> None:
    got = mock.signed(ALICE, "GET", f"/api_keys/{key_id}")
    assert (got.status_code, got.json()) == (
        404,
        {"detail": D.GET_KEY_NOT_FOUND.format(api_key_id=key_id)},
    )
    deleted = mock.signed(ALICE, "DELETE", f"/api_keys/{key_id}")
    assert (deleted.status_code, deleted.json()) == (
        404,
        {"detail": D.DELETE_KEY_NOT_FOUND},
    )


def test_get_and_delete_of_another_users_key(mock: Mock) -> None:
    key_id = mock.created(BOB, "bobs")["api_key_id"]
    got = mock.signed(ALICE, "GET", f"/api_keys/{key_id}")
    assert (got.status_code, got.json()) == (
        404,
        {"detail": D.GET_KEY_NOT_FOUND.format(api_key_id=key_id)},
    )
    deleted = mock.signed(ALICE, "DELETE", f"/api_keys/{key_id}")
    assert deleted.json() == {"detail": D.DELETE_KEY_NOT_FOUND}
    assert mock.signed(BOB, "GET", f"/api_keys/{key_id}").status_code == 200
