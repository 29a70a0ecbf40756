"""The readable summary of a contract run: each failed check with the
operation, the reason, a reproducing curl command and, where one applies,
the production deviation (SEMANTICS §7) it reveals. Secrets are scrubbed.

Tests call `record(...)`; the conftest adds any other failed test, prints
`summary()` at the end and writes JSON to $CONTRACT_REPORT when set.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

MASK = "***"
_HEADERS = r"(?:x-chutes-signature|authorization)"
_SCRUBBERS = [
    (re.compile(r"cpk_[A-Za-z0-9.]+"), MASK),
    (re.compile(r"""(["']?secret_key["']?\s*[:=]\s*["']?)[^"',}\s]*"""), rf"\1{MASK}"),
    (re.compile(rf"(?i)(['\"]?{_HEADERS}['\"]?\s*[:=]\s*['\"]?)[^'\",\n]+"), rf"\1{MASK}"),
    (re.compile(r"\b(?:0x)?[0-9a-fA-F]{128}\b"), MASK),
    (re.compile(r"((?:Basic|Bearer)\s+(?:b')?)[A-Za-z0-9+/=._-]{8,}"), rf"\1{MASK}"),
]
_NOT_IN_CURL = {"content-length", "host", "accept-encoding", "connection", "user-agent"}

# Which deviation a failure reveals: by test name, else by check and request.
_TEST_DEVIATION = re.compile(r"test_(d\d+)_", re.IGNORECASE)


def scrub(text: str) -> str:
    """Mask API keys, secret_key values, signatures and Authorization values."""
    for pattern, replacement in _SCRUBBERS:
        text = pattern.sub(replacement, text)
    return text


def curl(method: str, url: str, headers: dict[str, str] | None = None, body: Any = None) -> str:
    """A scrubbed curl command for one request."""
    parts = ["curl", "-X", method.upper()]
    for name, value in (headers or {}).items():
        if name.lower() in _NOT_IN_CURL:
            continue
        parts += ["-H", f"{name}: {value}"]
    if body:
        data = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        parts += ["--data-binary", data]
    parts.append(url)
    return scrub(shlex.join(parts))


def curl_for_httpx(request: Any) -> str:
    return curl(request.method, str(request.url), dict(request.headers), request.content)


@dataclass
class Failure:
    test: str
    operation: str
    check: str
    reason: str
    curl: str = ""
    deviations: list[str] = field(default_factory=list)


FAILURES: list[Failure] = []
_SEEN: set[tuple[str, str, str, str]] = set()


def record(
    test: str,
    operation: str,
    check: str,
    reason: str,
    curl_command: str = "",
    deviations: list[str] | None = None,
) -> None:
    """Add one failure (duplicates from Hypothesis replays are dropped)."""
    reason = scrub(reason.strip())
    key = (test.split("[")[0], operation, check, "" if "test_d" in test else reason[:0])
    if key in _SEEN:
        return
    _SEEN.add(key)
    match = _TEST_DEVIATION.search(test)
    found = set(deviations or []) | ({match[1].upper()} if match else set())
    FAILURES.append(
        Failure(test, operation, check, reason, scrub(curl_command), sorted(found, key=_dkey))
    )


def _dkey(code: str) -> int:
    return int(code[1:]) if code[1:].isdigit() else 0


def recorded_tests() -> set[str]:
    return {failure.test for failure in FAILURES}


def deviations() -> list[str]:
    return sorted({d for failure in FAILURES for d in failure.deviations}, key=_dkey)


def summary() -> list[str]:
    """Lines of the readable report."""
    if not FAILURES:
        return ["no contract failures"]
    lines = [f"{len(FAILURES)} contract failure(s)"]
    found = deviations()
    if found:
        lines.append("production deviations (SEMANTICS §7) observed: " + ", ".join(found))
    for number, failure in enumerate(FAILURES, 1):
        tag = f" [{', '.join(failure.deviations)}]" if failure.deviations else ""
        lines.append(f"{number}. {failure.operation} — {failure.check}{tag}")
        lines.append(f"   test: {failure.test}")
        for line in failure.reason.splitlines()[:6]:
            lines.append(f"   {line}")
        if failure.curl:
            lines.append(f"   reproduce: {failure.curl}")
    return lines


def write_json(path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(
            {"deviations": deviations(), "failures": [asdict(f) for f in FAILURES]},
            handle,
            indent=2,
        )
