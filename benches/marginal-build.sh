#!/usr/bin/env bash
# What adding an OAuth client costs a service's release build: a small service that already
# uses reqwest 0.13 (its defaults), tokio and serde is built once; then, from a copy of that
# build, once with oauth-client (default features) added and once with oauth2 5 (feature
# `reqwest`) added. Prints "LABEL seconds" lines for run.sh's report:
#   bash benches/marginal-build.sh WORK_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$1"
seconds() { python3 -c 'import time; print(f"{time.time():.3f}")'; }

service="$work/service"
mkdir -p "$service/src"
manifest() { # manifest EXTRA_DEPENDENCY_LINE
  cat >"$service/Cargo.toml" <<TOML
[package]
name = "service"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
reqwest = { version = "0.13", features = ["json"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
serde = { version = "1", features = ["derive"] }
$1

[workspace]
TOML
}
write_main() { # write_main EXTRA_STATEMENT
  cat >"$service/src/main.rs" <<RS
#[derive(serde::Deserialize)]
struct Health { ok: bool }

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let health: Health = reqwest::Client::new().get("http://127.0.0.1:9/health").send().await?.json().await?;
    $1
    println!("{}", health.ok);
    Ok(())
}
RS
}

manifest ""
write_main ""
cargo generate-lockfile -q --manifest-path "$service/Cargo.toml"
CARGO_TARGET_DIR="$work/target-service" cargo build -q --release --manifest-path "$service/Cargo.toml"

marginal() { # marginal LABEL DEPENDENCY_LINE STATEMENT
  rm -rf "$work/target-added"
  cp -a "$work/target-service" "$work/target-added"
  manifest "$2"
  write_main "$3"
  local start end
  start=$(seconds)
  CARGO_TARGET_DIR="$work/target-added" cargo build -q --release --manifest-path "$service/Cargo.toml" >&2
  end=$(seconds)
  python3 -c "print('$1', round($end - $start, 1))"
}
marginal marginal_oauth_client "oauth-client = { path = \"$root/oauth-client\" }" \
  'let _client = oauth_client::OAuthClient::new("https://auth.example.com/token")?;'
marginal marginal_oauth2 'oauth2 = { version = "5", features = ["reqwest"] }' \
  'let _client = oauth2::basic::BasicClient::new(oauth2::ClientId::new("id".into()));'
rm -rf "$work/target-added" "$work/target-service"
