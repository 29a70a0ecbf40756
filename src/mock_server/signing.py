"""The three `X-Chutes-*` headers for one request, as the real client signs
them (behaviour §3): `hotkey:nonce:purpose`, where the purpose is the
operation's `x-chutes-purpose`, or the sha256 of the exact body bytes where
the contract says `null` (`POST /api_keys/`).

Used by `chutes-mock sign` and by `MockServer.sign`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from mock_server import hotkeys, spec

if TYPE_CHECKING:  # hotkeys is the one module that imports substrate-interface
    from substrateinterface import Keypair


def operation_for(
    operations: Iterable[spec.Operation], method: str, path: str
) -> spec.Operation | None:
    """The operation that serves METHOD PATH (path templates matched, query
    ignored), or None."""
    parts = path.split("?", 1)[0].split("/")
    for op in operations:
        template = op.path.split("/")
        if op.method != method or len(template) != len(parts):
            continue
        if all(t.startswith("{") or t == p for t, p in zip(template, parts, strict=True)):
            return op
    return None


def body_purpose(body: bytes) -> str:
    """The purpose of an operation whose contract purpose is null."""
    return hashlib.sha256(body).hexdigest()


def contract_purpose(
    operations: Iterable[spec.Operation], method: str, path: str, body: bytes = b""
) -> str:
    """The purpose the contract gives METHOD PATH with this body; a
    ValueError names a request that is not one of its operations."""
    op = operation_for(operations, method, path)
    if op is None:
        raise ValueError(f"{method} {path} is not an operation of the contract")
    return op.purpose if op.purpose is not None else body_purpose(body)


def signature_headers(keypair: Keypair, nonce: int | str, purpose: str) -> dict[str, str]:
    """`X-Chutes-Hotkey`, `X-Chutes-Nonce` and `X-Chutes-Signature`."""
    hotkey = keypair.ss58_address
    nonce = str(nonce)
    return {
        "X-Chutes-Hotkey": hotkey,
        "X-Chutes-Nonce": nonce,
        "X-Chutes-Signature": hotkeys.sign(keypair, f"{hotkey}:{nonce}:{purpose}"),
    }
