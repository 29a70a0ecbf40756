"""Secrets as a masking type, and the scrubber that knows their forms."""

from __future__ import annotations

import base64
import copy

from tests.support import secret
from tests.support.scrub import scrub


def test_a_secret_never_shows_its_value() -> None:
    value = secret.password("hunter2-registry")
    shown = [repr(value), str(value), f"{value}", f"{value!r}", repr([value]), repr({"k": value})]
    assert all("hunter2" not in text for text in shown), shown
    assert value.reveal() == "hunter2-registry"
    assert copy.deepcopy(value) == value


def test_each_form_of_a_secret_is_scrubbed() -> None:
    password = "pw-" + "x7Qz" * 3
    secret.password(password)
    encoded = base64.b64encode(f":{password}".encode()).decode()
    seed = "ab" * 32
    secret.seed("0x" + seed)
    key = "cpk_" + "1" * 32 + "." + "2" * 32 + ".Zz09" * 8
    secret.api_key(key)
    text = f"{password} {encoded} b'{encoded}' {seed} 0x{seed} {key} {key.rsplit('.', 1)[1]}"
    scrubbed = scrub(text)
    for form in (password, encoded, seed, key, key.rsplit(".", 1)[1]):
        assert form not in scrubbed, (form, scrubbed)


def test_patterns_mask_what_no_secret_announced() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    text = f"Bearer {jwt}; sig {'0f' * 64}; {{'authorization': \"Basic b'OmFub3RoZXI='\"}}"
    scrubbed = scrub(text)
    assert jwt not in scrubbed and "0f" * 64 not in scrubbed and "OmFub3RoZXI" not in scrubbed
