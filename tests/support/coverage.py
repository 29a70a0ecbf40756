"""The report's coverage part: what a URL run sent, and what it decided.

Every request a URL run sends passes the transport (`support.transport`),
which counts it here under the test that sent it, the operation it names
(one of the five, or "other" for the paths and methods the contract does
not route) and the way it authenticates. At the end each test's outcome is
known, so for each operation and way the report says how many requests were
sent and by how many tests that reached a verdict; then which tests did not
decide their rule, and why (their skip reasons, grouped).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.routing import CREATE, DELETE_KEY, GET_KEY, LIST, REGISTRY, operation

OPERATIONS = (REGISTRY, LIST, CREATE, GET_KEY, DELETE_KEY)
OTHER = "other paths and methods"
WAYS = ("hotkey", "API key", "JWT", "none")
SUITES = ("contract", "property", "drift")


def auth_way(headers: Mapping[str, str]) -> str:
    """How a request authenticates (lower-case header names), as the API reads
    it: a hotkey header first, then `Authorization` (`Bearer` and not `cpk_`:
    a JWT; anything else: an API key)."""
    if "x-chutes-hotkey" in headers:
        return "hotkey"
    value = headers.get("authorization", "").strip()
    if not value:
        return "none"
    scheme, _, token = value.partition(" ")
    if scheme == "Bearer" and not token.strip().startswith("cpk_"):
        return "JWT"
    return "API key"


def suite_of(test: str) -> str:
    """`contract`, `property` or `drift` for a test id; else "other"."""
    parts = test.split("::")[0].replace("\\", "/").split("/")
    return next((part for part in parts if part in SUITES), "other")


@dataclass
class Coverage:
    """Requests sent, by test, operation and way (thread-safe counts)."""

    sent: Counter = field(default_factory=Counter)  # (test, operation, way) -> requests
    current: str = ""  # the test running now ("" outside a test: preflight, cleanup)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        key = (self.current, operation(method, path) or OTHER, auth_way(headers))
        with self._lock:
            self.sent[key] += 1

    def total(self) -> int:
        return sum(self.sent.values())

    def state(self) -> list[list[Any]]:
        return [[test, op, way, n] for (test, op, way), n in self.sent.items()]

    def merge(self, state: list[list[Any]]) -> None:
        with self._lock:
            for test, op, way, n in state:
                self.sent[(test, op, way)] += int(n)

    def as_json(self, outcomes: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
        """The JSON report's part: requests by operation and way, and each
        test's outcome."""
        requests: Counter = Counter()
        by_test: Counter = Counter()
        for (test, op, way), n in self.sent.items():
            requests[(op, way)] += n
            by_test[test or "set-up and clean-up"] += n
        return {
            "requests": self.total(),
            "by_test": dict(by_test.most_common()),
            "cells": [
                {"operation": op, "auth": way, "requests": requests[(op, way)]}
                for op in (*OPERATIONS, OTHER)
                for way in WAYS
                if requests[(op, way)]
            ],
            "not_decided": {
                t: why for t, (outcome, why) in outcomes.items() if outcome == "skipped"
            },
        }

    def lines(self, outcomes: Mapping[str, tuple[str, str]]) -> list[str]:
        """The report's part; `outcomes`: test id -> (passed|failed|skipped, reason)."""
        if not self.sent:
            return []
        decided = {t for t, (outcome, _) in outcomes.items() if outcome in ("passed", "failed")}
        requests: Counter = Counter()
        deciders: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        by_suite: Counter = Counter()
        for (test, op, way), n in self.sent.items():
            requests[(op, way)] += n
            by_suite[suite_of(test) if test else "set-up and clean-up"] += n
            if test in decided:
                deciders[(op, way)].add(test)
        suites = ", ".join(f"{name} {n:,}" for name, n in sorted(by_suite.items()))
        lines = [
            f"coverage: {self.total():,} requests ({suites}); each cell: requests sent "
            "(tests that decided a rule with them)",
        ]
        width = max(len(op) for op in (*OPERATIONS, OTHER))
        lines.append("   " + " " * width + "".join(f"{way:>14}" for way in WAYS))
        for op in (*OPERATIONS, OTHER):
            cells = []
            for way in WAYS:
                n = requests[(op, way)]
                cells.append(f"{n:,} ({len(deciders[(op, way)])})" if n else "-")
            lines.append(f"   {op:<{width}}" + "".join(f"{cell:>14}" for cell in cells))
        skipped: defaultdict[str, list[str]] = defaultdict(list)
        for test, (outcome, reason) in sorted(outcomes.items()):
            if outcome == "skipped":
                skipped[reason or "no reason given"].append(test)
        ran = len(outcomes) - sum(len(tests) for tests in skipped.values())
        lines.append(
            f"rules decided: {ran} test(s); not decided: "
            f"{sum(len(tests) for tests in skipped.values())} test(s)" + (":" if skipped else "")
        )
        for reason, tests in sorted(skipped.items(), key=lambda item: -len(item[1])):
            shown = ", ".join(_short(t) for t in tests[:3])
            more = f", and {len(tests) - 3} more" if len(tests) > 3 else ""
            lines.append(f"   {len(tests)} × {reason}: {shown}{more}")
        return lines


def _short(test: str) -> str:
    """A test id without its directories (`test_rules.py::test_rule[x]`)."""
    path, _, rest = test.partition("::")
    return f"{path.rsplit('/', 1)[-1]}::{rest}" if rest else test
