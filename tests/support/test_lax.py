"""The suites' reading of D10's lax values, pinned to production's answers,
and the mock's reading checked against it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.quirks import coercion
from tests.support.lax import lax_bool, lax_int

# `GET /api_keys/?limit=VALUE` on production's code: the `limit` echoed, or
# None for its 422 int_parsing.
MEASURED = {
    "1": 1,
    "1.0": 1,
    "1.00": 1,
    "1_0": 10,
    "1_0.0": 10,
    "00_1": 1,
    "+1": 1,
    "-0": 0,
    "01": 1,
    " 1 ": 1,
    "\t1\n": 1,
    "\u00a01": 1,
    "1.0 ": 1,
    "1.": None,
    " 1.": None,
    "1_0.": None,
    "1__0": None,
    "_1": None,
    "1_": None,
    "1.5": None,
    "1.0_0": None,
    "1e0": None,
    "0x1": None,
    "+ 1": None,
    "1 0": None,
    "\u0661": None,  # ARABIC-INDIC DIGIT ONE
}


@pytest.mark.parametrize(("raw", "read"), MEASURED.items(), ids=repr)
def test_the_suites_read_integers_as_production(raw: str, read: int | None) -> None:
    assert lax_int(raw) == read


@pytest.mark.parametrize(("raw", "read"), MEASURED.items(), ids=repr)
def test_the_mock_reads_integers_as_production(raw: str, read: int | None) -> None:
    assert coercion.lax_int(raw) == read


@given(st.text(alphabet="0123456789_.+- \t", max_size=8))
def test_the_mock_and_the_suites_read_any_text_alike(raw: str) -> None:
    assert coercion.lax_int(raw) == lax_int(raw)


@given(
    st.one_of(
        st.sampled_from(["yes", "No", "ON", "off", "t", "F", "1", "0", " yes", "maybe", ""]),
        st.sampled_from([0, 1, 2, 0.0, 1.0, 0.5, None, True, False]),
    )
)
def test_the_mock_and_the_suites_read_booleans_alike(value: object) -> None:
    read = lax_bool(value)
    coerced = coercion.lax_bool(value)
    assert (coerced if isinstance(coerced, bool) else None) == read
