#!/usr/bin/env bash
# The test command (`make test`, and CI through .ci/run):
#   1. lint (ruff check, ruff format --check);
#   2. every suite against the mock in this process;
#   3. the conformance suites through the URL mode, against `chutes-mock serve`
#      started on a free port, the way a staging run works; then stop it.
# Reports (JUnit XML, server log) go to reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
mkdir -p reports

echo "== lint"
"$BIN/ruff" check .
"$BIN/ruff" format --check .

echo "== all suites, in-process mock"
"$BIN/pytest" -q -p no:cacheprovider --junitxml=reports/in-process.xml

echo "== conformance suites, URL mode against chutes-mock serve"
port=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
"$BIN/chutes-mock" serve --port "$port" --no-control --log-level warning >reports/serve.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if "$BIN/python" -c "import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen('$url/registry/auth', timeout=1)
except urllib.error.HTTPError:
    sys.exit(0)
except OSError:
    sys.exit(1)" 2>/dev/null; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "chutes-mock serve exited:"; cat reports/serve.log; exit 1; fi
  sleep 0.1
done
CHUTES_HOTKEY_URI=//Alice CHUTES_HOTKEY2_URI=//Bob CHUTES_REGISTRY_PASSWORD=chutes-mock-registry \
  "$BIN/pytest" -q -p no:cacheprovider tests/contract tests/property \
  --base-url "$url" --max-keys 1000 --junitxml=reports/url-mode.xml
