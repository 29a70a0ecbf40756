"""Reproductions that run: a shell command re-sending a recorded request.

Pasted into a shell where the run's environment variables are set
(CHUTES_BASE_URL, CHUTES_HOTKEY_URI or _SEED, CHUTES_HOTKEY2_URI or _SEED,
CHUTES_API_KEY), the command sends the same request to the same target:
- the URL starts at "$CHUTES_BASE_URL";
- a request signed by user A or B is signed afresh by `chutes-mock sign`
  with the user's variable, over the same purpose (or body hash), with a
  nonce as far from now as the original was from its sending time;
- an API key is the variable that holds it (a key the run created is named
  `$CHUTES_KEY_<id>`, which the shell refuses to expand until it is set,
  saying which key to create: admin, or non-admin with its scopes);
- it contains no secret: a signature that was wrong on purpose, or a token
  with no variable, is `***` (the scrubber masks whatever else slips by).
"""

from __future__ import annotations

import hashlib
import re
import shlex
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from substrateinterface import Keypair

from tests.support.exchange import Exchange
from tests.support.scrub import MASK, scrub
from tests.support.signing import purpose_for

_DROPPED = {
    "content-length",
    "host",
    "accept-encoding",
    "connection",
    "user-agent",
    "x-schemathesis-testcaseid",
}
_SIGNED = {"x-chutes-hotkey", "x-chutes-nonce", "x-chutes-signature"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_ .:-]")
_MAX_OFFSET = 10**6  # a nonce further than this from its sending time stays literal


@dataclass(frozen=True)
class Signer:
    keypair: Keypair
    variable: str  # e.g. CHUTES_HOTKEY_SEED
    option: str  # --seed-hex or --uri


@dataclass
class Reproducer:
    base_url: str
    signers: dict[str, Signer] = field(default_factory=dict)  # hotkey -> signer
    key_variables: dict[str, str] = field(default_factory=dict)  # key digest -> variable
    served_hint: str = ""  # how to stand up the same target (in-process runs)
    # what a key the run made was (admin, scopes), to say which one to create
    describe_key: Callable[[str], str | None] | None = None

    def add_key(self, token: str, variable: str) -> None:
        self.key_variables[_digest(token)] = variable

    def command(self, exchange: Exchange) -> str:
        """The shell command that re-sends `exchange`'s request."""
        headers = {k: v for k, v in exchange.headers.items() if k not in _DROPPED}
        method = ["--head"] if exchange.method == "HEAD" else ["-X", exchange.method]
        prelude, parts = "", ["curl", "-sS", *method]
        signer = self.signers.get(headers.get("x-chutes-hotkey", ""))
        purpose = _purpose(exchange)
        resign = signer is not None and _verifies(signer, headers, purpose)
        if resign:
            assert signer is not None
            nonce = headers["x-chutes-nonce"]
            # a literal nonce is signed as text; its header carries its bytes (below)
            prelude = f"N={_relative(nonce, exchange.sent_at) or shlex.quote(nonce)}; "
        for name, value in headers.items():
            if name in _SIGNED and resign:
                parts.append(_signed_header(name, value, signer, exchange, purpose))
            elif name == "x-chutes-signature":
                parts.append(shlex.join(["-H", f"{name}: {MASK}"]))
            elif name == "authorization":
                parts.append(self._authorization(value))
            else:
                parts += ["-H", shell_bytes(f"{name}: {value}")]
        if exchange.body:
            data = exchange.body.decode("utf-8", "replace")
            parts.append(shlex.join(["--data-binary", data]))
        parts.append(self._url(exchange.url or exchange.path))
        return scrub(prelude + " ".join(parts))

    def _authorization(self, value: str) -> str:
        scheme, _, token = value.rpartition(" ")
        variable = self.key_variables.get(_digest(token))
        if variable is None and token.startswith("cpk_") and token.count(".") == 2:
            key = token[4:].split(".")[0][:8]
            what = (self.describe_key(token) if self.describe_key else None) or "a key"
            what = _UNSAFE.sub("?", what)  # inside "${...:?...}": no quote, brace or $
            variable = f"{{CHUTES_KEY_{key}:?{what} the run created: create one and set this}}"
        if variable is None:
            return shlex.join(["-H", f"authorization: {value}"])
        prefix = f"{scheme} " if scheme else ""
        return f'-H "authorization: {prefix}${variable}"'

    def _url(self, url: str) -> str:
        base = self.base_url.rstrip("/")
        if url.startswith(base):
            return '"$CHUTES_BASE_URL"' + shlex.quote(url[len(base) :])
        return shlex.quote(url)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _purpose(exchange: Exchange) -> str:
    purpose = purpose_for(exchange.method, exchange.path)
    return purpose if purpose is not None else hashlib.sha256(exchange.body).hexdigest()


def _verifies(signer: Signer, headers: dict[str, str], purpose: str) -> bool:
    nonce, signature = headers.get("x-chutes-nonce", ""), headers.get("x-chutes-signature", "")
    message = f"{signer.keypair.ss58_address}:{nonce}:{purpose}"
    try:
        return bool(signer.keypair.verify(message, bytes.fromhex(signature.removeprefix("0x"))))
    except (ValueError, TypeError):
        return False


def _relative(nonce: str, sent_at: float | None) -> str | None:
    """Now plus the original's offset from its sending time (None: keep it literal)."""
    digits = nonce.isascii() and nonce.isdigit()
    if digits and sent_at is not None and abs(int(nonce) - int(sent_at)) < _MAX_OFFSET:
        return f"$(( $(date +%s) + {int(nonce) - int(sent_at)} ))"
    return None


def shell_bytes(text: str) -> str:
    """`text` quoted for bash; a header value that is not ASCII as its exact
    bytes (headers travel as Latin-1): $'\\xb2'."""
    if text.isascii():
        return shlex.quote(text)
    raw = text.encode("latin-1", "replace")
    plain = {ord(c) for c in string.ascii_letters + string.digits + " -_.:/=,;+"}
    return "$'" + "".join(chr(b) if b in plain else f"\\x{b:02x}" for b in raw) + "'"


def _signed_header(
    name: str, value: str, signer: Signer | None, exchange: Exchange, purpose: str
) -> str:
    assert signer is not None
    if name == "x-chutes-hotkey":
        return shlex.join(["-H", f"{name}: {value}"])
    if name == "x-chutes-nonce":
        if not value.isascii():
            return "-H " + shell_bytes(f"{name}: {value}")
        return f'-H "{name}: $N"'
    sign = (
        f'chutes-mock sign {signer.option} "${signer.variable}" --nonce "$N" '
        f"--purpose {purpose} {exchange.method} {shlex.quote(exchange.path)}"
        " | awk '/^X-Chutes-Sig/ {print $2}'"
    )
    return f'-H "{name}: $({sign})"'
