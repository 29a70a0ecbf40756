"""Pytest plugin: the target options, shared by every suite.

    --base-url URL      test a deployment (or CHUTES_BASE_URL); default: the
                        mock in this process
    --max-keys N        at most N keys created by the whole run (default: what
                        the profile wants, 600 per process in `ci`, 3600 in
                        `deep`; under xdist shared among the workers)
    --mock-quirks Q     in-process only: start the mock with these quirks
                        ('production' or D1,D3,...), to watch the suite fail
    --mock-breakage B   in-process only: break the mock on purpose
                        (see `support.breakages`), to watch the suite fail
    --known-deviations K  production's deviations to tolerate (or
                        CHUTES_KNOWN_DEVIATIONS): 'production', D2,D5,... or
                        'none' (default); see `support.deviations`
    --strict-known      fail the run also on a listed deviation not observed
    --sweep             run no test: delete the marked keys of users A and B
                        older than --sweep-age minutes (default 60; 0: all)

A URL run shows no traceback unless asked (`-v`, or `--tb=...`): the report
says what failed, why, and how to reproduce it. It starts with a preflight
(`support.preflight`): each problem is one line, and the run stops with
exit status 4 before any test. Ctrl-C, SIGTERM and SIGHUP end a run the
same way: the keys it created are deleted, and the interrupted test is not
reported as a failure.

The report (terminal section `chutes conformance report`, JSON at
$CONTRACT_REPORT, JUnit suite properties) has three parts: new failures,
known deviations observed, known deviations not observed. The JSON also
names the target, the run's key markers, the tests' outcomes, the versions,
and the start and end times. Under xdist
(`-n N`) each worker has its own key marker and share of --max-keys, and
the controller merges the workers' reports into one.

Hypothesis profiles `ci` (default) and `deep` come from `support.profiles`.
Secrets are masked in every report and in the terminal (`support.scrub`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sys
import threading
import time
import uuid
from collections.abc import Generator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support import deviations, eager_imports, preflight, profiles, secret, transport
from tests.support.breakages import BREAKAGES
from tests.support.ledger import BudgetExceeded, KeyLedger, new_marker, run_id, share
from tests.support.repro import Reproducer, Signer
from tests.support.scrub import scrub, scrub_data
from tests.support.sweep import sweep, sweep_run
from tests.support.target import (
    MissingCredentials,
    Target,
    in_process_target,
    url_target,
)

_TARGET_KEY = pytest.StashKey[Target]()
_RUNNING_KEY = pytest.StashKey[str]()  # the test running now (dropped if interrupted)
_LEFT_KEY = pytest.StashKey[list]()  # cleanup figures: (marker, created, failures)
_SWEPT_KEY = pytest.StashKey[bool]()  # --sweep ran: collect nothing, exit 0
_STARTED_KEY = pytest.StashKey[float]()  # when the run started (time.time())
_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))

# Registered on import: Hypothesis' own plugin may load --hypothesis-profile
# before this plugin's pytest_configure runs.
profiles.register()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chutes", "Chutes conformance target")
    group.addoption(
        "--base-url",
        default=os.environ.get("CHUTES_BASE_URL"),
        help="deployment to test (env CHUTES_BASE_URL); default: the in-process mock",
    )
    group.addoption(
        "--max-keys",
        type=int,
        default=None,
        help="most keys the whole run may create on the target (default: what the "
        f"Hypothesis profile wants, {profiles.CI_KEYS} per process in ci, "
        f"{profiles.DEEP_KEYS} in deep; shared among xdist workers)",
    )
    group.addoption(
        "--mock-quirks",
        default=None,
        help="in-process mock only: quirks to start it with ('production' or D1,D3,...)",
    )
    group.addoption(
        "--mock-breakage",
        default=None,
        choices=sorted(BREAKAGES),
        help="in-process mock only: break it on purpose, to watch the suite fail",
    )
    group.addoption(
        "--known-deviations",
        default=os.environ.get("CHUTES_KNOWN_DEVIATIONS", "none"),
        help="production deviations to tolerate (env CHUTES_KNOWN_DEVIATIONS): "
        "'production' (D1-D14), a list such as D2,D5, or 'none' (default)",
    )
    group.addoption(
        "--strict-known",
        action="store_true",
        default=False,
        help="fail the run also when a listed deviation is not observed",
    )
    group.addoption(
        "--sweep",
        action="store_true",
        default=False,
        help="run no test: delete the run-marked keys of users A and B that killed "
        "runs left behind (needs --base-url)",
    )
    group.addoption(
        "--sweep-age",
        type=float,
        default=60.0,
        metavar="MINUTES",
        help="with --sweep: only keys older than this (default 60; 0 means all)",
    )


# Configuration ------------------------------------------------------------------------
_MARKERS = (
    "deviation(*names): the test probes these deviations (behaviour §7)",
    "control: needs the mock's /_mock/ control API (not collected by URL)",
    "in_process: needs the in-process mock (not collected by URL)",
    "conformance: a conformance check, set by the plugin on every test of "
    "tests/contract and tests/property not marked in_process (make check: -m conformance)",
    "slow: builds or installs packages; runs when CHUTES_SLOW_TESTS=1 (scripts/test.sh)",
)


def _worker(config: pytest.Config) -> tuple[int, int, str] | None:
    """(index, count, run id) on an xdist worker; None in a serial run or the controller."""
    info = getattr(config, "workerinput", None)
    if info is None:
        return None
    return int(info["workerid"].removeprefix("gw")), int(info["workercount"]), info["testrunuid"]


def _usage_problems(config: pytest.Config) -> list[str]:
    problems = []
    profile = config.getoption("hypothesis_profile", None) or os.environ.get("HYPOTHESIS_PROFILE")
    problems.append(profiles.unknown(profile))
    if config.getoption("base_url"):
        for flag in ("mock_quirks", "mock_breakage"):
            if config.getoption(flag):
                problems.append(
                    f"--{flag.replace('_', '-')} changes the in-process mock; with --base-url "
                    "there is none: drop one of them"
                )
    elif config.getoption("sweep"):
        problems.append(
            "--sweep deletes keys on a deployment: give --base-url (or CHUTES_BASE_URL)"
        )
    if (config.getoption("max_keys") or 0) < 0:
        problems.append("--max-keys must be 0 or more")
    return [p for p in problems if p]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Usage errors first (before Hypothesis loads a profile); `ci` unless
    --hypothesis-profile or HYPOTHESIS_PROFILE names another; the session's
    recorder; stop signals as Ctrl-C; secrets masked in the terminal."""
    problems = _usage_problems(config)
    if problems:
        raise pytest.UsageError("\n".join(problems))
    # No module pytest rewrites may be imported for the first time mid-run.
    eager_imports.import_all(eager_imports.marked_for_rewrite())
    if not config.getoption("hypothesis_profile", None):
        hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    for line in _MARKERS:
        config.addinivalue_line("markers", line)
    # Starlette's TestClient (the in-process target) on httpx: not the kit's to fix.
    config.addinivalue_line(
        "filterwarnings", "ignore:Using `httpx` with `starlette.testclient` is deprecated"
    )
    try:
        known = deviations.parse_known(config.getoption("known_deviations"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[deviations.RECORDER_KEY] = deviations.Recorder(
        known=known, strict=config.getoption("strict_known")
    )
    config.stash[_LEFT_KEY] = []
    config.stash[_STARTED_KEY] = time.time()
    if (
        config.getoption("base_url")
        and config.option.verbose <= 0
        and config.option.tbstyle == "auto"
    ):
        # By URL the report says what failed, why, and how to reproduce it;
        # the tracebacks of the kit's own code come back with -v or --tb.
        config.option.tbstyle = "no"
    _stop_signals_interrupt(config)
    if _worker(config) is None and getattr(config.option, "numprocesses", None):
        # xdist: the run id its workers' markers derive from, known here too
        config.option.testrunuid = config.option.testrunuid or uuid.uuid4().hex


def _stop_signals_interrupt(config: pytest.Config) -> None:
    """SIGTERM and SIGHUP raise KeyboardInterrupt, as Ctrl-C does, so the
    run ends through its cleanup (restored when the run ends)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    for number in _STOP_SIGNALS:
        previous = signal.signal(number, interrupt)
        config.add_cleanup(lambda number=number, previous=previous: signal.signal(number, previous))


@pytest.hookimpl(trylast=True)
def pytest_plugin_registered(plugin: Any, manager: pytest.PytestPluginManager) -> None:
    """Mask secrets in everything the terminal reporter writes (second line of defence)."""
    writer = getattr(plugin, "_tw", None)
    if writer is None or getattr(writer, "_chutes_scrubbed", False):
        return
    if type(plugin).__name__ != "TerminalReporter":
        return
    write = writer.write

    def scrubbed(msg: str, **markup: Any) -> None:
        write(scrub(msg), **markup)

    writer.write = scrubbed
    writer._chutes_scrubbed = True


# The target ------------------------------------------------------------------------------
def max_keys(config: pytest.Config) -> int:
    """The whole run's key budget: --max-keys, else enough for the profile in
    every process (each xdist worker may run the state machine)."""
    given = config.getoption("max_keys")
    if given is not None:
        return given
    worker = _worker(config)
    workers = worker[1] if worker is not None else (_numprocesses(config) or 1)
    return profiles.key_budget() * workers


def _numprocesses(config: pytest.Config) -> int:
    value = getattr(config.option, "numprocesses", None)
    return value if isinstance(value, int) else 0


def _ledger(config: pytest.Config) -> KeyLedger:
    """This process' marker and share of the run's key budget."""
    budget, worker = max_keys(config), _worker(config)
    if worker is None:
        return KeyLedger(new_marker(), budget)
    index, count, uid = worker
    return KeyLedger(new_marker(run_id(uid), index), share(budget, index, count))


def build_target(config: pytest.Config) -> Target:
    from mock_server.quirks import parse_quirks

    base_url = config.getoption("base_url")
    if base_url:
        try:
            target = url_target(base_url, os.environ)
        except MissingCredentials as exc:
            raise pytest.UsageError(str(exc)) from None
        target.ledger = _ledger(config)
        if target.api_key_a is None:
            created = target.create_key(target.user_a, "suite-admin")
            target.api_key_a = secret.api_key(created["secret_key"])
        return target
    quirks = parse_quirks(config.getoption("mock_quirks"))
    overrides = {}
    breakage = config.getoption("mock_breakage")
    if breakage:
        patcher = pytest.MonkeyPatch()
        config.add_cleanup(patcher.undo)
        overrides = BREAKAGES[breakage](patcher)
    target = in_process_target(quirks=quirks, **overrides)
    ledger = _ledger(config)
    target.ledger = KeyLedger(ledger.marker, max(ledger.max_keys, 500))
    return target


def reproducer(config: pytest.Config, target: Target) -> Reproducer:
    """How the report's commands refer to this run's target and credentials."""
    variables = {"A": "CHUTES_HOTKEY", "B": "CHUTES_HOTKEY2"}
    result = Reproducer(target.base_url)
    for identity in (target.user_a, target.user_b):
        prefix = variables[identity.label]
        by_seed = (
            not target.in_process
            and os.environ.get(f"{prefix}_SEED")
            and not (os.environ.get(f"{prefix}_URI"))
        )
        variable, option = (
            (f"{prefix}_SEED", "--seed-hex") if by_seed else (f"{prefix}_URI", "--uri")
        )
        result.signers[identity.hotkey] = Signer(identity.keypair, variable, option)
    if target.api_key_a is not None and (target.in_process or os.environ.get("CHUTES_API_KEY")):
        result.add_key(target.api_key_a.reveal(), "CHUTES_API_KEY")  # else: a key the run made
    if target.in_process:
        quirks = config.getoption("mock_quirks")
        breakage = config.getoption("mock_breakage")
        result.served_hint = (
            f"chutes-mock serve --port 8000{f' --quirks {quirks}' if quirks else ''} & "
            "export CHUTES_BASE_URL=http://127.0.0.1:8000 CHUTES_HOTKEY_URI=//Alice "
            "CHUTES_HOTKEY2_URI=//Bob CHUTES_API_KEY=<the 'API key' line serve prints for alice>"
            + (f" (the breakage {breakage} exists only in-process)" if breakage else "")
        )
    return result


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The system under test, built once per session and cleaned up at its end."""
    config = request.config
    if _TARGET_KEY not in config.stash:
        built = build_target(config)
        recorder = deviations.recorder(config)
        built.attach(recorder)
        recorder.reproducer = reproducer(config, built)
        recorder.reproducer.describe_key = recorder.describe_key
        recorder.active = True
        config.stash[_TARGET_KEY] = built
    return config.stash[_TARGET_KEY]


@pytest.fixture(scope="session")
def known_deviations(request: pytest.FixtureRequest) -> deviations.Recorder:
    """The session's recorder: the listed deviations, `judge`, the report."""
    return deviations.recorder(request.config)


# Running tests ----------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """A test that stopped at a listed deviation (KnownDeviationSeen) passes."""
    try:
        return (yield)
    except deviations.KnownDeviationSeen:
        return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Generator[None, Any, Any]:
    coverage = deviations.recorder(item.config).coverage
    item.config.stash[_RUNNING_KEY] = coverage.current = item.nodeid
    result = yield
    item.config.stash[_RUNNING_KEY] = coverage.current = ""
    return result


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Each suite test's outcome, for the report's coverage part (on the xdist
    controller too, which sees every worker's reports)."""
    config = _CONFIG.get("config")
    if config is None or not report.nodeid.startswith(_SUITES) or hasattr(report, "context"):
        return  # not a suite's test, or a subtest (its test reports too)
    outcomes = deviations.recorder(config).outcomes
    if report.failed:
        outcomes[report.nodeid] = ("failed", "")
    elif report.skipped and outcomes.get(report.nodeid, ("",))[0] != "failed":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        outcomes[report.nodeid] = ("skipped", str(reason).removeprefix("Skipped: "))
    elif report.when == "call" and report.nodeid not in outcomes:
        outcomes[report.nodeid] = ("passed", "")


_SUITES = ("tests/contract/", "tests/property/", "tests/drift/")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note which deviations' probes ran; add a failed suite test that
    recorded nothing itself (e.g. an error); mask secrets in every report."""
    if call.excinfo is not None and _stopped(call.excinfo.value):
        # Ctrl-C, SIGTERM, SIGHUP or a transport problem stopped the run in this
        # test (or a subtest of it, which reports itself here): not a failure,
        # and no traceback of wherever the signal landed.
        if isinstance(call.excinfo.value, transport.TransportProblem):
            deviations.recorder(item.config).stopped_by = str(call.excinfo.value)
            item.session.shouldstop = str(call.excinfo.value)
        try:
            pytest.skip(f"the run was stopped here ({call.excinfo.value})")
        except pytest.skip.Exception as stopped:
            call.excinfo = pytest.ExceptionInfo.from_exception(stopped)
    report = yield
    if report.failed and call.excinfo is not None and _budget_ran_out(call.excinfo.value):
        # Not a defect of the target: the run's --max-keys budget was spent
        # (a KeyBudgetWarning in the summary says so).
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {_BUDGET_SKIP}")
    marker = item.get_closest_marker("deviation")
    if marker is not None and (report.when == "call" or report.skipped):
        deviations.recorder(item.config).probe_ran(marker.args, ran=not report.skipped)
    if report.failed and report.nodeid.startswith(_SUITES):
        recorder = deviations.recorder(item.config)
        recorded = recorder.recorded_tests()
        if not any(t.startswith(report.nodeid) or report.nodeid.startswith(t) for t in recorded):
            text = str(report.longrepr or "")
            reason = next((ln[2:] for ln in text.splitlines() if ln.startswith("E ")), text[-300:])
            recorder.fail(report.nodeid, "-", f"test {report.when} failed", reason)
    if report.failed and report.longrepr is not None:
        commands = [f.curl for f in deviations.recorder(item.config).failures if f.curl]
        report.longrepr = kit_reproductions(scrub(str(report.longrepr)), commands)
    report.sections = [(k, scrub(v)) for k, v in report.sections]
    return report


# Schemathesis' "Reproduce with:" curl cannot run (a masked Authorization, an
# empty X-Chutes-Hotkey, a stale signature): the kit's command replaces it.
_ST_REPRODUCE = re.compile(
    r"Reproduce with:[ \t]*\n(?P<blank>[ |\t]*)\n(?P<indent>[ |\t]*)(?P<curl>curl [^\n]*)"
)


def kit_reproductions(text: str, commands: list[str]) -> str:
    """`text` with each Schemathesis reproduction replaced by the kit's command
    for the same method and path (a recorded failure's), else a pointer to it."""

    def replace(match: re.Match) -> str:
        wanted = _method_and_path(match["curl"], from_url=True)
        found = next((c for c in commands if _method_and_path(c) == wanted), None)
        line = found or "the command in the chutes conformance report (signed afresh there)"
        return f"Reproduce with (signed afresh):\n{match['blank']}\n{match['indent']}{line}"

    return _ST_REPRODUCE.sub(replace, text)


def _method_and_path(command: str, from_url: bool = False) -> tuple[str, str] | None:
    """The method and path (no query) a curl command sends."""
    method = re.search(r"-X (\w+)", command)
    if from_url:
        url = command.rsplit(" ", 1)[-1].strip("'\"")
        path = urlsplit(url).path
    else:
        _, _, rest = command.partition('"$CHUTES_BASE_URL"')
        try:
            path = shlex.split(rest)[0] if rest.strip() else "/"
        except (ValueError, IndexError):
            return None
        path = path.split("?", 1)[0]
    return (method[1] if method else "GET", path) if path else None


_BUDGET_SKIP = "the --max-keys budget ran out before this test could create its keys"


def _stopped(error: BaseException) -> bool:
    """The run itself was stopped: a signal, or a transport problem."""
    return isinstance(error, KeyboardInterrupt | transport.TransportProblem)


def _budget_ran_out(error: BaseException) -> bool:
    """The test stopped on BudgetExceeded (Hypothesis may group it with others)."""
    if isinstance(error, BudgetExceeded):
        return True
    inner = getattr(error, "exceptions", ())
    return bool(inner) and all(_budget_ran_out(e) for e in inner)


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo) -> None:
    """Ctrl-C, SIGTERM, SIGHUP: the test that was running did not fail."""
    config = _CONFIG.get("config")
    if config is None or deviations.RECORDER_KEY not in config.stash:
        return
    recorder = deviations.recorder(config)
    recorder.interrupted = True
    running = config.stash.get(_RUNNING_KEY, "")
    if running:
        recorder.forget_test(running)


_CONFIG: dict[str, pytest.Config] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Preflight (URL runs, once: not on xdist workers), or the sweep."""
    config = session.config
    _CONFIG["config"] = config
    base_url = config.getoption("base_url")
    if _worker(config) is not None:
        return
    if not base_url:
        quirks = config.getoption("mock_quirks") or "none"
        _say(config, f"chutes: testing the mock in this process (quirks: {quirks})")
        return
    problems = [scrub(p) for p in preflight.problems(base_url, os.environ)]
    if problems:
        raise pytest.UsageError(
            f"chutes preflight: {len(problems)} problem(s) with the target; no test ran\n"
            + "\n".join(f"  - {p}" for p in problems[:12])
        )
    if config.getoption("sweep"):
        _sweep(config, base_url)
        return
    _say(config, f"chutes: preflight passed for {base_url}; starting the run")


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line, flush=True)
    else:
        print(scrub(line), flush=True)


def _sweep(config: pytest.Config, base_url: str) -> None:
    target = url_target(base_url, os.environ)
    target.ledger = KeyLedger("sweep", 0)
    age = config.getoption("sweep_age")
    try:
        deleted = sweep(target, age, lambda line: _say(config, f"chutes sweep: {line}"))
    finally:
        target.client.close()
    _say(config, f"chutes sweep: {deleted} key(s) deleted (older than {age:g} min); no test runs")
    config.stash[_SWEPT_KEY] = True


def pytest_ignore_collect(collection_path: Any, config: pytest.Config) -> bool | None:
    """A sweep runs no test: nothing is collected."""
    return True if config.stash.get(_SWEPT_KEY, False) else None


_CONFORMANCE_DIRS = ("contract", "property")


def _is_conformance_check(item: pytest.Item) -> bool:
    """A test of the conformance suites, not a test of the suites themselves."""
    parts = item.path.parts
    in_suite = len(parts) >= 3 and parts[-3] == "tests" and parts[-2] in _CONFORMANCE_DIRS
    return in_suite and item.get_closest_marker("in_process") is None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """By URL, the tests that need the mock in this process (the kit's tests
    of itself, the control API's) are not collected: one line says so. Which
    tests probe which deviation: each is reported under its own."""
    if config.getoption("base_url"):
        local = [
            i
            for i in items
            if i.get_closest_marker("in_process") or i.get_closest_marker("control")
        ]
        if local:
            for item in local:  # a deviation only these probe is "not examined"
                marker = item.get_closest_marker("deviation")
                if marker is not None:
                    deviations.recorder(config).probe_ran(marker.args, ran=False)
            config.hook.pytest_deselected(items=local)
            items[:] = [i for i in items if i not in set(local)]
            if _worker(config) is None:
                _say(
                    config,
                    f"chutes: {len(local)} test(s) not collected by URL: the kit's tests of "
                    "itself and of the mock's control API need the mock in this process",
                )
    for item in items:
        if _is_conformance_check(item):
            item.add_marker("conformance")
    probes = deviations.recorder(config).probes
    for item in items:
        marker = item.get_closest_marker("deviation")
        for name in marker.args if marker is not None else ():
            probes.setdefault(name, set()).add(item.nodeid)


def pytest_runtest_setup(item: pytest.Item) -> None:
    base_url = item.config.getoption("base_url")
    if base_url and item.get_closest_marker("control"):
        pytest.skip("needs the mock's /_mock/ control API; not available on a URL target")
    if base_url and item.get_closest_marker("in_process"):
        pytest.skip("needs the in-process mock")


# The end of the run ----------------------------------------------------------------------
@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: merge a worker's report and cleanup figures."""
    output = getattr(node, "workeroutput", {}) or {}
    config = node.config
    if "chutes_report" in output:
        deviations.recorder(config).merge(output["chutes_report"])
    if "chutes_cleanup" in output:
        config.stash[_LEFT_KEY].append(output["chutes_cleanup"])


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete what the run created, also after a failure, Ctrl-C, SIGTERM or
    SIGHUP; the gate; the report's JUnit properties (before JUnit is written)."""
    config = session.config
    recorder = deviations.recorder(config)
    target = config.stash.get(_TARGET_KEY, None)
    if target is not None:
        ignored = {n: signal.signal(n, signal.SIG_IGN) for n in _STOP_SIGNALS}
        try:
            failures = target.cleanup()
        finally:
            for number, previous in ignored.items():
                signal.signal(number, previous)
        figures = (target.ledger.marker, len(target.ledger.created), failures[:5])
        config.stash[_LEFT_KEY].append(figures)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["chutes_report"] = recorder.state()
        if config.stash[_LEFT_KEY]:
            workeroutput["chutes_cleanup"] = config.stash[_LEFT_KEY][0]
        return
    if config.stash.get(_SWEPT_KEY, False):
        session.exitstatus = pytest.ExitCode.OK  # no test was meant to run
    elif recorder.stopped_by:  # no verdict: the API could not be reached
        session.exitstatus = transport.TRANSPORT_PROBLEM_EXIT
    elif recorder.active and recorder.run_failed() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    for marker, created, left in config.stash[_LEFT_KEY]:
        _say(
            config,
            f"chutes: run marker {marker!r}: created {created} key(s), {len(left)} left behind"
            + ("" if not left else ": " + "; ".join(left) + " (delete them with --sweep)"),
        )
    xml = config.stash.get(_junit_key(), None) if _junit_key() else None
    if xml is not None and recorder.active:
        for name, value in recorder.junit_properties().items():
            xml.add_global_property(name, scrub(value))


def pytest_unconfigure(config: pytest.Config) -> None:
    """xdist controller of a URL run: once every worker is down, delete any key
    of this run a worker did not (it was stopped by a signal, or crashed)."""
    base_url, uid = config.getoption("base_url"), getattr(config.option, "testrunuid", None)
    if not base_url or not uid or _worker(config) is not None or config.getoption("sweep"):
        return
    if not config.stash.get(_LEFT_KEY, None) and not deviations.recorder(config).interrupted:
        return  # no worker started a target
    target = url_target(base_url, os.environ)
    target.ledger = KeyLedger("run", 0)
    ignored = {n: signal.signal(n, signal.SIG_IGN) for n in _STOP_SIGNALS}
    try:
        sweep_run(target, "ck" + run_id(uid)[:5], lambda line: print(scrub(f"chutes: {line}")))
    except (Exception, transport.TransportProblem) as exc:  # the run is over; say what is left
        print(f"chutes: could not delete this run's keys ({type(exc).__name__}): run --sweep")
    finally:
        target.client.close()
        for number, previous in ignored.items():
            signal.signal(number, previous)


def _junit_key() -> Any:
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - older pytest
        return None
    return xml_key


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The three-part report; JSON too when $CONTRACT_REPORT names a file."""
    recorder = deviations.recorder(terminalreporter.config)
    if not recorder.active or hasattr(terminalreporter.config, "workerinput"):
        return
    terminalreporter.section("chutes conformance report")
    for line in recorder.summary():
        terminalreporter.write_line(line)
    path = os.environ.get("CONTRACT_REPORT")
    if path:
        report = run_facts(terminalreporter) | recorder.as_json()
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(scrub_data(report), handle, indent=2)


_OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
_PACKAGES = ("chutes-auth-kit", "pytest", "hypothesis", "schemathesis", "httpx")


def run_facts(reporter: pytest.TerminalReporter) -> dict[str, Any]:
    """What the JSON report says of the run itself: the target, the key
    markers, the tests' outcomes, the versions, and when it ran (UTC)."""
    from datetime import UTC, datetime
    from importlib import metadata

    config = reporter.config
    quirks = config.getoption("mock_quirks") or "none"
    versions = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    started = config.stash.get(_STARTED_KEY, None)
    return {
        "target": config.getoption("base_url") or f"the mock in this process (quirks: {quirks})",
        "markers": [
            {"marker": marker, "created": created, "left": left}
            for marker, created, left in config.stash.get(_LEFT_KEY, [])
        ],
        "counts": {outcome: len(reporter.stats.get(outcome, [])) for outcome in _OUTCOMES},
        "versions": versions,
        "started": None if started is None else datetime.fromtimestamp(started, UTC).isoformat(),
        "finished": datetime.now(UTC).isoformat(),
    }
