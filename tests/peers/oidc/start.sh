#!/usr/bin/env bash
# Installs (into ./node_modules) and starts oidc-provider on 127.0.0.1: the issuer over HTTP
# on a free port, and the same provider over HTTPS asking for client certificates on another,
# with certificates generated into ./run/certs. Prints "ISSUER_URL MTLS_URL CERT_DIR".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
run="$here/run"
mkdir -p "$run"
stop_pidfile "$run/server.pid"
if [ ! -f "$here/node_modules/oidc-provider/package.json" ]; then
  (cd "$here" && npm install --no-fund --no-audit --no-package-lock --loglevel=error >&2)
fi
bash "$here/certs.sh" "$run/certs"
http_port="$(free_port)"
https_port="$(free_port)"
fixtures="$here/../../fixtures"
nohup node "$here/server.mjs" "$http_port" "$https_port" "$run/certs" "$fixtures/rsa-public.pem" \
  >"$run/server.log" 2>&1 &
echo $! >"$run/server.pid"
wait_http "http://127.0.0.1:$http_port/token" "$run/server.pid" "$run/server.log"
echo "http://127.0.0.1:$http_port https://127.0.0.1:$https_port $run/certs"
