# Shared by the peer scripts: free-port lookup, readiness wait, stop by recorded PID.
# Everything binds to 127.0.0.1; every process is stopped by the PID this folder recorded.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL PIDFILE LOG: until URL answers any HTTP status (the server is up), for 60 s.
wait_http() {
  local url="$1" pidfile="$2" log="$3"
  for _ in $(seq 1 600); do
    if python3 - "$url" <<'PY' 2>/dev/null
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b"", method="POST"), timeout=1)
except urllib.error.HTTPError:
    pass
PY
    then return 0; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "server exited before it was ready; its log:" >&2; cat "$log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "server not ready after 60 s; its log:" >&2; cat "$log" >&2; return 1
}

# stop_pidfile PIDFILE: TERM, then KILL after 5 s, only the recorded PID.
stop_pidfile() {
  local pidfile="$1" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
}
