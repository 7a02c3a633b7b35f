//! Managers in a fleet sharing one token through a real Redis (`redis-server` from the
//! system, started here on a free 127.0.0.1 port and stopped by its PID).
//!
//! They are `#[ignore]`d, as they need `redis-server` on the PATH; `.ci/run` installs it and
//! runs them with the other ignored tests.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use oauth_client::manager::{ClientCredentials, RedisStore, SharedKind};
use oauth_client::{OAuthClient, TokenManager};
use oauth_client_tests::clock::ManualClock;
use oauth_client_tests::{T0, TOKEN_PATH, serve};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub(crate) struct RedisServer {
    child: Child,
    pub(crate) url: String,
}

/// One Redis test at a time: a port found free by one test could otherwise be taken by the
/// other's server before its own binds it, and both would talk to one Redis.
pub(crate) static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl RedisServer {
    pub(crate) fn start() -> RedisServer {
        for _ in 0..3 {
            match Self::try_start() {
                Ok(server) => return server,
                Err(port) => eprintln!("redis-server could not take port {port}; trying another"),
            }
        }
        panic!("redis-server did not start on any of three ports");
    }

    /// `Err(port)` when the server exited (its port was taken meanwhile).
    fn try_start() -> Result<RedisServer, u16> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self::try_start_on(port)
    }

    /// A new, empty server on the port of this stopped one (a Redis restarted after a crash).
    fn restart(&mut self) {
        let port = self.url.trim_end_matches('/').rsplit(':').next().unwrap().parse().unwrap();
        let server = Self::try_start_on(port)
            .unwrap_or_else(|port| panic!("redis-server did not restart on port {port}"));
        *self = server;
    }

    fn try_start_on(port: u16) -> Result<RedisServer, u16> {
        let spawned = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = spawned
            .unwrap_or_else(|error| panic!("redis-server could not start ({error}): is it on the PATH?"));
        let mut server = RedisServer { child, url: format!("redis://127.0.0.1:{port}/") };
        for _ in 0..100 {
            // Our process must be the one listening: it exits when the port was taken.
            if server.child.try_wait().unwrap().is_some() {
                return Err(port);
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server.stop();
        panic!("redis-server did not listen on port {port} within 5 s");
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Counts token requests; each answer is a new token after a short delay.
struct CountingProvider(Arc<AtomicUsize>);

impl Respond for CountingProvider {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let serial = self.0.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200)
            .set_body_json(
                json!({"access_token": format!("at-{serial}"), "token_type": "Bearer", "expires_in": 3600}),
            )
            .set_delay(Duration::from_millis(150))
    }
}

async fn provider() -> (MockServer, Arc<AtomicUsize>, OAuthClient) {
    let count = Arc::new(AtomicUsize::new(0));
    let (server, client) = serve(CountingProvider(count.clone())).await;
    (server, count, client)
}

/// Eight managers, each with its own Redis connection, as eight processes would have.
fn fleet(client: &OAuthClient, redis: &RedisServer, clock: &ManualClock, key: &str) -> Vec<TokenManager> {
    (0..8)
        .map(|_| {
            // Generous: a loaded CI machine must not look like a Redis outage.
            let store =
                Arc::new(RedisStore::new(&redis.url).unwrap().command_timeout(Duration::from_secs(5)));
            TokenManager::builder(client.clone(), ClientCredentials::new())
                .clock(clock.clone())
                .store(store, key)
                .build()
        })
        .collect()
}

/// Every manager asked by 25 tasks at once; returns the tokens handed out.
async fn everyone_asks(fleet: &[TokenManager]) -> Vec<Result<String, oauth_client::Error>> {
    let tasks: Vec<_> = fleet
        .iter()
        .flat_map(|manager| (0..25).map(move |_| manager.clone()))
        .map(|manager| {
            tokio::spawn(async move { manager.access_token().await.map(|t| t.secret().to_owned()) })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap());
    }
    // Awaiting thousands of join handles spends this task's cooperative budget. Yield once so
    // the test continues on a fresh one: wiremock's `MockServer::drop` blocks on an async lock
    // with a `futures` executor, which livelocks on an exhausted tokio budget (seen once in
    // CI: the test spun at 100 % CPU until killed).
    tokio::task::yield_now().await;
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn a_fleet_makes_one_token_request_per_expiry_window() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let redis = RedisServer::start();
    let (_server, count, client) = provider().await;
    let clock = ManualClock::at(T0);
    let fleet = fleet(&client, &redis, &clock, "one-request-per-window");
    for window in 0..3 {
        let tokens = everyone_asks(&fleet).await;
        assert!(
            tokens.iter().all(|token| token.as_deref().ok() == Some(format!("at-{window}").as_str())),
            "{tokens:?}"
        );
        assert_eq!(count.load(Ordering::SeqCst), window + 1, "window {window}");
        clock.advance(3600);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn when_redis_dies_callers_still_get_tokens_from_the_provider() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut redis = RedisServer::start();
    let (_server, count, client) = provider().await;
    let clock = ManualClock::at(T0);
    let fleet = fleet(&client, &redis, &clock, "outage");
    assert!(everyone_asks(&fleet).await.iter().all(Result::is_ok));
    assert_eq!(count.load(Ordering::SeqCst), 1);

    redis.stop();
    clock.advance(3600);
    let tokens = everyone_asks(&fleet).await;
    assert!(tokens.iter().all(Result::is_ok), "{tokens:?}");
    let after = count.load(Ordering::SeqCst);
    assert!((2..=9).contains(&after), "each manager calls the provider at most once: {after}");

    // Later calls use each manager's own cache: no error loop, no more requests.
    assert!(everyone_asks(&fleet).await.iter().all(Result::is_ok));
    assert_eq!(count.load(Ordering::SeqCst), after);
}

pub(crate) fn token_with(body: serde_json::Value) -> oauth_client::OAuthToken {
    serde_json::from_value(body).unwrap()
}

/// Item 3: the stored token expired with the access token (`PX = expires_in`), taking the
/// rotated refresh token with it (failed before the fix: the load found nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn a_stored_refresh_token_outlives_its_access_token() {
    use oauth_client::manager::TokenStore as _;
    let _serial = ONE_AT_A_TIME.lock().await;
    let redis = RedisServer::start();
    let store = RedisStore::new(&redis.url).unwrap().command_timeout(Duration::from_secs(5));
    let short = token_with(
        json!({"access_token": "at", "token_type": "Bearer", "expires_in": 1, "refresh_token": "rt-newest"}),
    );
    store.save("retention", &short, 0).await.unwrap().unwrap();
    let without_refresh = token_with(json!({"access_token": "at", "token_type": "Bearer", "expires_in": 1}));
    store.save("no-refresh", &without_refresh, 0).await.unwrap().unwrap();
    let with_lifetime = token_with(
        json!({"access_token": "at", "token_type": "Bearer", "expires_in": 1, "refresh_token": "rt", "refresh_token_expires_in": 1}),
    );
    store.save("refresh-lifetime", &with_lifetime, 0).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;

    let kept = store.load("retention").await.unwrap().token.expect("kept past the access token's life");
    assert_eq!(kept.refresh_token.unwrap().secret(), "rt-newest");
    assert!(store.load("no-refresh").await.unwrap().token.is_none(), "nothing worth keeping");
    assert!(
        store.load("refresh-lifetime").await.unwrap().token.is_none(),
        "the refresh token's own lifetime"
    );
}

/// Item 2: saves are compare-and-set on the version read; a late holder cannot overwrite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn redis_saves_are_fenced_by_version_and_locks_renewed_by_their_holder_only() {
    use oauth_client::manager::TokenStore as _;
    let _serial = ONE_AT_A_TIME.lock().await;
    let redis = RedisServer::start();
    let store = RedisStore::new(&redis.url).unwrap().command_timeout(Duration::from_secs(5));
    let first = token_with(json!({"access_token": "first", "token_type": "Bearer"}));
    let late = token_with(json!({"access_token": "late", "token_type": "Bearer"}));
    let version = store.save("fenced", &first, 0).await.unwrap().expect("nothing stored yet");
    assert_eq!(store.save("fenced", &late, 0).await.unwrap(), None);
    let snapshot = store.load("fenced").await.unwrap();
    assert_eq!(snapshot.token.unwrap().access_token.secret(), "first");
    assert_eq!(snapshot.version, version);
    assert!(store.save("fenced", &late, version).await.unwrap().unwrap() > version);

    let lock = store.try_lock("fenced", Duration::from_millis(300)).await.unwrap().unwrap();
    assert!(store.try_lock("fenced", Duration::from_millis(300)).await.unwrap().is_none());
    let stranger = oauth_client::manager::StoreLock { key: "fenced".into(), holder: "someone-else".into() };
    assert!(!store.renew(&stranger, Duration::from_secs(5)).await.unwrap());
    assert!(store.renew(&lock, Duration::from_secs(5)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        store.try_lock("fenced", Duration::from_millis(300)).await.unwrap().is_none(),
        "renewed past 300 ms"
    );
    store.unlock(lock).await.unwrap();
    assert!(store.try_lock("fenced", Duration::from_millis(300)).await.unwrap().is_some());
}

/// Issue "OpenID Connect": a provider's key set is shared through Redis, per `jwks_uri`,
/// for as long as the saver said.
#[tokio::test]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn redis_shares_key_sets_for_their_lifetime() {
    use oauth_client::manager::TokenStore as _;
    let _serial = ONE_AT_A_TIME.lock().await;
    let redis = RedisServer::start();
    let store = RedisStore::new(&redis.url).unwrap().command_timeout(Duration::from_secs(5));
    let uri = "https://login.example.com/jwks";
    assert_eq!(store.load_shared(SharedKind::KeySet, uri).await.unwrap(), None);
    store.save_shared(SharedKind::KeySet, uri, r#"{"keys":[]}"#, Duration::from_millis(300)).await.unwrap();
    assert_eq!(store.load_shared(SharedKind::KeySet, uri).await.unwrap().as_deref(), Some(r#"{"keys":[]}"#));
    assert_eq!(store.load_shared(SharedKind::KeySet, "https://other.example/jwks").await.unwrap(), None);
    assert_eq!(store.load_shared(SharedKind::DpopNonce, uri).await.unwrap(), None, "another kind");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(store.load_shared(SharedKind::KeySet, uri).await.unwrap(), None, "expired with its lifetime");
}

// A fleet of real processes under refresh-token rotation. The provider revokes the whole
// grant when a used refresh token comes back, so one replay anywhere shows as a `Reuse`
// event and as errors in every process.

use oauth_client_tests::fleet::{Event, Fleet, FleetPlan, RotatingProvider};

pub(crate) const WORKER: &str = env!("CARGO_BIN_EXE_fleet_worker");

/// A provider on 127.0.0.1 whose access tokens live `expires_in` seconds.
pub(crate) async fn rotating(provider: RotatingProvider) -> (MockServer, Arc<RotatingProvider>, String) {
    let provider = Arc::new(provider);
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(SharedResponder(Arc::clone(&provider))).mount(&server).await;
    let url = format!("{}{TOKEN_PATH}", server.uri());
    (server, provider, url)
}

struct SharedResponder(Arc<RotatingProvider>);

impl Respond for SharedResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

/// Refresh windows while any process was active: each token is used `expires_in - leeway`
/// seconds, counted over the union of the processes' active phases. Expiry is stamped in
/// whole seconds, so a token received mid-second is replaced up to 1 s early: each span
/// counts one second more.
pub(crate) fn refresh_windows(plan: &FleetPlan, expires_in: u64) -> usize {
    let active = |phases: &[(u64, &str)]| {
        let mut start = 0;
        let mut spans = Vec::new();
        for (ms, kind) in phases {
            if *kind == "active" {
                spans.push((start, start + ms));
            }
            start += ms;
        }
        spans
    };
    let mut spans = active(&plan.phases);
    spans.extend(active(&plan.other_phases));
    spans.sort();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let window_ms = (expires_in - plan.leeway_s) * 1000;
    merged.iter().map(|(start, end)| (end - start + 1000).div_ceil(window_ms) as usize).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn a_rotating_fleet_shares_one_grant_without_a_single_replay() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let redis = RedisServer::start();
    // Tokens live 2 s past the leeway; the idle phase outlasts an access token. The other
    // processes go idle early, so their own refresh tokens are several rotations old when
    // they come back, first, after the stored access token expired: they must refresh with
    // the newest refresh token the store kept, not their own.
    let (_server, provider, url) = rotating(RotatingProvider::new(3)).await;
    let plan = FleetPlan {
        processes: 4,
        tasks: 20,
        source: "code",
        assertion_file: None,
        phases: vec![(10_000, "active"), (4_300, "idle"), (2_500, "active")],
        other_phases: vec![(3_000, "active"), (11_000, "idle"), (2_800, "active")],
        leeway_s: 1,
        lock_ttl_ms: 2_000,
        failure_backoff_ms: 1_000,
    };
    let reports = Fleet::start(WORKER, &plan, &url, &redis.url, "rotating-fleet").reports();

    let errors: u64 = reports.iter().map(|report| report.errors).sum();
    let samples: Vec<_> = reports.iter().flat_map(|report| report.error_samples.clone()).collect();
    assert_eq!(errors, 0, "{samples:?}");
    assert!(reports.iter().all(|report| report.calls > 100), "every process was busy");
    assert_eq!(provider.count(&Event::Reuse), 0, "no refresh token was presented twice");
    assert_eq!(provider.count(&Event::Refused), 0);
    assert_eq!(provider.count(&Event::Issued), 1, "one login; every other token came from a refresh");
    // Windows over the time any process was active: 0-10 s and 14-16.8 s.
    let windows = refresh_windows(&plan, 3);
    let requests = provider.events().len();
    assert!(
        (4..=windows + 1).contains(&requests),
        "{requests} provider requests for {windows} refresh windows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn a_rotating_fleet_rides_out_a_slow_provider_and_a_failed_refresh() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let redis = RedisServer::start();
    // Each answer takes 2.5 times the lock's nominal lifetime; the second refresh fails.
    let mut provider = RotatingProvider::new(3);
    provider.delay = Duration::from_millis(2_000);
    provider.fail_refresh = Some(2);
    let (_server, provider, url) = rotating(provider).await;
    let plan = FleetPlan {
        processes: 4,
        tasks: 20,
        source: "code",
        assertion_file: None,
        phases: vec![(12_000, "active")],
        other_phases: Vec::new(),
        leeway_s: 1,
        lock_ttl_ms: 800,
        failure_backoff_ms: 1_000,
    };
    let reports = Fleet::start(WORKER, &plan, &url, &redis.url, "slow-failing-fleet").reports();

    assert_eq!(provider.count(&Event::Reuse), 0, "no refresh token was presented twice");
    assert_eq!(provider.count(&Event::Refused), 0);
    assert_eq!(provider.count(&Event::Failed), 1, "the planned failure happened");
    let events = provider.events();
    let failed_at = events.iter().position(|(_, event)| *event == Event::Failed).unwrap();
    let until_recovery = events[failed_at + 1..]
        .iter()
        .position(|(_, event)| *event == Event::Rotated)
        .expect("the fleet recovered after the failure");
    assert!(
        until_recovery < plan.processes,
        "{until_recovery} other requests between the failure and the recovery"
    );
    // Callers see the failure only while it is fresh; they see no replay fallout.
    let samples: Vec<_> = reports.iter().flat_map(|report| report.error_samples.clone()).collect();
    assert!(
        samples.iter().all(|message| message.contains("503") || message.contains("moments ago")),
        "{samples:?}"
    );
    assert!(reports.iter().all(|report| report.tokens.len() >= 2), "every process moved on to new tokens");
}

/// The fleet figures of BENCHMARKS.md (run by `benches/run.sh`): 8 processes sharing a
/// token for 15 s, Redis killed at 6 s and restarted (empty) at 9 s: provider requests per
/// refresh window in each period, and the errors callers saw; for client credentials and
/// for a rotating grant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by benches/run.sh"]
async fn fleet_figures() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut figures = serde_json::Map::new();
    for source in ["ccg", "code"] {
        let mut redis = RedisServer::start();
        let (_server, provider, url) = rotating(RotatingProvider::new(3)).await;
        let plan = FleetPlan {
            processes: 8,
            tasks: 20,
            source,
            assertion_file: None,
            phases: vec![(15_000, "active")],
            other_phases: Vec::new(),
            leeway_s: 1,
            lock_ttl_ms: 2_000,
            failure_backoff_ms: 1_000,
        };
        let fleet = Fleet::start(WORKER, &plan, &url, &redis.url, &format!("figures-{source}"));
        let start = fleet.start;
        let kill_at = start + Duration::from_secs(6);
        tokio::time::sleep(kill_at.duration_since(std::time::SystemTime::now()).unwrap_or_default()).await;
        let killed = std::time::Instant::now();
        redis.stop();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let restarted = std::time::Instant::now();
        redis.restart();
        let reports = fleet.reports();
        let events = provider.events();
        // Logins happen before the schedule; every other request is in one of the periods.
        let requests = |from: Option<std::time::Instant>, to: Option<std::time::Instant>| {
            events
                .iter()
                .filter(|(at, event)| {
                    *event != Event::Issued || source == "ccg"
                } && from.is_none_or(|from| *at >= from) && to.is_none_or(|to| *at < to))
                .count()
        };
        let errors: u64 = reports.iter().map(|report| report.errors).sum();
        let calls: u64 = reports.iter().map(|report| report.calls).sum();
        // Refresh windows of 2 s: 3 before the kill, 1.5 while Redis is down, 3 after.
        figures.insert(
            source.to_owned(),
            json!({
                "processes": plan.processes,
                "calls": calls,
                "errors": errors,
                "requests_per_window_redis_up": requests(None, Some(killed)) as f64 / 3.0,
                "requests_per_window_redis_killed": requests(Some(killed), Some(restarted)) as f64 / 1.5,
                "requests_per_window_redis_restarted": requests(Some(restarted), None) as f64 / 3.0,
                "reuse": provider.count(&Event::Reuse),
                "refused": provider.count(&Event::Refused),
            }),
        );
    }
    println!("FLEET_FIGURES {}", serde_json::Value::Object(figures));
}
