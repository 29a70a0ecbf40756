"""Hypothesis strategies at the edges of the behaviour reference's rules.

Names carry the run marker wherever the rule leaves room for it, so whatever
a run creates on a shared target is recognisably its own.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

WHO = st.sampled_from(["A", "B"])
ADMIN = st.sampled_from([True, False])  # admin keys first: they are the ones that work
MOSTLY_TRUE = st.sampled_from([True, True, True, False])  # e.g. by the key's owner
ABSENT = "<absent>"  # a create body without `scopes`

# Names ------------------------------------------------------------------------------
WHITESPACE = " \t\n\u00a0\u2003\u3000"
_ASCII_OK = string.ascii_letters + string.digits + "_$.- "
valid_char = st.one_of(
    st.sampled_from(_ASCII_OK),
    st.characters(min_codepoint=0x80, max_codepoint=0xFFFF, exclude_categories=["Cs"]),
    st.sampled_from(WHITESPACE),
    st.sampled_from("𐀀𝐀𝟘"),  # word characters beyond the BMP
)
invalid_char = st.one_of(
    st.sampled_from("/!@#%&*()+=?'\",:;<>[]\\^`{|}~"),
    st.sampled_from("\x00\x01\x1b\x7f"),
    st.sampled_from("😀🚀🦀🤖"),  # emoji beyond the BMP
)


def _text(chars: st.SearchStrategy[str], size: int) -> st.SearchStrategy[str]:
    return st.text(chars, min_size=size, max_size=size)


def names(marker: str) -> st.SearchStrategy[str]:
    """Valid names carrying the marker: up to 24 characters, unicode included."""
    room = 24 - len(marker)
    return st.text(valid_char, max_size=room).map(lambda s: marker + s)


def edge_names(marker: str, *, unmarked: bool) -> st.SearchStrategy[str]:
    """Names at the rule's edges: 24 + newline, exactly 24 and 25 characters,
    a forbidden character (emoji beyond the BMP among them), empty, long; with
    `unmarked`, also 1-character and whitespace-only names (these cannot carry
    the marker, so a URL target is spared them)."""
    room = 24 - len(marker)
    kinds = [
        _text(valid_char, room).map(lambda s: marker + s + "\n"),
        _text(valid_char, room).map(lambda s: marker + s),
        _text(valid_char, room + 1).map(lambda s: marker + s),
        st.tuples(st.text(valid_char, max_size=room - 1), invalid_char).map(
            lambda t: marker + t[0] + t[1]
        ),
        st.just(""),
        st.just(marker + "x" * 40),
    ]
    if unmarked:
        kinds += [valid_char, st.text(st.sampled_from(WHITESPACE), min_size=1, max_size=24)]
    return st.one_of(kinds)


# Scopes --------------------------------------------------------------------------------
OBJECT_TYPES = st.sampled_from(["images", "chutes", "invocations"])
BAD_OBJECT_TYPES = st.sampled_from(["Chutes", "image", "models", "api_keys", ""])
scope = st.fixed_dictionaries(
    {"object_type": OBJECT_TYPES | BAD_OBJECT_TYPES},
    optional={
        "object_id": st.none() | st.uuids().map(str) | st.text(max_size=8),
        "action": st.sampled_from([None, "read", "write", "delete", "invoke"]),
    },
)
bad_action_scope = st.fixed_dictionaries(
    {"object_type": OBJECT_TYPES, "action": st.sampled_from(["fly", "READ", ""])}
)
scopes = st.one_of(
    st.just(ABSENT),
    st.none(),
    st.lists(scope, max_size=3),
    st.lists(scope | bad_action_scope, min_size=1, max_size=2),
)
# A scope on the object type the key is then tried on (`/api_keys/chutes`, D8).
readable_scopes = st.lists(
    st.fixed_dictionaries({"object_type": OBJECT_TYPES, "action": st.sampled_from([None, "read"])}),
    min_size=1,
    max_size=2,
)

# Pages ---------------------------------------------------------------------------------
page_or_limit = st.one_of(
    st.none(),
    st.sampled_from([0, 1, 2, 3, 25, 10**6]),
    st.integers(-3, -1),
    st.sampled_from([2**63 - 1, 2**63, 2**64 + 1, 10**30]),
)

# Loosely typed values: production coerces some (D10), the contract none.
loose_booleans = st.sampled_from(["yes", "no", "true", "off", "t", 1, 0, "maybe", 2, None])
loose_integers = st.sampled_from(["1.0", "0.00", "2.0", "1.5", "one"])

# Requests no operation takes ({own}: the key's id, {scope}: its scope's type).
off_routes = st.sampled_from(
    [
        ("GET", "/api_keys"),
        ("GET", "/registry/auth/"),
        ("DELETE", "/api_keys/"),
        ("PUT", "/api_keys/{own}"),
        ("POST", "/registry/auth"),
        ("PATCH", "/api_keys/{scope}"),
        ("GET", "/{scope}"),
    ]
)

# Ids other than a key of the caller --------------------------------------------------
unknown_ids = st.one_of(
    st.uuids(version=4).map(str),
    st.sampled_from(["chutes", "images", "invocations", "not-a-key", "0"]),
)

# Nonces and signatures -------------------------------------------------------------
# Offsets from now at the window's edges (the clock frozen on a whole second).
nonce_edges = st.sampled_from([-600, -599, 0, 599, 600, -601, 601])
# Against a real clock: a safety margin on each side.
nonce_margins = st.sampled_from([-610, -590, 0, 590, 610])
# Far out, clear of the window even against a clock that keeps running.
nonce_far = st.one_of(st.integers(610, 10**12), st.integers(-(10**9), -610))
not_digits = st.one_of(
    st.sampled_from(["", "-5", "+1700000000", "1.5", "0x10", "1e9", "²", "١٢٣", "１２３"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12).filter(
        lambda s: not s.isdigit()
    ),
    st.integers(21, 400).map(lambda n: "1" * n),  # digits, but absurdly long
)
hex_garbage = st.sampled_from("gGzZ-+x_")
