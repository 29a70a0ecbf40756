#!/usr/bin/env bash
# The test command (`make test`, and CI through .ci/run). One section a step:
#   1. lint: ruff check, ruff format --check;
#   2. the wheel: built, installed into a fresh venv at the pinned versions,
#      its packaged contract equal to openapi/, and `chutes-mock serve` from
#      there answers;
#   3. every suite against the mock in this process;
#   4. the conformance suites through the URL mode, against `chutes-mock serve`
#      started on a free port, the way a staging run works; then README's gate
#      command on `serve --quirks production` (green, no key-budget warning),
#      and drift on that served mock against its in-process twin;
#   5. examples/ and the chutes_mock fixture from the wheel (tests/packaging).
# Reports (JUnit XML, server logs) go to reports/. To add a step, add a
# section below; start servers with start_mock, which stops them on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
PINS=constraints.txt
mkdir -p reports

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
trap cleanup EXIT
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
echo "== lint"
"$BIN/ruff" check .
"$BIN/ruff" format --check .

# -- 2. the wheel, on its own ------------------------------------------------
echo "== wheel: build, install into a fresh venv, serve from there"
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
start_mock "$wheel_dir/venv/bin/chutes-mock" "$(free_port)" reports/wheel-serve.log \
  --no-control --log-level warning
stop_mocks
echo "the wheel's chutes-mock serve answers"

# -- 3. every suite, in-process ----------------------------------------------
echo "== all suites, in-process mock"
"$BIN/pytest" -q -p no:cacheprovider --junitxml=reports/in-process.xml

# -- 4. conformance suites by URL --------------------------------------------
echo "== conformance suites, URL mode against chutes-mock serve"
port=$(free_port)
start_mock "$BIN/chutes-mock" "$port" reports/serve.log --no-control --log-level warning
CHUTES_HOTKEY_URI=//Alice CHUTES_HOTKEY2_URI=//Bob CHUTES_REGISTRY_PASSWORD=chutes-mock-registry \
  "$BIN/pytest" -q -p no:cacheprovider tests/contract tests/property \
  --base-url "http://127.0.0.1:$port" --junitxml=reports/url-mode.xml
stop_mocks

# The README's gate command, as written, on production's known deviations:
# green, and the default key budget covers the whole run (no warning).
echo "== the gate as README.md writes it, against chutes-mock serve --quirks production"
port=$(free_port)
start_mock "$BIN/chutes-mock" "$port" reports/serve-production.log --no-control \
  --log-level warning --quirks production
CHUTES_BASE_URL="http://127.0.0.1:$port" CHUTES_HOTKEY_URI=//Alice CHUTES_HOTKEY2_URI=//Bob \
  CHUTES_REGISTRY_PASSWORD=chutes-mock-registry \
  "$BIN/pytest" tests/contract tests/property --known-deviations production \
  -p no:cacheprovider --junitxml=reports/gate-production.xml | tee reports/gate-production.log
if grep -E "leaves room|KeyBudgetWarning" reports/gate-production.log; then
  echo "the default key budget did not cover the gate's run"
  exit 1
fi
# Drift on the same served mock: its production mode by URL and the twin in
# this process, side by side, must not differ.
echo "== drift: chutes-mock serve --quirks production against its twin"
CHUTES_BASE_URL="http://127.0.0.1:$port" CHUTES_HOTKEY_URI=//Alice CHUTES_HOTKEY2_URI=//Bob \
  CHUTES_REGISTRY_PASSWORD=chutes-mock-registry \
  "$BIN/pytest" -q tests/drift --known-deviations production \
  -p no:cacheprovider --junitxml=reports/drift-production.xml
stop_mocks

# -- 5. the SDK side: the example client suite and the fixture from a wheel ---
echo "== examples/: a client's own tests, with the chutes_mock fixture and the journal"
bin_dir=$(cd "$BIN" && pwd)
(cd examples && "$bin_dir/pytest" -q -p no:cacheprovider --junitxml=../reports/examples.xml)
echo "== the chutes_mock fixture in a throwaway project that installs only the wheel"
CHUTES_SLOW_TESTS=1 "$BIN/pytest" -q -p no:cacheprovider tests/packaging \
  --junitxml=reports/wheel-fixture.xml
