"""The calls a drift sequence is made of, and the Hypothesis strategies that draw them.

A `Step` is symbolic: it names keys by their place among the keys the
sequence has created (`Step.key`), and names by a template (`{m}` stands for
the run's marker and the execution's tag), so the same step can be sent to
both sides, each with its own ids, secrets, nonces and signatures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

from hypothesis import strategies as st

OWNER = "owner"
NAME_SLOT = "{m}"  # replaced by the marker and the execution's tag (12 characters)
SLOT_WIDTH = 12
FREE = 24 - SLOT_WIDTH  # characters a valid name has beside the slot
UNKNOWN_KEY_ID = "00000000-0000-4000-8000-00000000d71f"


class AuthKind(Enum):
    HOTKEY = "hotkey"
    STALE_NONCE = "stale nonce"
    FUTURE_NONCE = "future nonce"
    BAD_NONCE = "malformed nonce"
    WRONG_SIGNATURE = "another hotkey's signature"
    UNPARSABLE_SIGNATURE = "unparsable signature"
    UNKNOWN_HOTKEY = "unknown hotkey"
    KEY = "API key"
    MALFORMED_KEY = "malformed API key"
    UNKNOWN_KEY = "unknown API key"
    JWT = "JWT"
    NONE = "no credentials"


@dataclass(frozen=True)
class Auth:
    kind: AuthKind
    user: str = "A"  # the signer (hotkey kinds): A, B, or OWNER (of the key the path names)
    key: int = 0  # KEY: which of the sequence's keys (modulo how many exist)
    scheme: str = "Basic"  # KEY: Basic, Bearer or '' (bare)
    nonce: str = ""  # BAD_NONCE: the value sent

    def __str__(self) -> str:
        if self.kind is AuthKind.KEY:
            return f"key K{self.key} ({self.scheme or 'bare'})"
        if self.kind is AuthKind.BAD_NONCE:
            return f"{self.user}, nonce {self.nonce!r}"
        if self.kind in _SIGNED:
            return f"{self.user}" + ("" if self.kind is AuthKind.HOTKEY else f", {self.kind.value}")
        return self.kind.value


_SIGNED = {
    AuthKind.HOTKEY,
    AuthKind.STALE_NONCE,
    AuthKind.FUTURE_NONCE,
    AuthKind.BAD_NONCE,
    AuthKind.WRONG_SIGNATURE,
    AuthKind.UNPARSABLE_SIGNATURE,
}


@dataclass(frozen=True)
class Step:
    """One call: `{key}` in the path is the id of key `key` of the sequence."""

    method: str
    path: str
    auth: Auth
    key: int | None = None
    query: str = ""
    body: bytes | None = None
    content_type: str = "application/json"

    def __str__(self) -> str:
        path = self.path.replace("{key}", f"{{K{self.key}}}")
        text = f"{self.method} {path}{'?' + self.query if self.query else ''} as {self.auth}"
        if self.body is not None:
            text += f" {self.body.decode('utf-8', 'replace')!r}"
            if self.content_type != "application/json":
                text += f" ({self.content_type})"
        return text


# Strategies --------------------------------------------------------------------------
users = st.sampled_from(["A", "B"])
key_refs = st.integers(min_value=0, max_value=3)

_AUTH_KINDS = (
    [AuthKind.HOTKEY] * 4
    + [AuthKind.KEY] * 3
    + [kind for kind in AuthKind if kind not in (AuthKind.HOTKEY, AuthKind.KEY)]
)


@st.composite
def auths(draw: st.DrawFn) -> Auth:
    """Every way to authenticate and its failure modes, good ones most often."""
    kind = draw(st.sampled_from(_AUTH_KINDS))
    if kind is AuthKind.KEY:
        return Auth(kind, key=draw(key_refs), scheme=draw(st.sampled_from(["Basic", "Bearer", ""])))
    if kind is AuthKind.BAD_NONCE:
        return Auth(
            kind, draw(users), nonce=draw(st.sampled_from(["", "12ab", "-5", "1²", "9" * 300]))
        )
    if kind in _SIGNED:
        return Auth(kind, draw(users))
    return Auth(kind)


# Creating keys needs a caller who may: mostly a good signature.
creators = st.one_of(st.builds(Auth, st.just(AuthKind.HOTKEY), users), auths())

_VALID_NAMES = [f"{NAME_SLOT}k{n}" for n in range(4)] + [f"{NAME_SLOT}$.- x"]
_NAMES = st.sampled_from(_VALID_NAMES) | st.sampled_from(
    [
        NAME_SLOT + "x" * (FREE + 1),  # 25 characters
        NAME_SLOT + "x" * FREE + "\n",  # 24 and a final newline (D9)
        NAME_SLOT + "\U0001f642",  # beyond the BMP
        NAME_SLOT + "a/b",
        "",
    ]
)
_SCOPES = st.sampled_from(
    [
        [{"object_type": "chutes", "object_id": None, "action": None}],
        [{"object_type": "chutes", "object_id": "chutes", "action": "read"}],
        [{"object_type": "images"}],
        [{"object_type": "invocations", "action": "invoke"}],
        [{"object_type": "api_keys"}],
        [{"object_type": "chutes", "action": "fly"}],
        [{"object_id": "x"}],
        [],
        None,
    ]
)
_MISSING = object()


_GOOD_SCOPES = st.sampled_from(
    [
        [{"object_type": "chutes", "object_id": None, "action": None}],
        [{"object_type": "chutes", "object_id": "chutes", "action": "read"}],
        [{"object_type": "images", "action": "delete"}],
        [],
    ]
)


@st.composite
def good_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A create body the contract accepts, as the real client sends it."""
    admin = draw(st.sampled_from([True, True, True, False]))
    payload: dict = {"name": draw(st.sampled_from(_VALID_NAMES)), "admin": admin}
    if not payload["admin"] or draw(st.booleans()):
        payload["scopes"] = draw(_GOOD_SCOPES)
    return json.dumps(payload, separators=(",", ":")).encode(), "application/json"


