"""Reproductions: commands that re-send a request, with no secret in them."""

from __future__ import annotations

import hashlib
import json
import uuid

from substrateinterface import Keypair

from tests.support.deviations import Recorder
from tests.support.exchange import Exchange
from tests.support.repro import Reproducer, Signer
from tests.support.signing import hotkey_headers

ALICE = Keypair.create_from_uri("//Alice")
KEY = "cpk_" + "1" * 32 + "." + "2" * 32 + "." + "a" * 32


def exchange(headers: dict[str, str], path: str = "/api_keys/", body: bytes = b"") -> Exchange:
    return Exchange(
        method="POST" if body else "GET",
        path=path,
        query=(),
        headers={k.lower(): v for k, v in headers.items()},
        body=body,
        status=500,
        response_headers={},
        content=b"",
        url=f"http://deploy.example/api{path}",
        sent_at=1000.0,
    )


def reproducer() -> Reproducer:
    made = Reproducer("http://deploy.example/api")
    made.signers[ALICE.ss58_address] = Signer(ALICE, "CHUTES_HOTKEY_SEED", "--seed-hex")
    made.add_key(KEY, "CHUTES_API_KEY")
    return made


def test_a_signed_request_is_signed_afresh_from_the_variable() -> None:
    headers = hotkey_headers(ALICE, 1003, "api_keys")
    command = reproducer().command(exchange(headers))
    assert command.startswith("N=$(( $(date +%s) + 3 )); curl ")
    assert '--seed-hex "$CHUTES_HOTKEY_SEED" --nonce "$N" --purpose api_keys' in command
    assert headers["X-Chutes-Signature"] not in command
    assert command.endswith('"$CHUTES_BASE_URL"/api_keys/')


def test_a_create_is_signed_over_its_body_hash() -> None:
    body = b'{"name": "ckabcdef-x", "admin": true}'
    headers = hotkey_headers(ALICE, 1000, None, body)
    command = reproducer().command(exchange(headers, body=body))
    assert f"--purpose {hashlib.sha256(body).hexdigest()} POST" in command
    assert '--data-binary \'{"name": "ckabcdef-x", "admin": true}\'' in command


def test_a_wrong_signature_is_masked_and_keys_are_variables() -> None:
    headers = {**hotkey_headers(ALICE, 1000, "registry"), "Authorization": f"Basic {KEY}"}
    command = reproducer().command(exchange(headers))  # purpose api_keys: not what was signed
    assert "x-chutes-signature: ***" in command and "chutes-mock sign" not in command
    assert '-H "authorization: Basic $CHUTES_API_KEY"' in command and KEY not in command
    other = KEY.replace("1", "3")
    command = reproducer().command(exchange({"Authorization": f"Bearer {other}"}))
    assert "${CHUTES_KEY_33333333:?" in command and other not in command


def test_a_deleted_key_says_which_key_to_create() -> None:
    """D8 needs a non-admin key scoped to the path's object: the line says so."""
    recorder = Recorder()
    other = "cpk_" + "4" * 32 + "." + "2" * 32 + "." + "b" * 32
    body = json.dumps(
        {"name": "n", "admin": False, "scopes": [{"object_type": "chutes", "action": "read"}]}
    )
    created = json.dumps(
        {"api_key_id": str(uuid.UUID("4" * 32)), "secret_key": other, "admin": False}
    )
    recorder.saw(
        Exchange("POST", "/api_keys/", (), {}, body.encode(), 200, {}, created.encode(), sent_at=0)
    )
    made = reproducer()
    made.describe_key = recorder.describe_key
    command = made.command(exchange({"Authorization": f"Basic {other}"}))
    assert (
        "${CHUTES_KEY_44444444:?a non-admin key scoped to chutes object_id null action read "
        "the run created: create one and set this}"
    ) in command
    assert other not in command
    unknown = KEY.replace("1", "5")
    assert "${CHUTES_KEY_55555555:?a key the run created" in made.command(
        exchange({"Authorization": f"Basic {unknown}"})
    )


def test_schemathesis_reproductions_give_way_to_the_kits() -> None:
    from tests.plugin import kit_reproductions

    text = (
        "  | [200] OK:\n  | \n  | Reproduce with:\n  | \n"
        "  |     curl -X GET -H 'X-Chutes-Hotkey: 5Grw' -H 'Authorization: ***' "
        "http://127.0.0.1:5/registry/auth\n  | \n"
        "Reproduce with:\n\n    curl -X DELETE -H 'X-Chutes-Hotkey;' http://h/api_keys/x\n"
    )
    kit = 'N=$(( $(date +%s) + 0 )); curl -sS -X GET -H "x: $N" "$CHUTES_BASE_URL"/registry/auth'
    other = "curl -sS -X GET \"$CHUTES_BASE_URL\"'/api_keys/?page=1'"
    replaced = kit_reproductions(text, [other, kit])
    assert "Authorization: ***" not in replaced and "X-Chutes-Hotkey;" not in replaced
    assert f"Reproduce with (signed afresh):\n  | \n  |     {kit}\n" in replaced
    assert "    the command in the chutes conformance report" in replaced
