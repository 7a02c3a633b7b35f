//! Managers in a fleet sharing one token through a real Redis (`redis-server` from the
//! system, started here on a free 127.0.0.1 port and stopped by its PID).
//!
//! They are `#[ignore]`d, as they need `redis-server` on the PATH; `.ci/run` installs it and
//! runs them with the other ignored tests — and runs this module's again on Valkey
//! (`OAUTH_TEST_REDIS=valkey`: `valkey-server` and `valkey-cli` instead).

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

/// The server program: `redis-server`, or `valkey-server` with `OAUTH_TEST_REDIS=valkey`.
fn server_program() -> String {
    format!("{}-server", flavour())
}

/// Its command-line client.
fn cli_program() -> String {
    format!("{}-cli", flavour())
}

fn flavour() -> String {
    match std::env::var("OAUTH_TEST_REDIS") {
        Ok(flavour) if flavour == "valkey" => flavour,
        Ok(other) if !other.is_empty() && other != "redis" => {
            panic!("OAUTH_TEST_REDIS: redis or valkey, not {other}")
        }
        _ => String::from("redis"),
    }
}

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
        let spawned = Command::new(server_program())
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
    let plan = FleetPlan { lock_ttl_ms: 800, ..FleetPlan::steady(4, 20, "code", 12_000) };
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
        let plan = FleetPlan::steady(8, 20, source, 15_000);
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

// Redis as operators run it: a cluster of three primaries, a primary under Sentinel that is
// killed mid-run, an ACL user. Every server is started here on 127.0.0.1 and stopped by
// its PID (the `Child` each one is).

/// A free port on 127.0.0.1 whose cluster-bus port (+10000) is free too.
fn free_port_pair() -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if port < 55_535 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// Redis processes started for one test, stopped (by their PIDs) when dropped, with their
/// working directory.
struct RedisProcesses {
    children: Vec<(u16, Child)>,
    dir: std::path::PathBuf,
    /// Servers speak only TLS, with a certificate from `private_ca` (in `dir`).
    tls: bool,
}

impl RedisProcesses {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("oauth-redis-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        RedisProcesses { children: Vec::new(), dir, tls: false }
    }

    /// From now on, servers speak only TLS — to clients, to each other (replication) and
    /// sentinels to servers — with a certificate from a private CA; its PEM.
    fn tls(&mut self) -> Vec<u8> {
        self.tls = true;
        private_ca(&self.dir)
    }

    /// `redis-server` on `port` with `args`, waited for until it answers PING.
    fn start(&mut self, port: u16, args: &[&str]) {
        let port = port.to_string();
        let listen: &[&str] = if self.tls {
            &[
                "--port",
                "0",
                "--tls-port",
                &port,
                "--tls-cert-file",
                "server.pem",
                "--tls-key-file",
                "server.key",
                "--tls-ca-cert-file",
                "ca.pem",
                "--tls-auth-clients",
                "no",
                "--tls-replication",
                "yes",
            ]
        } else {
            &["--port", &port]
        };
        let child = Command::new(server_program())
            .args(args)
            .args(["--bind", "127.0.0.1"])
            .args(listen)
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH");
        let port = port.parse().unwrap();
        self.children.push((port, child));
        self.wait_until(port, &["PING"], |answer| answer == "PONG");
    }

    /// `redis-cli -p port ARGS`, over TLS when the servers speak it.
    fn cli(&self, port: u16, command: &[&str]) -> String {
        if self.tls {
            let ca = self.dir.join("ca.pem");
            let tls = ["--tls", "--cacert", ca.to_str().unwrap()];
            redis_cli(port, &[&tls[..], command].concat())
        } else {
            redis_cli(port, command)
        }
    }

