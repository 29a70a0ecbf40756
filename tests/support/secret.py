"""Secrets as a type: a value whose `repr` and `str` mask it.

A seed, a mnemonic, the registry password or an API key lives in a `Secret`
from the moment it is read until the line that uses it calls `reveal()`.
Whatever prints a `Target`, a model or a failing example shows `***`.

Each `Secret` also tells the scrubber (`support.scrub`) every form its value
can take in output (the raw text; the password's base64 of `":" + password`;
a seed with and without `0x`; an API key's secret part), so that scrubbing,
the second line of defence, knows this run's secrets by value.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from tests.support import scrub

MASK = scrub.MASK


class Secret:
    """One secret value; `reveal()` is the only way to read it."""

    __slots__ = ("_value", "label")

    def __init__(self, value: str, label: str = "secret", forms: Iterable[str] = ()) -> None:
        self._value = value
        self.label = label
        scrub.register(value, *forms)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.label}={MASK})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __deepcopy__(self, memo: dict) -> Secret:
        return self

    def __reduce__(self):  # never pickled in clear (e.g. into a Hypothesis database)
        raise TypeError("a Secret is not pickled")


def password(value: str) -> Secret:
    """The registry password: also as base64 of `":" + password`, which the
    registry header carries (raw, and inside `b'…'` under D2)."""
    encoded = base64.b64encode(f":{value}".encode()).decode()
    return Secret(value, "password", (encoded, encoded.rstrip("=")))


def seed(value: str) -> Secret:
    """A hotkey seed in hex, with or without `0x`."""
    bare = value.removeprefix("0x")
    return Secret(value, "seed", (bare, "0x" + bare, bare.lower(), bare.upper()))


def uri(value: str) -> Secret:
    """A hotkey URI; a mnemonic (one with spaces) is a secret, a dev URI is not."""
    words = value.split("//")[0].strip()
    return Secret(value, "uri", (words,) if " " in words else ())


def api_key(value: str) -> Secret:
    """An API key `cpk_<id>.<user>.<secret>`, also its secret part."""
    part = value.rsplit(".", 1)[-1]
    return Secret(value, "api_key", (part,) if part != value else ())


def reveal(value: Secret | str | None) -> str | None:
    """The clear value of a `Secret` (a plain str or None passes through)."""
    return value.reveal() if isinstance(value, Secret) else value
