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
use oauth_client_tests::{serve, token_json as token};
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

const CCG: (&str, &str) = ("source", "client_credentials");

/// One refresh: two readers, the second served from the cache; one token request.
#[test]
fn one_refresh_is_one_request_one_miss_and_then_hits() {
    let recorded = recorded(|| async {
        let (_server, client) = serve(ResponseTemplate::new(200).set_body_json(token())).await;
        let tokens = TokenManager::builder(client, ClientCredentials::new()).build();
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

/// Cache hits are counted by each reading thread and reach the recorder 64 at a time and when
/// the thread ends or the manager is dropped: every hit once, whichever thread read.
#[test]
fn hits_on_several_threads_are_each_counted_once() {
    let recorded = recorded(|| async {
        let (_server, client) = serve(ResponseTemplate::new(200).set_body_json(token())).await;
        let tokens = TokenManager::builder(client, ClientCredentials::new()).build();
        tokens.access_token().await.unwrap();
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let tokens = tokens.clone();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
                    for _ in 0..100 {
                        runtime.block_on(tokens.access_token()).unwrap();
                    }
                })
            })
            .collect();
        for reader in readers {
            reader.join().unwrap();
        }
        for _ in 0..10 {
            tokens.token().await.unwrap();
        }
    });
    assert_eq!(recorded.counter(MANAGER_READS, &[CCG, ("result", "hit")]), 310);
    assert_eq!(recorded.counter(MANAGER_READS, &[CCG, ("result", "miss")]), 1);
}

/// One failure, then a call during the backoff: one request (its error code as a label),
/// one failed refresh, one rejection without a request.
#[test]
fn a_failure_then_a_call_in_backoff() {
    let recorded = recorded(|| async {
        let refusal = ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"}));
        let (server, client) = serve(refusal).await;
        let tokens = TokenManager::builder(client, ClientCredentials::new()).build();
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
        let (_server, client) = serve(ResponseTemplate::new(200).set_body_json(token())).await;
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://{}/", closed.local_addr().unwrap());
        drop(closed);
        let store = Arc::new(RedisStore::new(&url).unwrap());
        let tokens = TokenManager::builder(client, ClientCredentials::new()).store(store, "down").build();
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

/// The value of the Prometheus series `name` carrying every one of `labels`, in `text`
/// (the exposition format); 0 when absent.
fn prometheus_value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .filter(|line| labels.iter().all(|(key, value)| line.contains(&format!("{key}=\"{value}\""))))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// GETs `url` (a plain HTTP/1.1 exchange with the example's own server).
fn scrape(url: &str) -> String {
    use std::io::{Read as _, Write as _};
    let address = url.trim_start_matches("http://").trim_end_matches("/metrics");
    let mut socket = std::net::TcpStream::connect(address).unwrap();
    let request = format!("GET /metrics HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).unwrap();
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

/// Issue "Operate it in production": three processes of the metrics example
/// (`examples/examples/metrics_service.rs`, Prometheus' exporter) share client-credentials
/// tokens through Redis. Scraped during the run, their cache hits grow; scraped after it,
/// their token requests add up to the provider's own count of token requests, and every
/// process's refreshes are either its own requests or the shared token taken from the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH and the examples built (cargo test --workspace builds them)"]
async fn a_fleet_s_scraped_counters_match_the_provider_s_count() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let _serial = crate::redis_store::ONE_AT_A_TIME.lock().await;
    let redis = crate::redis_store::RedisServer::start();
    let (_server, provider, url) =
        crate::redis_store::rotating(oauth_client_tests::fleet::RotatingProvider::new(2)).await;
    let example =
        std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("examples/metrics_service");
    assert!(example.exists(), "{} is built by cargo test --workspace", example.display());
    let mut services: Vec<(
        std::process::Child,
        std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
        String,
    )> = (0..3)
        .map(|_| {
            let mut child = Command::new(&example)
                .env("TOKEN_URL", &url)
                .env("REDIS_URL", &redis.url)
                .env("RUN_MS", "5000")
                .env("SERVE_AFTER", "1")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
            let first = lines.next().unwrap().unwrap();
            let metrics = first.strip_prefix("metrics: ").expect("the metrics URL first").to_owned();
            (child, lines, metrics)
        })
        .collect();

    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let hits = [("source", "client_credentials"), ("result", "hit")];
    let during: Vec<f64> = services
        .iter()
        .map(|(_, _, url)| prometheus_value(&scrape(url), "oauth_client_token_manager_reads", &hits))
        .collect();
    assert!(during.iter().all(|hits| *hits > 0.0), "scraped mid-run: {during:?}");

    let mut after = Vec::new();
    for (_, lines, url) in &mut services {
        let done = tokio::task::block_in_place(|| lines.next()).unwrap().unwrap();
        assert_eq!(done, "done");
        after.push(scrape(url));
    }
    let success = [("endpoint", "token"), ("outcome", "success")];
    let requests: f64 =
        after.iter().map(|text| prometheus_value(text, "oauth_client_requests", &success)).sum();
    let fetched: f64 = after
        .iter()
        .map(|text| prometheus_value(text, "oauth_client_token_manager_refreshes", &[("outcome", "fetched")]))
        .sum();
    let from_store: f64 = after
        .iter()
        .map(|text| {
            prometheus_value(text, "oauth_client_token_manager_refreshes", &[("outcome", "from_store")])
        })
        .sum();
    let counted = provider.events().len() as f64;
    assert_eq!(requests, counted, "the services' token requests are the provider's");
    assert_eq!(fetched, counted, "each request was one refresh");
    assert!(from_store > 0.0, "the others took the shared token");
    let hits_after: Vec<f64> =
        after.iter().map(|text| prometheus_value(text, "oauth_client_token_manager_reads", &hits)).collect();
    assert!(
        hits_after.iter().zip(&during).all(|(after, during)| after > during),
        "{hits_after:?} {during:?}"
    );

    for (mut child, _, _) in services {
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
    }
}
