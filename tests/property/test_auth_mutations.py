"""Sign a request correctly, change one thing, and get exactly the answer
behaviour §2-§3 names for that change.

The requests are harmless whatever happens: the registry, get/delete of an
unknown id (404 once authenticated), and a create with an invalid name (400
once authenticated). Answers are judged by the session's `judge`: production's
registry header (D2) and its 500 for a nonce of non-ASCII or hundreds of
digits (D6) are tolerated when listed, and named when not.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.property import strategies as S
from tests.property.calls import Answer, Call, request
from tests.property.judge import Judge
from tests.property.model import Expected, Model, error, nonce_refusal
from tests.support.details import (
    API_KEY_REFUSED,
    BAD_KEY_NAME,
    BAD_SIGNATURE,
    DELETE_KEY_NOT_FOUND,
    GET_KEY_NOT_FOUND,
    INVALID_NONCE,
    NO_CREDENTIALS,
    UNPARSEABLE_SIGNATURE,
)
from tests.support.secret import reveal
from tests.support.signing import purpose_for
from tests.support.target import Identity, Target


@dataclass(frozen=True)
class Req:
    """A request and the answer it gets when correctly signed."""

    method: str
    path: str
    body: bytes
    success: Expected

    @property
    def purpose(self) -> str:
        """What the signature covers after `hotkey:nonce:`."""
        return purpose_for(self.method, self.path) or hashlib.sha256(self.body).hexdigest()


@st.composite
def reqs(draw, target: Target, signer: str) -> Req:
    kind = draw(
        st.sampled_from(
            ["registry", "get", "delete", "create"]
            if signer == "A"
            else ["get", "delete", "create"]
        )
    )
    if kind == "registry":
        return Req(
            "GET",
            "/registry/auth",
            b"",
            Model(registry_password=target.registry_password).registry(),
        )
    if kind == "create":
        name = draw(st.sampled_from(["", "x" * 25, "a/b", "😀"]))
        payload = {"name": name, "admin": draw(st.booleans())}
        return Req("POST", "/api_keys/", json.dumps(payload).encode(), error(400, BAD_KEY_NAME))
    key_id = str(draw(st.uuids(version=4)))
    if kind == "get":
        return Req(
            "GET",
            f"/api_keys/{key_id}",
            b"",
            error(404, GET_KEY_NOT_FOUND.format(api_key_id=key_id)),
        )
    return Req("DELETE", f"/api_keys/{key_id}", b"", error(404, DELETE_KEY_NOT_FOUND))


def request_as(target: Target, signer: str) -> st.SearchStrategy[tuple[Identity, Req]]:
    return reqs(target, signer).map(lambda r: (target.identity(signer), r))


def any_request(target: Target) -> st.SearchStrategy[tuple[Identity, Req]]:
    return S.WHO.flatmap(lambda who: request_as(target, who))


def sign(identity: Identity, nonce: str, purpose: str, *, wrap: bool = False) -> str:
    message = f"{identity.hotkey}:{nonce}:{purpose}"
    return identity.keypair.sign(f"<Bytes>{message}</Bytes>" if wrap else message).hex()


def send(
    target: Target, req: Req, headers: dict[str, str | bytes], who: str
) -> tuple[Call, Answer]:
    call = Call(who, req.method, req.path, req.body)
    if req.body:
        headers = {"Content-Type": "application/json", **headers}
    return call, request(target, call, content=req.body, headers=headers)


def expect(
    judge: Judge, target: Target, req: Req, headers: dict, who: str, expected: Expected
) -> None:
    call, answer = send(target, req, headers, who)
    judge.check(call, expected, answer)


def headers_for(identity: Identity, nonce: str, signature: str) -> dict[str, str | bytes]:
    return {
        "X-Chutes-Hotkey": identity.hotkey,
        "X-Chutes-Nonce": nonce,
        "X-Chutes-Signature": signature,
    }


def bad_signature(hotkey: str, nonce: str, purpose: str) -> Expected:
    return error(401, BAD_SIGNATURE.format(hotkey=hotkey, message=f"{hotkey}:{nonce}:{purpose}"))


def now(target: Target) -> str:
    return str(int(target.now()))


# A correct signature, and the forms that are equally valid. ------------------------
@given(data=st.data(), form=st.sampled_from(["plain", "upper", "spaced", "bytes-wrapped"]))
def test_valid_signature_forms_pass(judge: Judge, target: Target, data, form: str) -> None:
    identity, req = data.draw(any_request(target))
    nonce = now(target)
    signature = sign(identity, nonce, req.purpose, wrap=form == "bytes-wrapped")
    if form == "upper":
        signature = signature.upper()
    elif form == "spaced":
        signature = " ".join(signature[i : i + 2] for i in range(0, len(signature), 2))
    expect(
        judge,
        target,
        req,
        headers_for(identity, nonce, signature),
        f"{identity.label} {form}",
        req.success,
    )


# One thing changed. ------------------------------------------------------------------
@given(data=st.data())
def test_another_users_hotkey_is_refused(judge: Judge, target: Target, data) -> None:
    identity, req = data.draw(any_request(target))
    claimed = target.identity("B" if identity.label == "A" else "A")
    nonce = now(target)
    headers = headers_for(claimed, nonce, sign(identity, nonce, req.purpose))
    call, answer = send(target, req, headers, f"{identity.label} signs as {claimed.label}")
    judge.check(call, bad_signature(claimed.hotkey, nonce, req.purpose), answer)


@given(data=st.data(), change=st.sampled_from(["other", "trailing space", "reordered"]))
def test_body_other_than_signed_is_refused(judge: Judge, target: Target, data, change: str) -> None:
    identity = target.identity(data.draw(S.WHO))
    payload = {"name": data.draw(st.sampled_from(["", "a/b"])), "admin": True}
    signed_body = json.dumps(payload).encode()
    sent = {
        "other": json.dumps({**payload, "name": payload["name"] + "!"}).encode(),
        "trailing space": signed_body + b" ",
        "reordered": json.dumps(dict(reversed(payload.items()))).encode(),
    }[change]
    nonce = now(target)
    req = Req("POST", "/api_keys/", sent, error(400, BAD_KEY_NAME))
    headers = headers_for(
        identity, nonce, sign(identity, nonce, hashlib.sha256(signed_body).hexdigest())
    )
    call, answer = send(target, req, headers, f"{identity.label} (signed {signed_body!r})")
    if answer.status == 200 and isinstance(answer.body, dict) and "api_key_id" in answer.body:
        target.ledger.record(answer.body["api_key_id"], identity.label)  # cleaned up at the end
    judge.check(call, bad_signature(identity.hotkey, nonce, req.purpose), answer)


@given(data=st.data(), wrong=st.sampled_from(["registry", "api_keys", "body hash", "empty"]))
def test_purpose_of_another_endpoint_is_refused(
    judge: Judge, target: Target, data, wrong: str
) -> None:
    identity, req = data.draw(any_request(target))
    purpose = {"body hash": hashlib.sha256(b"").hexdigest(), "empty": ""}.get(wrong, wrong)
    if purpose == req.purpose:
        purpose = "registry" if req.purpose != "registry" else "api_keys"
    nonce = now(target)
    headers = headers_for(identity, nonce, sign(identity, nonce, purpose))
    call, answer = send(target, req, headers, f"{identity.label} (purpose {purpose!r})")
    judge.check(call, bad_signature(identity.hotkey, nonce, req.purpose), answer)


@given(data=st.data(), offset=S.nonce_far)
def test_nonce_outside_the_window_is_refused(
    judge: Judge, target: Target, data, offset: int
) -> None:
    identity, req = data.draw(any_request(target))
    nonce = str(int(target.now()) + offset)
    headers = headers_for(identity, nonce, sign(identity, nonce, req.purpose))
    expect(
        judge,
        target,
        req,
        headers,
        f"{identity.label} (nonce now{offset:+d})",
        error(401, INVALID_NONCE),
    )


@given(data=st.data(), nonce=S.not_digits)
def test_nonce_not_ascii_digits_is_refused(judge: Judge, target: Target, data, nonce: str) -> None:
    identity, req = data.draw(any_request(target))
    headers = headers_for(identity, "", sign(identity, nonce, req.purpose))
    try:  # as bytes: Latin-1 where it can be (a server reads it so: `²` stays `²`), else UTF-8
        sent = nonce.encode("latin-1")
    except UnicodeEncodeError:
        sent = nonce.encode()
    headers["X-Chutes-Nonce"] = sent
    read = sent.decode("latin-1")
    expect(judge, target, req, headers, f"{identity.label} (nonce {nonce!r})", nonce_refusal(read))


def unparseable(signature: str) -> Expected:
    """The refusal of a signature `bytes.fromhex` cannot parse (its message included)."""
    try:
        bytes.fromhex(signature)
    except ValueError as exc:
        return error(401, UNPARSEABLE_SIGNATURE.format(signature=signature, error=exc))
    raise AssertionError(f"{signature!r} parses")


@given(data=st.data(), cut=st.integers(1, 63))
def test_truncated_signature_is_refused(judge: Judge, target: Target, data, cut: int) -> None:
    """Whole bytes cut off: parsed, but no valid signature."""
    identity, req = data.draw(any_request(target))
    nonce = now(target)
    signature = sign(identity, nonce, req.purpose)[: 2 * cut]
    expect(
        judge,
        target,
        req,
        headers_for(identity, nonce, signature),
        identity.label,
        bad_signature(identity.hotkey, nonce, req.purpose),
    )


@given(data=st.data(), cut=st.integers(0, 127), garbage=S.hex_garbage, odd=st.booleans())
def test_unparseable_signature_is_refused(
    judge: Judge, target: Target, data, cut: int, garbage: str, odd: bool
) -> None:
    """Odd length, or a character that is not hex: the parser's message is in the detail."""
    identity, req = data.draw(any_request(target))
    nonce = now(target)
    signature = sign(identity, nonce, req.purpose)
    signature = signature[: cut | 1] if odd else signature[:cut] + garbage + signature[cut + 1 :]
    expect(
        judge,
        target,
        req,
        headers_for(identity, nonce, signature),
        identity.label,
        unparseable(signature),
    )


