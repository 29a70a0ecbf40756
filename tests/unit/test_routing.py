"""Routing (behaviour §1): decided before any credential is looked at."""

from __future__ import annotations

import pytest

from tests.unit.harness import ALICE, BOB_ID, Mock

NOT_FOUND = {"detail": "Not Found"}
NOT_ALLOWED = {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(
    ("method", "path", "location"),
    [
        ("GET", "/api_keys", "http://testserver/api_keys/"),
        ("GET", "/api_keys?page=1", "http://testserver/api_keys/?page=1"),
        (
            "GET",
            "/api_keys?limit=2&page=0&name=x",
            "http://testserver/api_keys/?limit=2&page=0&name=x",
        ),
        ("POST", "/api_keys", "http://testserver/api_keys/"),
        ("GET", "/registry/auth/", "http://testserver/registry/auth"),
    ],
)
def test_slash_redirects_are_absolute_and_keep_the_query(
    mock: Mock, method: str, path: str, location: str
) -> None:
    response = mock.request(method, path)
    assert response.status_code == 307
    assert response.headers["location"] == location


def test_redirect_location_uses_the_requests_host(mock: Mock) -> None:
    response = mock.request("GET", "http://api.example:8080/api_keys?page=3")
    assert response.status_code == 307
    assert response.headers["location"] == "http://api.example:8080/api_keys/?page=3"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api_keys/"),
        ("PUT", "/api_keys/"),
        ("PATCH", "/api_keys/x"),
        ("POST", "/api_keys/x"),
        ("POST", "/registry/auth"),
        ("DELETE", "/registry/auth"),
    ],
)
def test_a_method_the_path_lacks_is_405(mock: Mock, method: str, path: str) -> None:
    response = mock.request(method, path)
    assert response.status_code == 405
    assert response.json() == NOT_ALLOWED
    assert response.headers["content-type"] == "application/json"


def test_405_comes_before_authentication(mock: Mock) -> None:
    """A signed request with a method the path lacks is still 405."""
    assert mock.signed(ALICE, "DELETE", "/api_keys/").status_code == 405


def test_head_is_not_an_operation(mock: Mock) -> None:
    """The spec lists no HEAD; FastAPI routes do not add it either."""
    assert mock.request("HEAD", "/api_keys/").status_code == 405


@pytest.mark.parametrize("path", ["/", "/nope", "/api_keys/a/b", "/registry", "/_mock"])
def test_an_unknown_path_is_404(mock: Mock, path: str) -> None:
    response = mock.request("GET", path)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_unknown_header_user_id_is_ignored(mock: Mock) -> None:
    """The real client sends X-Chutes-UserID; the signature decides who calls."""
    response = mock.signed(ALICE, "GET", "/api_keys/", headers={"X-Chutes-UserID": BOB_ID})
    assert response.status_code == 200
    assert {item["user_id"] for item in response.json()["items"]} == {
        "a11ce000-0000-4000-8000-000000000001"
    }


def test_unknown_query_parameter_is_ignored(mock: Mock) -> None:
    """The real client sends `name=` on list; it filters nothing."""
    mock.created(ALICE, "other")
    plain = mock.signed(ALICE, "GET", "/api_keys/").json()
    named = mock.signed(ALICE, "GET", "/api_keys/?name=other&limit=25&page=0").json()
    assert named == plain
    assert named["total"] == 2


def test_a_405_names_the_paths_methods_in_the_same_order_in_every_process() -> None:
    """`Allow` in the spec's order, whatever the process' hash seed (a set's
    iteration order follows it, and clients compare the header as text)."""
    import os
    import subprocess
    import sys

    program = (
        "from starlette.testclient import TestClient\n"
        "from mock_server.app import create_app\n"
        "from mock_server.settings import Settings\n"
        "client = TestClient(create_app(Settings()))\n"
        "print(client.delete('/api_keys/').headers['allow'], '|',"
        " client.put('/api_keys/x').headers['allow'])\n"
    )
    seen = set()
    for seed in range(6):
        environ = {**os.environ, "PYTHONHASHSEED": str(seed)}
        done = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", program],
            env=environ,
            capture_output=True,
            text=True,
            check=True,
        )
        seen.add(done.stdout.strip())
    assert seen == {"GET, POST | GET, DELETE"}
