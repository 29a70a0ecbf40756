"""Keeping secrets out of reports: masks and scrubbed curl commands.

Signatures, `Authorization` values, API keys, `secret_key` values and JWTs
never reach a report, pytest's output or JUnit XML in clear. Besides these
patterns, every value a `support.secret.Secret` holds (in each form it
registered) is masked wherever it appears: the second line of defence.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

MASK = "***"
_HEADERS = r"(?:x-chutes-signature|authorization)"
_SCRUBBERS = [
    # before the header rule, which stops at a quote: Basic b'<base64>' (D2)
    (re.compile(r"((?:Basic|Bearer)\s+(?:b')?)[A-Za-z0-9+/=._-]{8,}"), rf"\1{MASK}"),
    (re.compile(r"cpk_[A-Za-z0-9.]+"), MASK),
    (re.compile(r"""(["']?secret_key["']?\s*[:=]\s*["']?)[^"',}\s]*"""), rf"\1{MASK}"),
    # (not a command that computes the value: `support.repro` writes `$(…)`)
    (
        re.compile(
            rf"(?i)(['\"]?{_HEADERS}['\"]?\s*[:=])(?![\s'\"]*(?:[A-Za-z]+\s+)?\$)(\s*['\"]?)"
            r"[^'\",\n]+"
        ),
        rf"\1\2{MASK}",
    ),
    (re.compile(r"\b(?:0x)?[0-9a-fA-F]{128}\b"), MASK),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),  # JWTs
]
_MIN_KNOWN = 4  # shorter values would mask ordinary words
_known: set[str] = set()  # this process' secret values, in every form
_longest_first: list[str] = []


def register(*values: str) -> None:
    """Mask these values wherever they appear from now on."""
    fresh = {v for v in values if isinstance(v, str) and len(v) >= _MIN_KNOWN} - _known
    if fresh:
        _known.update(fresh)
        _longest_first[:] = sorted(_known, key=len, reverse=True)


_NOT_IN_CURL = {"content-length", "host", "accept-encoding", "connection", "user-agent"}


def scrub(text: str) -> str:
    """Mask the registered secrets, API keys, secret_key values, signatures,
    JWTs and Authorization values."""
    for value in _longest_first:
        if value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _SCRUBBERS:
        text = pattern.sub(replacement, text)
    return text


def scrub_data(value: Any) -> Any:
    """`scrub` applied to every string in nested lists and dicts (e.g. a JSON report)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_data(k): scrub_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_data(v) for v in value]
    return value


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
