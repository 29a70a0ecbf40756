"""Calls a person can replay, and their answers.

Every request the property suite makes goes through `send` (or `Answer.of`),
which notes it (`who: METHOD path body -> status`) so a failing Hypothesis run
reads as a story of calls; `judge.Judge.check` compares it with the prediction.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import note

from tests.support import exchange as exchanges
from tests.support.exchange import Exchange
from tests.support.target import Target

_SECRET = re.compile(r"cpk_[A-Za-z0-9.]+")


@dataclass(frozen=True)
class Call:
    """One request: who makes it, and how it is authenticated."""

    who: str  # "A"/"B" (hotkey), or a description such as "key A#3 (Basic)"
    method: str
    path: str
    body: bytes = b""

    def __str__(self) -> str:
        text = f"{self.who}: {self.method} {self.path}"
        return text + (f" {self.body.decode('utf-8', 'replace')}" if self.body else "")


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the JSON body, or the text when it is not JSON
    headers: httpx.Headers
    text: str
    exchange: Exchange | None = None  # request and answer, as the recognisers read them
    sent_at: float | None = None  # the target's clock before the request left
    received_at: float | None = None  # and after the answer came

    @classmethod
    def of(
        cls,
        response: httpx.Response,
        sent_at: float | None = None,
        received_at: float | None = None,
        base_path: str = "",
    ) -> Answer:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        times = {
            name: value
            for name, value in (("sent_at", sent_at), ("received_at", received_at))
            if value is not None
        }
        return cls(
            response.status_code,
            body,
            response.headers,
            response.text,
            exchanges.from_httpx(response, base_path, **times),
            sent_at,
            received_at,
        )

    @classmethod
    def of_exchange(cls, exchange: Exchange) -> Answer:
        """The answer an exchange holds (e.g. one the recognisers rewrote)."""
        text = exchange.content.decode("utf-8", "replace")
        body = exchange.json() if exchange.json() is not None else text
        headers = httpx.Headers(dict(exchange.response_headers))
        return cls(exchange.status, body, headers, text, exchange)

    def __str__(self) -> str:
        """Status and body, any secret in it masked (reports reach CI logs)."""
        text = json.dumps(self.body, ensure_ascii=False)[:600]
        return f"{self.status} {_SECRET.sub('cpk_***', text)}"


def send(
    target: Target, call: Call, *, api_key: str | None = None, scheme: str = "Basic", **signed: Any
) -> Answer:
    """Make `call` as the hotkey named by `call.who`, or with `api_key`."""
    sent_at = target.now()
    if api_key is not None:
        headers = {"Content-Type": "application/json"} if call.body else {}
        response = target.with_key(
            api_key, call.method, call.path, scheme=scheme, content=call.body, headers=headers
        )
    else:
        identity = target.identity(call.who[0])
        response = target.signed(identity, call.method, call.path, body=call.body, **signed)
    answer = Answer.of(response, sent_at, target.now(), target.base_path)
    note(f"{call} -> {answer.status}")
    return answer


def send_all(target: Target, calls: list[Call]) -> list[Answer]:
    """`send` each hotkey-signed call, answers in order. They must not depend
    on each other (pages of one list): by URL their round trips overlap
    (`Target.overlapped`)."""

    def one(call: Call) -> tuple[float, httpx.Response, float]:
        sent_at = target.now()
        identity = target.identity(call.who[0])
        response = target.signed(identity, call.method, call.path, body=call.body)
        return sent_at, response, target.now()

    answers = []
    for call, (sent_at, response, received_at) in zip(
        calls, target.overlapped(one, calls), strict=True
    ):
        answers.append(Answer.of(response, sent_at, received_at, target.base_path))
        note(f"{call} -> {answers[-1].status}")  # Hypothesis' notes belong to this thread
    return answers


def request(target: Target, call: Call, **kwargs: Any) -> Answer:
    """Make `call` with exactly the headers given (no signing added)."""
    sent_at = target.now()
    response = target.client.request(call.method, call.path, **kwargs)
    answer = Answer.of(response, sent_at, target.now(), target.base_path)
    note(f"{call} -> {answer.status}")
    return answer


def assert_no_secret(call: Call, answer: Answer, secrets: list[str]) -> None:
    """`secret_key` appears in create responses only."""
    leaked = "secret_key" in answer.text or any(s in answer.text for s in secrets)
    assert not leaked, f"{call}\n  shows a secret: {answer}"
