#!/usr/bin/env bash
# Stops the interop servers, by the PIDs their start scripts recorded.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/dot/stop.sh"
bash "$here/mock/stop.sh"
bash "$here/oidc/stop.sh"
bash "$here/authlib/stop.sh"
bash "$here/atproto/stop.sh"
rm -f "$here/run/peers.env"
