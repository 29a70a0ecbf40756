"""Faults on demand: latency, error answers and dropped connections.

A rule (`POST /_mock/faults`, `--faults FILE`, `--latency MS`,
`MockServer.fault(...)`) matches requests to the API (never `/_mock/` or
`/openapi.json`) by any of `method`, `path` (a shell glob), `operation`
(an operationId), `user` (a username) and `auth_kind`, and does any of:

- `latency_ms`: wait that long first (a number, `{"uniform": [min, max]}`
  or `{"lognormal": {"median": m, "sigma": s}}`, at most 60 s);
- `error`: answer `{"status", "headers"?, "body"?}` instead;
- `connection`: `drop` (close without an answer), `reset` (a TCP reset) or
  `close_after` (answer, then close, as production does after a 500).

`when: before` (the default) means the operation does not take effect;
`after` means it does and the client still gets the error (or no answer):
the key created behind a 504. `times` spends a rule after that many
requests; `probability` draws from the server's seed, so a seeded run
repeats exactly. Rules are tried in order: every rule that matches and fires
adds its latency, and the first of them with an error or a connection fault
gives the request that effect (a later one is not counted as fired).

Matching on `operation`, `user` or `auth_kind` needs the request routed and
authenticated: the pipeline calls `FaultPoint.at_operation` between
authentication and acting. A request that never gets there (an unknown path,
a refused caller) is decided when its answer starts, with only the method
and path known.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import socket
import struct
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_RULES = 100
MAX_LATENCY_MS = 60_000
UNFAULTED_PREFIXES = ("/_mock/", "/openapi.json")
CONNECTION_EXTENSION = "chutes_mock.connection"  # set by a served mock's protocol
DEFAULT_ERROR_BODY = {"detail": "Fault injected by chutes-mock"}


class ConnectionFault(Exception):
    """A drop or reset where there is no connection to cut (in-process)."""

    def __init__(self, how: str, rule_id: int) -> None:
        super().__init__(f"connection {how} by fault rule {rule_id}")
        self.how = how
        self.rule_id = rule_id


@dataclass
class FaultRule:
    """One rule, as `GET /_mock/faults` shows it."""

    id: int
    match: dict[str, str] = field(default_factory=dict)
    latency_ms: Any = None
    error: dict[str, Any] | None = None
    connection: str | None = None
    when: str = "before"
    times: int | None = None
    probability: float | None = None
    fired: int = 0
    _description: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_body(cls, rule_id: int, body: dict[str, Any]) -> FaultRule:
        return cls(
            id=rule_id,
            match=dict(body.get("match") or {}),
            latency_ms=body.get("latency_ms"),
            error=body.get("error"),
            connection=body.get("connection"),
            when=body.get("when", "before"),
            times=body.get("times"),
            probability=body.get("probability"),
        )

    def view(self) -> dict[str, Any]:
        left = None if self.times is None else max(self.times - self.fired, 0)
        return {
            "id": self.id,
            "match": self.match,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "connection": self.connection,
            "when": self.when,
            "times": self.times,
            "probability": self.probability,
            "fired": self.fired,
            "uses_left": left,
        }

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(
        self, method: str, path: str, operation: str | None, user: str | None, kind: str | None
    ) -> bool:
        match = self.match
        if "method" in match and match["method"].upper() != method:
            return False
        if "path" in match and not fnmatchcase(path, match["path"]):
            return False
        if "operation" in match and match["operation"] != operation:
            return False
        if "user" in match and match["user"] != user:
            return False
        return not ("auth_kind" in match and match["auth_kind"] != kind)

    def delay(self, rng: random.Random) -> float:
        """Seconds to wait, drawn for this request."""
        latency = self.latency_ms
        if latency is None:
            return 0.0
        if isinstance(latency, dict) and "uniform" in latency:
            low, high = latency["uniform"]
            ms = rng.uniform(low, high)
        elif isinstance(latency, dict) and "lognormal" in latency:
            shape = latency["lognormal"]
            ms = rng.lognormvariate(math.log(max(shape["median"], 1e-9)), shape["sigma"])
        else:
            ms = float(latency)
        return min(max(ms, 0.0), MAX_LATENCY_MS) / 1000

    def describe(self) -> str:
        """`rule 2: error 503` (made once: it is recorded on every request it meets)."""
        if self._description is None:
            parts = []
            if self.latency_ms is not None:
                parts.append("latency")
            if self.error is not None:
                parts.append(f"error {self.error['status']}")
            if self.connection is not None:
                parts.append(self.connection)
            after = " (after the effect)" if self.when == "after" else ""
            self._description = f"rule {self.id}: {', '.join(parts) or 'no effect'}{after}"
        return self._description


class FaultBook:
    """The rules in force, with the seeded generator their draws come from."""

    def __init__(self, seed: int | None, startup: list[dict[str, Any]] | None = None) -> None:
        self.seed = seed
        self.startup = list(startup or [])
        self.rules: list[FaultRule] = []
        self._next_id = 1
        self.reset()

    def reset(self) -> None:
        """The rules the server started with, and the draws from the start."""
        self.rng = (
            random.Random(f"faults:{self.seed}") if self.seed is not None else random.Random()
        )
        self.rules = []
        self._next_id = 1
        for body in self.startup:
            self.add(body)

    def add(self, body: dict[str, Any]) -> FaultRule:
        if len(self.rules) >= MAX_RULES:
            raise ValueError(f"At most {MAX_RULES} fault rules")
        rule = FaultRule.from_body(self._next_id, body)
        self._next_id += 1
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        kept = [r for r in self.rules if r.id != rule_id]
        removed = len(kept) != len(self.rules)
        self.rules = kept
        return removed

    def clear(self) -> None:
        self.rules = []

    def may_match(self, method: str, path: str) -> bool:
        """Whether a rule in force could match a request with this method and
        path (what it says of the operation and caller is known later)."""
        for rule in self.rules:
            match = rule.match
            if rule.spent or ("method" in match and match["method"].upper() != method):
                continue
            if "path" not in match or fnmatchcase(path, match["path"]):
                return True
        return False

    def pick(
        self, method: str, path: str, operation: str | None, user: str | None, kind: str | None
    ) -> list[FaultRule]:
        """The rules that fire for this request, counted as fired: every
        latency-only rule that matches, and the first with an effect."""
        fired = []
        effect = False
        for rule in self.rules:
            if rule.spent or not rule.matches(method, path, operation, user, kind):
                continue
            has_effect = rule.error is not None or rule.connection is not None
            if has_effect and effect:
                continue
            if rule.probability is not None and self.rng.random() >= rule.probability:
                continue
            rule.fired += 1
            fired.append(rule)
            effect = effect or has_effect
        return fired


def check_rule(body: dict[str, Any], operations: set[str]) -> str | None:
    """What the schema cannot say about a rule, or None when it is sound."""
    latency = body.get("latency_ms")
    if isinstance(latency, dict) and "uniform" in latency:
        low, high = latency["uniform"]
        if low > high:
            return "latency_ms.uniform: the first bound is above the second"
    operation = (body.get("match") or {}).get("operation")
    if operation is not None and operation not in operations:
        return (
            f"match.operation: no operation {operation!r} (known: {', '.join(sorted(operations))})"
        )
    error = body.get("error")
    if body.get("connection") in ("drop", "reset") and error is not None:
        return "error: a dropped or reset connection sends no answer; leave error out"
    return None


# Cutting a served connection ------------------------------------------------------
def cut_connection(scope: Scope, how: str, rule_id: int) -> None:
    """Close the request's connection: `drop` (FIN, no answer), `reset` (RST),
    `close` (after an answer). In-process there is none: drop and reset raise
    `ConnectionFault`, close does nothing."""
    transport = scope.get("extensions", {}).get(CONNECTION_EXTENSION)
    if transport is None:
        if how in ("drop", "reset"):
            raise ConnectionFault(how, rule_id)
        return
    if how == "reset":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def _client_left_during(seconds: float, receive: Receive) -> bool:
    """Wait `seconds`; True if the client went away first (the body is read
    by then, so `receive` can only say that)."""
    waiting = asyncio.ensure_future(asyncio.sleep(seconds))
    leaving = asyncio.ensure_future(_wait_for_disconnect(receive))
    done, pending = await asyncio.wait({waiting, leaving}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return leaving in done


async def _wait_for_disconnect(receive: Receive) -> None:
    """After a cut, until the server has seen the connection go."""
    with contextlib.suppress(Exception):
        while (await receive())["type"] != "http.disconnect":
            pass


def _error_messages(error: dict[str, Any]) -> list[Message]:
    body = error.get("body", DEFAULT_ERROR_BODY)
    headers = {k.lower(): str(v) for k, v in (error.get("headers") or {}).items()}
    if isinstance(body, str):
        raw = body.encode()
        headers.setdefault("content-type", "text/plain; charset=utf-8")
    else:
        raw = json.dumps(body).encode()
        headers.setdefault("content-type", "application/json")
    headers["content-length"] = str(len(raw))
    encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return [
        {"type": "http.response.start", "status": error["status"], "headers": encoded},
        {"type": "http.response.body", "body": raw},
    ]


class FaultPoint:
    """The fault decision of one request: made once, at the operation (routed
    and authenticated) or, at the latest, when the answer starts."""

    def __init__(self, book: FaultBook, scope: Scope) -> None:
        self.book = book
        self.scope = scope
        self.decided = False
        self.rule: FaultRule | None = None  # the rule whose error or connection fault applies
        self.cut = False  # the connection was dropped or reset: nothing more is sent

    async def decide(
        self,
        receive: Receive,
        operation: str | None = None,
        user: str | None = None,
        kind: str | None = None,
    ) -> FaultRule | None:
        """Pick the rules for this request (once), wait their latency, and
        give the one with an effect, if any. A client gone during the wait
        (or cut off by a stopping server) ends it: `gone` is then set."""
        if self.decided:
            return self.rule
        self.decided = True
        scope = self.scope
        fired = self.book.pick(scope["method"], scope["path"], operation, user, kind)
        if not fired:
            return None
        scope.setdefault("state", {})["fault"] = "; ".join(rule.describe() for rule in fired)
        self.rule = next((r for r in fired if r.error is not None or r.connection), None)
        wait = sum(rule.delay(self.book.rng) for rule in fired)
        if wait and await _client_left_during(min(wait, MAX_LATENCY_MS / 1000), receive):
            self.cut = True
            scope["state"]["disconnected"] = True
        return self.rule

    async def at_operation(
        self, operation: str, user: str | None, kind: str | None, receive: Receive, send: Send
    ) -> bool:
        """Called by the pipeline before it acts; True when a `before` fault
        has answered (or cut the connection) and the operation must not act."""
        rule = await self.decide(receive, operation, user, kind)
        if self.cut:
            return True  # nobody is there to answer
        if rule is None or rule.when != "before":
            return False
        return await self.answer_instead(rule, receive, send)

    async def answer_instead(self, rule: FaultRule, receive: Receive, send: Send) -> bool:
        """The rule's effect in place of the app's answer: a cut connection, or
        its error (then a close, for `close_after`). False when it has neither."""
        if rule.connection in ("drop", "reset"):
            await self.cut_now(rule, receive)
            return True
        if rule.error is None:
            return False
        for message in _error_messages(rule.error):
            await send(message)
        if rule.connection == "close_after":
            cut_connection(self.scope, "close", rule.id)
        return True

    async def cut_now(self, rule: FaultRule, receive: Receive) -> None:
        self.cut = True
        self.scope.setdefault("state", {})["ended_by"] = "fault"
        self.scope["state"]["disconnected"] = True
        cut_connection(self.scope, rule.connection, rule.id)
        await _wait_for_disconnect(receive)


class FaultMiddleware:
    """Applies the fault rules to requests to the API; costs one check of
    an empty list when there are none."""

    def __init__(self, app: ASGIApp, book: FaultBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.book.rules
            or scope["path"].startswith(UNFAULTED_PREFIXES)
            or not self.book.may_match(scope["method"], scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        point = FaultPoint(self.book, scope)
        scope.setdefault("state", {})["fault_point"] = point
        replaced = False  # the app's answer is swallowed: the fault's goes instead

        async def faulted_send(message: Message) -> None:
            nonlocal replaced
            if point.cut:
                return
            if message["type"] == "http.response.start" and not replaced:
                answered_by_fault = point.decided and point.rule is not None
                answered_by_fault = answered_by_fault and point.rule.when == "before"
                rule = await point.decide(receive)
                if point.cut:
                    return
                if (
                    rule is not None
                    and not answered_by_fault
                    and await point.answer_instead(rule, receive, send)
                ):
                    replaced = True
                    return
            if replaced:
                return
            await send(message)
            rule = point.rule
            if (
                message["type"] == "http.response.body"
                and not message.get("more_body", False)
                and rule is not None
                and rule.connection == "close_after"
                and rule.error is None
            ):
                cut_connection(scope, "close", rule.id)

        await self.app(scope, receive, faulted_send)


# Rules given at start (--faults FILE, --latency MS, MockServer(faults=...)) -------------
class FaultRuleError(ValueError):
    """A rule given at start that the control API would refuse."""


def checked_rules(bodies: Any, where: str) -> list[dict[str, Any]]:
    """`bodies` (a list of rules, or one rule) checked as `POST /_mock/faults`
    checks them: the same schema, bounds and sense; a refusal names the rule
    and the field."""
    from mock_server import spec
    from mock_server.settings import DEFAULT_CONTROL_SPEC, DEFAULT_SPEC
    from mock_server.validation import validate_body

    rules = [bodies] if isinstance(bodies, dict) else bodies
    if not isinstance(rules, list):
        raise FaultRuleError(f"{where}: expected a list of fault rules")
    if len(rules) > MAX_RULES:
        raise FaultRuleError(f"{where}: at most {MAX_RULES} fault rules, not {len(rules)}")
    control = spec.operations_of(DEFAULT_CONTROL_SPEC, spec.Document.CONTROL)
    [add] = [op for op in control if op.operation_id == "mock_add_fault"]
    known = {op.operation_id for op in spec.operations_of(DEFAULT_SPEC, spec.Document.AUTH)}
    checked = []
    for number, rule in enumerate(rules, 1):
        body, entries = validate_body(add, rule, lax=False)
        if entries:
            entry = entries[0]
            field = ".".join(str(part) for part in entry["loc"][1:]) or "the rule"
            raise FaultRuleError(f"{where}: rule {number}: {field}: {entry['msg']}")
        problem = check_rule(body, known)
        if problem:
            raise FaultRuleError(f"{where}: rule {number}: {problem}")
        checked.append(body)
    return checked


def read_rules(path: str) -> list[dict[str, Any]]:
    """The rules in a YAML or JSON file (a list, or one rule), checked."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except OSError as exc:
        raise FaultRuleError(f"--faults {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise FaultRuleError(f"--faults {path}: not YAML or JSON ({exc})") from None
    return checked_rules(loaded or [], f"--faults {path}")
