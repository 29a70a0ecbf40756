"""sr25519 hotkeys: the only module that imports substrate-interface (and its bindings)."""

from __future__ import annotations

from functools import lru_cache

import sr25519  # the schnorrkel bindings substrate-interface verifies with
from substrateinterface import Keypair

SS58_FORMAT = 42


# An ss58 address of these keys (format 42, 32 bytes) is 48 characters. Base58 decoding costs
# the square of the length, so a longer string is refused without decoding.
MAX_ADDRESS_LENGTH = 64


def is_valid_address(ss58_address: str) -> bool:
    return _public_key(ss58_address) is not None


def _public_key(ss58_address: str) -> bytes | None:
    if len(ss58_address) > MAX_ADDRESS_LENGTH:
        return None
    return _decoded_public_key(ss58_address)


@lru_cache(maxsize=4096)
def _decoded_public_key(ss58_address: str) -> bytes | None:
    try:
        return Keypair(ss58_address=ss58_address, ss58_format=SS58_FORMAT).public_key
    except Exception:
        return None


def verify(ss58_address: str, message: str, signature: bytes) -> bool:
    """True when `signature` signs `message` (or `<Bytes>message</Bytes>`),
    as `Keypair.verify` decides for an sr25519 key, without its dispatch."""
    public_key = _public_key(ss58_address)
    if public_key is None or len(signature) != 64:
        return False
    data = message.encode()
    try:
        return bool(
            sr25519.verify(signature, data, public_key)
            or sr25519.verify(signature, b"<Bytes>" + data + b"</Bytes>", public_key)
        )
    except Exception:
        return False


def keypair_from(*, uri: str | None = None, seed: str | None = None) -> Keypair:
    """A signing keypair from a dev URI (`//Alice`) or a 64-hex seed."""
    if uri:
        try:
            return Keypair.create_from_uri(uri, ss58_format=SS58_FORMAT)
        except (AttributeError, TypeError, IndexError):  # its parser trips on shapes such as '//'
            # Not the URI itself: it may hold a mnemonic, a secret.
            raise ValueError(
                "the uri is neither a dev URI such as //Alice nor a mnemonic"
            ) from None
    if seed:
        return Keypair.create_from_seed(seed.removeprefix("0x"), ss58_format=SS58_FORMAT)
    raise ValueError("a keypair needs a uri or a seed")


# Mini-secret seeds of the substrate dev accounts, as `subkey inspect` prints them.
# A dev URI's keypair can be derived, but not its seed, so the client config
# (which wants a seed) is available for these and for users given by seed.
DEV_SEEDS = {
    "//Alice": "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a",
    "//Bob": "398f0c28f98885e046333d4a41c19cee4c37368a9832c6502f6cfd182e2aef89",
}


def sign(keypair: Keypair, message: str) -> str:
    return keypair.sign(message).hex()
