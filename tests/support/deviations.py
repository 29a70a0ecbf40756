"""Known deviations: gate a deployment that has tracked defects (behaviour §7).

Options (tests/plugin.py): `--known-deviations` (env CHUTES_KNOWN_DEVIATIONS)
takes `production` (D1–D14), a list such as `D2,D5`, or `none` (the
default); `--strict-known` also fails the run on a listed deviation the run
did not observe. One `Recorder` per session holds the parsed list, what the
suites learn about keys, and the three-part report.

How a suite uses it (both suites, same calls):

    rec = recorder(config)           # or the `known_deviations` fixture,
                                     # or `target.recorder`
    rec.saw(exchange)                # every exchange: keys created, used,
                                     # deleted (the Target's client does it
                                     # for every request it sends)
    verdict = rec.judge(exchange, test=nodeid, what="what was checked")
                                     # when a check fails on `exchange`

`judge` asks the recognisers (`recognisers.recognise`). Then:
- `verdict.tolerated`: every deviation shown is on the list. It is recorded
  as observed (the first time, with this call as its reproducing curl). Carry
  on as if the contract's answer had come: `verdict.contract` is that answer
  (an `Exchange`) where the deviation changed only a detail (D2, D5): check
  it instead. When it is None the whole answer is the deviation: stop
  checking this example and let it pass (a plain test: `raise
  KnownDeviationSeen()`, which the plugin turns into a pass; not inside
  Hypothesis, which would count it as a failure).
- otherwise: a failure. Record it with `rec.fail(..., deviations=verdict.deviations)`
  (empty: a new failure; else tagged `[Dn]`, shown but not listed) and fail.
  Where `verdict.contract` is set (D2, D5), tag only what the contract's
  answer would not have failed: the rest is new.

`rec.recognise(exchange)` gives the recognition without recording anything
(e.g. to name the deviation in a property failure). Build exchanges with
`exchange.from_httpx(response)` or `exchange.from_requests(response)`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pytest

from tests.support import key_journal, secret
from tests.support.coverage import Coverage
from tests.support.exchange import Exchange
from tests.support.key_journal import KeyJournal
from tests.support.recognisers import Context, Recognition, recognise
from tests.support.repro import Reproducer
from tests.support.scrub import scrub
from tests.support.transport import TransportLog

ALL = tuple(f"D{n}" for n in range(1, 15))
SUMMARIES = {
    "D1": "negative page/limit: 500 instead of 422",
    "D2": "registry header Basic b'<base64>' instead of Basic <base64>",
    "D3": "a deleted key honoured up to 60 s after its first use",
    "D4": "scopes null with admin false: 500 instead of 200",
    "D5": "naive date-times instead of RFC 3339 with an offset",
    "D6": "a nonce of odd digits: 500 instead of 401",
    "D7": "page/limit beyond 64 bits: 500 instead of 200 with no items",
    "D8": "a non-admin key scoped to the last path segment passes auth there (404)",
    "D9": "a 24-character name plus a final newline accepted",
    "D10": "lax types coerced instead of 422",
    "D11": "a JWT with a non-string sub: 500 instead of 401",
    "D12": "a catch-all route instead of 307/405/404 routing",
    "D13": "the list in no order (the table's physical one) instead of created_at, id",
    "D14": "a 405's Allow names GET alone instead of the path's methods",
}


class KnownDeviationSeen(Exception):
    """A plain test met a listed deviation and cannot carry on: it passes."""


def parse_known(value: str | None) -> frozenset[str]:
    """`production`, `none` (or empty), or a comma-separated list of D-numbers;
    ValueError names an unknown entry."""
    text = (value or "").strip()
    if not text or text.lower() == "none":
        return frozenset()
    if text.lower() == "production":
        return frozenset(ALL)
    chosen = {part.strip().upper() for part in text.split(",") if part.strip()}
    unknown = sorted(chosen - set(ALL))
    if unknown:
        raise ValueError(
            f"unknown deviation(s) {', '.join(unknown)} in --known-deviations: use "
            f"'production', 'none' or some of {', '.join(ALL)}"
        )
    return frozenset(chosen)


def ordered(names) -> list[str]:
    return sorted(names, key=lambda name: int(name[1:]))


@dataclass(frozen=True)
class Verdict:
    deviations: frozenset[str]  # every deviation the exchange shows
    tolerated: bool  # all of them are listed: observed, not a failure
    contract: Exchange | None = None  # the contract's answer, when it can be rebuilt (D2, D5)


@dataclass
class Observation:
    deviation: str
    test: str
    what: str
    curl: str
    status: int | None = None  # the status the reproduction gets


@dataclass
class Failure:
    test: str
    operation: str
    check: str
    reason: str
    curl: str = ""
    deviations: list[str] = field(default_factory=list)
    status: int | None = None  # the status the reproduction gets
    shown_lines: int = 6  # lines of `reason` the terminal report shows
    defect: str = ""  # what it is a sighting of: failures that share it are one entry

    def __post_init__(self) -> None:
        if not self.defect:
            self.defect = defect_of(self.operation, self.check, self.deviations)


def defect_of(operation: str, check: str, deviations: list[str]) -> str:
    """The defect a failure shows: the unlisted deviations it looks like (one
    defect however many tests meet it), else its operation and check."""
    if deviations:
        return "looks like " + ", ".join(deviations) + " (not listed)"
    return f"{operation} — {check}"


@dataclass
class Recorder:
    """The session's list, its key journal and the three-part report."""

    known: frozenset[str] = frozenset()
    strict: bool = False
    journal: KeyJournal = field(default_factory=KeyJournal)
    users: frozenset[str] = frozenset()
    registry_password: str | None = None
    observed: dict[str, Observation] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    active: bool = False  # a suite used the target: print the report
    reproducer: Reproducer | None = None  # turns exchanges into runnable commands
    interrupted: bool = False  # Ctrl-C, SIGTERM or SIGHUP stopped the run
    stopped_by: str = ""  # a transport problem stopped the run (exit status 6)
    probed: set[str] = field(default_factory=set)  # deviations a probe ran for
    unprobed: set[str] = field(default_factory=set)  # ... a probe was skipped for
    transport: TransportLog = field(default_factory=TransportLog)  # the network's doings
    by_url: bool = False  # the target is a deployment: report the transport lines
    notes: list[str] = field(default_factory=list)  # a suite's own figures (e.g. drift's)
    probes: dict[str, set[str]] = field(default_factory=dict)  # Dn -> tests marked for it
    coverage: Coverage = field(default_factory=Coverage)  # requests sent (by URL)
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)  # test -> outcome, why
    _seen: set[tuple[str, str, str, str]] = field(default_factory=set)

    # Learning and recognising --------------------------------------------------
    def saw(self, exchange: Exchange) -> None:
        """Learn from an exchange (keys created, used, deleted); a created
        key's secret is masked in all output from now on."""
        self.journal.saw(exchange)
        if exchange.method == "POST" and exchange.status == 200:
            payload = exchange.json()
            if isinstance(payload, dict) and isinstance(payload.get("secret_key"), str):
                secret.api_key(payload["secret_key"])

    def describe_key(self, token: str) -> str | None:
        """What kind of key `token` is, when the run made it (for reproductions)."""
        facts = self.journal.facts(token)
        return key_journal.describe(facts) if facts is not None else None

    def context(self) -> Context:
        return Context(self.journal, self.users, self.registry_password)

    def recognise(self, exchange: Exchange) -> Recognition:
        """The deviations `exchange` shows; records nothing."""
        return recognise(exchange, self.context())

    def judge(self, exchange: Exchange, *, test: str, what: str = "") -> Verdict:
        """A check failed on `exchange`: tolerated (observed) or a failure."""
        recognition = self.recognise(exchange)
        shown = recognition.deviations
        tolerated = bool(shown) and shown <= self.known
        if tolerated:
            for name in ordered(shown):
                self.observe(name, exchange, test=test, what=what)
        return Verdict(shown, tolerated, recognition.contract)

    def judge_shown(self, shown: frozenset[str], exchange: Exchange, *, test: str, what: str):
        """A check found `shown` by its own means (D13 is read from several
        lists, not from one exchange): tolerated (observed) or a failure."""
        tolerated = bool(shown) and shown <= self.known
        if tolerated:
            for name in ordered(shown):
                self.observe(name, exchange, test=test, what=what)
        return Verdict(frozenset(shown), tolerated, None)

    def observe(self, deviation: str, exchange: Exchange, *, test: str, what: str = "") -> None:
        """Record a listed deviation as observed: under its own probe (a test
        marked for it) once that sees it, else the first test that did."""
        if self._takes_over(deviation, test):
            self.observed[deviation] = Observation(
                deviation,
                test,
                scrub(what or str(exchange)),
                self.reproduce(exchange),
                exchange.status,
            )

    def _takes_over(self, deviation: str, test: str) -> bool:
        """`test`'s sighting of `deviation` replaces the one recorded (if any)."""
        seen = self.observed.get(deviation)
        own = self.probes.get(deviation, set())
        return seen is None or (test in own and seen.test not in own)

    def reproduce(self, exchange: Exchange) -> str:
        """A command that re-sends `exchange`'s request (see `support.repro`)."""
        if self.reproducer is None:
            return exchange.curl()
        return self.reproducer.command(exchange)

    # Failures -------------------------------------------------------------------
    def fail(
        self,
        test: str,
        operation: str,
        check: str,
        reason: str,
        curl: str | Exchange = "",
        deviations=(),
        shown_lines: int = 6,
        defect: str = "",
    ) -> None:
        """Record one failure (replays of the same one by Hypothesis are dropped);
        `curl` is the exchange that failed (or a command already made)."""
        reason = scrub(reason.strip())
        status = None
        if isinstance(curl, Exchange):
            status, curl = curl.status, self.reproduce(curl)
        tags = ordered(set(deviations))
        key = (test, operation, check, ",".join(tags))
        if key in self._seen:
            return
        self._seen.add(key)
        self.failures.append(
            Failure(test, operation, check, reason, scrub(curl), tags, status, shown_lines, defect)
        )

    def defects(self) -> dict[str, list[Failure]]:
        """The failures, one entry per defect (in the order first met)."""
        entries: dict[str, list[Failure]] = {}
        for failure in self.failures:
            entries.setdefault(failure.defect, []).append(failure)
        return entries

    def recorded_tests(self) -> set[str]:
        return {failure.test for failure in self.failures}

    # The report ------------------------------------------------------------------
    def probe_ran(self, names, ran: bool) -> None:
        """A test marked `deviation(*names)` ran (or was skipped)."""
        (self.probed if ran else self.unprobed).update(names)

    def not_examined(self) -> list[str]:
        """Listed, not observed, and every probe for it was skipped (e.g. it
        needs the mock's control API): the run could not tell."""
        skipped = self.unprobed - self.probed
        return ordered((self.known - set(self.observed)) & skipped)

    def not_observed(self) -> list[str]:
        """Listed, examined, and not seen: fixed?"""
        return ordered(self.known - set(self.observed) - set(self.not_examined()))

    def shown(self) -> list[str]:
        """Every deviation the run saw: observed, or tagging a failure."""
        tagged = {d for failure in self.failures for d in failure.deviations}
        return ordered(tagged | set(self.observed))

    def run_failed(self) -> bool:
        """The gate: new failures, or (--strict-known) listed ones not observed."""
        stopped = self.interrupted or bool(self.stopped_by)
        strict = self.strict and not stopped and bool(self.not_observed())
        return bool(self.failures) or strict

    def summary(self) -> list[str]:
        """The readable report, in its three parts."""
        listed = ", ".join(ordered(self.known)) or "none"
        lines = []
        if self.interrupted and not self.stopped_by:
            lines.append("run interrupted: the report covers the tests that finished")
        if self.stopped_by:
            lines.append(f"run stopped, no verdict: {self.stopped_by}")
        if self.by_url:
            lines += self.transport.lines()
        lines += self.notes
        lines.append(f"known deviations listed: {listed}" + (" (strict)" if self.strict else ""))
        lines += self._failure_lines()
        names = ordered(self.observed)
        lines.append(f"known deviations observed: {', '.join(names) or 'none'}")
        for name in names:
            seen = self.observed[name]
            lines.append(f"   {name} {SUMMARIES[name]}")
            lines.append(f"      test: {seen.test}")
            lines.append(f"      reproduce (answered {seen.status}): {seen.curl}")
        missing = self.not_observed()
        note = " (fixed? take them off the list)" if missing else ""
        if (self.interrupted or self.stopped_by) and missing:
            note = " (the run was stopped before it could tell)"
        lines.append(f"known deviations not observed: {', '.join(missing) or 'none'}{note}")
        if self.by_url:
            lines += self.coverage.lines(self.outcomes)
        if self.reproducer is not None and self.reproducer.served_hint and self.failures:
            lines.append(f"to reproduce: {self.reproducer.served_hint}")
        unexamined = self.not_examined()
        if unexamined:
            lines.append(
                f"known deviations not examined (their probes were skipped): "
                f"{', '.join(unexamined)}"
            )
        return lines

    def _failure_lines(self) -> list[str]:
        """`new failures: N`, then each defect: its first failure in full and
        every test that met it."""
        entries = self.defects()
        tests = {failure.test for failure in self.failures}
        counts = f" ({len(self.failures)} failure(s) in {len(tests)} test(s))" if entries else ""
        lines = [f"new failures: {len(entries)}{counts}"]
        for number, (defect, failures) in enumerate(entries.items(), 1):
            first = failures[0]
            title = f"{first.operation} — {first.check}"
            if first.deviations:
                title += f" [{', '.join(first.deviations)}]"
            lines.append(f"{number}. {defect if first.deviations else title}")
            if first.deviations:
                lines.append(f"   first seen: {title}")
            names = list(dict.fromkeys(failure.test for failure in failures))
            label = "test" if len(names) == 1 else f"tests ({len(names)})"
            lines.append(f"   {label}: {names[0]}")
            lines += [f"      {name}" for name in names[1:]]
            lines += [f"   {line}" for line in first.reason.splitlines()[: first.shown_lines]]
            if first.curl:
                got = f" (answered {first.status})" if first.status is not None else ""
                lines.append(f"   reproduce{got}: {first.curl}")
        return lines

    def as_json(self) -> dict:
        return {
            "known": ordered(self.known),
            "strict": self.strict,
            "failures": [asdict(f) for f in self.failures],
            "defects": [
                {"defect": defect, "tests": list(dict.fromkeys(f.test for f in failures))}
                for defect, failures in self.defects().items()
            ],
            "observed": {name: asdict(self.observed[name]) for name in ordered(self.observed)},
            "not_observed": self.not_observed(),
            "not_examined": self.not_examined(),
            "deviations": self.shown(),
            "interrupted": self.interrupted,
            "stopped_by": self.stopped_by,
            "transport": self.transport.state(),
            "coverage": self.coverage.as_json(self.outcomes),
            "notes": self.notes,
            "reproduce_setup": self.reproducer.served_hint if self.reproducer else "",
        }

    # Parallel runs (xdist) ------------------------------------------------------------
    def state(self) -> dict:
        """What a worker sends the controller for the merged report (plain data)."""
        return {
            "active": self.active,
            "interrupted": self.interrupted,
            "stopped_by": self.stopped_by,
            "failures": [asdict(f) for f in self.failures],
            "observed": {name: asdict(o) for name, o in self.observed.items()},
            "probes": {name: sorted(tests) for name, tests in self.probes.items()},
            "probed": sorted(self.probed),
            "unprobed": sorted(self.unprobed),
            "transport": self.transport.state(),
            "coverage": self.coverage.state(),
            "by_url": self.by_url,
            "notes": self.notes,
        }

    def merge(self, state: dict) -> None:
        """Add a worker's `state()`: one report for the whole run."""
        self.active |= bool(state.get("active"))
        self.interrupted |= bool(state.get("interrupted"))
        self.stopped_by = self.stopped_by or state.get("stopped_by", "")
        for failure in state.get("failures", []):
            key = (failure["test"], failure["operation"], failure["check"])
            key += (",".join(failure["deviations"]),)
            if key not in self._seen:
                self._seen.add(key)
                self.failures.append(Failure(**failure))
        for name, tests in state.get("probes", {}).items():  # the controller collects none
            self.probes.setdefault(name, set()).update(tests)
        for name, seen in state.get("observed", {}).items():
            if self._takes_over(name, seen["test"]):
                self.observed[name] = Observation(**seen)
        self.probed.update(state.get("probed", []))
        self.unprobed.update(state.get("unprobed", []))
        self.transport.merge(state.get("transport", {}))
        self.coverage.merge(state.get("coverage", []))
        self.by_url |= bool(state.get("by_url"))
        self.notes += [note for note in state.get("notes", []) if note not in self.notes]

    def forget_test(self, nodeid: str) -> None:
        """Drop what a test recorded: it was interrupted, not failed."""
        self.failures = [f for f in self.failures if not f.test.startswith(nodeid)]

    def junit_properties(self) -> dict[str, str]:
        """Suite-level JUnit properties: the three parts, names only."""
        return {
            "chutes.known_deviations": ",".join(ordered(self.known)) or "none",
            "chutes.new_failures": str(len(self.defects())),
            "chutes.known_observed": ",".join(ordered(self.observed)),
            "chutes.known_not_observed": ",".join(self.not_observed()),
            "chutes.known_not_examined": ",".join(self.not_examined()),
        } | {f"chutes.observed.{n}": o.curl for n, o in self.observed.items()}


RECORDER_KEY = pytest.StashKey[Recorder]()


def recorder(config: pytest.Config) -> Recorder:
    """The session's recorder (created by tests/plugin.py at configure time)."""
    return config.stash[RECORDER_KEY]
