"""Preflight: check a URL target and its credentials once, before any test.

`problems(base_url, environ)` gives one line per problem, each saying what is
wrong and which setting to change; an empty list means the run may start.
It checks, in order, stopping where later checks could not mean anything:
- the URL has an http(s) scheme and a host;
- each credential variable parses (hotkey URI or seed, CHUTES_API_KEY);
- the target answers, and the API sits at the base (no path-prefix mistake);
- user A is a user and registered on the netuid (`/registry/auth` 200);
- user B is a user, and another one than A;
- CHUTES_API_KEY, when given, is an admin key of A.
No secret is ever part of a line: variables are named, values are not shown.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx
from substrateinterface import Keypair

from tests.support import secret, transport
from tests.support.signing import hotkey_headers, purpose_for

_SEED = re.compile(r"^(?:0x)?[0-9a-fA-F]{64}$")
_KEY = re.compile(r"^cpk_([a-f0-9]{32})\.([a-f0-9]{32})\.[a-zA-Z0-9]{32}$")
_USERS = {"A": "CHUTES_HOTKEY", "B": "CHUTES_HOTKEY2"}
_URL_SETTING = "--base-url (or CHUTES_BASE_URL)"


def url_problem(base_url: str) -> str | None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return (
            f"{_URL_SETTING} {base_url!r} has no http:// or https:// scheme and host: "
            "write it as https://host[:port]"
        )
    return None


def keypair(environ: Mapping[str, str], label: str) -> tuple[Keypair | None, str | None]:
    """User `label`'s keypair from the environment, or the line saying why not."""
    prefix = _USERS[label]
    uri, seed = environ.get(f"{prefix}_URI"), environ.get(f"{prefix}_SEED")
    if uri:
        try:
            return Keypair.create_from_uri(secret.uri(uri).reveal()), None
        except Exception:
            return None, (
                f"{prefix}_URI (user {label}) does not parse: it must be a dev URI such as "
                "//Alice or a mnemonic of 12 or 24 words (optionally with //path)"
            )
    if seed:
        value = secret.seed(seed).reveal()
        if not _SEED.match(value):
            return None, (
                f"{prefix}_SEED (user {label}) does not parse: it must be 64 hex digits "
                "(32 bytes), with or without 0x"
            )
        return Keypair.create_from_seed(value.removeprefix("0x")), None
    return None, (
        f"user {label} has no credentials: set {prefix}_URI or {prefix}_SEED"
        + (" (on the metagraph)" if label == "A" else " (another user, for isolation checks)")
    )


def api_key_problem(environ: Mapping[str, str]) -> str | None:
    value = environ.get("CHUTES_API_KEY")
    if value and not _KEY.match(secret.api_key(value).reveal()):
        return (
            "CHUTES_API_KEY does not parse: it must be an API key cpk_<32 hex>.<32 hex>.<32 "
            "letters or digits> (or leave it unset: the run then creates an admin key of A)"
        )
    return None


