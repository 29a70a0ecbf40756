"""`chutes-conformance`: the gate's command line, installed (the wheel's own
run is in scripts/test.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chutes_conformance import cli

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_runs_its_own_suites_and_an_install_its_copy(tmp_path: Path):
    assert cli.suites_root() == ROOT
    installed = tmp_path / "site-packages" / "chutes_conformance"
    assert cli.suites_root(installed) == installed / "suites"


def test_a_far_deployment_is_spread_over_workers_unless_told_otherwise():
    args = cli.pytest_args(["--base-url", "http://x"], ROOT, round_trip=0.1)
    assert args[args.index("-n") + 1] == str(cli.WORKERS) and "worksteal" in args
    near = cli.pytest_args(["--base-url", "http://x"], ROOT, round_trip=0.001)
    assert "-n" not in near  # one process is faster near the deployment
    unknown = cli.pytest_args(["--base-url", "http://x"], ROOT, round_trip=None)
    assert "-n" in unknown
    assert args[args.index("-p") + 1] == "tests.plugin"
    assert [a for a in args if a.endswith(("contract", "property"))] == [
        str(ROOT / "tests" / "contract"),
        str(ROOT / "tests" / "property"),
    ]
    for own in (["-n", "0"], ["-n=3"], ["-n4"], ["--numprocesses", "2"], ["--sweep"]):
        args = cli.pytest_args(["--base-url", "http://x", *own], ROOT, round_trip=0.1)
        assert str(cli.WORKERS) not in args and "worksteal" not in args, own


def test_without_a_deployment_it_says_how_to_name_one(monkeypatch, capsys):
    monkeypatch.delenv("CHUTES_BASE_URL", raising=False)
    assert cli.main(["--known-deviations", "production"]) == cli.USAGE_ERROR
    assert "--base-url URL (or CHUTES_BASE_URL)" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--help"], ["-h"]])
def test_help_lists_the_kits_options(args, capsys):
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "--known-deviations" in out and "--max-keys" in out and "--numprocesses" in out


def test_the_round_trip_is_measured_on_a_request_that_changes_nothing():
    from mock_server import MockServer

    with MockServer() as mock:
        measured = cli.round_trip(mock.url)
    assert measured is not None and 0 < measured < 1
    assert cli.round_trip("http://127.0.0.1:9") is None  # nothing listens: preflight says why