@given(data=st.data())
def test_without_signature_nothing_authenticates(judge: Judge, target: Target, data) -> None:
    identity, req = data.draw(any_request(target))
    headers = headers_for(identity, now(target), "")
    expect(
        judge, target, req, headers, f"{identity.label} (no signature)", error(401, NO_CREDENTIALS)
    )


# A signature and an API key: the signature decides. ---------------------------------
@pytest.fixture(scope="module")
def revoked_key(target: Target) -> str:
    """The secret of a key created and deleted at once."""
    created = target.create_key(target.user_a, "revoked")
    assert target.delete_key(target.user_a, created["api_key_id"]).status_code == 200
    return created["secret_key"]


@given(
    data=st.data(),
    key=st.sampled_from(["revoked", "admin of A", "junk"]),
    scheme=st.sampled_from(["Basic", "Bearer"]),
)
def test_signature_decides_over_an_api_key(
    judge: Judge, target: Target, revoked_key: str, data, key: str, scheme: str
) -> None:
    identity, req = data.draw(any_request(target))
    tokens = {"revoked": revoked_key, "admin of A": reveal(target.api_key_a), "junk": "cpk_nothing"}
    token = tokens[key]
    nonce = now(target)
    headers = {
        **headers_for(identity, nonce, sign(identity, nonce, req.purpose)),
        "Authorization": f"{scheme} {token}",
    }
    expect(judge, target, req, headers, f"{identity.label} + {key} key", req.success)
    headers["X-Chutes-Hotkey"] = target.identity("B" if identity.label == "A" else "A").hotkey
    call, answer = send(target, req, headers, f"wrong hotkey + {key} key")
    judge.check(call, bad_signature(headers["X-Chutes-Hotkey"], nonce, req.purpose), answer)


