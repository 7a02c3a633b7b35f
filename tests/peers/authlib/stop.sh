#!/usr/bin/env bash
# Stops the Authlib server started by start.sh, by the PID it recorded.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
stop_pidfile "$here/run/server.pid"
