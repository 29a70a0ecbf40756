"""What a run created, so it touches nothing else and cleans up after itself.

Every key the suite creates is named with the run marker and recorded here
with its owner. Deletion is only ever attempted for recorded ids; a budget
bounds how many keys one run may create (under xdist, each worker holds its
share of the run's budget and its own marker).

A marker is `ck`, six characters of `[a-z0-9]`, then `-`: serially six
random ones; under xdist five shared by the run and one naming the worker.
`MARKED` matches any marker, so `--sweep` finds what a killed run left.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import threading
import warnings
from dataclasses import dataclass, field

MAX_NAME = 24
_ALPHABET = string.ascii_lowercase + string.digits


MARKED = re.compile(r"^ck[a-z0-9]{6}-")


def new_marker(run: str | None = None, worker: int | None = None) -> str:
    """A marker unique per run (and per worker, given the run's id and the worker's index)."""
    if run is None or worker is None:
        return "ck" + "".join(secrets.choice(_ALPHABET) for _ in range(6)) + "-"
    return f"ck{run[:5]}{_ALPHABET[worker % len(_ALPHABET)]}-"


def run_id(seed: str) -> str:
    """Five marker characters derived from a run-wide id (xdist's testrunuid)."""
    number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return "".join(_ALPHABET[(number >> (6 * i)) % len(_ALPHABET)] for i in range(5))


def share(budget: int, worker: int, workers: int) -> int:
    """Worker `worker`'s part of a run-wide budget split among `workers`."""
    return budget // workers + (1 if worker < budget % workers else 0)


class BudgetExceeded(RuntimeError):
    """The run asked to create more keys than --max-keys allows."""


class KeyBudgetWarning(UserWarning):
    """The --max-keys budget ran out: part of the run was not done."""


@dataclass
class KeyLedger:
    marker: str
    max_keys: int
    created: dict[str, str] = field(default_factory=dict)  # api_key_id -> owner label
    deleted: set[str] = field(default_factory=set)
    count: int = 0
    refused: int = 0  # creations the budget did not allow
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def name(self, suffix: str = "") -> str:
        """A key name carrying the marker, at most 24 characters."""
        return (self.marker + suffix)[:MAX_NAME]

    def reserve(self) -> None:
        """Count one creation attempt against the budget (raises past it)."""
        with self._lock:
            if self.count >= self.max_keys:
                self.refused += 1
                if self.refused == 1:
                    from tests.support.profiles import key_budget

                    warnings.warn(
                        KeyBudgetWarning(
                            f"--max-keys: the budget of {self.max_keys} key(s) ran out; "
                            "what needed more was not done: raise --max-keys for a full run "
                            f"({key_budget()} per process is enough for this profile, and "
                            "is the default)"
                        ),
                        stacklevel=3,
                    )
                raise BudgetExceeded(
                    f"this run may create at most {self.max_keys} keys (--max-keys)"
                )
            self.count += 1

    def release(self) -> None:
        """Give back a reservation whose create did not create a key."""
        with self._lock:
            self.count = max(0, self.count - 1)

    def record(self, api_key_id: str, owner: str) -> None:
        with self._lock:
            self.created[api_key_id] = owner

    def forget(self, api_key_id: str) -> None:
        """The key was deleted by the run itself."""
        with self._lock:
            self.deleted.add(api_key_id)

    def owns(self, api_key_id: str) -> bool:
        return api_key_id in self.created

    def alive(self) -> dict[str, str]:
        with self._lock:
            return {k: o for k, o in self.created.items() if k not in self.deleted}
