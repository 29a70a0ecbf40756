"""Fault rules (`/_mock/faults`, `MockServer.fault`): each kind reaches a plain
httpx client as it would from a real server, served and in-process."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from mock_server import MockControlError, MockServer
from mock_server.cli import main
from mock_server.faults import FaultRuleError, checked_rules

CUT = (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError, httpx.WriteError)


@pytest.fixture(scope="module")
def served() -> Iterator[MockServer]:
    with MockServer(seed=11) as mock:
        yield mock


@pytest.fixture
def mock(served: MockServer) -> MockServer:
    served.reset()
    served.clear_requests()
    return served


def alice(mock: MockServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {mock.user('alice').jwt}"}


def names(mock: MockServer) -> list[str]:
    return [k["name"] for k in mock.state()["keys"]]


@pytest.fixture(params=["served", "in-process"])
def client(request, mock: MockServer) -> Iterator[httpx.Client]:
    transport = mock.transport() if request.param == "in-process" else None
    with httpx.Client(base_url=mock.url, transport=transport, timeout=30) as c:
        yield c


def test_an_error_with_its_headers_then_spent(mock: MockServer, client: httpx.Client) -> None:
    mock.fault(
        match={"operation": "list_keys"},
        error={"status": 429, "headers": {"Retry-After": "1"}, "body": {"detail": "slow down"}},
        times=2,
    )
    answers = [client.get("/api_keys/", headers=alice(mock)) for _ in range(3)]
    assert [(r.status_code, r.headers.get("retry-after")) for r in answers] == [
        (429, "1"),
        (429, "1"),
        (200, None),
    ]
    assert answers[0].json() == {"detail": "slow down"}
    [rule] = mock.faults()
    assert (rule["fired"], rule["uses_left"]) == (2, 0)
    assert [e.fault for e in mock.requests()] == ["rule 1: error 429"] * 2 + [None]


def test_a_gateway_page_as_text(mock: MockServer, client: httpx.Client) -> None:
    page = "<html><body>503 Service Unavailable</body></html>"
    mock.fault(error={"status": 503, "body": page})
    response = client.get("/registry/auth")
    assert (response.status_code, response.text) == (503, page)
    assert response.headers["content-type"].startswith("text/plain")


def test_latency_is_measured_as_set(mock: MockServer, client: httpx.Client) -> None:
    """Never sooner than set; within 10% + 10 ms of it on at least one of three
    tries (a busy machine only ever adds time)."""
    client.get("/api_keys/", headers=alice(mock))  # warm
    mock.clear_requests()
    with mock.fault(match={"path": "/api_keys/"}, latency_ms=200):
        for _ in range(3):
            started = time.perf_counter()
            assert client.get("/api_keys/", headers=alice(mock)).status_code == 200
            assert time.perf_counter() - started >= 0.2
    delays = [entry.latency_ms for entry in mock.requests()]
    assert len(delays) == 3 and min(delays) >= 200
    assert min(delays) <= 200 * 1.1 + 10, delays
    assert mock.faults() == []  # the with block removed the rule


def test_latency_distributions_draw_within_bounds(mock: MockServer) -> None:
    mock.fault(latency_ms={"uniform": [20, 40]})
    mock.fault(match={"method": "DELETE"}, latency_ms={"lognormal": {"median": 5, "sigma": 0.5}})
    with httpx.Client(base_url=mock.url, timeout=30) as client:
        for _ in range(5):
            client.get("/api_keys/", headers=alice(mock))
    delays = [entry.latency_ms for entry in mock.requests()]
    assert min(delays) >= 20 and min(delays) <= 40 * 1.1 + 10, delays


def test_latency_never_holds_the_loop(mock: MockServer) -> None:
    """100 concurrent requests under a 200 ms rule: together, not one after another."""
    mock.fault(latency_ms=200)
    headers = alice(mock)

    async def burst() -> float:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=mock.url, limits=limits, timeout=60) as client:
            started = time.perf_counter()
            answers = await asyncio.gather(
                *(client.get("/api_keys/", headers=headers) for _ in range(100))
            )
            assert {r.status_code for r in answers} == {200}
            return time.perf_counter() - started

    assert asyncio.run(burst()) < 5  # one after another would be 20 s


@pytest.mark.parametrize("how", ["drop", "reset"])
def test_a_cut_connection_is_a_transport_error(
    mock: MockServer, client: httpx.Client, how: str
) -> None:
    mock.fault(match={"operation": "list_keys"}, connection=how, times=1)
    with pytest.raises(CUT):
        client.get("/api_keys/", headers=alice(mock))
    assert client.get("/api_keys/", headers=alice(mock)).status_code == 200  # spent
    first = mock.requests()[0]
    assert (first.status, first.reason, first.fault) == (None, "fault", f"rule 1: {how}")


def test_a_reset_is_a_reset(mock: MockServer) -> None:
    mock.fault(connection="reset")
    host, port = mock.url[7:].rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /api_keys/ HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(10)
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)


def test_close_after_answers_then_closes(mock: MockServer) -> None:
    mock.fault(connection="close_after")
    host, port = mock.url[7:].rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /openapi.jsonx HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(10)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 404 ") and b"connection: close" not in answer.lower()


@pytest.mark.parametrize("when", ["before", "after"])
def test_when_says_whether_the_operation_takes_effect(
    mock: MockServer, client: httpx.Client, when: str
) -> None:
    mock.fault(match={"operation": "create_api_key"}, error={"status": 504}, when=when)
    response = client.post(
        "/api_keys/", json={"name": "behind-504", "admin": True}, headers=alice(mock)
    )
    assert response.status_code == 504
    assert ("behind-504" in names(mock)) == (when == "after")


def test_a_drop_after_the_effect_loses_only_the_answer(
    mock: MockServer, client: httpx.Client
) -> None:
    mock.fault(match={"operation": "create_api_key"}, connection="drop", when="after")
    with pytest.raises(CUT):
        client.post("/api_keys/", json={"name": "lost-answer", "admin": True}, headers=alice(mock))
    assert "lost-answer" in names(mock)


def test_match_by_user_auth_kind_method_and_path(mock: MockServer, client: httpx.Client) -> None:
    mock.fault(match={"user": "bob", "auth_kind": "api_key"}, error={"status": 418})
    bob = mock.user("bob")
    assert client.get("/api_keys/", headers=alice(mock)).status_code == 200
    assert client.get("/api_keys/", headers={"Authorization": f"Bearer {bob.jwt}"}).is_success
    key = {"Authorization": f"Basic {bob.api_key}"}
    assert client.get("/api_keys/", headers=key).status_code == 418
    mock.clear_faults()
    mock.fault(match={"method": "delete", "path": "/api_keys/*"}, error={"status": 409})
    assert client.delete("/api_keys/x", headers=alice(mock)).status_code == 409
    assert client.get("/api_keys/", headers=alice(mock)).status_code == 200


def test_probability_repeats_with_the_seed() -> None:
    def outcomes(seed: int) -> list[int]:
        with MockServer(seed=seed, serve=False) as mock:
            mock.fault(error={"status": 500}, probability=0.5)
            with httpx.Client(transport=mock.transport(), base_url=mock.url) as client:
                return [client.get("/registry/auth").status_code for _ in range(40)]

    first = outcomes(1)
    assert outcomes(1) == first
    assert set(first) == {401, 500}
    assert outcomes(2) != first


def test_faults_never_touch_the_control_api_or_the_contract(mock: MockServer) -> None:
    mock.fault(error={"status": 503})
    assert httpx.get(f"{mock.url}/_mock/state").status_code == 200
    assert httpx.get(f"{mock.url}/openapi.json").status_code == 200


def test_reset_removes_added_rules(mock: MockServer) -> None:
    mock.fault(error={"status": 503})
    mock.reset()
    assert mock.faults() == []


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"latency_ms": 60_001}, "latency_ms"),
        ({"probability": 1.5}, "probability"),
        ({"error": {"status": 99}}, "status"),
        ({"connection": "explode"}, "connection"),
        ({"when": "later"}, "when"),
        ({"times": 0}, "times"),
    ],
)
def test_out_of_bounds_is_a_422_naming_the_field(mock: MockServer, rule: dict, field: str) -> None:
    response = httpx.post(f"{mock.url}/_mock/faults", json=rule)
    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"][0]["loc"])


def test_nonsense_is_a_400(mock: MockServer) -> None:
    for rule, words in [
        ({"latency_ms": {"uniform": [50, 10]}}, "first bound is above"),
        ({"match": {"operation": "nope"}}, "no operation 'nope'"),
        ({"connection": "drop", "error": {"status": 500}}, "sends no answer"),
    ]:
        with pytest.raises(MockControlError, match=words):
            mock.fault(**rule)
    for _ in range(100):
        mock.fault(latency_ms=0)
    with pytest.raises(MockControlError, match="At most 100 fault rules"):
        mock.fault(latency_ms=0)
    assert httpx.post(f"{mock.url}/_mock/faults", json={}).status_code == 400
    assert httpx.delete(f"{mock.url}/_mock/faults/999").status_code == 404
    assert httpx.delete(f"{mock.url}/_mock/faults").json() == {"removed": 100}


def test_the_control_api_lists_and_removes(mock: MockServer) -> None:
    created = httpx.post(f"{mock.url}/_mock/faults", json={"error": {"status": 500}, "times": 3})
    assert (created.status_code, created.json()) == (201, {"id": 1})
    [rule] = httpx.get(f"{mock.url}/_mock/faults").json()["faults"]
    assert (rule["id"], rule["fired"], rule["uses_left"], rule["when"]) == (1, 0, 3, "before")
    assert httpx.delete(f"{mock.url}/_mock/faults/1").json() == {"removed": 1}


def test_rules_at_start_from_the_command_line(tmp_path, monkeypatch, capsys) -> None:
    import uvicorn

    seen = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.append(self))
    rules = tmp_path / "faults.yaml"
    rules.write_text("- match: {operation: list_keys}\n  error: {status: 503}\n  times: 1\n")
    assert main(["serve", "--port", "0", "--faults", str(rules), "--latency", "5"], environ={}) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("- latency_ms: 90000\n")
    assert main(["serve", "--port", "0", "--faults", str(bad)], environ={}) == 2
    assert "rule 1: latency_ms" in capsys.readouterr().err
    with pytest.raises(FaultRuleError, match=r"rule 2: match\.operation"):
        checked_rules([{"latency_ms": 1}, {"match": {"operation": "x"}}], "test")
    with pytest.raises(SystemExit):
        main(["serve", "--latency", "-1"], environ={})
    assert "not milliseconds from 0 to 60000" in capsys.readouterr().err
    environ = {"CHUTES_MOCK_FAULTS": str(rules), "CHUTES_MOCK_LATENCY": "7"}
    assert main(["serve", "--port", "0"], environ=environ) == 0
    started = [server.config.app for server in seen]
    assert len(started) == 2


def test_the_settings_carry_the_rules_in_order(tmp_path) -> None:
    from mock_server.cli import build_parser, settings_from

    rules = tmp_path / "faults.json"
    rules.write_text(json.dumps([{"error": {"status": 503}, "times": 1}]))
    for argv, environ in [
        (["serve", "--faults", str(rules), "--latency", "5"], {}),
        (["serve"], {"CHUTES_MOCK_FAULTS": str(rules), "CHUTES_MOCK_LATENCY": "5"}),
    ]:
        settings = settings_from(build_parser(environ).parse_args(argv))
        assert settings.fault_rules == ({"latency_ms": 5.0}, {"error": {"status": 503}, "times": 1})


def test_rules_from_a_file_are_in_force_and_come_back_after_reset(tmp_path) -> None:
    from mock_server.app import create_app
    from mock_server.settings import Settings

    rules = checked_rules([{"match": {"path": "/registry/auth"}, "error": {"status": 503}}], "t")
    app = create_app(Settings(fault_rules=tuple(rules)))
    from starlette.testclient import TestClient

    with TestClient(app) as client:
        assert client.get("/registry/auth").status_code == 503
        client.delete("/_mock/faults")
        assert client.get("/registry/auth").status_code == 401
        client.post("/_mock/reset")
        assert client.get("/registry/auth").status_code == 503
