"""The key lifecycle as a state machine: two users, one model, every answer predicted.

`machine_for(target, judge)` builds a `RuleBasedStateMachine` bound to a
target; the test below runs it against the session's target, `test_teeth`
against mocks with production's defects. Keys it creates carry the run marker,
are recorded in the ledger before the answer is judged, and are deleted at
teardown.

Where a known deviation (behaviour §7) changes the deployment's state, the
model takes the deployment's outcome and the run goes on: a key a coerced
(D10) or over-long (D9) create made exists, a crashed create (D4) made none,
a deleted key is honoured for its window after its first use (D3). On a
target with the control API, time passes now and then, so a deleted key is
also tried after its window has closed.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import uuid
import warnings
from typing import Any

import pytest
from hypothesis import event, note, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.property import shared as this_run
from tests.property import strategies as S
from tests.property import unordered
from tests.property.calls import Answer, Call, assert_no_secret, send, send_all
from tests.property.judge import Deviates, Judge, current_test
from tests.property.model import D3_WINDOW, Expected, Key, Model, error, token_parts
from tests.support import profiles
from tests.support.details import INVALID_NONCE
from tests.support.target import Target
from tests.support.transport import OutcomeUnknown

STEPS = 20  # stateful_step_count: bounds one example
CREATES_PER_EXAMPLE = 6  # keys one example may create (the rest of its creates are skipped)
SHARDS = 8  # the test's examples in this many parts (each its own test)
WALK_PAGES = 16  # by URL, a walk of a list has at most about this many pages
SHARED_WALKS = 20  # by URL, walks tried until one meets a list that holds still
WALK_MISMATCHES = 3  # by URL, a wrong walk fails only when it comes back this often
D3_EDGE_MARGIN = 2.0  # s: by URL, no key is used this near the end of its D3 window
SHARD_SEED = 20_241_207  # shard N draws from seed SHARD_SEED + N in the `ci` profile


def query(page: int | None, limit: int | None) -> str:
    params = [f"{n}={v}" for n, v in (("page", page), ("limit", limit)) if v is not None]
    return "/api_keys/" + ("?" + "&".join(params) if params else "")


def where(path: str) -> str:
    """A path as the endpoint it names, for the run's statistics."""
    if path in ("/api_keys/", "/registry/auth"):
        return path
    return "/api_keys/{id}" if len(path) > 30 else "/api_keys/{other}"


def other(label: str) -> str:
    return "B" if label == "A" else "A"


def creates_a_key(expected: Expected, listed: frozenset[str]) -> bool:
    """The create may make a key: the contract's answer, or a listed deviation's, is a 200."""
    answers = [expected] + [v.expected for v in expected.variants if v.deviations <= listed]
    return any(answer.status == 200 for answer in answers)