@given(scheme=st.sampled_from(["Basic", "Bearer", ""]))
def test_revoked_key_is_refused(
    judge: Judge, target: Target, revoked_key: str, scheme: str
) -> None:
    response = target.with_key(revoked_key, "GET", "/api_keys/", scheme=scheme)
    judge.check(
        Call(f"revoked key ({scheme or 'bare'})", "GET", "/api_keys/"),
        error(401, API_KEY_REFUSED),
        Answer.of(response),
    )


# The window's edges. -------------------------------------------------------------------------
@pytest.fixture
def frozen_clock(target: Target) -> Iterator[int]:
    """The mock's clock frozen on a whole second; given back afterwards."""
    before = target.client.get("/_mock/clock").json()
    moment = math.floor(before["now"])
    target.client.put("/_mock/clock", json={"now": moment})
    yield moment
    target.client.put("/_mock/clock", json={"now": before["now"] if before["frozen"] else None})


def edge_case(
    judge: Judge, target: Target, identity: Identity, req: Req, nonce: int, accepted: bool
) -> None:
    headers = headers_for(identity, str(nonce), sign(identity, str(nonce), req.purpose))
    offset = nonce - int(target.now())
    expected = req.success if accepted else error(401, INVALID_NONCE)
    expect(judge, target, req, headers, f"{identity.label} (nonce now{offset:+d})", expected)


@pytest.mark.control
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), offset=st.sampled_from([-600, -599, 599, 600]))
def test_window_edges_on_the_mocks_clock(
    judge: Judge, target: Target, frozen_clock: int, data, offset: int
) -> None:
    """599 s either side passes, 600 s does not (the clock frozen on a whole second)."""
    identity, req = data.draw(any_request(target))
    edge_case(judge, target, identity, req, frozen_clock + offset, abs(offset) < 600)


@given(data=st.data(), offset=st.sampled_from([-610, -590, 590, 610]))
def test_window_edges_on_a_real_clock(judge: Judge, target: Target, data, offset: int) -> None:
    """With a margin for clock skew: 590 s either side passes, 610 s does not."""
    identity, req = data.draw(any_request(target))
    edge_case(judge, target, identity, req, int(target.now()) + offset, abs(offset) < 600)
