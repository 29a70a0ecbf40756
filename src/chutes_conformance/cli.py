"""`chutes-conformance`: the gate, installed.

    chutes-conformance --base-url URL [--known-deviations K] [pytest options...]

Runs the contract and property suites against a deployment by URL, exactly
as `pytest tests/contract tests/property --base-url URL` does in a checkout,
with every option of that run (`--known-deviations`, `--strict-known`,
`--max-keys`, `--sweep`, `--junitxml`, `-n`, ...; `--help` lists them).
Credentials come from the environment, as the README says.

A URL run's time is set by round trips, not by CPU. Unless `-n` is given,
the command measures one round trip to the deployment first: from
`FAR_SECONDS` on the run is spread over `WORKERS` pytest-xdist processes
(each holds its own key marker and share of the key budget; the report is
one), nearer it stays in one process, which is then faster.
Exit status: pytest's (0 green, 1 failures, 4 usage or preflight, 6 the
network gave no answer).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

WORKERS = 8  # xdist processes of a far deployment's run, unless -n says otherwise
# From this round trip on, workers pay: both suites against a served mock
# took 26 s in one process and 45 s in 8 at 0 ms; 61 s and 51 s at 10 ms;
# 100 s in 8 at 100 ms (bench/bench_gate.py, 2 cores).
FAR_SECONDS = 0.005
SUITES = ("tests/contract", "tests/property")
USAGE_ERROR = 4  # pytest's exit status for a usage error
INI = Path(__file__).resolve().parent / "pytest.ini"


def suites_root(package_dir: Path | None = None) -> Path:
    """The directory that holds `tests/`: the checkout's, else the installed copy."""
    package_dir = package_dir or Path(__file__).resolve().parent
    checkout = package_dir.parent.parent
    if package_dir.parent.name == "src" and (checkout / "tests" / "plugin.py").is_file():
        return checkout
    return package_dir / "suites"


def _given(args: list[str], *names: str) -> bool:
    return any(a == n or a.startswith(f"{n}=") for a in args for n in names)


def _workers(args: list[str], round_trip: float | None) -> list[str]:
    """`-n WORKERS` for a run of a far deployment that names no worker count."""
    if _given(args, "-n", "--numprocesses", "--sweep", "--help", "-h"):
        return []
    if any(a.startswith("-n") and a[2:].isdigit() for a in args):
        return []
    if round_trip is not None and round_trip < FAR_SECONDS:
        return []
    return ["-n", str(WORKERS), "--dist", "worksteal"]


def round_trip(base_url: str, tries: int = 3) -> float | None:
    """The fastest of `tries` unauthenticated GETs of the list (a 401, which
    changes nothing), in seconds; None when the deployment does not answer
    (the run's preflight then says why)."""
    import httpx

    times = []
    try:
        with httpx.Client(timeout=10.0) as client:
            for _ in range(tries):
                began = time.perf_counter()
                client.get(f"{base_url.rstrip('/')}/api_keys/")
                times.append(time.perf_counter() - began)
    except (httpx.HTTPError, ValueError):
        return None
    return min(times[1:] or times)  # the first also opens the connection


def _base_url(args: list[str]) -> str | None:
    for index, arg in enumerate(args):
        if arg.startswith("--base-url="):
            return arg.split("=", 1)[1]
        if arg == "--base-url" and index + 1 < len(args):
            return args[index + 1]
    return os.environ.get("CHUTES_BASE_URL")


def pytest_args(args: list[str], root: Path, round_trip: float | None = None) -> list[str]:
    """The pytest command line for `chutes-conformance ARGS`."""
    return [
        "-c",
        str(INI),  # no ini file of the directory it is run from
        "--rootdir",
        str(root),
        "-p",
        "tests.plugin",
        "-p",
        "no:cacheprovider",
        # pytest marks the whole distribution for assertion rewriting (it
        # registers a pytest plugin); this module is running already.
        "-W",
        "ignore:Module already imported so cannot be rewritten; chutes_conformance",
        *(str(root / suite) for suite in SUITES),
        *_workers(args, round_trip),
        *args,
    ]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not _given(args, "--base-url", "--help", "-h") and not os.environ.get("CHUTES_BASE_URL"):
        print(
            "chutes-conformance: name the deployment to test: --base-url URL "
            "(or CHUTES_BASE_URL); --help lists every option",
            file=sys.stderr,
        )
        return USAGE_ERROR
    root = suites_root()
    if not (root / "tests" / "plugin.py").is_file():
        print(f"chutes-conformance: the suites are missing from {root}", file=sys.stderr)
        return USAGE_ERROR
    sys.path.insert(0, str(root))
    import pytest

    measured = None
    if _workers(args, None):  # no worker count given: the round trip decides
        measured = round_trip(_base_url(args) or "")
        if measured is not None:
            spread = f"{WORKERS} workers" if measured >= FAR_SECONDS else "one process"
            print(f"chutes-conformance: round trip {measured * 1000:.1f} ms: {spread}")
    return int(pytest.main(pytest_args(args, root, measured)))


if __name__ == "__main__":
    sys.exit(main())
