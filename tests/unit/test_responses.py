"""Success payloads are written by orjson; they must be the bytes FastAPI's
standard encoder writes (`render_echo`), whatever strings, integers, booleans
and nulls they hold. (Floats differ in notation; only the control API's
clock holds one.)"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mock_server.responses import render_echo, render_json

# What a success payload is built from: stored strings (any Unicode, lone
# surrogates included), integers (echoed page and limit can be huge),
# booleans and nulls, in lists and objects.
texts = st.text(st.characters(codec=None, exclude_categories=())) | st.text(
    st.characters(categories=["Cs"]), min_size=1
)
scalars = st.none() | st.booleans() | st.integers() | texts
keys = texts | st.integers()  # the control API's metagraph view has integer keys
payloads = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


@given(payloads)
def test_success_payloads_are_the_bytes_fastapi_writes(payload: object) -> None:
    assert render_json(payload) == render_echo(payload)


def test_what_orjson_refuses_is_still_written() -> None:
    payload = {"page": 2**64, "name": "a\ud800é"}
    written = render_json(payload)
    assert written == b'{"page":18446744073709551616,"name":"a\\ud800\\u00e9"}'
    assert json.loads(written) == payload


def test_echoed_non_finite_numbers_stay_valid_json() -> None:
    written = render_echo({"input": [float("nan"), float("inf")]})
    assert json.loads(written) == {"input": ["nan", "inf"]}
