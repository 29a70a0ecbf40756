"""The suites' network policy (`support.transport`): each rule with a fake
send, then the httpx and requests clients against a served mock that closes
the connection after its 500s, and through the faulty proxy."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest

from mock_server import MockServer
from tests.support import transport
from tests.support.faulty_proxy import FaultyProxy
from tests.support.transport import (
    OutcomeUnknown,
    Resilience,
    Sent,
    TransportProblem,
    _Dropped,
    _NoAnswer,
    retry_after,
)

pytestmark = pytest.mark.in_process


class Answer:
    def __init__(self, status: int, headers: dict | None = None) -> None:
        self.status_code, self.headers = status, headers or {}


def scripted(*steps):
    """A `once()` that plays `steps`: an Answer is returned, an exception raised."""
    played = list(steps)
    sent = []

    def once():
        sent.append(1)
        step = played.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    return once, sent


def policy(**kwargs) -> tuple[Resilience, list[float]]:
    pauses: list[float] = []
    return Resilience(sleep=pauses.append, **kwargs), pauses


GET = Sent("GET", "/api_keys/", {}, b"")
CREATE = Sent("POST", "/api_keys/", {}, b'{"name": "ck1-x", "admin": true}')
DELETE = Sent("DELETE", "/api_keys/3f0c7a52-7d4e-4b8e-9a35-0d6c8c1f2a10", {}, b"")


def status(answer: Answer) -> int:
    return answer.status_code


def test_the_apis_answer_is_returned_at_once() -> None:
    rules, pauses = policy()
    once, sent = scripted(Answer(500))
    assert rules.send(GET, once, status).status_code == 500  # a 5xx of the API is its answer
    assert (len(sent), pauses) == (1, [])


def test_a_drop_on_a_reused_connection_is_sent_again_at_once() -> None:
    settled = []
    rules, pauses = policy(settle_create=lambda sent: settled.append(sent) or False)
    once, sent = scripted(_Dropped(), Answer(200))
    assert rules.send(CREATE, once, status).status_code == 200
    assert (len(sent), pauses, rules.log.resent) == (2, [], 1)
    assert settled == [CREATE]  # a create is settled first, to be safe (nothing found here)
    assert rules.log.settled_creates == 0


@pytest.mark.parametrize("gateway", [429, 502, 503, 504])
def test_gateway_answers_are_retried_with_backoff(gateway: int) -> None:
    rules, pauses = policy()
    once, sent = scripted(Answer(gateway), Answer(gateway), Answer(200))
    assert rules.send(GET, once, status).status_code == 200
    assert (len(sent), pauses, rules.log.gateway[gateway]) == (3, [0.25, 0.5], 2)


def test_retry_after_is_honoured() -> None:
    rules, pauses = policy()
    once, _ = scripted(Answer(429, {"retry-after": "3"}), Answer(200))
    rules.send(GET, once, status)
    assert pauses == [3.0]
    assert retry_after("100000") == transport.RETRY_AFTER_CAP
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date gone by
    assert retry_after("soon") is None


def test_no_answer_after_every_send_stops_the_run() -> None:
    rules, pauses = policy(attempts=3)
    once, sent = scripted(Answer(503), _NoAnswer("ConnectError (refused)"), Answer(503))
    with pytest.raises(TransportProblem) as stopped:
        rules.send(GET, once, status)
    assert stopped.value.returncode == transport.TRANSPORT_PROBLEM_EXIT
    assert "GET /api_keys/ after 3 sends" in str(stopped.value)
    assert (len(sent), len(pauses)) == (3, 2)


def test_a_create_whose_answer_was_lost_is_settled_before_it_is_sent_again() -> None:
    settled = []
    rules, _ = policy(settle_create=lambda sent: settled.append(sent) or True)
    once, _ = scripted(Answer(504), Answer(200))
    assert rules.send(CREATE, once, status).status_code == 200
    assert settled == [CREATE] and rules.log.settled_creates == 1
    # A 503 or 429 was never forwarded: nothing to settle.
    rules, _ = policy(settle_create=lambda sent: settled.append(sent) or True)
    once, _ = scripted(Answer(503), Answer(429), Answer(200))
    rules.send(CREATE, once, status)
    assert len(settled) == 1


def test_a_delete_whose_answer_was_lost_and_then_404_is_not_decided() -> None:
    rules, _ = policy()
    once, _ = scripted(Answer(504), Answer(404))
    with pytest.raises(OutcomeUnknown, match="may have deleted the key"):
        rules.send(DELETE, once, status)
    assert rules.log.undecided == 1
    rules, _ = policy()
    once, _ = scripted(Answer(503), Answer(404))  # never forwarded: the 404 is the answer
    assert rules.send(DELETE, once, status).status_code == 404
    rules, _ = policy(alive=lambda key_id, sent: False)  # a key the signer does not hold
    once, _ = scripted(Answer(504), Answer(404))
    assert rules.send(DELETE, once, status).status_code == 404


def test_the_log_merges_and_reads_as_two_lines() -> None:
    log = transport.TransportLog()
    log.add("resent")
    log.gateway_answer(503)
    other = transport.TransportLog()
    other.merge(log.state())
    other.merge(log.state())
    transport_line, infrastructure_line = other.lines()
    assert transport_line.startswith("transport: 2 request(s) resent")
    assert "gateway answers retried: 2×503" in infrastructure_line


# Real clients against a served mock -----------------------------------------------------
@pytest.fixture(scope="module")
def crashing():
    with MockServer(quirks="D1") as mock:
        yield mock


def test_the_suites_httpx_client_never_meets_the_close_after_a_500(crashing) -> None:
    rules = Resilience()
    with transport.client(rules, crashing.url) as client:
        for _ in range(30):
            headers = crashing.sign("alice", "GET", "/api_keys/")
            assert client.get("/api_keys/?page=-1", headers=headers).status_code == 500
            headers = crashing.sign("alice", "GET", "/api_keys/")
            assert client.get("/api_keys/", headers=headers).status_code == 200
    assert rules.log.closed_after_5xx == 30


def test_the_suites_requests_session_never_meets_it_either(crashing) -> None:
    rules = Resilience()
    session = transport.resilient_session(rules)
    for _ in range(30):
        headers = crashing.sign("alice", "GET", "/api_keys/")
        assert session.get(f"{crashing.url}/api_keys/?page=-1", headers=headers).status_code == 500
        headers = crashing.sign("alice", "GET", "/api_keys/")
        assert session.get(f"{crashing.url}/api_keys/", headers=headers).status_code == 200
    assert rules.log.closed_after_5xx == 30


def test_through_a_faulty_gateway_every_request_gets_the_apis_answer() -> None:
    """A 504 after forwarding makes the key; the create is settled and sent
    again: one key in the end, and the caller gets its secret."""
    with (
        MockServer() as mock,
        FaultyProxy(mock.url, p503=0.2, p504=0.2, p429=0.05, seed=3) as proxy,
    ):
        rules = Resilience(sleep=lambda seconds: None)
        with transport.client(rules, proxy.url) as client:

            def settle(sent: Sent) -> bool:
                name = json.loads(sent.body)["name"]
                signed = mock.sign("alice", "GET", "/api_keys/")
                listed = client.get("/api_keys/?limit=100", headers=signed)
                made = [i for i in listed.json()["items"] if i["name"] == name]
                for item in made:
                    path = f"/api_keys/{item['api_key_id']}"
                    with contextlib.suppress(OutcomeUnknown):  # gone either way
                        client.delete(path, headers=mock.sign("alice", "DELETE", path))
                return bool(made)

            rules.settle_create = settle
            names = [f"gw{n}" for n in range(30)]
            for name in names:
                body = json.dumps({"name": name, "admin": True}).encode()
                headers = {**mock.sign("alice", "POST", "/api_keys/", body)}
                answer = client.post("/api_keys/", content=body, headers=headers)
                assert answer.status_code == 200, answer.text
                assert answer.json()["secret_key"].startswith("cpk_")
        held = [k["name"] for k in mock_state_keys(mock)]
        assert sorted(n for n in held if n.startswith("gw")) == sorted(names)
        assert proxy.counts["gateway 504"] > 0 and rules.log.settled_creates > 0
        assert sum(rules.log.gateway.values()) == sum(
            count for what, count in proxy.counts.items() if what.startswith("gateway")
        )


def mock_state_keys(mock: MockServer) -> list[dict]:
    return httpx.get(f"{mock.url}/_mock/state").json()["keys"]
