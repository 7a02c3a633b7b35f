#!/usr/bin/env bash
# Runs every benchmark of issue "Benchmarks" on this machine and writes BENCHMARKS.md:
#   bash benches/run.sh
# 1-4: `cargo bench -p oauth-bench` (divan: round trips, token manager read path — also with
# the metrics feature and a Prometheus recorder — stampede);
# 5: peak RSS over 10,000 sequential requests; 6: clean release build times and the macro's
# expansion cost; 7: a fleet of processes sharing a token through Redis, Redis killed mid-run;
# 9: AT Protocol sign-in against a real PDS (started here unless OAUTH_PEER_PDS_URL is set).
# Takes about 10-15 minutes on 2 cores, most of it the clean builds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CARGO_TERM_COLOR=never

seconds() { python3 -c 'import sys, time; print(f"{time.time():.3f}")'; }
timed() { # timed LABEL COMMAND...: runs it and appends "LABEL seconds" to $work/times
  local label="$1"; shift
  local start end
  start=$(seconds)
  "$@" >"$work/$label.log" 2>&1 || { cat "$work/$label.log" >&2; exit 1; }
  end=$(seconds)
  python3 -c "print('$label', round($end - $start, 1))" >>"$work/times"
}

run_started=$(seconds)
echo "== 1-4: cargo bench -p oauth-bench" >&2
# Default features: rustls, signatures (JWT, DPoP, ID tokens) on aws-lc-rs.
cargo bench -p oauth-bench --bench oauth 2>/dev/null | tee "$work/divan.txt" >&2
echo "== 3: the read path with metrics on (feature metrics, a Prometheus recorder installed)" >&2
cargo bench -p oauth-bench --bench oauth --features metrics -- cached_access_token_with_metrics 2>/dev/null \
  | tee "$work/divan-metrics.txt" >&2
echo "== 2: the crypto pairs with native-tls instead (signatures on RustCrypto)" >&2
OAUTH_BENCH_ONLY=crypto cargo bench -p oauth-bench --bench oauth --no-default-features --features native-tls \
  2>/dev/null | tee "$work/crypto-native-tls.txt" >&2

echo "== 1: instructions per round trip (callgrind), generated vs hand-written" >&2
cargo build --release -q -p oauth-bench --bin profile_round_trip
if command -v valgrind >/dev/null; then
  for which in generated hand_written; do
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.$which" \
      "${CARGO_TARGET_DIR:-target}/release/profile_round_trip" "$which" 2>"$work/callgrind.$which.log" \
      || { cat "$work/callgrind.$which.log" >&2; exit 1; }
    total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/callgrind.$which.log")
    echo "instructions_$which $total" >>"$work/times"
  done
else
  echo "valgrind not installed: skipping the instruction counts" >&2
fi

echo "== 5: peak memory over 10,000 sequential requests" >&2
cargo build --release -q -p oauth-bench --bin sequential_requests
"${CARGO_TARGET_DIR:-target}/release/sequential_requests" | tee "$work/memory.json" >&2

echo "== 6: clean release builds, side by side" >&2
# Default features (rustls on aws-lc-rs), from nothing.
timed build_oauth_client env CARGO_TARGET_DIR="$work/target-oauth-client" cargo build --release -p oauth-client
rm -rf "$work/target-oauth-client"
# oauth2 with its default features (reqwest + rustls), as a user's crate depending on it alone.
mkdir -p "$work/oauth2-user/src"
printf '[package]\nname = "oauth2-user"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\noauth2 = "5"\n\n[workspace]\n' \
  >"$work/oauth2-user/Cargo.toml"
echo 'pub use oauth2;' >"$work/oauth2-user/src/lib.rs"
cargo generate-lockfile -q --manifest-path "$work/oauth2-user/Cargo.toml"
timed build_oauth2 env CARGO_TARGET_DIR="$work/target-oauth2" cargo build --release --manifest-path "$work/oauth2-user/Cargo.toml"
rm -rf "$work/target-oauth2"

echo "== 6: marginal build cost in a service that already uses reqwest, tokio and serde" >&2
bash "$root/benches/marginal-build.sh" "$work" >>"$work/times"

