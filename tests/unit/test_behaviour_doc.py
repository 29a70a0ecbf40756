"""docs/behaviour.md quotes every detail string the mock answers with, word for word."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from mock_server import errors
from tests.support import details as D

DOC = Path(__file__).resolve().parents[2] / "docs" / "behaviour.md"

# The details of §1-§5 and §9: production's words, which clients compare.
DETAILS = [
    "NO_CREDENTIALS",
    "INVALID_NONCE",
    "UNPARSEABLE_SIGNATURE",
    "BAD_SIGNATURE",
    "NOT_REGISTERED",
    "UNKNOWN_HOTKEY",
    "MALFORMED_API_KEY",
    "API_KEY_REFUSED",
    "JWT_INVALID",
    "JWT_EXPIRED",
    "BAD_KEY_NAME",
    "BAD_OBJECT_TYPE",
    "DUPLICATE_KEY_NAME",
    "GET_KEY_NOT_FOUND",
    "DELETE_KEY_NOT_FOUND",
    "BODY_TOO_LARGE",
    "BODY_NOT_UTF8",
    "SIGNED_WITHOUT_BODY",
    "AUTHENTICATION_REQUIRED",
    "NO_MATCHING_CHUTE",
]


def quoted_pattern(template: str) -> re.Pattern[str]:
    """`"<template>"` with each `{field}` standing for any text but a quote."""
    parts = string.Formatter().parse(template)
    body = "".join(
        re.escape(text) + ('[^"]*' if field is not None else "") for text, field, *_ in parts
    )
    return re.compile(f'"{body}"')


@pytest.mark.parametrize("name", DETAILS)
def test_the_reference_quotes_the_detail(name: str) -> None:
    template = getattr(errors, name)
    assert quoted_pattern(template).search(DOC.read_text(encoding="utf-8")), template


def test_a_changed_word_is_noticed() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert quoted_pattern(D.INVALID_NONCE).search(doc)
    assert not quoted_pattern(D.INVALID_NONCE.replace("!", ".")).search(doc)
    assert not quoted_pattern(D.UNKNOWN_HOTKEY.replace(":", "")).search(doc)