    /// Asks `redis-cli -p port ARGS` every 100 ms, for 20 s, until `done(answer)`.
    fn wait_until(&self, port: u16, command: &[&str], done: impl Fn(&str) -> bool) -> String {
        for _ in 0..200 {
            let answer = self.cli(port, command);
            if done(&answer) {
                return answer;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("redis on port {port} did not answer {command:?} as expected in 20 s");
    }

    /// Kills the server on `port` at once (SIGKILL: no chance to hand anything over).
    fn kill(&mut self, port: u16) {
        let (_, child) = self.children.iter_mut().find(|(own, _)| *own == port).expect("a server we started");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for RedisProcesses {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn redis_cli(port: u16, command: &[&str]) -> String {
    let output =
        Command::new(cli_program()).args(["-h", "127.0.0.1", "-p", &port.to_string()]).args(command).output();
    output.map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned()).unwrap_or_default()
}

/// A Redis Cluster of three primaries (no replicas), its slots assigned and agreed.
fn redis_cluster(processes: &mut RedisProcesses) -> Vec<u16> {
    let ports: Vec<u16> = (0..3).map(|_| free_port_pair()).collect();
    for port in &ports {
        let config = format!("nodes-{port}.conf");
        processes.start(
            *port,
            &[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                &config,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        );
    }
    let nodes: Vec<String> = ports.iter().map(|port| format!("127.0.0.1:{port}")).collect();
    let created = Command::new(cli_program())
        .args(["--cluster", "create"])
        .args(&nodes)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stdout));
    for port in &ports {
        processes.wait_until(*port, &["CLUSTER", "INFO"], |info| info.contains("cluster_state:ok"));
    }
    ports
}

/// Issue "Operate it in production": a fleet of processes under refresh-token rotation shares
/// one grant through a Redis Cluster of three primaries. The compare-and-set script touches
/// a key's token and its failure, the lock scripts its lock: in one slot thanks to the hash
/// tag, or the cluster would refuse them (CROSSSLOT) and the fleet would fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn a_rotating_fleet_shares_one_grant_through_a_redis_cluster() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut processes = RedisProcesses::new("cluster");
    let ports = redis_cluster(&mut processes);
    let nodes: Vec<String> = ports.iter().map(|port| format!("redis://127.0.0.1:{port}/")).collect();
    let (_server, provider, url) = rotating(RotatingProvider::new(3)).await;
    let plan = FleetPlan::steady(4, 10, "code", 8_000);
    let store = format!("cluster:{}", nodes.join(","));
    let reports = Fleet::start(WORKER, &plan, &url, &store, "cluster-fleet").reports();

    let samples: Vec<_> = reports.iter().flat_map(|report| report.error_samples.clone()).collect();
    assert_eq!(reports.iter().map(|report| report.errors).sum::<u64>(), 0, "{samples:?}");
    assert_eq!(provider.count(&Event::Reuse), 0, "no refresh token was presented twice");
    assert_eq!(provider.count(&Event::Issued), 1, "one login; every other token came from a refresh");
    let windows = refresh_windows(&plan, 3);
    let requests = provider.events().len();
    assert!(
        (4..=windows + 1).contains(&requests),
        "{requests} provider requests for {windows} refresh windows"
    );
    // The token, its lock and failure keys hash to one slot, on one of the three nodes.
    let slot = redis_cli(ports[0], &["CLUSTER", "KEYSLOT", "oauth-client:v3:{cluster-fleet}"]);
    let lock_slot = redis_cli(ports[0], &["CLUSTER", "KEYSLOT", "oauth-client:v3:{cluster-fleet}:lock"]);
    assert_eq!(slot, lock_slot);
}

/// A primary, its replica, and one sentinel watching them as `tokens`; their ports.
fn sentinel_deployment(processes: &mut RedisProcesses) -> (u16, u16, u16) {
    let (primary, replica, sentinel) = (free_port_pair(), free_port_pair(), free_port_pair());
    // No delay before the first full sync (5 s by default): the replica is in sync, its
    // link up, before the sentinel starts.
    let plain = ["--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"];
    processes.start(primary, &plain);
    let replica_of = primary.to_string();
    processes.start(replica, &[&plain[..], &["--replicaof", "127.0.0.1", &replica_of]].concat());
    processes.wait_until(replica, &["INFO", "replication"], |info| info.contains("master_link_status:up"));
    let config = processes.dir.join("sentinel.conf");
    std::fs::write(
        &config,
        format!(
            // A failover that finds the replica's information stale gives up and tries again
            // after twice the failover timeout: 1 s keeps the whole failover within 5 s.
            "sentinel monitor tokens 127.0.0.1 {primary} 1\nsentinel down-after-milliseconds tokens 1000\n\
             sentinel failover-timeout tokens 1000\n"
        ),
    )
    .unwrap();
    processes.start(sentinel, &[config.to_str().unwrap(), "--sentinel"]);
    processes.wait_until(sentinel, &["SENTINEL", "REPLICAS", "tokens"], |replicas| {
        replicas.contains(&replica.to_string())
    });
    (primary, replica, sentinel)
}

/// Issue "Operate it in production": a primary watched by Sentinel is killed (SIGKILL) in
/// the middle of a fleet's run under refresh-token rotation. The store confirms each lock
/// and saved token on the replica (`WAIT`), so the promoted replica has the newest refresh
/// token: no refresh token is presented twice, none is refused, and the fleet goes on
/// through the new primary the sentinel names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn a_sentinel_failover_mid_run_loses_no_rotated_refresh_token() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut processes = RedisProcesses::new("sentinel");
    let (primary, replica, sentinel) = sentinel_deployment(&mut processes);

    // Tokens live 12 s, renewed 1 s early: the seed's refresh comes about 9 s into the run,
    // the primary is killed a second later, and the failover (at most about 5 s) ends before
    // the next refresh, which must start from the refresh token saved just before the kill.
    let (_server, provider, url) = rotating(RotatingProvider::new(12)).await;
    let plan = FleetPlan::steady(4, 10, "code", 24_000);
    let store = format!("sentinel:tokens:redis://127.0.0.1:{sentinel}/");
    let fleet = Fleet::start(WORKER, &plan, &url, &store, "sentinel-fleet");
    let kill_at = fleet.start + Duration::from_millis(10_000);
    tokio::time::sleep(kill_at.duration_since(std::time::SystemTime::now()).unwrap_or_default()).await;
    processes.kill(primary);
    let killed = std::time::Instant::now();
    let promoted = tokio::task::spawn_blocking(move || {
        let replica = replica.to_string();
        while !redis_cli(sentinel, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "tokens"]).contains(&replica) {
            assert!(killed.elapsed() < Duration::from_secs(20), "no failover within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        killed.elapsed()
    });
    let reports = tokio::task::spawn_blocking(move || fleet.reports()).await.unwrap();
    let failover = promoted.await.unwrap();

    let errors: u64 = reports.iter().map(|report| report.errors).sum();
    let samples: Vec<_> = reports.iter().flat_map(|report| report.error_samples.clone()).collect();
    // The figure of BENCHMARKS.md §7 (benches/run.sh runs this test for it).
    let figure = json!({
        "processes": plan.processes,
        "calls": reports.iter().map(|report| report.calls).sum::<u64>(),
        "errors": errors,
        "reuse": provider.count(&Event::Reuse),
        "refused": provider.count(&Event::Refused),
        "failover_ms": failover.as_millis() as u64,
    });
    println!("SENTINEL_FAILOVER {figure}");
    assert_eq!(provider.count(&Event::Reuse), 0, "no refresh token was presented twice");
    assert_eq!(provider.count(&Event::Refused), 0, "no refresh token was lost");
    assert_eq!(errors, 0, "{samples:?}");
    assert!(reports.iter().all(|report| report.calls > 100), "every process went on");
    // A token lives 12 s and the run goes on 14 s after the kill: the next refresh came
    // after it, through the new primary, from the refresh token saved before it.
    let after = provider.events().iter().filter(|(at, _)| *at > killed).count();
    assert!(after >= 1, "a refresh after the failover");
    assert!(provider.count(&Event::Rotated) >= 2);
}

/// Issue "Operate it in production": an ACL user (the default user off) reaches the store
/// with the credentials in the URL; a wrong password is an unreachable store, and client
/// credentials are fetched directly.
#[tokio::test]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn an_acl_user_shares_the_token() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut processes = RedisProcesses::new("acl");
    let port = free_port_pair();
    processes.start(
        port,
        &[
            "--save",
            "",
            "--appendonly",
            "no",
            // Each rule its own argument, as in a config file's line.
            "--user",
            "tokens",
            "on",
            ">s3cret",
            "~oauth-client:*",
            "&*",
            "+@all",
            "--user",
            "default",
            "on",
            "nopass",
            "+ping",
        ],
    );
    let (_server, count, client) = provider().await;
    let store = |password: &str| {
        Arc::new(RedisStore::new(&format!("redis://tokens:{password}@127.0.0.1:{port}/")).unwrap())
    };
    let manager =
        |store| TokenManager::builder(client.clone(), ClientCredentials::new()).store(store, "acl").build();
    let (one, other) = (manager(store("s3cret")), manager(store("s3cret")));
    assert_eq!(one.access_token().await.unwrap(), other.access_token().await.unwrap());
    assert_eq!(count.load(Ordering::SeqCst), 1, "one request, shared through the ACL user's keys");
    assert_eq!(
        redis_cli(
            port,
            &["--user", "tokens", "--pass", "s3cret", "--no-auth-warning", "EXISTS", "oauth-client:v3:{acl}"]
        ),
        "1"
    );

    let wrong = manager(store("wrong"));
    wrong.access_token().await.expect("fetched directly while the store refuses the credentials");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

/// The fleet figure "at the limit" of BENCHMARKS.md §7 (run by `benches/run.sh`): 8 and 32
/// processes share one token through Redis for 20 s, tokens living 3 s (2 s windows). The
/// provider's requests are grouped into windows — a request more than a second after the
/// previous one opens a new window — so a window's extra requests are exactly those that
/// coordination should have saved: requests per window, 1.0 at best.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by benches/run.sh"]
async fn fleet_window_figures() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut figures = Vec::new();
    for (source, processes, tasks) in [("ccg", 8, 10), ("code", 8, 10), ("ccg", 32, 3), ("code", 32, 3)] {
        let redis = RedisServer::start();
        let (_server, provider, url) = rotating(RotatingProvider::new(3)).await;
        let plan = FleetPlan::steady(processes, tasks, source, 20_000);
        let fleet = Fleet::start(WORKER, &plan, &url, &redis.url, &format!("windows-{source}-{processes}"));
        let reports = tokio::task::spawn_blocking(move || fleet.reports()).await.unwrap();
        let mut times: Vec<_> = provider
            .events()
            .into_iter()
            .filter(|(_, event)| *event != Event::Issued || source == "ccg")
            .map(|(at, _)| at)
            .collect();
        times.sort();
        let windows = 1 + times.windows(2).filter(|pair| pair[1] - pair[0] > Duration::from_secs(1)).count();
        let errors: u64 = reports.iter().map(|report| report.errors).sum();
        figures.push(json!({
            "source": source,
            "processes": processes,
            "calls": reports.iter().map(|report| report.calls).sum::<u64>(),
            "requests": times.len(),
            "windows": windows,
            "requests_per_window": times.len() as f64 / windows as f64,
            "errors": errors,
            "reuse": provider.count(&Event::Reuse),
        }));
        assert_eq!(errors, 0);
        assert_eq!(provider.count(&Event::Reuse), 0);
        assert!(times.len() as f64 / windows as f64 <= 1.1, "{} requests in {windows} windows", times.len());
    }
    println!("FLEET_WINDOWS {}", serde_json::Value::Array(figures));
}

/// A CA and a certificate for 127.0.0.1 it signed, made with openssl in `dir`; the CA's PEM.
fn private_ca(dir: &std::path::Path) -> Vec<u8> {
    let openssl = |args: &[&str]| {
        let output =
            Command::new("openssl").args(args).current_dir(dir).output().expect("openssl on the PATH");
        assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test redis CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    ]);
    std::fs::read(dir.join("ca.pem")).unwrap()
}

