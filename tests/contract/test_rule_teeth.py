"""Teeth of the rule checks: each breakage of `support.breakages` is caught by
the check named for it, with the failure that names it.

Every row of `CAUGHT` runs its check (the body of `test_rules.py::test_rule[ID]`,
or of the probe named) against a mock with that one breakage, and asserts the
first failure recorded: its check is the rule's, it is a new failure (no
deviation explains it), and its reason carries the received and the expected
answer (`status 400, expected 409`, `detail "...", expected '...'`).

- in-process: the breakage is patched in, the in-process mock built, the
  check run in this process;
- by URL: `support.broken_server` serves every breakage at once (one fork
  per breakage, imports paid once), and the same check runs against each
  by URL, as `--base-url` would. Rules that need the control API (the JWT
  ones, and the nonce window's exact edge) are in-process only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from mock_server.quirks import parse_quirks
from tests.contract import test_deviations, test_isolation
from tests.contract.rules import RULES, _json_length
from tests.support import broken_server, deviations, secret
from tests.support import details as D
from tests.support.breakages import BREAKAGES
from tests.support.details import (
    API_KEY_REFUSED,
    AUTHENTICATION_REQUIRED,
    DELETE_KEY_NOT_FOUND,
    JWT_INVALID,
    MALFORMED_API_KEY,
    NO_CREDENTIALS,
    NO_MATCHING_CHUTE,
    SIGNED_WITHOUT_BODY,
)
from tests.support.deviations import Failure
from tests.support.target import Target, in_process_target, url_target

# Its module fixture serves mocks and runs suites once: under xdist the
# module stays on one worker (make test runs --dist loadgroup).
pytestmark = [pytest.mark.in_process, pytest.mark.xdist_group("contract-rule_teeth")]

URL_ENV = {
    "CHUTES_HOTKEY_URI": "//Alice",
    "CHUTES_HOTKEY2_URI": "//Bob",
    "CHUTES_REGISTRY_PASSWORD": "chutes-mock-registry",
}


def detail(received: str, expected: str) -> str:
    """How a probe reports a wrong detail."""
    return f"detail {json.dumps(received)}, expected {expected!r}"


PROBES = (
    test_deviations.test_d2_registry_header_is_basic_base64,
    test_deviations.test_d3_deleted_key_is_refused_at_once,
    test_isolation.test_signature_by_another_hotkey_is_401,
    test_isolation.test_signature_for_another_purpose_is_401,
    test_isolation.test_create_signature_covers_the_body,
    test_isolation.test_secret_only_in_create_response,
)
CHECKS: dict[str, Callable[[Target], None]] = {
    **{rule_id: rule.check for rule_id, rule in RULES.items()},
    **{probe.__name__: probe for probe in PROBES},
}


@dataclass(frozen=True)
class Caught:
    """A breakage, the check that catches it, and what its failure says."""

    breakage: str
    check: str
    says: tuple[str, ...]  # the reason contains each
    what: str = ""  # the failed check's name contains this too
    by_url: bool = True
    production: bool = False  # planted in `--quirks production`, all deviations listed
    tags: tuple[str, ...] = ()  # the deviations the failure resembles (none listed)

    @property
    def id(self) -> str:
        return f"{self.breakage}-{self.check}"


CAUGHT = [
    # §1
    Caught(
        "redirect_drops_query", "routing-slash-307", ("/api_keys/', expected '", "?page=1&limit=2'")
    ),
    Caught("no_slash_redirect", "routing-registry-slash-307", ("status 404, expected 307",)),
    Caught("wrong_method_is_404", "routing-405", ("status 404, expected 405",)),
    Caught("not_found_lower_case", "routing-404", (detail("Not found", "Not Found"),)),
    Caught("bad_json_ignored", "order-json-before-auth", ("status 401, expected 422",)),
    Caught(
        "json_only_as_exact_content_type",
        "create-json-content-types",
        ("status 422, expected 200",),
        "(application/json; charset=utf-8)",
    ),
    Caught("unparsable_page_is_zero", "order-auth-before-query", ("status 200, expected 422",)),
    Caught(
        "missing_field_loc_is_body",
        "validation-missing-field",
        ("'loc': ['body'],", "expected missing at ['body', 'name']"),
    ),
    Caught("unknown_query_refused", "extras-ignored", ("status 422, expected 200",), "name="),
    Caught(
        "unknown_body_field_refused",
        "extras-ignored",
        ("status 422, expected 200",),
        "(a field it does not name)",
    ),
    # §2
    Caught(
        "no_credentials_detail_without_face",
        "auth-none-401",
        (detail(NO_CREDENTIALS[:-3], NO_CREDENTIALS),),
    ),
    Caught("authorization_before_hotkey", "auth-hotkey-first", ("status 401, expected 200",)),
    Caught(
        "bearer_case_sensitive", "auth-bearer-is-jwt", (detail(MALFORMED_API_KEY, JWT_INVALID),)
    ),
    Caught("every_token_is_jwt", "auth-basic-is-key", (detail(JWT_INVALID, MALFORMED_API_KEY),)),
    # §3
    Caught(
        "missing_nonce_unchecked",
        "nonce-missing",
        (f'detail "{D.prefix(D.BAD_SIGNATURE)}', f"expected {D.INVALID_NONCE!r}"),
    ),
    Caught("nonce_leading_digits", "nonce-not-digits", ("status 200, expected 401",)),
    Caught(
        "nonce_window_inclusive",
        "nonce-window-past",
        ("status 200, expected 401",),
        "nonce - now = -600.000 s",
        by_url=False,
    ),
    Caught("nonce_off_by_one", "nonce-window-past", ("status 200, expected 401",)),
    Caught("nonce_future_skew", "nonce-window-future", ("status 200, expected 401",)),
    Caught(
        "signature_detail_without_with",
        "signature-not-hex",
        (
            f'detail "{D.prefix(D.UNPARSEABLE_SIGNATURE)}zz',
            f", error: {D.NOT_HEX_AT_0[:15]}",
            f"expected '{D.prefix(D.UNPARSEABLE_SIGNATURE)}zz",
        ),
    ),
    Caught("signature_lower_case_only", "signature-upper-hex", ("status 401, expected 200",)),
    Caught("no_bytes_wrapper", "signature-bytes-wrapped", ("status 401, expected 200",)),
    Caught(
        "signed_request_replay_refused",
        "hotkey-replay",
        ("status 401, expected 200",),
        "(replayed)",
    ),
    Caught(
        "any_signature", "test_signature_by_another_hotkey_is_401", ("status 200, expected 401",)
    ),
    Caught(
        "any_purpose_accepted",
        "test_signature_for_another_purpose_is_401",
        ("signed for `registry`: status 200, expected 401",),
    ),
    Caught(
        "create_signed_with_purpose",
        "test_create_signature_covers_the_body",
        ("Message: 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY:", ':api_keys", expected'),
    ),
    Caught(
        "registry_checks_subnet_only", "registry-unregistered-401", ("status 200, expected 401",)
    ),
    Caught("registry_check_flipped", "registry-registered-200", ("status 401, expected 200",)),
    Caught(
        "registry_accepts_any_account",
        "registry-account-unregistered-401",
        ("status 200, expected 401",),
        "user B must not be on the metagraph",
    ),
    Caught(
        "create_hashes_reserialised_body",
        "create-signs-the-exact-bytes",
        ("status 401, expected 200",),
    ),
    Caught(
        "unknown_hotkey_detail_without_colon",
        "hotkey-unknown-user-401",
        (
            f'detail "{D.prefix(D.UNKNOWN_HOTKEY).replace(":", "")}5',
            f"expected '{D.prefix(D.UNKNOWN_HOTKEY)}5",
        ),
    ),
    # §4
    Caught("key_secret_not_compared", "key-wrong-secret-401", ("status 200, expected 401",)),
    Caught(
        "key_format_off_by_one", "key-malformed-401", (detail(API_KEY_REFUSED, MALFORMED_API_KEY),)
    ),
    Caught(
        "empty_scopes_allow_all",
        "key-non-admin-refused-everywhere",
        ("status 200, expected 401",),
        "(GET /registry/auth)",
    ),
    Caught(
        "non_admin_key_accepted", "key-non-admin-refused-everywhere", ("status 200, expected 401",)
    ),
    Caught("name_max_23", "create-name-24-ok", ("status 400, expected 200",)),
    Caught("name_max_25", "create-name-25-400", ("status 200, expected 400",)),
    Caught("name_astral_allowed", "create-name-astral-400", ("status 200, expected 400",)),
    Caught("name_without_dollar", "create-name-punctuation-ok", ("status 400, expected 200",)),
    Caught(
        "object_type_checked_for_admin", "create-bad-object-type-400", ("status 200, expected 400",)
    ),
    Caught(
        "admin_keeps_scopes", "create-admin-drops-scopes", ("scopes [{'scope_id'", "expected []")
    ),
    Caught("duplicate_name_is_400", "create-duplicate-409", ("status 400, expected 409",)),
    Caught(
        "duplicate_name_any_case",
        "create-duplicate-409",
        ("status 409, expected 200",),
        "(another case)",
    ),
    Caught(
        "names_unique_across_users",
        "create-duplicate-other-user-200",
        ("status 409, expected 200",),
    ),
    Caught(
        "limit_zero_is_zero",
        "list-limit-0-means-25",
        ("0 items with limit 0, expected 25 with limit 0",),
    ),
    Caught(
        "limit_zero_offset_from_zero",
        "list-limit-0-page-1",
        ("with limit 0, expected the 0 of page=1&limit=25 with limit 0",),
    ),
    Caught("pages_counted_from_one", "list-pages-partition", ("pages of 2 give", "expected the")),
    Caught(
        "list_repeats_a_key",  # with D13 listed: a key twice is no unordered list
        "list-pages-partition",
        ("pages of 2 give", "different), expected the", "each once"),
        production=True,
    ),
    Caught("page_past_end_clamped", "list-page-past-end-empty", ("items, expected none",)),
    Caught("shows_other_users_keys", "get-other-users-key-404", ("status 200, expected 404",)),
    Caught(
        "get_answers_delete_detail",
        "get-other-users-key-404",
        (f'detail "{DELETE_KEY_NOT_FOUND}", expected "API key with id ',),
    ),
    Caught("secret_in_get_key", "test_secret_only_in_create_response", ("shows a secret_key",)),
    Caught(
        "delete_unknown_is_200", "get-unknown-key-404", ("status 200, expected 404",), "(delete)"
    ),
    Caught(
        "delete_misses_list_index", "delete-then-gone", ("the list still shows the deleted key",)
    ),
    Caught(
        "deleted_key_authenticates",
        "test_d3_deleted_key_is_refused_at_once",
        ("status 200, expected 401",),
        tags=("D3",),  # with no list it looks like D3 (the contract teeth: not hidden by it)
    ),
    Caught("registry_refuses_api_keys", "registry-admin-key-200", ("status 401, expected 200",)),
    # §5
    Caught("jwt_signature_unverified", "jwt-wrong-secret-401", ("status 200, expected 401",)),
    Caught(
        "jwt_expiry_exclusive",
        "jwt-expiry-boundary",
        ("status 200, expected 401",),
        "(exp == now)",
        by_url=False,
    ),
    Caught(
        "jwt_unknown_user_is_404",
        "jwt-unknown-user-401",
        ("status 404, expected 401",),
        by_url=False,
    ),
    Caught(
        "jwt_sub_type_is_422", "jwt-non-string-sub-401", ("status 422, expected 401",), by_url=False
    ),
    # §6
    Caught(
        "registry_header_no_colon",
        "test_d2_registry_header_is_basic_base64",
        ("registry header is \"Basic b'***'\"",),
    ),
    # §9, in production's mock with D1-D14 listed: the catch-all's own rules
    Caught(
        "catch_all_detail_without_stop",
        "routing-registry-slash-307",
        ("status 401, expected 307", 'body: {"detail":"Authentication required"}'),
        production=True,
    ),
    Caught(
        "catch_all_checks_get_signatures",
        "routing-405",
        ("status 401, expected 405", f'detail "{D.prefix(D.BAD_SIGNATURE)}'),
        "(signed)",
        production=True,
    ),
    Caught(
        "catch_all_without_patch",
        "catch-all-r1-methods",
        ("status 405, expected 404", "Method Not Allowed"),
        "(PATCH /api_keys/)",
        production=True,
    ),
    Caught(
        "catch_all_one_segment",
        "catch-all-r1-paths",
        (detail("Not Found", NO_MATCHING_CHUTE),),
        "(GET /api_keys/x/y)",
        production=True,
    ),
    Caught(
        "implicit_head_kept",
        "catch-all-r2-405-allow",
        ("Allow '", "HEAD", "expected GET, POST"),
        "(OPTIONS /api_keys/)",
        production=True,
    ),
    Caught(
        "catch_all_first",
        "catch-all-r3-five-unchanged",
        ("status 401, expected 200", SIGNED_WITHOUT_BODY),
        "(GET /registry/auth)",
        production=True,
    ),
    Caught(
        "catch_all_head_length_zero",
        "catch-all-head",
        (f"content-length '0', expected '{_json_length(NO_MATCHING_CHUTE)}'",),
        "(HEAD /api_keys/, a user)",
        production=True,
    ),
    Caught(
        "implicit_head_kept",
        "catch-all-head",
        ("status 200, expected 404",),
        "(HEAD /api_keys/, a user)",
        production=True,
    ),
    Caught(
        "routes_on_raw_path",
        "catch-all-decoded-path",
        ("status 401, expected 200", SIGNED_WITHOUT_BODY),
        "(GET)",
        production=True,
    ),
    Caught(
        "catch_all_nonce_last",
        "catch-all-a1-nonce-first",
        (f'detail "{D.prefix(D.UNPARSEABLE_SIGNATURE)}zz', f"expected {D.INVALID_NONCE!r}"),
        "(no nonce, signature zz)",
        production=True,
    ),
    Caught(
        "catch_all_checks_get_signatures",
        "catch-all-a2-unsignable",
        (f'detail "{D.prefix(D.UNPARSEABLE_SIGNATURE)}zz', f"expected {SIGNED_WITHOUT_BODY!r}"),
        "(GET, signature zz)",
        production=True,
    ),
    Caught(
        "catch_all_body_unread",
        "catch-all-a3-body-hash",
        ("status 401, expected 404", "Message: 5", ":e3b0c44298fc1c149afbf4c8996fb924"),
        "(POST, 16 bytes)",
        production=True,
    ),
    Caught(
        "signature_detail_without_with",
        "catch-all-a4-not-hex",
        (
            f'detail "{D.prefix(D.UNPARSEABLE_SIGNATURE)}zz, error: {D.NOT_HEX_AT_0[:7]}',
            f"expected '{D.prefix(D.UNPARSEABLE_SIGNATURE)}zz, with",
        ),
        production=True,
    ),
    Caught(
        "any_signature",
        "catch-all-a5-bad-signature",
        ("status 404, expected 401", NO_MATCHING_CHUTE),
        production=True,
    ),
    Caught(
        "catch_all_unknown_hotkey_refused",
        "catch-all-a6-no-metagraph",
        (f'detail "{D.prefix(D.UNKNOWN_HOTKEY)}5', f"expected {AUTHENTICATION_REQUIRED!r}"),
        "(a hotkey with no user)",
        production=True,
    ),
    Caught(
        "catch_all_scope_first_segment",
        "catch-all-b-keys",
        ("status 404, expected 401", NO_MATCHING_CHUTE),
        "(scope chutes, last segment images",
        production=True,
    ),
    Caught(
        "catch_all_detail_without_stop",
        "catch-all-c-answers",
        (detail(AUTHENTICATION_REQUIRED[:-1], AUTHENTICATION_REQUIRED),),
        "(nobody)",
        production=True,
    ),
    Caught(
        "catch_all_no_chute_without_bang",
        "catch-all-c-answers",
        (detail(NO_MATCHING_CHUTE[:-1], NO_MATCHING_CHUTE),),
        "(a user)",
        production=True,
    ),
    Caught(
        "catch_all_key_uncached",
        "catch-all-d3-key-use",
        ("status 401, expected 200", API_KEY_REFUSED),
        "(GET /api_keys/ after its delete",
        production=True,
    ),
    Caught(
        "catch_all_nobody_unchecked",
        "catch-all-a6-no-metagraph",
        ("status 404, expected 401", NO_MATCHING_CHUTE),
        "(a hotkey with no user)",
        production=True,
    ),
    Caught(
        "nonce_window_inclusive",
        "catch-all-a1-nonce-edge",
        ("status 404, expected 401", NO_MATCHING_CHUTE),
        "nonce - now = -600.000 s",
        by_url=False,
        production=True,
    ),
]


def first_failure(target: Target, check: Callable[[Target], None]) -> Failure:
    """Run `check` against `target`; it must fail, recording a failure."""
    recorder = target.recorder
    assert recorder is not None
    with pytest.raises(pytest.fail.Exception):
        check(target)
    assert recorder.failures, "the check failed without recording why"
    return recorder.failures[0]


def assert_caught(caught: Caught, failure: Failure) -> None:
    rule_name = f"rule {caught.check}" if caught.check in RULES else ""
    assert failure.check.startswith(rule_name), failure
    assert caught.what in failure.check, failure
    # Not explained by a listed deviation; tagged only where it resembles one.
    assert failure.deviations == list(caught.tags), failure
    for part in caught.says:
        assert part in failure.reason, (part, failure.reason)


def recorder_for(caught: Caught) -> deviations.Recorder:
    known = deviations.parse_known("production" if caught.production else "none")
    return deviations.Recorder(known=known)


@pytest.mark.parametrize("caught", CAUGHT, ids=[c.id for c in CAUGHT])
def test_caught_in_process(caught: Caught) -> None:
    patcher = pytest.MonkeyPatch()
    target = None
    try:
        overrides = BREAKAGES[caught.breakage](patcher)
        quirks = parse_quirks("production" if caught.production else None)
        target = in_process_target(quirks=quirks, **overrides)
        target.attach(recorder_for(caught))
        assert_caught(caught, first_failure(target, CHECKS[caught.check]))
    finally:
        if target is not None:
            target.client.close()
        patcher.undo()


# By URL --------------------------------------------------------------------------------
BY_URL = [c for c in CAUGHT if c.by_url]


def spec_of(caught: Caught) -> str:
    return caught.breakage + ("@production" if caught.production else "")


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    """Every breakage by URL: spec -> base URL, served by one launcher."""
    with broken_server.launched(sorted({spec_of(c) for c in BY_URL})) as urls:
        yield urls


def url_target_for(url: str, caught: Caught) -> Target:
    """A URL target as the plugin builds one, with A's admin key made on it."""
    import time

    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the child may still be starting
        try:
            httpx.get(f"{url}/_mock/state", timeout=5)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    target = url_target(url, URL_ENV)
    try:  # a breakage of create itself leaves the check without an admin key
        created = target.create_key(target.user_a, "suite-admin")
        target.api_key_a = secret.api_key(created["secret_key"])
    except httpx.HTTPStatusError:
        pass
    target.attach(recorder_for(caught))
    return target


@pytest.mark.parametrize("caught", BY_URL, ids=[c.id for c in BY_URL])
def test_caught_by_url(served: dict[str, str], caught: Caught) -> None:
    target = url_target_for(served[spec_of(caught)], caught)
    try:
        assert_caught(caught, first_failure(target, CHECKS[caught.check]))
    finally:
        target.cleanup()
        target.client.close()


def test_every_rule_has_a_breakage_it_is_shown_to_catch() -> None:
    shown = {c.check for c in CAUGHT}
    assert set(RULES) <= shown, sorted(set(RULES) - shown)
    by_url = {c.check for c in BY_URL}
    in_process_only = {r for r, rule in RULES.items() if rule.control}
    assert set(RULES) - in_process_only <= by_url, sorted(set(RULES) - in_process_only - by_url)
