//! Issue "Operate it in production": what the library counts, read back from a recorder that
//! keeps every value, for scripted scenarios with exact counts — one refresh, one failure in
//! backoff, one nonce retry, one store outage. Each scenario runs on a current-thread runtime
//! inside `metrics::with_local_recorder`, so only its own values reach its recorder.

use std::future::Future;

use metrics::{SharedString, Unit};
use metrics_util::CompositeKey;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use oauth_client::dpop::DpopKey;
use oauth_client::manager::{ClientCredentials, RedisStore};
use oauth_client::telemetry::{
    AUTOMATIC_RETRIES, MANAGER_BACKOFF_REJECTIONS, MANAGER_READS, MANAGER_REFRESHES, MANAGER_WAITERS,
    REQUEST_DURATION, REQUESTS, STORE_FALLBACKS, STORE_OPERATIONS,
};
use oauth_client::{ClientAuth, OAuthClient, TokenManager};
use oauth_client_tests::token_json as token;
use serde_json::json;
use std::sync::Arc;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs `scenario` with a recorder of its own; what it recorded.
fn recorded<F: Future<Output = ()>>(scenario: impl FnOnce() -> F) -> Recorded {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    metrics::with_local_recorder(&recorder, || runtime.block_on(scenario()));
    // Taken once: a snapshot drains the histograms.
    Recorded(snapshotter.snapshot().into_vec())
}

/// Every series recorded, with its value.
struct Recorded(Vec<(CompositeKey, Option<Unit>, Option<SharedString>, DebugValue)>);

impl Recorded {
    /// The counter `name` with exactly `labels`; 0 when never incremented.
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.values(name, labels)
            .into_iter()
            .map(|value| match value {
                DebugValue::Counter(count) => *count,
                other => panic!("{name} is not a counter: {other:?}"),
            })
            .sum()
    }

    /// How many values the histogram `name` with exactly `labels` recorded.
    fn histogram_count(&self, name: &str, labels: &[(&str, &str)]) -> usize {
        self.values(name, labels)
            .into_iter()
            .map(|value| match value {
                DebugValue::Histogram(values) => values.len(),
                other => panic!("{name} is not a histogram: {other:?}"),
            })
            .sum()
    }

    /// Every series of `name`, as `labels=...` strings, for a failure message.
    fn series(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, ..)| key.key().name() == name)
            .map(|(key, _, _, value)| format!("{:?} {value:?}", key.key().labels().collect::<Vec<_>>()))
            .collect()
    }

    fn values(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&DebugValue> {
        let mut wanted: Vec<(String, String)> =
            labels.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect();
        wanted.sort();
        self.0
            .iter()
            .filter(|(key, ..)| {
                let mut have: Vec<(String, String)> = key
                    .key()
                    .labels()
                    .map(|label| (label.key().to_owned(), label.value().to_owned()))
                    .collect();
                have.sort();
                key.key().name() == name && have == wanted
            })
            .map(|(_, _, _, value)| value)
            .collect()
    }
}

fn client(server: &MockServer) -> OAuthClient {
    OAuthClient::builder(format!("{}/token", server.uri()))
        .client_auth(ClientAuth::client_secret_basic("app", "secret"))
        .build()
        .unwrap()
}

const CCG: (&str, &str) = ("source", "client_credentials");