/// Issue "Operate it in production": TLS to Redis (`rediss://`) on oauth-client's own rustls
/// configuration (no process-wide provider installed): managers share a token through a
/// server that speaks only TLS, its certificate signed by a private CA the store is told to
/// trust; without that root the handshake fails, the store counts as unreachable, and client
/// credentials are fetched directly.
#[tokio::test]
#[ignore = "needs redis-server and openssl on the PATH; run with --include-ignored"]
async fn a_tls_redis_with_a_private_ca_shares_the_token() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut processes = RedisProcesses::new("tls");
    let ca = processes.tls();
    let port = free_port_pair();
    processes.start(port, &["--save", "", "--appendonly", "no"]);
    let (_server, count, client) = provider().await;
    let url = format!("rediss://127.0.0.1:{port}/");
    let trusting = || Arc::new(RedisStore::new(&url).unwrap().tls_root_certificates(&ca).unwrap());
    let manager =
        |store| TokenManager::builder(client.clone(), ClientCredentials::new()).store(store, "tls").build();
    let (one, other) = (manager(trusting()), manager(trusting()));
    assert_eq!(one.access_token().await.unwrap(), other.access_token().await.unwrap());
    assert_eq!(count.load(Ordering::SeqCst), 1, "one request, shared over TLS");

    let untrusting = manager(Arc::new(RedisStore::new(&url).unwrap()));
    untrusting.access_token().await.expect("fetched directly: the certificate is not trusted");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

