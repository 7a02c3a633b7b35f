//! Runs 2,000 client-credentials round trips with one implementation, for a profiler:
//! `valgrind --tool=callgrind target/release/profile_round_trip generated` (or `hand_written`).
//! Counting instructions, not time, makes the two directly comparable on a noisy machine.

use oauth_bench::FixedTokenServer;
use oauth_client::{BasicAuth, OAuthAuthorization, OAuthClient, OAuthToken};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "generated".into());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let server = FixedTokenServer::start_on(runtime.handle());
    let auth = BasicAuth::new("bench-client", "bench-secret").header_value();
    let client = OAuthClient::new(server.token_url()).expect("a client");
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
    let url = server.token_url();
    runtime.block_on(async {
        for _ in 0..2_000 {
            let token: OAuthToken = if which == "generated" {
                client.request_token_ccg(&auth, Some("read"), None).await.expect("a token")
            } else {
                let body = "grant_type=client_credentials&scope=read";
                let response = http
                    .post(&url)
                    .header(AUTHORIZATION, &auth)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(ACCEPT, "application/json")
                    .timeout(std::time::Duration::from_secs(30))
                    .body(body)
                    .send()
                    .await
                    .expect("an answer");
                serde_json::from_slice(&response.bytes().await.expect("a body")).expect("a token")
            };
            std::hint::black_box(token);
        }
    });
}
