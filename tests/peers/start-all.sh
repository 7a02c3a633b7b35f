#!/usr/bin/env bash
# Starts the interop servers and writes their URLs to run/peers.env, to be sourced:
#   bash tests/peers/start-all.sh && source tests/peers/run/peers.env
#   cargo test -p oauth-client-tests --test it interop -- --include-ignored
#   bash tests/peers/stop-all.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$here/run"
dot_url="$(bash "$here/dot/start.sh")"
mock_url="$(bash "$here/mock/start.sh")"
# A server that cannot start stops the script: an assignment keeps the script's exit status,
# a here-string would not.
oidc_line="$(bash "$here/oidc/start.sh")"
read -r oidc_url oidc_mtls_url oidc_certs <<<"$oidc_line"
authlib_url="$(bash "$here/authlib/start.sh")"
pds_line="$(bash "$here/atproto/start.sh")"
read -r pds_url plc_url <<<"$pds_line"
cat >"$here/run/peers.env" <<ENV
export OAUTH_PEER_DOT_URL=$dot_url
export OAUTH_PEER_MOCK_URL=$mock_url
export OAUTH_PEER_OIDC_URL=$oidc_url
export OAUTH_PEER_OIDC_MTLS_URL=$oidc_mtls_url
export OAUTH_PEER_OIDC_CERTS=$oidc_certs
export OAUTH_PEER_AUTHLIB_URL=$authlib_url
export OAUTH_PEER_PDS_URL=$pds_url
export OAUTH_PEER_PLC_URL=$plc_url
ENV
echo "django-oauth-toolkit: $dot_url" >&2
echo "oauth2-mock-server:   $mock_url" >&2
echo "oidc-provider:        $oidc_url (mTLS: $oidc_mtls_url)" >&2
echo "Authlib:              $authlib_url" >&2
echo "AT Protocol PDS:      $pds_url (PLC directory: $plc_url)" >&2
