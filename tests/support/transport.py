"""How the suites' requests cross the network to the API.

Between the suite and a deployment stand a server that may close a
connection at any time (RFC 9112 §9.3.1; production's closes one after each
of its 500s) and, often, a gateway or load balancer that answers for the API
when it is busy or slow. Neither is the API, and neither may decide a check.
Every client the suites use goes through one policy (`Resilience`):

- **After a 5xx the connection is closed**, once the answer is read: the
  next request opens a new one, so it never meets the server's close.
- **A request dropped on a reused connection** before any answer came
  (reset, broken pipe, "disconnected without sending a response") is sent
  once more on a new connection, at once. The server closed the connection
  before it read the request, so the API never saw it. This is what browsers,
  curl and Schemathesis do for GET, and it is safe for the suites' POSTs too:
  a create that did reach the API would make its uniquely named key twice,
  and a second create of that name is settled like a lost answer (below).
- **Gateway answers** (429, 502, 503, 504: the contract never gives them) are
  sent again after a pause that honours `Retry-After` (capped), else backs
  off 0.25 s, 0.5 s, 1 s, 2 s, 4 s. So are a connection that cannot be
  opened and a timeout.
- **A lost answer.** After a 502, a 504, a timeout or a drop on a new
  connection, the request may have taken effect. A create is settled by the
  key ledger before it is sent again: the caller's keys are listed and a key
  of that name the run has never seen (the run's names are unique) is
  deleted. A delete of a key the run holds, sent again, that answers 404
  cannot say what the first did: `OutcomeUnknown`, a skip with the reason
  (for any other id the 404 is the answer). Everything else the suites
  send is safe to repeat (reads; the catch-all changes nothing).
- **No answer at all** after `ATTEMPTS` sends: `TransportProblem` ends the
  run with exit status 6 and names the problem; it is not a conformance
  failure.

`TransportLog` counts each of these for the report's `transport:` and
`infrastructure:` lines. `ResilientTransport` applies the policy to httpx
(the Target's client, preflight, sweep); `schemathesis_sessions` to the
requests sessions Schemathesis makes for each call and probe.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import requests
from _pytest.outcomes import Skipped
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError

from tests.support.coverage import Coverage
from tests.support.routing import CREATE, DELETE_KEY, operation

GATEWAY = frozenset({429, 502, 503, 504})  # answers of what stands in front of the API
MAYBE_APPLIED = frozenset({502, 504})  # ... after which the request may have taken effect
ATTEMPTS = 6  # sends of one request, at most
BACKOFF = (0.25, 0.5, 1.0, 2.0, 4.0)  # pause before each resend without Retry-After
RETRY_AFTER_CAP = 30.0
TRANSPORT_PROBLEM_EXIT = 6


class TransportProblem(BaseException):
    """The API never answered a request, after every resend: the run stops
    (exit status 6). Not a conformance failure: the network, a gateway or the
    deployment's availability is at fault. A BaseException, as Ctrl-C is, so
    that neither Hypothesis nor Schemathesis takes it for a failure of the
    test it happened in (the plugin stops the run and sets the status)."""

    returncode = TRANSPORT_PROBLEM_EXIT

    def __init__(self, message: str, last: str = "") -> None:
        super().__init__(f"chutes transport problem: {message}")
        self.last = last  # the last send's problem, in a few words


class OutcomeUnknown(Skipped):
    """A request that changes state lost its answer and its resend cannot tell
    what the first send did: the check is not decided (a skip, with why)."""

    def __init__(self, message: str, answer: Any = None) -> None:
        super().__init__(f"not decided: {message}", pytrace=False)
        self.answer = answer  # the second send's answer (a 404)


class _Dropped(Exception):
    """A send failed on a reused connection before any answer came."""


class _NoAnswer(Exception):
    """A send failed on a new connection (refused, reset, timed out)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Sent:
    """What the policy needs to know of a request."""

    method: str
    path: str  # percent-decoded, the full URL path
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass
class TransportLog:
    """What the network and the gateways did to the run (plain counts)."""

    resent: int = 0  # dropped on a reused connection, sent again
    closed_after_5xx: int = 0
    gateway: Counter = field(default_factory=Counter)  # status -> answers retried
    no_answer: int = 0  # a new connection failed or timed out, retried
    settled_creates: int = 0  # lost create answers settled by listing
    undecided: int = 0  # OutcomeUnknown raised
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def gateway_answer(self, status: int) -> None:
        with self._lock:
            self.gateway[status] += 1

    def lines(self) -> list[str]:
        """The report's two lines (always shown: zero is a finding too)."""
        gateways = ", ".join(f"{n}×{s}" for s, n in sorted(self.gateway.items())) or "none"
        return [
            f"transport: {self.resent} request(s) resent after a reused connection dropped "
            f"them; {self.closed_after_5xx} connection(s) closed after a 5xx; "
            f"{self.no_answer} send(s) without an answer retried",
            f"infrastructure: gateway answers retried: {gateways}; "
            f"{self.settled_creates} lost create answer(s) settled by listing; "
            f"{self.undecided} check(s) not decided for a lost answer",
        ]

    def state(self) -> dict:
        return {
            "resent": self.resent,
            "closed_after_5xx": self.closed_after_5xx,
            "gateway": {str(k): v for k, v in self.gateway.items()},
            "no_answer": self.no_answer,
            "settled_creates": self.settled_creates,
            "undecided": self.undecided,
        }

    def merge(self, state: Mapping[str, Any]) -> None:
        for name in ("resent", "closed_after_5xx", "no_answer", "settled_creates", "undecided"):
            self.add(name, int(state.get(name, 0)))
        for status, count in dict(state.get("gateway", {})).items():
            with self._lock:
                self.gateway[int(status)] += int(count)


