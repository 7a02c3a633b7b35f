//! Runs 2,000 client-credentials round trips with one implementation, for a profiler:
//! `valgrind --tool=callgrind target/release/profile_round_trip generated` (or `hand_written`).
//! Counting instructions, not time, makes the two directly comparable on a noisy machine.

use oauth_bench::{FixedTokenServer, hand_written, reqwest_client};
use oauth_client::{BasicAuth, OAuthAuthorization, OAuthClient, OAuthToken};

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "generated".into());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let server = FixedTokenServer::start_on(runtime.handle());
    let auth = BasicAuth::new("bench-client", "bench-secret").header_value();
    let client = OAuthClient::new(server.token_url()).expect("a client");
    let http = reqwest_client();
    let url = server.token_url();
    runtime.block_on(async {
        for _ in 0..2_000 {
            let token: OAuthToken = if which == "generated" {
                client.request_token_ccg(&auth, Some("read"), None).await.expect("a token")
            } else {
                hand_written(&http, &url, &auth).await
            };
            std::hint::black_box(token);
        }
    });
}
