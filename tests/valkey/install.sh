#!/usr/bin/env bash
# Installs valkey-server and valkey-cli from Debian's backports of this release (Valkey is not
# in bookworm itself), from the same archive mirror the system's own sources name. Run as
# root on Debian; does nothing when valkey-server is already on the PATH. The token store
# tests then run on it with OAUTH_TEST_REDIS=valkey (tests/tests/it/redis_store.rs).
set -euo pipefail
if command -v valkey-server >/dev/null; then
  exit 0
fi
. /etc/os-release
suite="$VERSION_CODENAME-backports"
list=/etc/apt/sources.list.d/oauth-client-tests-backports.sources
if ! grep -rqs "$suite" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  if [ -z "$mirror" ]; then
    mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
  fi
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$suite" >"$list"
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t "$suite" valkey-server >/dev/null
