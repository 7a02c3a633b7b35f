#!/usr/bin/env bash
# Installs (into ./node_modules) and starts oauth2-mock-server on 127.0.0.1:PORT (default: a
# free port). Prints the base URL on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
port="${1:-$(free_port)}"
run="$here/run"
mkdir -p "$run"
stop_pidfile "$run/server.pid"
cli="$here/node_modules/oauth2-mock-server/dist/oauth2-mock-server.mjs"
if [ ! -f "$cli" ]; then
  (cd "$here" && npm install --no-fund --no-audit --no-package-lock --loglevel=error >&2)
fi
nohup node "$cli" -a 127.0.0.1 -p "$port" >"$run/server.log" 2>&1 &
echo $! >"$run/server.pid"
wait_http "http://127.0.0.1:$port/token" "$run/server.pid" "$run/server.log"
echo "http://127.0.0.1:$port"