def retry_after(value: str | None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or HTTP-date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_CAP)
    try:
        moment = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(0.0, moment - time.time()), RETRY_AFTER_CAP)


@dataclass
class Resilience:
    """The policy of the module docstring, shared by a run's clients.

    `settle_create(sent)` deletes the key a lost create made, if any (the
    Target sets it: it knows the users and the keys the run has seen)."""

    log: TransportLog = field(default_factory=TransportLog)
    settle_create: Callable[[Sent], bool] | None = None
    # The signer of a delete holds this key, for all the run knows (None: any may).
    alive: Callable[[str, Sent], bool] | None = None
    sleep: Callable[[float], None] = time.sleep
    attempts: int = ATTEMPTS
    coverage: Coverage | None = None  # counts each request sent (the report's coverage)

    def send(self, sent: Sent, once: Callable[[], Any], status_of: Callable[[Any], int]) -> Any:
        """`once()` until it gives the API's answer; see the module docstring."""
        if self.coverage is not None:
            self.coverage.record(sent.method, sent.path, sent.headers)
        label = operation(sent.method, sent.path)
        maybe_applied = resent = False
        problem = ""
        for attempt in range(self.attempts):
            # A create sent again: settled first if the first send may have made
            # its key (a lost answer, or, to be safe, a drop).
            settle = (
                attempt and (maybe_applied or resent) and label == CREATE and self.settle_create
            )
            if settle and self.settle_create(sent):
                self.log.add("settled_creates")
            try:
                answer = once()
            except _Dropped:
                if not resent:
                    resent = True
                    self.log.add("resent")
                    continue
                problem = "the connection was dropped before an answer, twice"
                maybe_applied = True
                self.log.add("no_answer")
                self._pause(attempt, None)
                continue
            except _NoAnswer as exc:
                problem = exc.reason
                maybe_applied = True
                self.log.add("no_answer")
                self._pause(attempt, None)
                continue
            status = status_of(answer)
            if status not in GATEWAY:
                if maybe_applied and label == DELETE_KEY and status == 404 and self._held(sent):
                    self.log.add("undecided")
                    raise OutcomeUnknown(
                        f"{sent.method} {sent.path}: the first send lost its answer "
                        f"({problem}) and may have deleted the key; the second answered 404",
                        answer,
                    )
                return answer
            self.log.gateway_answer(status)
            problem = f"{status} from what stands in front of the API"
            maybe_applied |= status in MAYBE_APPLIED
            headers = getattr(answer, "headers", {})
            self._pause(attempt, retry_after(headers.get("retry-after")))
        raise TransportProblem(
            f"no answer from the API to {sent.method} {sent.path} after {self.attempts} "
            f"sends (last: {problem}); check the deployment and the network, then run again",
            last=problem.split(" (")[0],
        )

    def _held(self, sent: Sent) -> bool:
        """The key a delete names was alive for all the run knows."""
        return self.alive is None or self.alive(sent.path.rstrip("/").rsplit("/", 1)[-1], sent)

    def _pause(self, attempt: int, asked: float | None) -> None:
        if attempt + 1 < self.attempts:
            self.sleep(asked if asked is not None else BACKOFF[min(attempt, len(BACKOFF) - 1)])


# httpx ----------------------------------------------------------------------------------
_DROPS = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
_FAILS = (httpx.TransportError,)


