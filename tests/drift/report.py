"""A difference class as the report shows it: both answers side by side, and a
script that replays its sequence against $CHUTES_BASE_URL.

The script signs as the other suites' reproduce lines do (`chutes-mock sign`
with $CHUTES_HOTKEY_URI or $CHUTES_HOTKEY2_URI), keeps each created key's id
and secret in shell variables for the later steps, and deletes those keys at
the end. It holds no secret: keys are variables, and a wrong signature is
made afresh by a throwaway hotkey.
"""

from __future__ import annotations

import shlex

from tests.drift.runner import DriftClass, Seen
from tests.drift.sides import (
    JWT,
    MALFORMED_KEY,
    NONCE_SKEW,
    UNKNOWN_KEY,
    UNPARSABLE_SIGNATURE,
    Made,
)
from tests.drift.steps import NAME_SLOT, OWNER, UNKNOWN_KEY_ID, Auth, AuthKind, Step
from tests.support.exchange import Exchange
from tests.support.repro import shell_bytes
from tests.support.scrub import scrub
from tests.support.signing import purpose_for

_USERS = {"A": '--uri "$CHUTES_HOTKEY_URI"', "B": '--uri "$CHUTES_HOTKEY2_URI"'}
_STRANGER = "--uri //ChutesDriftStranger"


def tag_text(drift_class: DriftClass) -> str:
    tags = sorted(drift_class.tags, key=lambda name: int(name[1:]))
    return f"[{', '.join(tags)}]" if tags else "[unknown]"


def answer(exchange: Exchange, limit: int = 140) -> str:
    text = exchange.content.decode("utf-8", "replace").replace("\n", " ")
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return scrub(f"{exchange.status} {text}".strip())


def side_by_side(drift_class: DriftClass) -> list[str]:
    """The class's count and its shortest sequence, each call with both answers."""
    seen = drift_class.example
    assert seen is not None
    shrunk = "shrunk" if drift_class.shrunk else "not shrunk"
    lines = [
        f"seen in {drift_class.count} sequence(s), {drift_class.consequences} consequence(s) "
        f"after it; shortest: {len(seen.steps)} call(s) ({shrunk})"
    ]
    for number, (step, ours, theirs) in enumerate(
        zip(seen.steps, seen.deployment, seen.mock, strict=False), 1
    ):
        mark = "=>" if number - 1 == drift_class.index else "  "
        lines.append(f"{mark} {number}. {step}")
        if number - 1 == drift_class.index:  # the difference: the whole answers
            lines.append(f"      deployment: {answer(ours, 600)}")
            lines.append(f"      mock:       {answer(theirs, 600)}")
        elif ours.status != theirs.status:
            lines.append(f"      deployment: {answer(ours)}")
            lines.append(f"      mock:       {answer(theirs)}")
        else:
            lines.append(f"      both: {ours.status}")
    return lines


def script(seen: Seen, marker: str) -> str:
    """A bash script replaying `seen`'s steps on $CHUTES_BASE_URL."""
    lines = [
        "# replays the sequence on $CHUTES_BASE_URL (needs CHUTES_HOTKEY_URI, "
        "CHUTES_HOTKEY2_URI and chutes-mock)",
        f"P={shlex.quote(marker + 'rp0')}",
    ]
    made: list[Made] = []
    for step, exchange in zip(seen.steps, seen.deployment, strict=False):
        lines.append(f"# {step}")
        lines += _call(step, made)
        creates = step.method == "POST" and step.path == "/api_keys/"
        if creates and exchange.status == 200:
            n = len(made)
            made.append(Made(f"$K{n}_ID", f"$K{n}_SECRET", _owner(step, made)))
            lines.append(
                f'K{n}_ID=$(printf %s "$R" | python3 -c '
                "'import json,sys; print(json.load(sys.stdin)[\"api_key_id\"])')"
            )
            lines.append(
                f'K{n}_SECRET=$(printf %s "$R" | python3 -c '
                "'import json,sys; print(json.load(sys.stdin)[\"secret_key\"])')"
            )
    if made:
        lines.append("# clean up the keys the replay made")
        for n, key in enumerate(made):
            delete = Step("DELETE", "/api_keys/{key}", _owner_auth(key.owner), key=n)
            lines += _call(delete, made, quiet=True)
    return "\n".join(lines)


