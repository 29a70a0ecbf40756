"""API keys (behaviour §2, §4): the token format, the secret, and revocation."""

from __future__ import annotations

import string

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.property.calls import Answer, Call, request
from tests.property.judge import Judge
from tests.property.model import D3_WINDOW, Expected, Model, error, token_parts
from tests.support import profiles
from tests.support.details import API_KEY_REFUSED, JWT_INVALID, MALFORMED_API_KEY
from tests.support.target import Target

SCHEMES = st.sampled_from(["Basic", "Bearer", "", "Token"])
ALNUM = string.ascii_letters + string.digits
PATH = "/api_keys/"


def refusal(header: str) -> Expected:
    """How an `Authorization` header that names no live key is refused (§2, §4)."""
    token = header.split(" ")[-1]
    if header.lstrip().lower().startswith("bearer ") and not token.startswith("cpk_"):
        return error(401, JWT_INVALID)
    if token_parts(token) is None:
        return error(401, MALFORMED_API_KEY)
    return error(401, API_KEY_REFUSED)


def call_with(target: Target, header: str) -> tuple[Call, Answer]:
    call = Call(f"Authorization: {header!r}", "GET", PATH)
    return call, request(target, call, headers={"Authorization": header})


@st.composite
def malformed(draw, valid: str) -> str:
    """A token that breaks the format in one place, or any text at all."""
    cut = draw(st.integers(0, len(valid) - 1))
    return draw(
        st.one_of(
            st.just(valid[:cut] + valid[cut + 1 :]),  # a character missing
            st.just(valid + draw(st.sampled_from(ALNUM))),  # one too many
            st.just(valid[:cut] + draw(st.sampled_from("-_+/=~!")) + valid[cut + 1 :]),
            st.just(valid[:36].upper() + valid[36:]),  # upper-case hex in the ids
            st.just("CPK_" + valid[4:]),
            st.just(valid.replace(".", "", 1)),
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=120),
        )
    )


@given(data=st.data(), scheme=SCHEMES)
def test_tokens_outside_the_format_are_refused(
    judge: Judge, target: Target, data, scheme: str
) -> None:
    assert target.api_key_a is not None
    token = data.draw(malformed(target.api_key_a.reveal()))
    # A header value has no space at either end on the wire (h11 refuses to send
    # one; servers strip it): `Basic ` with an empty token goes out as `Basic`.
    header = (f"{scheme} {token}" if scheme else token).strip() or "x"
    call, answer = call_with(target, header)
    judge.check(call, refusal(header), answer)


@given(
    data=st.data(),
    change=st.sampled_from(["secret", "key id", "user id"]),
    scheme=st.sampled_from(["Basic", "Bearer", ""]),
)
def test_a_well_formed_token_with_a_wrong_part_is_refused(
    judge: Judge, target: Target, data, change: str, scheme: str
) -> None:
    """The format holds, but the token is not one the server issued."""
    assert target.api_key_a is not None
    key_hex, user_hex, secret = target.api_key_a.reveal().removeprefix("cpk_").split(".")
    other = {
        "secret": data.draw(st.text(st.sampled_from(ALNUM), min_size=32, max_size=32)),
        "key id": data.draw(st.uuids(version=4)).hex,
        "user id": data.draw(st.uuids(version=4)).hex,
    }[change]
    parts = {
        "secret": (key_hex, user_hex, other),
        "key id": (other, user_hex, secret),
        "user id": (key_hex, other, secret),
    }[change]
    token = "cpk_" + ".".join(parts)
    assume(token != target.api_key_a.reveal())
    header = f"{scheme} {token}" if scheme else token
    call, answer = call_with(target, header)
    judge.check(call, error(401, API_KEY_REFUSED), answer)


@settings(max_examples=profiles.examples(ci=10, deep=50))
@given(
    admin=st.sampled_from([True, False]),
    scheme=st.sampled_from(["Basic", "Bearer", ""]),
    who=st.sampled_from(["A", "B"]),
)
def test_keys_authenticate_exactly_as_long_as_they_exist(
    judge: Judge, target: Target, admin: bool, scheme: str, who: str
) -> None:
    """An admin key works until its owner deletes it, then never again; a non-admin
    key never works here (no endpoint of this API is a scoped object). Production
    honours a deleted key for 60 s after its first use (D3); where the clock can
    be moved, the key is tried once more after that window."""
    identity = target.identity(who)
    scopes = None if admin else [{"object_type": "chutes", "action": "read"}]
    created = target.create_key(identity, "prop", admin=admin, scopes=scopes)
    model = Model()
    key = model.created(who, created, {"scopes": scopes})
    path = f"/api_keys/{key.api_key_id}"

    def use() -> None:
        sent_at = target.now()
        response = target.with_key(created["secret_key"], "GET", path, scheme=scheme)
        answer = Answer.of(response, sent_at, target.now())
        call = Call(
            f"{who}'s new key ({'alive' if key.alive else 'deleted'}, {scheme or 'bare'})",
            "GET",
            path,
        )
        judge.check(call, model.with_key(key, path, sent_at), answer)
        model.used(key, sent_at, target.now())

    use()
    deleted = target.delete_key(identity, key.api_key_id)
    assert deleted.status_code == 200, deleted.text
    model.deleted(key.api_key_id)
    for _ in range(2):  # refused at once, and still refused after
        use()
    if target.has_control:
        moved = target.client.post("/_mock/clock/advance", json={"seconds": D3_WINDOW + 1})
        assert moved.status_code == 200, moved.text
        use()
