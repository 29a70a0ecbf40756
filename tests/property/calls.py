"""Calls a person can replay, their answers, and the comparison with a prediction.

Every request the property suite makes goes through `send`, which notes it
(`who: METHOD path body -> status`) so a failing Hypothesis run reads as a
story of calls, and `check`, which fails with both the prediction and the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import note

from tests.property.model import Expected, matches
from tests.support.target import Target


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

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return cls(response.status_code, body, response.headers, response.text)

    def __str__(self) -> str:
        return f"{self.status} {json.dumps(self.body, ensure_ascii=False)[:600]}"


def send(
    target: Target, call: Call, *, api_key: str | None = None, scheme: str = "Basic", **signed: Any
) -> Answer:
    """Make `call` as the hotkey named by `call.who`, or with `api_key`."""
    if api_key is not None:
        response = target.with_key(api_key, call.method, call.path, scheme=scheme)
    else:
        identity = target.identity(call.who[0])
        response = target.signed(identity, call.method, call.path, body=call.body, **signed)
    answer = Answer.of(response)
    note(f"{call} -> {answer.status}")
    return answer


def check(call: Call, expected: Expected, answer: Answer) -> None:
    """The answer is the prediction: status, body, and the headers it names."""
    headers_ok = all(answer.headers.get(k) == v for k, v in expected.headers.items())
    if answer.status == expected.status and matches(expected.body, answer.body) and headers_ok:
        return
    got_headers = {k: answer.headers.get(k) for k in expected.headers}
    raise AssertionError(
        f"{call}\n  expected {expected.status} {expected.body!r} {expected.headers or ''}\n"
        f"  got      {answer} {got_headers or ''}"
    )


def assert_no_secret(call: Call, answer: Answer, secrets: list[str]) -> None:
    """`secret_key` appears in create responses only."""
    leaked = "secret_key" in answer.text or any(s in answer.text for s in secrets)
    assert not leaked, f"{call}\n  shows a secret: {answer}"
