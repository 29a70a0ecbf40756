"""Signing requests the way the real client does (behaviour §3)."""

from __future__ import annotations

import hashlib

from substrateinterface import Keypair


def signing_message(hotkey: str, nonce: str, purpose: str | None, body: bytes = b"") -> str:
    """`hotkey:nonce:purpose`, or the sha256 of the exact body when purpose is None."""
    return (
        f"{hotkey}:{nonce}:{purpose if purpose is not None else hashlib.sha256(body).hexdigest()}"
    )


def hotkey_headers(
    keypair: Keypair, nonce: int | str, purpose: str | None, body: bytes = b""
) -> dict[str, str]:
    """The three signature headers for one request."""
    nonce = str(nonce)
    message = signing_message(keypair.ss58_address, nonce, purpose, body)
    return {
        "X-Chutes-Hotkey": keypair.ss58_address,
        "X-Chutes-Nonce": nonce,
        "X-Chutes-Signature": keypair.sign(message).hex(),
    }


def purpose_for(method: str, path: str) -> str | None:
    """The contract's purpose for a request; None means the body hash."""
    bare = path.split("?", 1)[0]
    if bare.rstrip("/") == "/registry/auth":
        return "registry"
    if method.upper() == "POST" and bare == "/api_keys/":
        return None
    return "api_keys"