/// Issue "Operate it in production": Sentinel over TLS. Sentinel, primary and replica speak
/// only TLS (replication and monitoring included), with certificates from a private CA.
/// Managers reach the primary the sentinel names on oauth-client's own rustls configuration
/// and share one token; without the CA the store is unreachable and client credentials are
/// fetched directly. After the primary is killed and the replica promoted, a new manager
/// finds the shared token through the new primary (a saved token is confirmed by the replica).
#[tokio::test]
#[ignore = "needs redis-server and openssl on the PATH; run with --include-ignored"]
async fn sentinel_over_tls_names_the_primary_before_and_after_a_failover() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut processes = RedisProcesses::new("sentinel-tls");
    let ca = processes.tls();
    let (primary, replica, sentinel) = sentinel_deployment(&mut processes);
    let (_server, count, client) = provider().await;
    let sentinels = [format!("rediss://127.0.0.1:{sentinel}/")];
    let trusting = || {
        let store = RedisStore::sentinel("tokens", &sentinels).unwrap().tls_root_certificates(&ca).unwrap();
        Arc::new(store.command_timeout(Duration::from_secs(5)))
    };
    let manager = |store: Arc<RedisStore>| {
        TokenManager::builder(client.clone(), ClientCredentials::new()).store(store, "sentinel-tls").build()
    };
    let (one, other) = (manager(trusting()), manager(trusting()));
    let token = one.access_token().await.unwrap();
    assert_eq!(other.access_token().await.unwrap(), token);
    assert_eq!(count.load(Ordering::SeqCst), 1, "one request, shared over TLS");

    let untrusting = manager(Arc::new(RedisStore::sentinel("tokens", &sentinels).unwrap()));
    untrusting.access_token().await.expect("fetched directly: the certificate is not trusted");
    assert_eq!(count.load(Ordering::SeqCst), 2);

    processes.kill(primary);
    let replica_port = replica.to_string();
    // Kept: dropping it stops the servers.
    let _processes = tokio::task::spawn_blocking(move || {
        processes.wait_until(sentinel, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "tokens"], |named| {
            named.contains(&replica_port)
        });
        processes
    })
    .await
    .unwrap();
    let after = manager(trusting());
    assert_eq!(after.access_token().await.unwrap(), token, "the token, from the promoted replica");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