def machine_for(target: Target, judge: Judge) -> type[RuleBasedStateMachine]:
    """A state machine class driving `target` as users A and B, its answers judged
    by `judge`."""
    ledger = target.ledger
    check = judge.check
    valid_names = S.names(ledger.marker)
    edge_names = S.edge_names(ledger.marker, unmarked=target.in_process)
    nonce_offsets = S.nonce_edges if target.has_control else S.nonce_margins
    nonce_accepted = 600 if target.has_control else 591  # |offset| below this passes
    unsent: list[str] = []  # creates not sent for the key budget (reported after the run)
    shared = not target.in_process  # other clients may use A and B: judge this run's keys

    class Lifecycle(RuleBasedStateMachine):
        keys = Bundle("keys")  # every key the run created

        def __init__(self) -> None:
            super().__init__()
            self.model = Model(netuid=target.netuid, registry_password=target.registry_password)
            self.model.user_ids = {"A": target.user_a.user_id, "B": target.user_b.user_id}
            self.last: Key | None = None  # the key created or deleted last
            self.dirty = True  # the key sets changed since the pages were walked
            self.created: list[str] = []  # ids this example made, for teardown
            self.creates = 0  # creates this example expected to succeed
            self.last_page: dict[str, tuple[Call, Answer]] = {}  # each user's, of the last walk

        # Setup and teardown -----------------------------------------------------
        @initialize()
        def existing_keys(self) -> None:
            """List what each user holds already: the model starts from it."""
            note(f"run marker {ledger.marker!r}")
            if target.has_control:
                state = target.client.get("/_mock/state").json()
                on_graph = set(state["metagraph"].get(str(target.netuid), []))
                self.model.registered = {
                    label: target.identity(label).hotkey in on_graph for label in "AB"
                }
            walked = self.walk_pages("AB", limit=100)
            for label in "AB":
                views = walked[label]
                if views is None:  # the list never held still: its items once will do here
                    whole = send(target, Call(label, "GET", "/api_keys/?limit=10000"))
                    assert whole.status == 200, f"{label}'s list: {whole}"
                    views = [i for i in whole.body["items"] if self.ours(i)]
                for view in views:
                    self.model.add_existing(label, view)
            self.check_isolation()

        def teardown(self) -> None:
            """Delete what this example created (also keys the model refused to expect)."""
            alive = ledger.alive()
            for api_key_id in self.created:
                if api_key_id in alive:
                    with contextlib.suppress(OutcomeUnknown):  # lost answer; the key is gone
                        target.delete_key(target.identity(alive[api_key_id]), api_key_id)

        # Helpers --------------------------------------------------------------------
        def walk_pages(self, labels: str, limit: int) -> dict[str, list[dict[str, Any]] | None]:
            """The items of every page of each user's list, until an empty or the
            last page. On a shared target: this run's keys only, from a walk
            during which the whole list held still (both users' walks at once);
            None for a user whose list other clients moved under every walk (it
            cannot be judged)."""
            if not shared:
                return {label: self.walk_alone(label, limit) for label in labels}
            found: dict[str, list[dict[str, Any]] | None] = dict.fromkeys(labels)
            pending = list(labels)
            for _ in range(SHARED_WALKS):
                for label, items in self.walk_shared(pending, limit).items():
                    if items is not None:
                        found[label] = [i for i in items if self.ours(i)]
                pending = [label for label in pending if found[label] is None]
                if not pending:
                    break
                note(f"{', '.join(pending)}'s list changed during the walk: walking again")
            return found

        def ours(self, item: Any) -> bool:
            return this_run.ours(item, self.model, ledger.marker)

        def walk_alone(self, label: str, limit: int) -> list[dict[str, Any]]:
            """Page by page, until an empty or the last page (no other client)."""
            items: list[dict[str, Any]] = []
            for page in range(1000):
                call = Call(label, "GET", query(page, limit))
                answer = send(target, call)
                self.last_page[label] = (call, answer)
                assert answer.status == 200, f"{call}\n  got {answer}"
                items += answer.body["items"]
                if not answer.body["items"] or len(items) >= answer.body["total"]:
                    return items
            raise AssertionError(f"{label}'s list does not end after 1000 pages")

        def walk_shared(
            self, labels: list[str], limit: int
        ) -> dict[str, list[dict[str, Any]] | None]:
            """Each user's whole list, then all its pages, then the whole list
            again, every step for all `labels` at once (`send_all`): a user's
            pages' items when the list held still (the same ids in the same
            order before and after, every page's `total` its length), else
            None. Other clients' keys are on the pages too, so the pages grow
            to keep a walk within `WALK_PAGES`. Under D13 a use of any key may
            move it in the list, so a walk must hold still to be judged, not
            only keep its `total`."""
            whole = [Call(label, "GET", "/api_keys/?limit=10000") for label in labels]
            before = dict(zip(labels, send_all(target, whole), strict=True))
            ids: dict[str, list[str]] = {}
            calls: dict[str, list[Call]] = {}
            for label, call in zip(labels, whole, strict=True):
                assert before[label].status == 200, f"{call}\n  got {before[label]}"
                ids[label] = [item["api_key_id"] for item in before[label].body["items"]]
                size = max(limit, math.ceil(len(ids[label]) / WALK_PAGES))
                count = max(1, math.ceil(len(ids[label]) / size))
                calls[label] = [Call(label, "GET", query(page, size)) for page in range(count)]
            answers = iter(send_all(target, [c for label in labels for c in calls[label]]))
            pages = {label: [next(answers) for _ in calls[label]] for label in labels}
            after = dict(zip(labels, send_all(target, whole), strict=True))
            walked: dict[str, list[dict[str, Any]] | None] = {}
            for label, call in zip(labels, whole, strict=True):
                for sent, answer in [
                    *zip(calls[label], pages[label], strict=True),
                    (call, after[label]),
                ]:
                    assert answer.status == 200, f"{sent}\n  got {answer}"
                self.last_page[label] = (calls[label][-1], pages[label][-1])
                still = [item["api_key_id"] for item in after[label].body["items"]] == ids[label]
                moved = any(page.body["total"] != len(ids[label]) for page in pages[label])
                walked[label] = (
                    None
                    if not still or moved
                    else [item for page in pages[label] for item in page.body["items"]]
                )
            return walked

        def unordered_walk(self, label: str, seen: list[str], wanted: list[str]) -> None:
            """`label`'s pages hold the model's keys in another order: production's
            D13, observed when listed, else a failure tagged with it."""
            call, answer = self.last_page[label]
            if "D13" in judge.listed and answer.exchange is not None:
                what = f"{label}'s pages in another order than created_at, then id"
                judge.recorder.observe("D13", answer.exchange, test=current_test(), what=what)
                return
            raise Deviates(
                f"[D13] {label}'s pages hold {seen}, the model {wanted}: the same keys in "
                "another order; production's known deviation D13 (behaviour §7), not in "
                "--known-deviations: D13",
                call,
                answer,
                frozenset({"D13"}),
            )

        def check_list(self, call: Call, who: str, expected: Expected, answer: Answer) -> Expected:
            """Judge an answer; a list page, on a shared target, on this run's keys
            only; in another order than the model's, production's D13 may explain it."""
            if shared:
                answer = this_run.this_runs(answer, self.model, ledger.marker)
                expected = this_run.rebase(expected, answer, self.model, who)
            else:
                expected = unordered.with_unordered(expected, answer, self.model, who)
            return check(call, expected, answer)

        def check_isolation(self) -> None:
            ids = {label: self.model.user_ids[label] for label in "AB"}
            assert ids["A"] is None or ids["A"] != ids["B"], f"A and B share user id {ids['A']}"
            for key in self.model.keys.values():
                assert key.view["user_id"] == ids[key.owner], (
                    f"{key.owner} sees key {key.api_key_id} of user {key.view['user_id']}"
                )

        def secrets(self) -> list[str]:
            return [k.secret for k in self.model.keys.values() if k.secret]

        def fresh(self, who: str, name: Any) -> Any:
            """`name`, unless `who` holds it already: then a counter after the run
            marker, the length kept where it can be, so names collide only where
            a rule means them to (`create_duplicate`)."""
            if not isinstance(name, str) or name not in self.model.names(who):
                return name
            rest = name.removeprefix(ledger.marker)
            for serial in range(1, 10**6):
                tag = f"{serial:x}"
                candidate = (ledger.marker + tag + rest[len(tag) :])[: max(len(name), 1)]
                if len(candidate) < len(ledger.marker) + len(tag):
                    candidate = ledger.marker + tag
                if candidate not in self.model.names(who):
                    return candidate
            return name

        def create(
            self,
            who: str,
            payload: dict[str, Any],
            ascii_json: bool = True,
            *,
            duplicate: bool = False,
            key: Key | None = None,
        ) -> Any:
            """A create call, signed by `who` or made with `key` (its owner's); one the
            model expects to succeed counts against the budget (at most
            CREATES_PER_EXAMPLE per example, and --max-keys per run). Unless
            `duplicate`, a drawn name that is taken is made fresh first."""
            if not duplicate:
                payload = {**payload, "name": self.fresh(who, payload.get("name"))}
            body = json.dumps(payload, ensure_ascii=ascii_json).encode()
            if key is None:
                call = Call(who, "POST", "/api_keys/", body)
                expected = self.model.create(who, payload)
            else:
                call = Call(self.key_label(key, "Basic"), "POST", "/api_keys/", body)
                self.clear_of_d3_edge(key)
                expected = self.model.with_key(key, "/api_keys/", target.now(), "POST", payload)
            reserved = creates_a_key(expected, judge.listed)
            if reserved:
                if self.creates >= CREATES_PER_EXAMPLE or ledger.count >= ledger.max_keys:
                    note(f"not sent (key budget): {call}")
                    event("create not sent: the example's key budget is spent")
                    unsent.append(call.who)
                    return multiple()
                ledger.reserve()
                self.creates += 1
            answer = send(target, call, api_key=key.secret if key else None)
            if key is not None:
                self.model.used(key, answer.sent_at or 0.0, answer.received_at or 0.0)
            if (
                answer.status == 200
                and isinstance(answer.body, dict)
                and "api_key_id" in answer.body
            ):
                ledger.record(answer.body["api_key_id"], who)
                self.created.append(answer.body["api_key_id"])  # cleaned up whatever
            held = check(call, expected, answer)
            if held.status != 200:
                if reserved:
                    ledger.release()  # no key made (e.g. production's 500, D4)
                return multiple()
            key = self.model.created(who, answer.body, payload)
            key_hex, user_hex = token_parts(key.secret or "") or ("", "")
            assert (key_hex, user_hex) == (
                uuid.UUID(key.api_key_id).hex,
                uuid.UUID(key.view["user_id"]).hex,
            ), f"{call}\n  secret_key does not name the key and its user: {key.secret}"
            self.last, self.dirty = key, True
            self.check_isolation()
            return key

        def clear_of_d3_edge(self, key: Key) -> None:
            """By URL, wait until now is clear of the end of `key`'s D3 window
            (`Key.d3_edge_wait`): there production's answer is not one the
            model can know. A few seconds at most, and rarely."""
            wait = key.d3_edge_wait(target.now(), D3_EDGE_MARGIN) if shared else 0.0
            if wait > 0:
                note(f"waiting {wait:.1f} s: clear of the end of D3's window")
                time.sleep(wait)

        @staticmethod
        def key_label(key: Key, scheme: str) -> str:
            state = "alive" if key.alive else "deleted"
            return f"key {key.view['name']!r} of {key.owner} ({state}, {scheme or 'bare'})"

        def use(self, key: Key, path: str, scheme: str = "Basic", method: str = "GET") -> None:
            """`method path` with `key`: GET (list, get, registry) or DELETE of a key."""
            call = Call(self.key_label(key, scheme), method, path)
            self.clear_of_d3_edge(key)
            answer = send(target, call, api_key=key.secret, scheme=scheme)
            assert answer.sent_at is not None and answer.received_at is not None
            expected = self.model.with_key(key, path, answer.sent_at, method)
            held = self.check_list(call, key.owner, expected, answer)
            self.model.used(key, answer.sent_at, answer.received_at)
            if method == "DELETE" and held.status == 200:
                deleted = path.removeprefix("/api_keys/")
                ledger.forget(deleted)
                self.model.deleted(deleted)
                self.last, self.dirty = self.model.keys[deleted], True
            event(f"key used ({'alive' if key.alive else 'deleted'}): {method} {where(path)}")
            assert_no_secret(call, answer, self.secrets())

        def use_everywhere(self, key: Key, data: Any, scheme: str = "Basic") -> None:
            """`key` on each of the five operations in turn (a delete last, of a
            drawn key of its owner), so every use covers every endpoint."""
            others = [k.api_key_id for k in self.model.keys.values() if k.owner != key.owner]
            for path in (
                "/api_keys/",
                f"/api_keys/{key.api_key_id}",
                f"/api_keys/{data.draw(st.sampled_from(others or ['chutes']), label='other')}",
                "/registry/auth",
                f"/api_keys/{self.scope_type(key)}",
            ):
                self.use(key, path, scheme)
            self.create(key.owner, {"name": ledger.name("k"), "admin": True}, key=key)
            event(f"key used ({'alive' if key.alive else 'deleted'}): POST /api_keys/")
            own = [k for k in self.model.created_alive() if k.owner == key.owner]
            if own:
                victim = data.draw(st.sampled_from(own), label="deletes")
                self.use(key, f"/api_keys/{victim.api_key_id}", scheme, "DELETE")

        # Create -----------------------------------------------------------------------
        @rule(
            target=keys,
            who=S.WHO,
            admin=S.ADMIN,
            name=valid_names,
            scopes=S.scopes,
            ascii_json=st.booleans(),
        )
        def create_key(self, who, admin, name, scopes, ascii_json):
            payload = {"name": name, "admin": admin}
            if scopes != S.ABSENT:
                payload["scopes"] = scopes
            return self.create(who, payload, ascii_json)

        @rule(target=keys, who=S.WHO, admin=S.ADMIN, name=edge_names, scopes=S.scopes)
        def create_key_named_at_the_edge(self, who, admin, name, scopes):
            return self.create_key(who, admin, name, scopes, ascii_json=False)

        @rule(
            target=keys,
            who=S.WHO,
            suffix=st.text(S.valid_char, max_size=4),
            scopes=S.readable_scopes,
        )
        def create_scoped_key(self, who, suffix, scopes):
            return self.create(who, {"name": ledger.name(suffix), "admin": False, "scopes": scopes})

        @rule(
            target=keys,
            who=S.WHO,
            suffix=st.text(S.valid_char, max_size=4),
            admin=S.loose_booleans,
        )
        def create_key_loosely_typed(self, who, suffix, admin):
            """`admin` that is no JSON boolean: refused (production coerces 'yes', 1, D10)."""
            return self.create(who, {"name": ledger.name("lax" + suffix), "admin": admin})

        @precondition(lambda self: self.model.alive("A"))
        @rule(target=keys, data=st.data(), admin=S.ADMIN, swapcase=st.booleans())
        def create_duplicate(self, data, admin, swapcase):
            """Another key with the name of a live key: its own user's (409) or the other's."""
            owner = data.draw(st.sampled_from([o for o in "AB" if self.model.alive(o)]))
            name = data.draw(st.sampled_from([k.view["name"] for k in self.model.alive(owner)]))
            if swapcase and name.startswith(ledger.marker):
                name = ledger.marker + name.removeprefix(ledger.marker).swapcase()
            mine = data.draw(st.booleans()) or not name.startswith(ledger.marker)
            who = owner if mine else other(owner)
            return self.create(who, {"name": name, "admin": admin}, duplicate=True)

        # Read -------------------------------------------------------------------------------
        @rule(who=S.WHO, page=S.page_or_limit, limit=S.page_or_limit)
        def list_keys(self, who, page, limit):
            call = Call(who, "GET", query(page, limit))
            answer = send(target, call)
            self.check_list(call, who, self.model.list(who, page, limit), answer)
            assert_no_secret(call, answer, self.secrets())

        @rule(who=S.WHO, page=S.loose_integers, limit=st.sampled_from([None, 0, 1, 25]))
        def list_keys_loosely_typed(self, who, page, limit):
            """`page=1.0`: refused (production reads it as 1, D10). The limit is
            plain, so that the answer shows D10 alone."""
            self.list_keys(who, page, limit)

        def get(self, who: str, api_key_id: str) -> None:
            call = Call(who, "GET", f"/api_keys/{api_key_id}")
            answer = send(target, call)
            check(call, self.model.get(who, api_key_id), answer)
            assert_no_secret(call, answer, self.secrets())

        @rule(key=keys, by_owner=S.MOSTLY_TRUE)
        def get_key(self, key, by_owner):
            self.get(key.owner if by_owner else other(key.owner), key.api_key_id)

        @rule(who=S.WHO, data=st.data())
        def get_existing_key(self, who, data):
            existing = [k.api_key_id for k in self.model.keys.values() if k.existing]
            if existing:
                self.get(who, data.draw(st.sampled_from(existing)))

        @rule(who=S.WHO, api_key_id=S.unknown_ids)
        def get_unknown(self, who, api_key_id):
            self.get(who, api_key_id)

        # Delete -----------------------------------------------------------------------------
        def delete(self, who: str, api_key_id: str) -> Answer | None:
            """The delete, judged; None when a gateway lost its answer after it
            took effect (the key is gone, its answer unknown: not judged)."""
            call = Call(who, "DELETE", f"/api_keys/{api_key_id}")
            expected = self.model.delete(who, api_key_id)
            try:
                answer = send(target, call)
            except OutcomeUnknown as lost:
                note(f"{call} -> {lost.msg}")
                ledger.forget(api_key_id)
                return None
            if answer.status == 200:
                ledger.forget(api_key_id)
            check(call, expected, answer)
            assert_no_secret(call, answer, self.secrets())
            return answer

        @precondition(lambda self: self.model.created_alive())
        @rule(data=st.data())
        def delete_key(self, data):
            """The owner deletes a live key: gone from list and get, and refused at once."""
            key = data.draw(st.sampled_from(self.model.created_alive()), label="key")
            assert ledger.owns(key.api_key_id)  # never anything the run did not create
            answer = self.delete(key.owner, key.api_key_id)
            if answer is None or answer.status == 200:
                self.model.deleted(key.api_key_id)
                self.last, self.dirty = key, True
                if key.secret is not None:  # refused at once, wherever it is used
                    self.use_everywhere(key, data)

        @rule(key=keys)
        def delete_other_users_key(self, key):
            assert ledger.owns(key.api_key_id)
            self.delete(other(key.owner), key.api_key_id)

        @rule(who=S.WHO, api_key_id=S.unknown_ids)
        def delete_unknown(self, who, api_key_id):
            if api_key_id not in self.model.keys:
                self.delete(who, api_key_id)

        # Authenticate -----------------------------------------------------------------------
        @rule(key=keys, scheme=st.sampled_from(["Basic", "Bearer", ""]), data=st.data())
        def use_key(self, key, scheme, data):
            """A key, alive or deleted, on each of the five operations."""
            self.use_everywhere(key, data, scheme)

        @rule(key=keys, route=S.off_routes, scheme=st.sampled_from(["Basic", "Bearer"]))
        def use_key_off_the_routes(self, key, route, scheme):
            """A slash variant, a method the path lacks, an unknown path: routed
            before the key is read (production's catch-all reads it, D12)."""
            method, template = route
            path = template.format(own=key.api_key_id, scope=self.scope_type(key))
            state = "alive" if key.alive else "deleted"
            call = Call(
                f"key {key.view['name']!r} of {key.owner} ({state}, {scheme})", method, path
            )
            self.clear_of_d3_edge(key)
            answer = send(target, call, api_key=key.secret, scheme=scheme)
            assert answer.sent_at is not None and answer.received_at is not None
            expected = self.model.off_route(key, method, path, answer.sent_at, target.base_url)
            check(call, expected, answer)
            if answer.status not in (307, 405):  # the key was read: a use
                self.model.used(key, answer.sent_at, answer.received_at)

        @staticmethod
        def scope_type(key: Key) -> str:
            scopes = key.view["scopes"]
            return scopes[0]["object_type"] if scopes else "chutes"

        @rule(who=S.WHO)
        def registry(self, who):
            call = Call(who, "GET", "/registry/auth")
            answer = send(target, call)
            expected = self.model.registry_by_hotkey(who)
            if expected is None:  # learn whether this hotkey is on the metagraph
                self.model.registered[who] = answer.status == 200
                expected = self.model.registry_by_hotkey(who)
            check(call, expected, answer)

        @rule(who=S.WHO, offset=nonce_offsets)
        def nonce_at_offset(self, who, offset):
            """A list signed with a nonce `offset` s from the target's clock."""
            path = query(None, 1)
            call = Call(f"{who} (nonce now{offset:+d})", "GET", path)
            if abs(offset) < nonce_accepted:
                expected = self.model.list(who, None, 1)
            else:
                expected = error(401, INVALID_NONCE)
            if not target.has_control:
                answer = send(target, call, nonce=int(target.now()) + offset)
                self.check_list(call, who, expected, answer)
                return
            clock = target.client.get("/_mock/clock").json()
            ahead = clock["now"] - time.time()  # how far time_passes moved a running clock
            now = math.floor(clock["now"])
            target.client.put("/_mock/clock", json={"now": now})
            try:
                answer = send(target, call, nonce=now + offset)
            finally:
                target.client.put(
                    "/_mock/clock", json={"now": clock["now"] if clock["frozen"] else None}
                )
                if not clock["frozen"] and abs(ahead) >= 1:
                    target.client.post("/_mock/clock/advance", json={"seconds": ahead})
            check(call, expected, answer)

        @precondition(
            lambda self: (
                target.has_control
                and any(not k.alive and k.cached_at is not None for k in self.model.keys.values())
            )
        )
        @rule()
        def time_passes(self):
            """The target's clock moves past every deleted key's window: from now on
            each is refused, by production too (D3 ends)."""
            note(f"the clock moves {D3_WINDOW + 1:.0f} s on")
            answer = target.client.post("/_mock/clock/advance", json={"seconds": D3_WINDOW + 1})
            assert answer.status_code == 200, answer.text

        # Invariants ---------------------------------------------------------------------------
        @invariant()
        def pages_partition_the_keys(self):
            """Walking the pages gives each user's keys once each, in order, none of
            the other's. On a shared target a wrong walk counts only when it comes
            back `WALK_MISMATCHES` times in a row: under D13 another client's use
            of a key moves it in the list, between two pages fetched at once."""
            if not self.dirty:
                return
            labels, tries = "AB", WALK_MISMATCHES if shared else 1
            for attempt in range(tries):
                walked = self.walk_pages(labels, limit=2)
                if any(items is None for items in walked.values()):
                    event("a list walk not judged: other clients moved the list every time")
                    return  # still dirty: walked again after the next step
                problems = {label: self.partition_problem(label, walked[label]) for label in labels}
                labels = "".join(label for label in labels if problems[label])
                if not labels:
                    break
                if attempt + 1 == tries:
                    raise AssertionError(problems[labels[0]])
                note(f"{problems[labels[0]]}: walking again (another client may have moved it)")
            self.dirty = False

        def partition_problem(self, label: str, walked: list[dict[str, Any]]) -> str | None:
            """What is wrong with a walk of `label`'s pages (None: nothing; a walk
            in another order is production's D13, observed or raised here)."""
            seen = [item["api_key_id"] for item in walked]
            if len(seen) != len(set(seen)):
                return f"{label}'s pages repeat keys: {seen}"
            foreign = [
                i for i in seen if i in self.model.keys and self.model.keys[i].owner != label
            ]
            if foreign:
                return f"{label}'s list shows the other user's keys {foreign}"
            wanted = [k.api_key_id for k in self.model.alive(label)]
            if seen != wanted and unordered.walk_shows_d13(seen, wanted):
                self.unordered_walk(label, seen, wanted)
                return None
            if seen != wanted:
                return f"{label}'s pages hold {seen}, the model {wanted}"
            return None

        @invariant()
        def last_key_behaves(self):
            """The key created or deleted last: accepted while alive and admin, else refused
            at once (on its own id, and on `/api_keys/<its scope's type>`)."""
            key, self.last = self.last, None
            if key is None or key.secret is None:
                return
            self.use(key, f"/api_keys/{key.api_key_id}")
            if not key.admin:
                self.use(key, f"/api_keys/{self.scope_type(key)}")

    Lifecycle.__name__ = Lifecycle.__qualname__ = "Lifecycle"
    Lifecycle.unsent = unsent
    return Lifecycle


