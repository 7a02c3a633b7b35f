#!/usr/bin/env bash
# Stops the server that ./start.sh started, by its recorded PID only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
stop_pidfile "$here/run/server.pid"
