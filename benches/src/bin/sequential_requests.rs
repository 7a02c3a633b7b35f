//! Peak resident memory of a process that makes 10,000 sequential token requests, read after
//! 100, 1,000 and 10,000 requests: if anything grew per request, the peak would climb.
//! Prints one JSON object; `benches/run.sh` puts it in BENCHMARKS.md.

use oauth_bench::{FixedTokenServer, peak_rss_kib};
use oauth_client::{BasicAuth, OAuthAuthorization, OAuthClient};

fn main() {
    let server = FixedTokenServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let client = OAuthClient::new(server.token_url()).expect("a client");
    let auth = BasicAuth::new("bench-client", "bench-secret").header_value();
    let mut peaks = Vec::new();
    runtime.block_on(async {
        for request in 1..=10_000u32 {
            let token = client.request_token_ccg(&auth, Some("read"), None).await.expect("a token");
            assert_eq!(token.token_type, "Bearer");
            if matches!(request, 100 | 1_000 | 10_000) {
                peaks.push(format!("\"after_{request}\": {}", peak_rss_kib().unwrap_or(0)));
            }
        }
    });
    assert_eq!(server.requests(), 10_000);
    println!("{{{}}}", peaks.join(", "));
}