def run_lifecycle(
    target: Target, judge: Judge, shard: int = 0, shards: int = 1, **overrides: Any
) -> None:
    """Run the machine against `target` with the active profile's examples (this
    shard's part of them), as many as --max-keys allows (half of what is left
    kept for shrinking a failure)."""
    total = profiles.examples(ci=25, deep=250)
    wanted = total // shards + (shard < total % shards)  # the shards' parts add up to it
    left = target.ledger.max_keys - target.ledger.count
    affordable = left // (2 * CREATES_PER_EXAMPLE)
    if affordable < wanted:
        enough = target.ledger.count + wanted * 2 * CREATES_PER_EXAMPLE
        warnings.warn(
            f"--max-keys {target.ledger.max_keys} leaves room for {affordable} of {wanted} "
            f"state machine examples; {enough} keys in this process would be enough "
            "(leave --max-keys out: its default is)",
            stacklevel=2,
        )
    if affordable < 1:
        pytest.skip("--max-keys leaves no room for the state machine")
    options: dict[str, Any] = {
        "max_examples": min(wanted, affordable),
        "stateful_step_count": STEPS,
        **overrides,
    }
    machine = machine_for(target, judge)
    if settings().derandomize and shards > 1:
        # Each shard its own examples, the same on every run (the profile
        # derandomizes; unseeded, every shard would draw the same ones).
        machine = seed(SHARD_SEED + shard)(machine)
    run_state_machine_as_test(machine, settings=settings(**options))
    if machine.unsent:
        warnings.warn(
            f"{len(machine.unsent)} creates the model expected to succeed were not sent: "
            f"each example may create at most {CREATES_PER_EXAMPLE} keys (the key budget)",
            stacklevel=2,
        )


@pytest.mark.parametrize("shard", range(SHARDS))
def test_lifecycle_matches_the_model(target: Target, judge: Judge, shard: int) -> None:
    """Two users, many calls: each answer is the model's (or a listed deviation's),
    and the invariants hold. In `SHARDS` parts, which a parallel run (`-n`)
    spreads over its workers."""
    run_lifecycle(target, judge, shard, SHARDS)
