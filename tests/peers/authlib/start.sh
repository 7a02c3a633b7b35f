#!/usr/bin/env bash
# Installs (into ./.venv) and starts the Authlib authorization server on 127.0.0.1:PORT
# (default: a free port). Prints the base URL on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
port="${1:-$(free_port)}"
run="$here/run"
mkdir -p "$run"
stop_pidfile "$run/server.pid"
if ! "$here/.venv/bin/python" -c 'import authlib, flask' 2>/dev/null; then
  python3 -m venv "$here/.venv" >&2
  "$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
fi
nohup "$here/.venv/bin/python" "$here/server.py" "$port" "$here/../../fixtures" >"$run/server.log" 2>&1 &
echo $! >"$run/server.pid"
wait_http "http://127.0.0.1:$port/token" "$run/server.pid" "$run/server.log"
echo "http://127.0.0.1:$port"
