"""JWTs (behaviour §5): a token signed with the server's secret whose `sub`
names no user is refused, and a token works until its `exp` and not after.
Only the mock can sign one (`/_mock/jwt`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.property.calls import Call, request
from tests.property.judge import Judge
from tests.property.model import error, jwt_refusal
from tests.support.details import GET_KEY_NOT_FOUND, JWT_EXPIRED
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


@given(data=st.data(), ttl=st.integers(1, 3600))
def test_a_jwt_works_until_its_exp_and_never_after(
    judge: Judge, target: Target, data, ttl: int
) -> None:
    """Minted with `ttl` on the mock's clock, a JWT authenticates while
    `now < exp` and is refused as expired from `exp` on (§5), the edges
    included. The clock is frozen on a whole second, then moved."""
    elapsed = data.draw(
        st.one_of(st.sampled_from([0, ttl - 1, ttl, ttl + 1]), st.integers(0, 2 * ttl)),
        label="seconds later",
    )
    start = int(target.now())
    target.client.put("/_mock/clock", json={"now": start})
    try:
        minted = target.client.post(
            "/_mock/jwt", json={"user_id": target.user_a.user_id, "ttl": ttl}
        )
        assert minted.status_code == 200, minted.text
        target.client.post("/_mock/clock/advance", json={"seconds": elapsed})
        key_id = str(data.draw(st.uuids(version=4), label="an id of no key"))
        call = Call(f"JWT of {ttl} s, {elapsed} s later", "GET", f"/api_keys/{key_id}")
        header = {"Authorization": f"Bearer {minted.json()['token']}"}
        answer = request(target, call, headers=header)
    finally:
        target.client.put("/_mock/clock", json={"now": None})
    valid = error(404, GET_KEY_NOT_FOUND.format(api_key_id=key_id))
    judge.check(call, valid if elapsed < ttl else error(401, JWT_EXPIRED), answer)