@st.composite
def create_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A create body (bytes) and its content type, at the rules' edges."""
    kind = draw(st.sampled_from(["key"] * 6 + ["odd"]))
    if kind == "odd":
        raw = draw(
            st.sampled_from(
                [b"", b"{", b"[]", b"null", b'{"admin": true}', b'{"name": 5, "admin": true}']
            )
        )
        return raw, "application/json"
    payload: dict = {"name": draw(_NAMES)}
    admin = draw(st.sampled_from([True, True, False, False, "yes", 1, "no", _MISSING]))
    if admin is not _MISSING:
        payload["admin"] = admin
    scopes = draw(st.sampled_from([_MISSING]) | _SCOPES)
    if scopes is not _MISSING:
        payload["scopes"] = scopes
    if draw(st.booleans()):
        payload["extra"] = 1
    text = json.dumps(payload, separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))
    around = draw(st.sampled_from(["", "", "", " ", "\n", "\r\n\t"]))
    content_type = draw(
        st.sampled_from(
            ["application/json"] * 6
            + ["application/json; charset=utf-8", "application/vnd.x+json", "text/plain"]
        )
    )
    return (around + text + around).encode(), content_type


_PAGING = ["0", "1", "2", "-1", "abc", "1.0", "", "18446744073709551616"]


@st.composite
def list_queries(draw: st.DrawFn) -> str:
    parts = []
    for name in ("page", "limit"):
        value = draw(st.none() | st.sampled_from(_PAGING))
        if value is not None:
            parts.append(f"{name}={value}")
    if draw(st.integers(0, 5)) == 0:
        parts.append("name=x")
    return "&".join(draw(st.permutations(parts)))


_KEY_PATHS = st.sampled_from(["{key}"] * 4 + [UNKNOWN_KEY_ID, "not-a-uuid", "chutes", "images"])
_ODD_ROUTES = [
    ("DELETE", "/api_keys/"),
    ("PUT", "/api_keys/"),
    ("HEAD", "/api_keys/"),
    ("POST", "/registry/auth"),
    ("GET", "/api_keys"),
    ("POST", "/api_keys"),
    ("GET", "/registry/auth/"),
    ("GET", "/api_keys/{key}/"),
    ("PATCH", "/api_keys/{key}"),
    ("POST", "/api_keys/{key}"),
    ("GET", "/api_keyz/"),
    ("GET", "/nothing/here"),
    ("DELETE", "/chutes/{key}"),
]


_KINDS = (
    ["create"] * 3
    + ["odd create"] * 2
    + ["list"] * 2
    + ["get"] * 2
    + ["delete"] * 2
    + ["odd"] * 2
    + ["registry"]
)


@st.composite
def steps(draw: st.DrawFn) -> Step:
    kind = draw(st.sampled_from(_KINDS))
    if kind == "registry":
        return Step("GET", "/registry/auth", draw(auths()))
    if kind == "list":
        return Step("GET", "/api_keys/", draw(auths()), query=draw(list_queries()))
    if kind == "create":
        body, content_type = draw(good_bodies())
        return Step("POST", "/api_keys/", Auth(AuthKind.HOTKEY, draw(users)), body=body)
    if kind == "odd create":
        body, content_type = draw(create_bodies())
        return Step("POST", "/api_keys/", draw(creators), body=body, content_type=content_type)
    if kind in ("get", "delete"):
        segment = draw(_KEY_PATHS)
        path = "/api_keys/" + segment
        ref = draw(key_refs) if segment == "{key}" else None
        owner = ref is not None and draw(st.booleans())
        auth = Auth(AuthKind.HOTKEY, OWNER) if owner else draw(auths())
        return Step("GET" if kind == "get" else "DELETE", path, auth, key=ref)
    method, path = draw(st.sampled_from(_ODD_ROUTES))
    ref = draw(key_refs) if "{key}" in path else None
    return Step(method, path, draw(auths()), key=ref)


sequences = st.lists(steps(), min_size=5, max_size=20)
