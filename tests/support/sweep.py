"""`--sweep`: delete what killed runs left behind.

A run names every key it creates with a run marker (`support.ledger.MARKED`)
and deletes them at its end, also on Ctrl-C, SIGTERM and SIGHUP. A SIGKILL
leaves them. `sweep` lists the keys of users A and B and deletes those whose
name carries a marker and that are older than `age_minutes` (0: all of them,
also those of a run still going). Keys without a marker are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tests.support.ledger import MARKED
from tests.support.target import Identity, Target


def _created(item: dict) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(item.get("created_at")))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # D5: naive is UTC


def _keys(target: Target, identity: Identity) -> list[dict]:
    items: list[dict] = []
    for page in range(1000):
        answer = target.signed(identity, "GET", f"/api_keys/?page={page}&limit=100")
        answer.raise_for_status()
        body = answer.json()
        items += body.get("items", [])
        if not body.get("items") or len(items) >= body.get("total", 0):
            break
    return items


def sweep_run(target: Target, prefix: str, say: Callable[[str], None]) -> int:
    """Delete the keys of one run (names starting `prefix`, any age): what
    its workers left when the run was stopped."""
    deleted = 0
    for identity in (target.user_a, target.user_b):
        for item in _keys(target, identity):
            if str(item.get("name", "")).startswith(prefix):
                target.ledger.record(item["api_key_id"], identity.label)
                status = target.delete_key(identity, item["api_key_id"]).status_code
                say(f"deleted {item['api_key_id']} {item.get('name')!r} of user {identity.label}")
                deleted += status == 200
    return deleted


def sweep(target: Target, age_minutes: float, say: Callable[[str], None]) -> int:
    """Delete marked keys older than `age_minutes`; say each; the number deleted."""
    now = datetime.now(UTC)
    deleted = 0
    for identity in (target.user_a, target.user_b):
        for item in _keys(target, identity):
            name, created = str(item.get("name", "")), _created(item)
            if not MARKED.match(name):
                continue
            age = (now - created).total_seconds() / 60 if created else None
            if age_minutes > 0 and (age is None or age < age_minutes):
                continue
            key_id = item["api_key_id"]
            target.ledger.record(key_id, identity.label)
            status = target.delete_key(identity, key_id).status_code
            shown = f"{age:.0f} min old" if age is not None else "age unknown"
            say(f"deleted {key_id} {name!r} of user {identity.label} ({shown}): {status}")
            deleted += status == 200
    return deleted
