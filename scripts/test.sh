#!/usr/bin/env bash
# The test commands: `make check` (scripts/test.sh check) and `make test`
# (scripts/test.sh; CI runs it through .ci/run). One section a step.
# `make check`, the conformance checks:
#   1. lint: ruff check, ruff format --check;
#   2. the conformance suites (tests/contract, tests/property) against the
#      mock in this process;
#   3. the same suites through the URL mode, against `chutes-mock serve`
#      started on a free port, the way a staging run works.
# `make test` runs those, then the tests of the mock and of the kit itself:
#   4. the wheel: built, installed into a fresh venv at the pinned versions,
#      its packaged contract equal to openapi/, its packaged suites equal to
#      tests/, and `chutes-mock serve` from there answers;
#   5. every other test in-process (the mock's unit tests, the suites'
#      tests of themselves: breakages caught, safety, drift), over xdist;
#   6. the gate as a pipeline runs it, the wheel's `chutes-conformance` from
#      outside the clone, on `serve --quirks production` (green, no
#      key-budget warning; red and naming D2 without D2 listed), and drift
#      on that served mock against its in-process twin;
#   7. examples/ and the chutes_mock fixture from the wheel (tests/packaging).
# The last line sums up every step: its time and its tests, or where it
# failed. Reports (JUnit XML, server logs) go to reports/. To add a step, add
# a section between `begin` and `end`; start servers with start_mock, which
# stops them on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
PINS=constraints.txt
TIER=${1:-test}
case $TIER in check | test) ;; *) echo "usage: scripts/test.sh [check|test]" >&2; exit 2 ;; esac
mkdir -p reports
rm -f reports/*.xml  # the summary counts this run's reports only

# -- helpers -----------------------------------------------------------------
servers=()
scratch=()
stop_mocks() {
  for pid in "${servers[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  servers=()
}
cleanup() {
  stop_mocks
  for dir in "${scratch[@]}"; do rm -rf "$dir"; done
}

# begin NAME ... end [JUNIT...]: one step, timed; its tests counted from its
# JUnit reports. On exit the summary line names every step, or the failed one.
steps=()
current=""
started=$(date +%s)
begin() {
  current=$1
  step_started=$(date +%s)
  echo "== $1"
}
end() {
  local counts=""
  [ $# -gt 0 ] && counts=" ($("$BIN/python" scripts/junit_counts.py "$@"))"
  steps+=("$current $(($(date +%s) - step_started)) s$counts")
  current=""
}
summarise() {
  local status=$? line
  line=$(IFS=";"; echo "${steps[*]}" | sed 's/;/; /g')
  if [ "$status" -eq 0 ]; then
    echo "make $TIER: passed in $(($(date +%s) - started)) s: $line"
  else
    echo "make $TIER: FAILED in ${current:-a step} (exit $status) after $(($(date +%s) - started)) s; before it: ${line:-nothing}"
  fi
}
trap 'summarise; cleanup' EXIT
trap 'exit 130' INT  # so that Ctrl-C and kill also run cleanup
trap 'exit 143' TERM

free_port() {
  "$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_mock CHUTES_MOCK PORT LOG [serve options...]: serve in the background
# and wait until it answers as the contract says (scripts/wait_for_mock.py).
start_mock() {
  local exe=$1 port=$2 log=$3
  shift 3
  "$exe" serve --port "$port" "$@" >"$log" 2>&1 &
  servers+=("$!")
  if ! "$BIN/python" scripts/wait_for_mock.py "http://127.0.0.1:$port" "$!" 60; then
    echo "chutes-mock serve did not come up; its log:"
    cat "$log"
    return 1
  fi
}

# -- 1. lint -----------------------------------------------------------------
begin lint
"$BIN/ruff" check .
"$BIN/ruff" format --check .
end

# -- 2. the conformance suites, in-process ----------------------------------
begin "conformance in-process"
"$BIN/pytest" -q -p no:cacheprovider tests/contract tests/property -m conformance \
  --junitxml=reports/conformance-in-process.xml
end reports/conformance-in-process.xml

# -- 3. the conformance suites by URL ----------------------------------------
begin "conformance by URL against chutes-mock serve"
port=$(free_port)
start_mock "$BIN/chutes-mock" "$port" reports/serve.log --no-control --log-level warning
CHUTES_HOTKEY_URI=//Alice CHUTES_HOTKEY2_URI=//Bob CHUTES_REGISTRY_PASSWORD=chutes-mock-registry \
  "$BIN/pytest" -q -p no:cacheprovider tests/contract tests/property \
  --base-url "http://127.0.0.1:$port" --junitxml=reports/url-mode.xml
stop_mocks
end reports/url-mode.xml

[ "$TIER" = check ] && exit 0

# -- 4. the wheel, on its own ------------------------------------------------
begin "wheel: build, install into a fresh venv, serve from there"
wheel_dir=$(mktemp -d)
scratch+=("$wheel_dir")
rm -rf build/lib  # setuptools' staging area: no stale module may reach the wheel
"$BIN/pip" wheel --quiet --no-deps --wheel-dir "$wheel_dir/dist" . >reports/wheel-build.log 2>&1 \
  || { cat reports/wheel-build.log; exit 1; }
"$BIN/python" -m venv "$wheel_dir/venv"
"$wheel_dir/venv/bin/pip" install --quiet --constraint "$PINS" "$wheel_dir"/dist/*.whl \
  >reports/wheel-install.log 2>&1 || { cat reports/wheel-install.log; exit 1; }
# The installed package reads its own copy of the contract, equal to openapi/.
(cd "$wheel_dir" && venv/bin/python -I -c 'from mock_server import settings
print(settings.DEFAULT_SPEC); print(settings.DEFAULT_CONTROL_SPEC)') >"$wheel_dir/specs"
for name in auth control; do
  packaged=$(grep "/$name.yaml\$" "$wheel_dir/specs")
  case $packaged in "$wheel_dir"/venv/*) ;; *) echo "the wheel reads $packaged"; exit 1 ;; esac
  cmp "$packaged" "openapi/$name.yaml"
done
# ... and its own copy of the suites, equal to the checkout's.
suites=$(cd "$wheel_dir" && venv/bin/python -I -c 'import chutes_conformance.cli as c
print(c.suites_root())')
case $suites in "$wheel_dir"/venv/*) ;; *) echo "the wheel runs the suites in $suites"; exit 1 ;; esac
for suite in tests/contract tests/property tests/support; do
  diff -r -x __pycache__ -x '*.md' "$suite" "$suites/$suite" >/dev/null \
    || { echo "the wheel's $suite differs from the checkout's"; exit 1; }
done
start_mock "$wheel_dir/venv/bin/chutes-mock" "$(free_port)" reports/wheel-serve.log \
  --no-control --log-level warning
stop_mocks
echo "the wheel's chutes-mock serve answers"
end

# -- 5. every other test, in-process ----------------------------------------
# The mock's unit tests and the suites' tests of themselves (every test not
# marked conformance). Most of them serve a mock and run a suite in
# subprocesses, and wait on them: three workers keep the two cores busy.
# Modules whose fixtures serve broken mocks and run suites once for all
# their tests are an xdist_group each, kept on one worker (loadgroup).
begin "the mock's and the kit's own tests, in-process"
"$BIN/pytest" -q -p no:cacheprovider -n 3 --dist loadgroup tests --ignore=tests/packaging \
  -m "not conformance" --junitxml=reports/self-tests.xml
end reports/self-tests.xml

# -- 6. the gate from the wheel, and drift -----------------------------------
# The gate as a pipeline runs it: the wheel's chutes-conformance, from a
# directory outside the clone, on production's known deviations: green, and
# the default key budget covers the whole run (no warning). Without D2 on the
# list the same command fails, naming D2.
begin "the gate from the wheel against serve --quirks production"
port=$(free_port)
start_mock "$BIN/chutes-mock" "$port" reports/serve-production.log --no-control \
  --log-level warning --quirks production
reports_dir=$(pwd)/reports
gate_env=(CHUTES_BASE_URL="http://127.0.0.1:$port" CHUTES_HOTKEY_URI=//Alice
  CHUTES_HOTKEY2_URI=//Bob CHUTES_REGISTRY_PASSWORD=chutes-mock-registry)
(cd "$wheel_dir" && env "${gate_env[@]}" venv/bin/chutes-conformance \
  --known-deviations production --junitxml="$reports_dir/gate-production.xml") \
  | tee reports/gate-production.log
if grep -E "leaves room|KeyBudgetWarning" reports/gate-production.log; then
  echo "the default key budget did not cover the gate's run"
  exit 1
fi
# The report's coverage part counts the tests that decided a rule.
if ! grep -qE "^rules decided: [1-9][0-9]* test" reports/gate-production.log; then
  echo "the gate's report counted no test that decided a rule"
  exit 1
fi
end reports/gate-production.xml
begin "the same gate without D2 listed: exit 1, D2 named"
status=0
(cd "$wheel_dir" && env "${gate_env[@]}" venv/bin/chutes-conformance -n 0 -k test_d2 \
  --known-deviations D1,D3,D4,D5,D6,D7,D8,D9,D10,D11,D12,D13,D14) \
  >reports/gate-without-d2.log || status=$?
if [ "$status" -ne 1 ] || ! grep -q "looks like D2 (not listed)" reports/gate-without-d2.log; then
  cat reports/gate-without-d2.log
  echo "without D2 listed the gate exited $status and did not name D2"
  exit 1
fi
end
# Drift on the same served mock: its production mode by URL and the twin in
# this process, side by side, must not differ.
begin "drift: serve --quirks production against its twin"
CHUTES_BASE_URL="http://127.0.0.1:$port" CHUTES_HOTKEY_URI=//Alice CHUTES_HOTKEY2_URI=//Bob \
  CHUTES_REGISTRY_PASSWORD=chutes-mock-registry \
  "$BIN/pytest" -q tests/drift --known-deviations production \
  -p no:cacheprovider --junitxml=reports/drift-production.xml
stop_mocks
end reports/drift-production.xml

# -- 7. the SDK side: the example client suite and the fixture from a wheel ---
begin "examples/: a client's own tests"
bin_dir=$(cd "$BIN" && pwd)
(cd examples && "$bin_dir/pytest" -q -p no:cacheprovider --junitxml=../reports/examples.xml)
end reports/examples.xml
begin "the chutes_mock fixture from the wheel in a throwaway project"
CHUTES_SLOW_TESTS=1 "$BIN/pytest" -q -p no:cacheprovider tests/packaging \
  --junitxml=reports/wheel-fixture.xml
end reports/wheel-fixture.xml
