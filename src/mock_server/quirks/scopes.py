"""D8: production checks a non-admin key against the request's path.

Production derives the object of every request from its (percent-decoded)
path: the object type is the last segment; the object id is the second
segment of a two-segment path `/a/b`, and a placeholder otherwise; the
action is `read`, `write` for POST, PUT and PATCH, `delete` for DELETE. A
non-admin key passes when one of its scopes has that object type, an object
id that is null or equal, and an action that is null or equal.

So on `/api_keys/chutes` a key scoped to `chutes` passes authentication and
the route answers 404, where the contract refuses every non-admin key on the
five operations (behaviour §4). The catch-all route (D12) checks keys the
same way.
"""

from __future__ import annotations

from mock_server.store import ApiKey

NO_OBJECT_ID = "__list_or_invalid__"  # production's object id for any other path shape
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


def path_object(path: str) -> tuple[str, str]:
    """(object type, object id) of a percent-decoded path, as production reads it."""
    segments = path.split("/")
    object_type = segments[-1]
    two_segments = len(segments) == 3 and segments[0] == "" and segments[1] and segments[2]
    return object_type, segments[2] if two_segments else NO_OBJECT_ID


def method_action(method: str) -> str:
    if method == "DELETE":
        return "delete"
    return "write" if method in WRITE_METHODS else "read"


def key_allows(key: ApiKey, method: str, path: str) -> bool:
    """Whether production lets this key through on `method path`."""
    if key.admin:
        return True
    object_type, object_id = path_object(path)
    action = method_action(method)
    return any(
        scope.object_type == object_type
        and scope.object_id in (None, object_id)
        and scope.action in (None, action)
        for scope in key.scopes
    )