echo "== 6: macro expansion cost, 100 grants vs 1" >&2
for grants in 1 100; do
  crate="$work/grants-$grants"
  mkdir -p "$crate/src"
  cat >"$crate/Cargo.toml" <<TOML
[package]
name = "grants-$grants"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
oauth-client = { path = "$root/oauth-client" }

[workspace]
TOML
  python3 - "$grants" >"$crate/src/lib.rs" <<'PY'
import sys
n = int(sys.argv[1])
print("use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};")
print("#[allow(missing_docs)]")
print("pub trait Generated: TokenEndpoint {")
for i in range(n):
    print(f'''    #[oauth_grant(grant_type = "urn:example:grant-{i}")]
    async fn grant_{i}(&self, #[header("Authorization")] authorization: &str, #[form] subject: &str,
        #[form(rename = "aud")] audience: Option<&str>, #[form_params] additional: Option<&FormParams>) -> Result<OAuthToken, Error>;''')
print("}")
print("impl Generated for oauth_client::OAuthClient {}")
PY
  # Dependencies first (not timed), then the crate alone, three times.
  CARGO_TARGET_DIR="$work/target-grants" cargo build -q --manifest-path "$crate/Cargo.toml"
  for run in 1 2 3; do
    touch "$crate/src/lib.rs"
    timed "grants_${grants}_run_$run" env CARGO_TARGET_DIR="$work/target-grants" cargo build --manifest-path "$crate/Cargo.toml"
  done
done

echo "== 7: a fleet of 8 processes sharing a token through Redis, Redis killed mid-run" >&2
if ! command -v redis-server >/dev/null; then
  echo "redis-server is not installed (apt-get install redis-server): the fleet figures need it" >&2
  exit 1
fi
cargo test -q -p oauth-client-tests --test it redis_store::fleet_figures -- --ignored --nocapture \
  2>"$work/fleet.log" | sed -n 's/^FLEET_FIGURES //p' >"$work/fleet.json" || { cat "$work/fleet.log" >&2; exit 1; }
echo "== 7: requests per refresh window with 8 and 32 processes" >&2
cargo test -q -p oauth-client-tests --test it redis_store::fleet_window_figures -- --ignored --nocapture \
  2>"$work/windows.log" | sed -n 's/^FLEET_WINDOWS //p' >"$work/windows.json" || { cat "$work/windows.log" >&2; exit 1; }
echo "== 7: a Sentinel failover under a rotating fleet" >&2
cargo test -q -p oauth-client-tests --test it redis_store::a_sentinel_failover_mid_run_loses_no_rotated_refresh_token \
  -- --ignored --nocapture 2>&1 | sed -n 's/^SENTINEL_FAILOVER //p' >"$work/failover.json" || exit 1

echo "== 9: AT Protocol, from a handle to the first XRPC response, against a real PDS" >&2
started_pds=""
if [ -z "${OAUTH_PEER_PDS_URL:-}" ]; then
  read -r OAUTH_PEER_PDS_URL OAUTH_PEER_PLC_URL <<<"$(bash tests/peers/atproto/start.sh)"
  export OAUTH_PEER_PDS_URL OAUTH_PEER_PLC_URL
  started_pds=yes
fi
cargo test -q -p oauth-client-tests --test it atproto::sign_in_figures -- --ignored --nocapture \
  2>"$work/atproto.log" | sed -n 's/^ATPROTO_FIGURES //p' >"$work/atproto.json" || { cat "$work/atproto.log" >&2; exit 1; }
if [ -n "$started_pds" ]; then bash tests/peers/atproto/stop.sh; fi

python3 -c "print('whole_run', round($(seconds) - $run_started))" >>"$work/times"
python3 benches/report.py "$work/divan.txt" "$work/memory.json" "$work/times" "$work/fleet.json" \
  "$work/crypto-native-tls.txt" "$work/atproto.json" "$work/divan-metrics.txt" "$work/windows.json" \
  "$work/failover.json" >BENCHMARKS.md
echo "wrote BENCHMARKS.md" >&2