/// One refresh: two readers, the second served from the cache; one token request.
#[test]
fn one_refresh_is_one_request_one_miss_and_then_hits() {
    let recorded = recorded(|| async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token()))
            .mount(&server)
            .await;
        let tokens = TokenManager::builder(client(&server), ClientCredentials::new()).build();
        tokens.access_token().await.unwrap();
        tokens.access_token().await.unwrap();
        tokens.token().await.unwrap();
    });
    let success =
        [("endpoint", "token"), ("grant", "client_credentials"), ("outcome", "success"), ("error", "none")];
    assert_eq!(recorded.counter(REQUESTS, &success), 1, "{:?}", recorded.series(REQUESTS));
    assert_eq!(
        recorded.histogram_count(REQUEST_DURATION, &[("endpoint", "token"), ("outcome", "success")]),
        1
    );
    assert_eq!(recorded.counter(MANAGER_READS, &[CCG, ("result", "miss")]), 1);
    assert_eq!(recorded.counter(MANAGER_READS, &[CCG, ("result", "hit")]), 2);
    assert_eq!(recorded.counter(MANAGER_REFRESHES, &[CCG, ("outcome", "fetched")]), 1);
    assert_eq!(recorded.counter(MANAGER_WAITERS, &[CCG]), 0);
}

/// One failure, then a call during the backoff: one request (its error code as a label),
/// one failed refresh, one rejection without a request.
#[test]
fn a_failure_then_a_call_in_backoff() {
    let recorded = recorded(|| async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})))
            .mount(&server)
            .await;
        let tokens = TokenManager::builder(client(&server), ClientCredentials::new()).build();
        tokens.access_token().await.unwrap_err();
        tokens.access_token().await.unwrap_err();
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    });
    let refused = [
        ("endpoint", "token"),
        ("grant", "client_credentials"),
        ("outcome", "provider_error"),
        ("error", "invalid_client"),
    ];
    assert_eq!(recorded.counter(REQUESTS, &refused), 1, "{:?}", recorded.series(REQUESTS));
    assert_eq!(recorded.counter(MANAGER_REFRESHES, &[CCG, ("outcome", "failed")]), 1);
    assert_eq!(recorded.counter(MANAGER_BACKOFF_REJECTIONS, &[CCG]), 1);
    assert_eq!(recorded.counter(MANAGER_READS, &[CCG, ("result", "miss")]), 2);
}

/// A DPoP server asks for a nonce: the request is sent again once, and counted once.
#[test]
fn a_nonce_challenge_is_one_automatic_retry() {
    let recorded = recorded(|| async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400)
                    .insert_header("DPoP-Nonce", "n-1")
                    .set_body_json(json!({"error": "use_dpop_nonce"})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "at", "token_type": "DPoP", "expires_in": 60})),
            )
            .mount(&server)
            .await;
        let client = OAuthClient::builder(format!("{}/token", server.uri()))
            .client_auth(ClientAuth::client_secret_basic("app", "secret"))
            .dpop(DpopKey::generate().unwrap())
            .build()
            .unwrap();
        TokenManager::builder(client, ClientCredentials::new()).build().access_token().await.unwrap();
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    });
    assert_eq!(recorded.counter(AUTOMATIC_RETRIES, &[("reason", "use_dpop_nonce")]), 1);
    let success =
        [("endpoint", "token"), ("grant", "client_credentials"), ("outcome", "success"), ("error", "none")];
    assert_eq!(recorded.counter(REQUESTS, &success), 1, "one request, two attempts");
}

/// The shared store is down (nothing listens on its port): the load is counted unreachable,
/// and client credentials are fetched directly — one fallback.
#[test]
fn a_store_outage_is_counted_with_the_fallback_taken() {
    let recorded = recorded(|| async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token()))
            .mount(&server)
            .await;
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://{}/", closed.local_addr().unwrap());
        drop(closed);
        let store = Arc::new(RedisStore::new(&url).unwrap());
        let tokens =
            TokenManager::builder(client(&server), ClientCredentials::new()).store(store, "down").build();
        tokens.access_token().await.unwrap();
    });
    assert_eq!(
        recorded.counter(STORE_OPERATIONS, &[("operation", "load"), ("outcome", "unreachable")]),
        1,
        "{:?}",
        recorded.series(STORE_OPERATIONS)
    );
    assert_eq!(recorded.counter(STORE_FALLBACKS, &[("action", "direct_fetch")]), 1);
    assert_eq!(recorded.counter(MANAGER_REFRESHES, &[CCG, ("outcome", "fetched")]), 1);
}
