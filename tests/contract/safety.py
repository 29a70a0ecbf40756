"""Keeping generated requests safe on a shared deployment.

Before a generated request is sent, `RunState.prepare` rewrites it:
- a create body's `name` becomes a run-marked name, unless the generated name
  cannot be valid anywhere (empty, or a character no name rule allows), and a
  create that may succeed first reserves one key of the --max-keys budget;
- a get/delete id that could name a real key becomes one of the run's own
  keys or an unknown uuid derived from the generated value.
After it, `RunState.observe` records created keys (for cleanup) and deletions.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.support.ledger import BudgetExceeded
from tests.support.secret import reveal
from tests.support.target import Target

CREATE = "POST /api_keys/"
GET_KEY = "GET /api_keys/{api_key_id}"
DELETE_KEY = "DELETE /api_keys/{api_key_id}"
LIST = "GET /api_keys/"
REGISTRY = "GET /registry/auth"

# A character some name rule (contract or production) could accept.
_MAYBE_NAME_CHAR = re.compile(r"[\w$.\-\s\u0080-\uffff]")
_SUFFIX_CHAR = re.compile(r"[^A-Za-z0-9_-]")
_TOKEN = re.compile(r"^cpk_([a-f0-9]{32})\.([a-f0-9]{32})\.[a-zA-Z0-9]{32}$")
_UNKNOWN_IDS = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")


def token_ids(token: str | None) -> tuple[str, str] | None:
    """(api_key_id, user_id) encoded in an API key, if it is one."""
    match = _TOKEN.match(token or "")
    if not match:
        return None
    return str(uuid.UUID(hex=match[1])), str(uuid.UUID(hex=match[2]))


def may_be_valid_name(name: str) -> bool:
    """False when no name rule could accept `name` (so it never creates a key)."""
    return bool(name) and all(_MAYBE_NAME_CHAR.fullmatch(char) for char in name)


def could_be_key_id(value: Any) -> bool:
    """True when the value has enough hex digits to parse as a uuid somewhere."""
    return isinstance(value, str) and sum(c in "0123456789abcdefABCDEF" for c in value) >= 32


@dataclass
class RunState:
    """What the suite learned during this run, shared by tests and checks."""

    target: Target
    caller_id: str | None = None  # user A's id
    secrets: dict[str, str] = field(default_factory=dict)  # api_key_id -> secret_key
    protected: set[str] = field(default_factory=set)  # ids the run must not delete
    counter: int = 0
    reserved: set[int] = field(default_factory=set)  # cases holding a budget reservation
    current_test: str = ""  # the test whose checks run now
    inner_deviations: set[str] = field(default_factory=set)  # shown by checks' own requests

    def begin_checks(self, test: str) -> None:
        """The checks of one response start: forget what the last one showed."""
        self.current_test = test
        self.inner_deviations = set()

    @classmethod
    def for_target(cls, target: Target) -> RunState:
        state = cls(target, caller_id=target.user_a.user_id)
        ids = token_ids(reveal(target.api_key_a))
        if ids:
            state.protected.add(ids[0])
            state.caller_id = state.caller_id or ids[1]
        return state

    # Before -----------------------------------------------------------------
    def prepare(self, case: Any, *, unique: bool = False) -> bool:
        """Rewrite `case` in place (by reassignment, so Schemathesis revalidates
        it); False when it must not be sent (the key budget is spent).

        `unique` (stateful runs): foreign ids become unknown ones, so a
        replayed scenario meets the same answers. Created names are always new."""
        label = case.operation.label
        if label == CREATE:
            return self._prepare_create(case, unique=unique)
        if label in (GET_KEY, DELETE_KEY):
            self._prepare_id(case, deleting=label == DELETE_KEY, reuse=not unique)
        return True

    def _prepare_create(self, case: Any, *, unique: bool) -> bool:
        body = case.body
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return True  # refused by validation (422): never creates a key
        name = body["name"]
        if not may_be_valid_name(name):
            return True  # refused by the name rule (400) everywhere
        self.counter += 1
        # A serial first, ended by '.' (which no hex digit and no kept drawn
        # character is): generated names never collide by accident (a
        # duplicate is the rules' business, tests/contract/rules.py). Without
        # it, serial 1 and drawn 'abc' made the name of serial 0x1a and 'bc'.
        suffix = f"{self.counter:x}." + _SUFFIX_CHAR.sub("", name)
        try:
            self.target.ledger.reserve()
        except BudgetExceeded:
            return False
        case.body = {**body, "name": self.target.ledger.name(suffix)}
        self.reserved.add(id(case))
        return True

    def _prepare_id(self, case: Any, *, deleting: bool, reuse: bool) -> None:
        params = dict(case.path_parameters or {})
        value = params.get("api_key_id")
        ledger = self.target.ledger
        if not could_be_key_id(value):
            return  # cannot name any key
        if ledger.owns(value) and not (deleting and value in self.protected):
            return
        own = sorted(k for k, owner in ledger.alive().items() if owner == "A" and reuse)
        own = [k for k in own if not (deleting and k in self.protected)]
        digest = int(hashlib.sha256(str(value).encode()).hexdigest(), 16)
        if own and digest % 2:
            params["api_key_id"] = own[digest % len(own)]
        else:
            params["api_key_id"] = str(uuid.uuid5(_UNKNOWN_IDS, str(value)))
        case.path_parameters = params

    # After ------------------------------------------------------------------
    def observe(self, case: Any, response: Any) -> None:
        """Record what a response created or deleted; release the budget
        reservation of a create that created nothing."""
        label = case.operation.label
        if id(case) in self.reserved:
            self.reserved.discard(id(case))
            if response.status_code != 200:
                self.target.ledger.release()
        if response.status_code != 200:
            return
        try:
            payload = response.json()
        except ValueError:
            return
        if label == CREATE and isinstance(payload, dict) and "api_key_id" in payload:
            self.target.record_created(response, "A")
            if isinstance(payload.get("secret_key"), str):
                self.secrets[payload["api_key_id"]] = payload["secret_key"]
            self.caller_id = self.caller_id or payload.get("user_id")
        elif label == DELETE_KEY:
            key_id = (case.path_parameters or {}).get("api_key_id")
            if key_id:
                self.target.ledger.forget(key_id)
