"""D13: production's list query has no `ORDER BY`.

PostgreSQL then returns rows in the table's physical order. A deleted row
leaves its place free, and once the table is vacuumed (autovacuum does it on
its own) a new row takes the earliest free place. The store gives every key
such a place (`Store.slot`, one table for all users, as production's);
under D13 a user's list follows it instead of the contract's order
(`created_at`, then `api_key_id`). The set of keys and `total` stay right.
"""

from __future__ import annotations

from collections.abc import Set

from mock_server.quirks import Quirk
from mock_server.store import ApiKey, Store


def list_keys(
    quirks: Set[Quirk], store: Store, user_id: str, offset: int, limit: int
) -> tuple[int, list[ApiKey]]:
    """(total, one page of the user's keys): the contract's order, or under
    D13 the table's physical one."""
    if Quirk.D13 not in quirks:
        return store.list_keys(user_id, offset, limit)
    total, everything = store.list_keys(user_id, 0, store.key_count() + 1)
    physical = sorted(everything, key=lambda key: store.slot(key.api_key_id))
    return total, physical[offset : offset + limit]