def _owner(step: Step, made: list[Made]) -> str:
    if step.auth.kind is AuthKind.KEY and made:
        return made[step.auth.key % len(made)].owner
    return _user(step, made)


def _user(step: Step, made: list[Made]) -> str:
    """The signer: A or B, or for OWNER the owner of the key the path names."""
    if step.auth.user != OWNER:
        return step.auth.user
    return made[step.key % len(made)].owner if made and step.key is not None else "A"


def _owner_auth(owner: str) -> Auth:
    return Auth(AuthKind.HOTKEY, owner)


def _call(step: Step, made: list[Made], *, quiet: bool = False) -> list[str]:
    if step.key is not None and "{key}" in step.path:
        key_id = made[step.key % len(made)].api_key_id if made else UNKNOWN_KEY_ID
    else:
        key_id = ""
    path = step.path.replace("{key}", key_id)
    url = f'"$CHUTES_BASE_URL{path}' + (f"?{step.query}" if step.query else "") + '"'
    prelude: list[str] = []
    method = ["--head"] if step.method == "HEAD" else ["-X", step.method]
    parts = ["curl", "-sS", *method]
    data = ""
    if step.body is not None:
        body = step.body.decode("utf-8", "replace").replace(NAME_SLOT, "\x00")
        quoted = shell_bytes(body).replace("\x00", "'\"$P\"'")
        prelude.append(f"B={quoted}")
        data = ' --data "$B"'
        parts += ["-H", shlex.quote(f"Content-Type: {step.content_type}"), '--data-binary "$B"']
    parts += _credentials(step, made, path, data, prelude)
    parts.append(url)
    command = " ".join(parts)
    if quiet:
        return [*prelude, command + " >/dev/null"]
    return [*prelude, f'R=$({command}); echo "$R"']


def _credentials(step: Step, made: list[Made], path: str, data: str, prelude: list[str]):
    auth, kind = step.auth, step.auth.kind
    if kind is AuthKind.KEY:
        token = made[auth.key % len(made)].secret if made else UNKNOWN_KEY
        return ["-H", f'"Authorization: {auth.scheme + " " if auth.scheme else ""}{token}"']
    fixed = {
        AuthKind.MALFORMED_KEY: f"Basic {MALFORMED_KEY}",
        AuthKind.UNKNOWN_KEY: f"Basic {UNKNOWN_KEY}",
        AuthKind.JWT: f"Bearer {JWT}",
    }
    if kind in fixed:
        return ["-H", shlex.quote(f"Authorization: {fixed[kind]}")]
    if kind is AuthKind.NONE:
        return []
    who = _STRANGER if kind is AuthKind.UNKNOWN_HOTKEY else _USERS[_user(step, made)]
    signer = _STRANGER if kind is AuthKind.WRONG_SIGNATURE else who
    offset = {AuthKind.STALE_NONCE: -NONCE_SKEW, AuthKind.FUTURE_NONCE: NONCE_SKEW}.get(kind, 0)
    if kind is AuthKind.BAD_NONCE:
        prelude.append(f"N={shell_bytes(auth.nonce)}")
    else:
        prelude.append(f"N=$(( $(date +%s) + {offset} ))")
    purpose = purpose_for(step.method, path)
    what = data if purpose is None else f" --purpose {purpose}"
    tail = f'--nonce "$N"{what} {step.method} {shlex.quote(path)}'
    prelude.append(f"H=$(chutes-mock sign {who} {tail} | awk '/^X-Chutes-Hotkey/ {{print $2}}')")
    prelude.append(f"S=$(chutes-mock sign {signer} {tail} | awk '/^X-Chutes-Sig/ {{print $2}}')")
    if kind is AuthKind.UNPARSABLE_SIGNATURE:
        prelude.append(f"S={shlex.quote(UNPARSABLE_SIGNATURE)}")
    return [
        "-H",
        '"X-Chutes-Hotkey: $H"',
        "-H",
        '"X-Chutes-Nonce: $N"',
        "-H",
        '"X-Chutes-Signature: $S"',
    ]