class _Probe:
    """Signed requests to the target, with the answer's status and detail."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def signed(self, keys: Keypair, path: str) -> httpx.Response:
        headers = hotkey_headers(keys, int(time.time()), purpose_for("GET", path))
        return self.client.get(path, headers=headers)


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    shown = json.dumps(detail) if detail is not None else "no JSON detail"
    shown = shown if len(shown) <= 90 else shown[:89] + "…"
    return f"{response.status_code} {shown}"


def _is_list(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return response.status_code == 200 and isinstance(body, dict) and "items" in body


def problems(base_url: str, environ: Mapping[str, str], timeout: float = 10.0) -> list[str]:
    """Every problem found (empty: ready to run)."""
    found = [p for p in [url_problem(base_url)] if p]
    users = {}
    for label in "AB":
        keys, problem = keypair(environ, label)
        users[label] = keys
        found += [problem] if problem else []
    found += [p for p in [api_key_problem(environ)] if p]
    if found:
        return found
    a, b = users["A"], users["B"]
    assert a is not None and b is not None
    if a.ss58_address == b.ss58_address:
        found.append(
            "users A and B are the same hotkey: CHUTES_HOTKEY2_URI/_SEED must name another user"
        )
    base = base_url.rstrip("/")
    # Through the run's network policy (`support.transport`), with fewer
    # sends: a target that does not answer three times is not there.
    resilience = transport.Resilience(attempts=3)
    with transport.client(resilience, base, timeout) as client:
        try:
            return found + _check_target(_Probe(client), base, users, environ)
        except (httpx.HTTPError, transport.TransportProblem) as exc:
            reason = getattr(exc, "last", "") or type(exc).__name__
            nothing = f"nothing answers at {base} ({reason}): check {_URL_SETTING}"
            return [*found, nothing]


def _check_target(
    probe: _Probe, base: str, users: dict[str, Keypair], environ: Mapping[str, str]
) -> list[str]:
    a, b = users["A"], users["B"]
    listing = probe.signed(a, "/api_keys/?limit=1")
    if not _is_list(listing):
        moved = _prefix_problem(probe, base, a)
        if moved:
            return [moved]
    if listing.status_code in (401, 403) and _has_detail(listing):
        found = [
            f"user A (hotkey {a.ss58_address}) is not a user of {base}: GET /api_keys/ answered "
            f"{_detail(listing)}; check CHUTES_HOTKEY_URI/_SEED"
        ]
    elif not _is_list(listing):
        return [
            f"{base} does not answer as the Chutes API (GET /api_keys/ answered "
            f"{_detail(listing)}): check {_URL_SETTING}"
        ]
    else:
        found = []
        registry = probe.signed(a, "/registry/auth")
        if registry.status_code != 200:
            found.append(
                f"user A (hotkey {a.ss58_address}) is not registered on the netuid: "
                f"GET /registry/auth answered {_detail(registry)}; use a registered hotkey "
                "in CHUTES_HOTKEY_URI/_SEED"
            )
    other = probe.signed(b, "/api_keys/?limit=1")
    if not _is_list(other):
        found.append(
            f"user B (hotkey {b.ss58_address}) is not a user of {base}: GET /api_keys/ answered "
            f"{_detail(other)}; check CHUTES_HOTKEY2_URI/_SEED"
        )
    elif _is_list(listing) and a.ss58_address != b.ss58_address:
        owners = {_owner(listing), _owner(other)} - {None}
        if len(owners) == 1 and _owner(listing) == _owner(other):
            found.append(
                "users A and B are the same user (their keys share one user_id): "
                "CHUTES_HOTKEY2_URI/_SEED must name another user"
            )
    token = environ.get("CHUTES_API_KEY")
    if token and _is_list(listing):
        found += _api_key_problems(probe, a, token)
    return found


def _has_detail(response: httpx.Response) -> bool:
    try:
        return "detail" in response.json()
    except (ValueError, TypeError):
        return False


def _owner(response: httpx.Response) -> str | None:
    items = response.json().get("items") or []
    return items[0].get("user_id") if items and isinstance(items[0], dict) else None


def _prefix_problem(probe: _Probe, base: str, a: Keypair) -> str | None:
    """The API answers at the host's root, not below the base's path: say so."""
    parts = urlsplit(base)
    prefix = parts.path.rstrip("/")
    if not prefix:
        return None
    root = f"{parts.scheme}://{parts.netloc}"
    try:
        at_root = probe.client.get(
            f"{root}/api_keys/?limit=1", headers=hotkey_headers(a, int(time.time()), "api_keys")
        )
    except httpx.HTTPError:
        return None
    if not (_is_list(at_root) or _has_detail(at_root)):
        return None
    return f"the API is not at {base} but at {root}: drop the path {prefix!r} from {_URL_SETTING}"


def _api_key_problems(probe: _Probe, a: Keypair, token: str) -> list[str]:
    match = _KEY.match(token)
    assert match is not None
    key_id = "-".join(
        [match[1][:8], match[1][8:12], match[1][12:16], match[1][16:20], match[1][20:]]
    )
    own = probe.signed(a, f"/api_keys/{key_id}")
    if own.status_code != 200:
        return [
            f"CHUTES_API_KEY (id {key_id}) is not a key of user A: GET /api_keys/{key_id} as A "
            f"answered {own.status_code}; give an admin key of A, or unset it"
        ]
    if own.json().get("admin") is not True:
        return [f"CHUTES_API_KEY (id {key_id}) is not an admin key: give an admin key of A"]
    used = probe.client.get("/api_keys/?limit=1", headers={"Authorization": f"Basic {token}"})
    if used.status_code != 200:
        return [
            f"CHUTES_API_KEY (id {key_id}) is refused: GET /api_keys/ with it answered "
            f"{_detail(used)}; give a live admin key of A"
        ]
    return []
