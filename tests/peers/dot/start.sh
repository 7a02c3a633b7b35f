#!/usr/bin/env bash
# Installs (into ./.venv) and starts django-oauth-toolkit on 127.0.0.1:PORT (default: a free
# port), with a fresh database and the test fixtures. Prints the base URL on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
port="${1:-$(free_port)}"
run="$here/run"
mkdir -p "$run"
stop_pidfile "$run/server.pid"
if ! "$here/.venv/bin/python" -c 'import oauth2_provider' 2>/dev/null; then
  python3 -m venv "$here/.venv" >&2
  "$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
fi
python="$here/.venv/bin/python"
rm -f "$run/db.sqlite3"
export PEER_RUN_DIR="$run" PEER_BASE_URL="http://127.0.0.1:$port"
cd "$here/project"
"$python" manage.py migrate --verbosity 0 >&2
"$python" manage.py seed_fixtures >&2
nohup "$python" manage.py runserver "127.0.0.1:$port" --noreload >"$run/server.log" 2>&1 &
echo $! >"$run/server.pid"
wait_http "http://127.0.0.1:$port/o/token/" "$run/server.pid" "$run/server.log"
echo "http://127.0.0.1:$port"