class ResilientTransport(httpx.BaseTransport):
    """An httpx transport with the policy of `Resilience` (module docstring)."""

    def __init__(self, resilience: Resilience, **transport: Any) -> None:
        self.resilience = resilience
        self._inner = httpx.HTTPTransport(**transport)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        sent = Sent(
            request.method.upper(),
            unquote(request.url.path),
            {k.lower(): v for k, v in request.headers.items()},
            bytes(request.content),
        )
        return self.resilience.send(sent, lambda: self._once(request), lambda r: r.status_code)

    def _once(self, request: httpx.Request) -> httpx.Response:
        events: list[str] = []
        outer = request.extensions.get("trace")

        def trace(name: str, info: dict) -> None:
            events.append(name)
            if outer is not None:
                outer(name, info)

        saved = request.extensions
        request.extensions = {**saved, "trace": trace}
        try:
            response = self._inner.handle_request(request)
        except _DROPS as exc:
            reused = "connection.connect_tcp.started" not in events
            answered = "http11.receive_response_headers.complete" in events
            if reused and not answered:
                raise _Dropped() from exc
            raise _NoAnswer(f"{type(exc).__name__} ({exc})") from exc
        except _FAILS as exc:
            raise _NoAnswer(f"{type(exc).__name__} ({exc})") from exc
        finally:
            request.extensions = saved
        if response.status_code < 500:
            return response
        try:
            content = response.read()
        except _FAILS as exc:
            response.close()
            raise _NoAnswer(f"the answer's body was cut ({type(exc).__name__})") from exc
        stream = response.extensions.get("network_stream")
        response.close()
        if stream is not None:  # the pool sees a closed socket and drops the connection
            stream.close()
            self.resilience.log.add("closed_after_5xx")
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
            request=request,
        )

    def close(self) -> None:
        self._inner.close()


def client(resilience: Resilience, base_url: str, timeout: float = 30.0) -> httpx.Client:
    """An httpx client to `base_url` through the policy (no redirects followed)."""
    return httpx.Client(
        base_url=base_url,
        timeout=timeout,
        follow_redirects=False,
        transport=ResilientTransport(resilience),
    )


# requests (Schemathesis) --------------------------------------------------------------------
_DROPPED_BY = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def _dropped_before_answer(exc: requests.ConnectionError) -> bool:
    reason = exc.args[0] if exc.args else None
    if not isinstance(reason, ProtocolError) or len(reason.args) != 2:
        return False
    cause = reason.args[1]
    import http.client

    return isinstance(cause, (*_DROPPED_BY, http.client.RemoteDisconnected))


class _ResilientAdapter(HTTPAdapter):
    def __init__(self, resilience: Resilience) -> None:
        super().__init__()
        self.resilience = resilience

    def _opened(self) -> int:
        return sum(
            pool.num_connections
            for key in list(self.poolmanager.pools.keys())
            if (pool := self.poolmanager.pools.get(key)) is not None
        )

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = request.body or b""
        sent = Sent(
            (request.method or "GET").upper(),
            unquote(urlsplit(request.url or "").path),
            {k.lower(): v for k, v in request.headers.items()},
            body.encode() if isinstance(body, str) else bytes(body),
        )
        return self.resilience.send(
            sent, lambda: self._once(request, kwargs), lambda r: r.status_code
        )

    def _once(self, request: requests.PreparedRequest, kwargs: dict) -> requests.Response:
        opened = self._opened()
        try:
            response = super().send(request, **kwargs)
            if response.status_code >= 500:
                response.content  # noqa: B018 - read it, so the connection goes back
                self.poolmanager.clear()  # and is closed: the next request opens another
                self.resilience.log.add("closed_after_5xx")
            return response
        except requests.ConnectionError as exc:
            if _dropped_before_answer(exc) and self._opened() == opened:
                raise _Dropped() from exc
            raise _NoAnswer(f"{type(exc).__name__} ({exc})") from exc
        except requests.Timeout as exc:
            raise _NoAnswer(f"{type(exc).__name__} ({exc})") from exc


def resilient_session(resilience: Resilience) -> requests.Session:
    """A requests session through the policy."""
    session = requests.Session()
    adapter = _ResilientAdapter(resilience)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def schemathesis_sessions(resilience: Resilience) -> type[requests.Session]:
    """Schemathesis' own session class (redirects followed on the same host
    only), through the policy. Schemathesis makes one per request, its checks'
    probes included, so the suite puts this class in its place for a URL run."""
    from schemathesis.transport.requests import SameHostRedirectsSession

    class ResilientSession(SameHostRedirectsSession):
        def __init__(self) -> None:
            super().__init__()
            adapter = _ResilientAdapter(resilience)
            self.mount("http://", adapter)
            self.mount("https://", adapter)

    return ResilientSession