/// A primary demoted to a replica (what a Sentinel failover does to the old primary when it
/// comes back) answers writes with READONLY. The store counts that as an outage — its
/// connection is dropped and made again after the backoff, so behind Sentinel the new
/// primary is found — not as an odd error kept on the same connection. Promoted again, the
/// server takes the next save.
#[tokio::test]
#[ignore = "needs redis-server on the PATH; run with --include-ignored"]
async fn a_demoted_primary_is_an_outage_until_it_takes_writes_again() {
    use oauth_client::manager::{StoreErrorKind, TokenStore as _};
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut processes = RedisProcesses::new("demoted");
    let (primary, other) = (free_port_pair(), free_port_pair());
    processes.start(primary, &["--save", "", "--appendonly", "no"]);
    processes.start(other, &["--save", "", "--appendonly", "no"]);
    let store = RedisStore::new(&format!("redis://127.0.0.1:{primary}/")).unwrap();
    let token: oauth_client::OAuthToken =
        serde_json::from_value(json!({"access_token": "at", "token_type": "Bearer"})).unwrap();
    let version = store.save("demoted", &token, 0).await.unwrap().expect("saved");

    assert_eq!(redis_cli(primary, &["REPLICAOF", "127.0.0.1", &other.to_string()]), "OK");
    processes.wait_until(primary, &["ROLE"], |role| role.starts_with("slave"));
    let refused = store.save("demoted", &token, version).await.unwrap_err();
    assert_eq!(refused.kind(), StoreErrorKind::Unreachable, "{refused}");

    assert_eq!(redis_cli(primary, &["REPLICAOF", "NO", "ONE"]), "OK");
    tokio::time::sleep(Duration::from_millis(2_100)).await; // the store's outage backoff
    let snapshot = store.load("demoted").await.expect("a new connection after the backoff");
    assert!(store.save("demoted", &token, snapshot.version).await.unwrap().is_some());
}

/// TLS settings that cannot work are refused when the store is made, saying why.
#[test]
fn tls_that_cannot_be_had_is_refused_when_the_store_is_made() {
    let cluster = RedisStore::cluster(["rediss://10.0.0.1:6379"]).expect_err("refused");
    assert_eq!(
        cluster.to_string(),
        "token store (Other): a Redis Cluster over TLS (rediss://) is not supported; TLS is supported for one server and for Sentinel"
    );
    let mixed = RedisStore::sentinel("tokens", ["rediss://10.0.0.1:26379", "redis://10.0.0.2:26379"])
        .expect_err("refused");
    assert_eq!(
        mixed.to_string(),
        "token store (Other): the sentinels are all rediss:// (TLS) or all redis://, not some of each"
    );
    let plain = RedisStore::sentinel("tokens", ["redis://10.0.0.1:26379"]).unwrap();
    let roots = plain.tls_root_certificates(b"").expect_err("refused");
    assert_eq!(
        roots.to_string(),
        "token store (Other): root certificates are for a rediss:// URL; this store has none"
    );
}
