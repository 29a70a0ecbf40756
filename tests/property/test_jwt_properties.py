"""JWTs (behaviour §5): a token signed with the server's secret whose `sub`
names no user is refused. Only the mock can sign one (`/_mock/jwt`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.property.calls import Call, request
from tests.property.judge import Judge
from tests.property.model import jwt_refusal
from tests.support.target import Target

pytestmark = pytest.mark.control

SUBS = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.uuids(version=4).map(str),  # a user id, of nobody
)


@given(sub=SUBS, scheme=st.sampled_from(["Bearer", "bearer", "BEARER"]))
def test_a_jwt_naming_no_user_is_refused(judge: Judge, target: Target, sub, scheme: str) -> None:
    minted = target.client.post("/_mock/jwt", json={"user_id": target.user_a.user_id, "sub": sub})
    assert minted.status_code == 200, minted.text
    header = f"{scheme} {minted.json()['token']}"
    call = Call(f"JWT with sub {sub!r} ({scheme})", "GET", "/api_keys/")
    answer = request(target, call, headers={"Authorization": header})
    judge.check(call, jwt_refusal(sub), answer)
