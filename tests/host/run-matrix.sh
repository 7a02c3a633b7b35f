#!/usr/bin/env bash
# Builds and runs the host service (src/main.rs) for each TLS setup of the host's own reqwest
# and each TLS feature of oauth-client: every combination must run. The workspace's target
# directory, so that what the combinations share with the workspace build (aws-lc's C library,
# most of the dependency tree) is compiled once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# The workspace's lock file pins the versions the workspace was tested with.
[ -f "$here/Cargo.lock" ] || cp "$root/Cargo.lock" "$here/Cargo.lock"
passed=0
failed=0
for host in host-no-tls host-rustls host-native-tls host-rustls-own-provider; do
  for ours in ours-rustls ours-native-tls; do
    printf -- '-- host reqwest: %-26s oauth-client: %s\n' "$host" "$ours"
    if cargo run -q --manifest-path "$here/Cargo.toml" --no-default-features --features "$host,$ours"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
  done
done
echo "hosts: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
