//! The token manager: single flight under concurrency, early refresh by the clock, rotation,
//! forced refresh, stores shared between managers.

use reqwest::StatusCode;
use std::future::Future as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth_client::manager::{AuthorizationCode, ClientCredentials, MemoryStore, PasswordGrant, from_fn};
use oauth_client::{Error, OAuthClient, OAuthProviderErrorKind, OAuthToken, TokenManager};
use oauth_client_tests::clock::ManualClock;
use oauth_client_tests::{AUTH, T0, TOKEN_PATH, basic_client, form_of, header_of, serve};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Issues `at-N` (and, when `rotate`, `rt-N`) with `expires_in`; answers a refresh with an
/// unknown refresh token with `invalid_grant`.
struct Provider {
    issued: AtomicUsize,
    expires_in: Option<u64>,
    rotate: bool,
    delay: Duration,
    live_refresh: Mutex<Option<String>>,
}

impl Provider {
    fn new(expires_in: Option<u64>, rotate: bool) -> Self {
        Provider {
            issued: AtomicUsize::new(0),
            expires_in,
            rotate,
            delay: Duration::from_millis(150),
            live_refresh: Mutex::new(None),
        }
    }
}

impl Respond for Provider {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = form_of(request);
        let field = |name: &str| form.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
        let mut live = self.live_refresh.lock().unwrap();
        if field("grant_type").as_deref() == Some("refresh_token") && field("refresh_token") != *live {
            return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}));
        }
        let serial = self.issued.fetch_add(1, Ordering::SeqCst);
        let mut body = json!({"access_token": format!("at-{serial}"), "token_type": "Bearer"});
        if let Some(expires_in) = self.expires_in {
            body["expires_in"] = json!(expires_in);
        }
        // Without rotation only the first response carries a refresh token.
        if self.rotate || live.is_none() {
            let refresh = format!("rt-{serial}");
            body["refresh_token"] = json!(refresh);
            *live = Some(refresh);
        }
        ResponseTemplate::new(200).set_body_json(body).set_delay(self.delay)
    }
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn manager(client: OAuthClient, clock: &ManualClock) -> TokenManager {
    TokenManager::builder(client, ClientCredentials::new()).clock(clock.clone()).build()
}

/// `callers` tasks ask at once; returns every result.
async fn stampede(manager: &TokenManager, callers: usize) -> Vec<Result<String, Error>> {
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await.map(|token| token.secret().to_owned()) })
        })
        .collect();
    let mut results = Vec::with_capacity(callers);
    for task in tasks {
        results.push(task.await.unwrap());
    }
    // Awaiting thousands of join handles spends this task's cooperative budget. Yield once so
    // the test continues on a fresh one: wiremock's `MockServer::drop` blocks on an async lock
    // with a `futures` executor, which livelocks on an exhausted tokio budget (seen once in
    // CI: the test spun at 100 % CPU until killed).
    tokio::task::yield_now().await;
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_callers_at_expiry_cause_one_request() {
    let (server, client) = serve(Provider::new(Some(3600), true)).await;
    let clock = ManualClock::at(T0);
    let manager = manager(client, &clock);

    let results = stampede(&manager, 10_000).await;
    assert!(results.iter().all(|result| result.as_deref().ok() == Some("at-0")));
    assert_eq!(requests(&server).await.len(), 1);

    // At expiry (minus leeway) the same stampede again causes exactly one more request.
    clock.advance(3600 - 60);
    let results = stampede(&manager, 10_000).await;
    assert!(results.iter().all(|result| result.as_deref().ok() == Some("at-1")));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_reaches_every_waiter_and_is_retried_once_after_the_backoff() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(150)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(Provider::new(Some(3600), true)).mount(&server).await;
    let client = basic_client(&format!("{}{TOKEN_PATH}", server.uri()));
    let clock = ManualClock::at(T0);
    let manager = manager(client, &clock);

    let results = stampede(&manager, 10_000).await;
    assert!(
        results
            .iter()
            .all(|result| matches!(result, Err(Error::Http { status: StatusCode::SERVICE_UNAVAILABLE, .. })))
    );
    assert_eq!(requests(&server).await.len(), 1);

    // Within the backoff (5 s by default) calls get the failure without a new request.
    let results = stampede(&manager, 1_000).await;
    assert!(
        results
            .iter()
            .all(|result| matches!(result, Err(Error::Http { status: StatusCode::SERVICE_UNAVAILABLE, .. })))
    );
    assert_eq!(requests(&server).await.len(), 1, "no request during the backoff");

    clock.advance(5);
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-0");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn refresh_happens_at_expiry_minus_leeway_and_not_before() {
    let (server, client) = serve(Provider::new(Some(600), true)).await;
    let clock = ManualClock::at(T0);
    let manager = TokenManager::builder(client, ClientCredentials::new())
        .clock(clock.clone())
        .leeway(Duration::from_secs(30))
        .build();
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-0");
    assert_eq!(manager.token().await.unwrap().expiry, Some(T0 + 600), "expiry by the manager's clock");

    clock.advance(600 - 30 - 1);
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-0", "one second before expiry - leeway");
    assert_eq!(requests(&server).await.len(), 1);

    clock.advance(1);
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-1", "at expiry - leeway");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_token_without_expires_in_never_expires_on_its_own() {
    let (server, client) = serve(Provider::new(None, true)).await;
    let clock = ManualClock::at(T0);
    let manager = manager(client, &clock);
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-0");
    clock.advance(10 * 365 * 24 * 3600);
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-0");
    assert_eq!(requests(&server).await.len(), 1);
}

async fn password_rotation(rotate: bool) -> (Vec<(String, String)>, Vec<String>) {
    let (server, client) = serve(Provider::new(Some(100), rotate)).await;
    let clock = ManualClock::at(T0);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let on_update = Arc::clone(&seen);
    let manager = TokenManager::builder(client, PasswordGrant::new("alice", "wonderland"))
        .clock(clock.clone())
        .leeway(Duration::ZERO)
        .on_update(move |token: OAuthToken| {
            let seen = Arc::clone(&on_update);
            async move { seen.lock().unwrap().push(token.access_token.secret().to_owned()) }
        })
        .build();
    for _ in 0..4 {
        manager.access_token().await.unwrap();
        clock.advance(100);
    }
    let sent: Vec<(String, String)> = requests(&server)
        .await
        .iter()
        .map(|request| {
            let form = form_of(request);
            let grant_type = form[0].1.clone();
            let refresh = form
                .iter()
                .find(|(name, _)| name == "refresh_token")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (grant_type, refresh)
        })
        .collect();
    let seen = seen.lock().unwrap().clone();
    (sent, seen)
}

#[tokio::test]
async fn a_rotated_refresh_token_replaces_the_old_one() {
    let (sent, seen) = password_rotation(true).await;
    assert_eq!(
        sent,
        [("password", ""), ("refresh_token", "rt-0"), ("refresh_token", "rt-1"), ("refresh_token", "rt-2")]
            .map(|(g, r)| (g.to_owned(), r.to_owned()))
    );
    assert_eq!(seen, ["at-0", "at-1", "at-2", "at-3"], "on_update sees every token, in order");
}

#[tokio::test]
async fn a_refresh_without_a_new_refresh_token_keeps_the_old_one() {
    let (sent, seen) = password_rotation(false).await;
    assert_eq!(
        sent,
        [("password", ""), ("refresh_token", "rt-0"), ("refresh_token", "rt-0"), ("refresh_token", "rt-0")]
            .map(|(g, r)| (g.to_owned(), r.to_owned()))
    );
    assert_eq!(seen, ["at-0", "at-1", "at-2", "at-3"]);
}

#[tokio::test]
async fn on_update_runs_before_any_caller_gets_the_token() {
    let (_server, client) = serve(Provider::new(Some(3600), true)).await;
    let persisted = Arc::new(Mutex::new(None::<String>));
    let sink = Arc::clone(&persisted);
    let manager = TokenManager::builder(client, ClientCredentials::new())
        .on_update(move |token: OAuthToken| {
            let sink = Arc::clone(&sink);
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                *sink.lock().unwrap() = Some(token.access_token.secret().to_owned());
            }
        })
        .build();
    let token = manager.access_token().await.unwrap();
    assert_eq!(persisted.lock().unwrap().as_deref(), Some(token.secret()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_waiter_does_not_cancel_the_refresh() {
    let (server, client) = serve(Provider::new(Some(3600), true)).await;
    let manager = manager(client, &ManualClock::at(T0));
    let gave_up = tokio::time::timeout(Duration::from_millis(20), manager.access_token()).await;
    assert!(gave_up.is_err(), "the caller gave up while the provider was still answering");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        manager.access_token().await.unwrap().secret(),
        "at-0",
        "the refresh finished without its caller"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_and_refresh_now_are_single_flight() {
    let (server, client) = serve(Provider::new(Some(3600), true)).await;
    let manager = manager(client, &ManualClock::at(T0));
    let rejected = manager.access_token().await.unwrap();

    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (manager, rejected) = (manager.clone(), rejected.clone());
            tokio::spawn(async move {
                manager.invalidate(&rejected);
                manager.access_token().await.unwrap().secret().to_owned()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "at-1");
    }
    tokio::task::yield_now().await; // a fresh cooperative budget: see `stampede`
    assert_eq!(requests(&server).await.len(), 2, "100 reports of one rejected token: one refresh");

    // Reporting the old token again changes nothing.
    manager.invalidate(&rejected);
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-1");

    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.refresh_now().await.unwrap().secret().to_owned() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "at-2");
    }
    tokio::task::yield_now().await; // a fresh cooperative budget: see `stampede`
    assert_eq!(requests(&server).await.len(), 3);
}

fn code_token(refresh_token: Option<&str>) -> OAuthToken {
    let mut token =
        json!({"access_token": "from-the-code", "token_type": "Bearer", "expires_in": 100, "expiry": T0 - 1});
    if let Some(refresh_token) = refresh_token {
        token["refresh_token"] = json!(refresh_token);
    }
    serde_json::from_value(token).unwrap()
}

#[tokio::test]
async fn authorization_code_tokens_are_refreshed_with_their_refresh_token() {
    let provider = Provider::new(Some(100), true);
    *provider.live_refresh.lock().unwrap() = Some("rt-from-the-code".to_owned());
    let (server, client) = serve(provider).await;
    let client = basic_client(client.token_url().as_str());
    let clock = ManualClock::at(T0);
    let manager = TokenManager::builder(client, AuthorizationCode::new())
        .clock(clock.clone())
        .initial_token(code_token(Some("rt-from-the-code")))
        .build();
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-0");
    clock.advance(100);
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-1");
    let sent: Vec<_> = requests(&server).await.iter().map(|request| form_of(request)[1].1.clone()).collect();
    assert_eq!(sent, ["rt-from-the-code", "rt-0"]);
    assert_eq!(header_of(&requests(&server).await[0], "authorization"), Some(AUTH));
}

#[tokio::test]
async fn authorization_code_tokens_that_cannot_be_refreshed_ask_for_the_user() {
    let (_server, client) = serve(Provider::new(Some(100), true)).await;
    let clock = ManualClock::at(T0);
    let refused = TokenManager::builder(client.clone(), AuthorizationCode::new())
        .clock(clock.clone())
        .initial_token(code_token(Some("revoked")))
        .build();
    let error = refused.access_token().await.unwrap_err();
    // The provider's refusal is the source, and its error object is still at hand.
    assert!(
        matches!(&error, Error::RefreshUnavailable { source: Some(source), .. } if matches!(**source, Error::Provider { status: StatusCode::BAD_REQUEST, .. })),
        "{error:?}"
    );
    assert_eq!(
        error.provider_error().map(|refusal| &refusal.error),
        Some(&OAuthProviderErrorKind::InvalidGrant)
    );

    let without = TokenManager::builder(client, AuthorizationCode::new())
        .clock(clock)
        .initial_token(code_token(None))
        .build();
    assert!(matches!(without.access_token().await, Err(Error::RefreshUnavailable { source: None, .. })));
}

#[tokio::test]
async fn a_user_supplied_provider_gets_the_previous_token() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&calls);
    let clock = ManualClock::at(T0);
    let client = OAuthClient::new("https://unused.example/token").unwrap();
    let manager = TokenManager::builder(
        client,
        from_fn(move |previous: Option<OAuthToken>| {
            let log = Arc::clone(&log);
            async move {
                let serial = log.lock().unwrap().len();
                log.lock().unwrap().push(previous.map(|token| token.access_token.secret().to_owned()));
                Ok(serde_json::from_value(json!({"access_token": format!("vault-{serial}"), "token_type": "Bearer", "expires_in": 120}))
                    .unwrap())
            }
        }),
    )
    .clock(clock.clone())
    .build();
    assert_eq!(manager.access_token().await.unwrap().secret(), "vault-0");
    clock.advance(60);
    assert_eq!(manager.access_token().await.unwrap().secret(), "vault-1");
    assert_eq!(*calls.lock().unwrap(), [None, Some("vault-0".to_owned())]);
}

#[tokio::test]
async fn bearer_sets_the_authorization_header() {
    let (_server, client) = serve(Provider::new(Some(3600), true)).await;
    let manager = manager(client, &ManualClock::at(T0));
    let api = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(204)).mount(&api).await;
    let http = reqwest::Client::new();
    manager.bearer(http.get(format!("{}/things", api.uri()))).await.unwrap().send().await.unwrap();
    let request = &requests(&api).await[0];
    assert_eq!(header_of(request, "authorization"), Some("Bearer at-0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_sharing_a_store_share_one_token() {
    let (server, client) = serve(Provider::new(Some(3600), true)).await;
    let clock = ManualClock::at(T0);
    let store = Arc::new(MemoryStore::new());
    let managers: Vec<TokenManager> = (0..4)
        .map(|_| {
            TokenManager::builder(client.clone(), ClientCredentials::new())
                .clock(clock.clone())
                .store(store.clone(), "shared")
                .build()
        })
        .collect();
    for round in 0..3 {
        let tasks: Vec<_> = managers
            .iter()
            .flat_map(|manager| (0..50).map(move |_| manager.clone()))
            .map(|manager| {
                tokio::spawn(async move { manager.access_token().await.unwrap().secret().to_owned() })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), format!("at-{round}"));
        }
        tokio::task::yield_now().await; // a fresh cooperative budget: see `stampede`
        assert_eq!(
            requests(&server).await.len(),
            round + 1,
            "one request per expiry window for all managers"
        );
        clock.advance(3600);
    }
}

// Lifecycle under faults (issue "Token lifecycle under rotation and faults"). Each test below
// pins a defect found by reading the code; each failed (or hung) before its fix.

fn vault_token(body: serde_json::Value) -> OAuthToken {
    serde_json::from_value(body).unwrap()
}

/// A source that counts its calls and answers with `body` (plus a serial access token).
fn counting_source(body: serde_json::Value) -> (Arc<AtomicUsize>, impl oauth_client::manager::TokenSource) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let source = from_fn(move |_previous: Option<OAuthToken>| {
        let serial = counter.fetch_add(1, Ordering::SeqCst);
        let mut body = body.clone();
        body["access_token"] = json!(format!("vault-{serial}"));
        async move { Ok(vault_token(body)) }
    });
    (calls, source)
}

fn unused_client() -> OAuthClient {
    OAuthClient::new("https://unused.example/token").unwrap()
}

/// Item 4: a token living no longer than the leeway was replaced on every call.
#[tokio::test]
async fn a_token_shorter_lived_than_the_leeway_is_kept_for_half_its_life() {
    let clock = ManualClock::at(T0);
    let (calls, source) = counting_source(json!({"token_type": "Bearer", "expires_in": 30}));
    let manager = TokenManager::builder(unused_client(), source).clock(clock.clone()).build();
    for _ in 0..100 {
        manager.access_token().await.unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    clock.advance(14);
    assert_eq!(manager.access_token().await.unwrap().secret(), "vault-0");
    clock.advance(1);
    assert_eq!(manager.access_token().await.unwrap().secret(), "vault-1", "replaced at half its life");
}

#[tokio::test]
async fn a_token_with_expires_in_zero_is_reused_within_its_second() {
    let clock = ManualClock::at(T0);
    let (calls, source) = counting_source(json!({"token_type": "Bearer", "expires_in": 0}));
    let manager = TokenManager::builder(unused_client(), source).clock(clock.clone()).build();
    for _ in 0..100 {
        manager.access_token().await.unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    clock.advance(1);
    manager.access_token().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Item 8: an `expiry` the source gave was replaced by one from `expires_in` (and a token
/// with only `expiry` never expired).
#[tokio::test]
async fn a_sources_own_expiry_is_respected() {
    let clock = ManualClock::at(T0);
    let (calls, source) = counting_source(json!({"token_type": "Bearer", "expiry": T0 + 100}));
    let manager = TokenManager::builder(unused_client(), source).clock(clock.clone()).build();
    assert_eq!(manager.token().await.unwrap().expiry, Some(T0 + 100));
    clock.advance(49);
    assert_eq!(manager.access_token().await.unwrap().secret(), "vault-0");
    clock.advance(1);
    assert_eq!(manager.access_token().await.unwrap().secret(), "vault-1", "expires at half its 100 s");
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // Both given: the expiry wins over a recomputation from expires_in.
    let (_, source) = counting_source(json!({"token_type": "Bearer", "expires_in": 3600, "expiry": T0 + 7}));
    let manager = TokenManager::builder(unused_client(), source).clock(ManualClock::at(T0)).build();
    assert_eq!(manager.token().await.unwrap().expiry, Some(T0 + 7));
}

/// Item 5: an `on_update` that never completes hung every later caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_on_update_delays_the_refresh_by_its_timeout_only() {
    let (_, source) = counting_source(json!({"token_type": "Bearer", "expires_in": 3600}));
    let manager = TokenManager::builder(unused_client(), source)
        .on_update(|_token| std::future::pending::<()>())
        .on_update_timeout(Duration::from_millis(100))
        .build();
    let token = tokio::time::timeout(Duration::from_secs(10), manager.access_token()).await;
    assert_eq!(token.expect("the flight ends").unwrap().secret(), "vault-0");
}

/// Item 5: a panicking `on_update` dropped the new token with its rotated refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_on_update_loses_no_token() {
    let provider = Provider::new(Some(3600), true);
    *provider.live_refresh.lock().unwrap() = Some("rt-seed".to_owned());
    let (_server, client) = serve(provider).await;
    let store = Arc::new(MemoryStore::new());
    let manager = TokenManager::builder(client, AuthorizationCode::new())
        .clock(ManualClock::at(T0))
        .initial_token(code_token(Some("rt-seed")))
        .store(store.clone(), "panicking")
        .on_update(|_token| async { panic!("the database is down") })
        .build();
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-0");
    let stored = oauth_client::manager::TokenStore::load(&*store, "panicking").await.unwrap();
    let stored = stored.token.expect("the new token was stored");
    assert_eq!(
        stored.refresh_token.as_ref().map(|rt| rt.secret()),
        Some("rt-0"),
        "the rotated refresh token survives"
    );
}

/// Item 5: a source that never answers hung the flight and every caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_source_fails_the_refresh_at_its_deadline() {
    let manager = TokenManager::builder(
        unused_client(),
        from_fn(|_previous: Option<OAuthToken>| std::future::pending::<Result<OAuthToken, Error>>()),
    )
    .refresh_timeout(Duration::from_millis(100))
    .build();
    let result = tokio::time::timeout(Duration::from_secs(10), manager.access_token()).await;
    assert!(matches!(result.expect("the flight ends"), Err(Error::Timeout)));
}

/// Item 6: a call outside a runtime panicked in `tokio::spawn` after filling the flight slot,
/// and every later call joined the dead flight.
#[test]
fn a_call_outside_a_runtime_is_a_clear_error_and_harms_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (_server, client) = runtime.block_on(serve(Provider::new(Some(3600), true)));
    let manager = TokenManager::builder(client, ClientCredentials::new()).build();

    let mut outside = std::pin::pin!(manager.access_token());
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match outside.as_mut().poll(&mut context) {
        std::task::Poll::Ready(Err(Error::NoRuntime)) => {}
        other => panic!("expected Error::NoRuntime, got {other:?}"),
    }
    assert_eq!(runtime.block_on(manager.access_token()).unwrap().secret(), "at-0");
}

/// A store whose loads fail with `kind` `failing_calls` times before it answers.
struct FaultyStore {
    inner: MemoryStore,
    kind: oauth_client::manager::StoreErrorKind,
    failing_calls: AtomicUsize,
}

impl FaultyStore {
    fn new(kind: oauth_client::manager::StoreErrorKind) -> Self {
        FaultyStore { inner: MemoryStore::new(), kind, failing_calls: AtomicUsize::new(0) }
    }

    fn slow(&self) -> Option<oauth_client::manager::StoreError> {
        let left = self.failing_calls.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        left.is_ok().then(|| oauth_client::manager::StoreError::new(self.kind, "the store failed"))
    }
}

impl oauth_client::manager::TokenStore for FaultyStore {
    fn load<'a>(
        &'a self,
        key: &'a str,
    ) -> oauth_client::manager::BoxFuture<
        'a,
        Result<oauth_client::manager::StoreSnapshot, oauth_client::manager::StoreError>,
    > {
        match self.slow() {
            Some(error) => Box::pin(std::future::ready(Err(error))),
            None => self.inner.load(key),
        }
    }
    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a OAuthToken,
        expected_version: u64,
    ) -> oauth_client::manager::BoxFuture<'a, Result<Option<u64>, oauth_client::manager::StoreError>> {
        self.inner.save(key, token, expected_version)
    }
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> oauth_client::manager::BoxFuture<
        'a,
        Result<Option<oauth_client::manager::StoreLock>, oauth_client::manager::StoreError>,
    > {
        self.inner.try_lock(key, ttl)
    }
    fn renew<'a>(
        &'a self,
        lock: &'a oauth_client::manager::StoreLock,
        ttl: Duration,
    ) -> oauth_client::manager::BoxFuture<'a, Result<bool, oauth_client::manager::StoreError>> {
        self.inner.renew(lock, ttl)
    }
    fn unlock(
        &self,
        lock: oauth_client::manager::StoreLock,
    ) -> oauth_client::manager::BoxFuture<'_, Result<(), oauth_client::manager::StoreError>> {
        self.inner.unlock(lock)
    }
    fn publish_failure<'a>(
        &'a self,
        key: &'a str,
        failure: &'a oauth_client::manager::RefreshFailure,
        ttl: Duration,
    ) -> oauth_client::manager::BoxFuture<'a, Result<(), oauth_client::manager::StoreError>> {
        self.inner.publish_failure(key, failure, ttl)
    }
}

/// Item 7: any store error, a slow answer included, sent the manager to the provider.
#[tokio::test]
async fn a_slow_store_is_waited_for_not_bypassed() {
    let (server, client) = serve(Provider::new(Some(3600), true)).await;
    let store = Arc::new(FaultyStore::new(oauth_client::manager::StoreErrorKind::Slow));
    let clock = ManualClock::at(T0);
    let first = TokenManager::builder(client.clone(), ClientCredentials::new())
        .clock(clock.clone())
        .store(store.clone(), "slow")
        .build();
    assert_eq!(first.access_token().await.unwrap().secret(), "at-0");

    store.failing_calls.store(3, Ordering::SeqCst);
    let second = TokenManager::builder(client, ClientCredentials::new())
        .clock(clock)
        .store(store.clone(), "slow")
        .build();
    assert_eq!(
        second.access_token().await.unwrap().secret(),
        "at-0",
        "the stored token, once the store answered"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

/// Item 2: a refresh slower than the store lock's lifetime let waiters in to refresh too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_slower_than_the_lock_lifetime_keeps_the_lock() {
    let mut provider = Provider::new(Some(3600), true);
    provider.delay = Duration::from_millis(1_500);
    let (server, client) = serve(provider).await;
    let store = Arc::new(MemoryStore::new());
    let managers: Vec<TokenManager> = (0..4)
        .map(|_| {
            TokenManager::builder(client.clone(), ClientCredentials::new())
                .store(store.clone(), "slow-provider")
                .store_lock_ttl(Duration::from_millis(300))
                .build()
        })
        .collect();
    let tasks: Vec<_> = managers
        .iter()
        .map(|manager| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await.map(|token| token.secret().to_owned()) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "at-0");
    }
    assert_eq!(requests(&server).await.len(), 1, "the holder renewed its lock; nobody else refreshed");
}

/// Item 2: after the holder's refresh failed, every waiter waited out the lock and then
/// called the provider at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_shared_refresh_is_published_and_not_repeated_by_the_waiters() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(200)))
        .mount(&server)
        .await;
    let client = basic_client(&format!("{}{TOKEN_PATH}", server.uri()));
    let store = Arc::new(MemoryStore::new());
    let managers: Vec<TokenManager> = (0..4)
        .map(|_| {
            TokenManager::builder(client.clone(), ClientCredentials::new())
                .store(store.clone(), "failing")
                .build()
        })
        .collect();
    let tasks: Vec<_> = managers
        .iter()
        .flat_map(|manager| (0..25).map(move |_| manager.clone()))
        .map(|manager| tokio::spawn(async move { manager.access_token().await }))
        .collect();
    for task in tasks {
        let error = task.await.unwrap().unwrap_err();
        assert!(
            matches!(
                error,
                Error::Http { status: StatusCode::SERVICE_UNAVAILABLE, .. }
                    | Error::SharedRefreshFailed { .. }
            ),
            "{error:?}"
        );
    }
    tokio::task::yield_now().await; // a fresh cooperative budget: see `stampede`
    assert_eq!(requests(&server).await.len(), 1, "one request for the whole fleet");
}

/// Item 2: a save was unconditional, so a late holder overwrote a newer token.
#[tokio::test]
async fn a_save_lands_only_on_the_version_it_read() {
    use oauth_client::manager::TokenStore as _;
    let store = MemoryStore::new();
    let first = vault_token(json!({"access_token": "first", "token_type": "Bearer"}));
    let late = vault_token(json!({"access_token": "late", "token_type": "Bearer"}));
    let version = store.save("k", &first, 0).await.unwrap().expect("nothing stored yet");
    assert_eq!(store.save("k", &late, 0).await.unwrap(), None, "read before the first save: fenced");
    let snapshot = store.load("k").await.unwrap();
    assert_eq!(snapshot.token.unwrap().access_token.secret(), "first");
    assert_eq!(snapshot.version, version);
    let next = store.save("k", &late, version).await.unwrap().unwrap();
    assert!(next > version);
}

/// Item 3: a manager refreshed with its own older refresh token instead of the newest one
/// another manager had stored (a replay that revokes the grant at a rotating provider).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_uses_the_newest_stored_refresh_token() {
    let provider = Provider::new(Some(120), true);
    *provider.live_refresh.lock().unwrap() = Some("rt-seed".to_owned());
    let (server, client) = serve(provider).await;
    let clock = ManualClock::at(T0);
    let store = Arc::new(MemoryStore::new());
    let build = |initial: Option<OAuthToken>| {
        let builder = TokenManager::builder(client.clone(), AuthorizationCode::new())
            .clock(clock.clone())
            .store(store.clone(), "rotation");
        match initial {
            Some(token) => builder.initial_token(token),
            None => builder,
        }
        .build()
    };
    let mut seeded = code_token(Some("rt-seed"));
    seeded.expires_in = Some(120);
    seeded.expiry = Some(T0 + 120);
    let a = build(Some(seeded));
    let b = build(None);
    assert_eq!(a.access_token().await.unwrap().secret(), "from-the-code", "the seed, published");
    assert_eq!(b.access_token().await.unwrap().secret(), "from-the-code", "read from the store");
    for round in 0..4 {
        clock.advance(60);
        // Alternate which manager notices expiry first: each must refresh from the store's newest.
        let (first, second) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        assert_eq!(first.access_token().await.unwrap().secret(), format!("at-{round}"));
        assert_eq!(second.access_token().await.unwrap().secret(), format!("at-{round}"));
    }
    let refreshes: Vec<_> = requests(&server)
        .await
        .iter()
        .map(|request| form_of(request).into_iter().find(|(name, _)| name == "refresh_token").unwrap().1)
        .collect();
    assert_eq!(refreshes, ["rt-seed", "rt-0", "rt-1", "rt-2"], "each refresh token used once");
}

/// Found by the fleet benchmark: with the store unreachable, processes refreshed the same
/// refresh token on their own and the rotating provider revoked the grant. A refresh-token
/// grant now keeps its token until it expires, then answers StoreUnavailable; client
/// credentials are still fetched directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_never_leads_to_an_uncoordinated_refresh() {
    let provider = Provider::new(Some(120), true);
    *provider.live_refresh.lock().unwrap() = Some("rt-seed".to_owned());
    let (server, client) = serve(provider).await;
    let clock = ManualClock::at(T0);
    let store = Arc::new(FaultyStore::new(oauth_client::manager::StoreErrorKind::Unreachable));
    let mut seed = code_token(Some("rt-seed"));
    seed.expiry = Some(T0 + 100);
    let manager = TokenManager::builder(client.clone(), AuthorizationCode::new())
        .clock(clock.clone())
        .initial_token(seed)
        .store(store.clone(), "outage")
        .build();
    assert_eq!(manager.access_token().await.unwrap().secret(), "from-the-code");

    store.failing_calls.store(usize::MAX, Ordering::SeqCst);
    clock.advance(60); // past expiry minus leeway, before expiry
    assert_eq!(manager.access_token().await.unwrap().secret(), "from-the-code", "kept until it expires");
    clock.advance(40);
    assert!(matches!(manager.access_token().await, Err(Error::StoreUnavailable { .. })));
    assert_eq!(requests(&server).await.len(), 0, "no refresh without the store");

    store.failing_calls.store(0, Ordering::SeqCst);
    clock.advance(5); // past the failure backoff
    assert_eq!(manager.access_token().await.unwrap().secret(), "at-0", "refreshed once the store is back");

    // Client credentials carry no single-use credential: fetched directly during an outage.
    let ccg = TokenManager::builder(client, ClientCredentials::new())
        .clock(clock.clone())
        .store(store.clone(), "outage-ccg")
        .build();
    store.failing_calls.store(usize::MAX, Ordering::SeqCst);
    assert!(ccg.access_token().await.is_ok());
}

/// A token endpoint that accepts only a valid, unexpired assertion with a new `jti`, by the
/// test's clock; anything else is `invalid_client`.
struct AssertionChecker {
    clock: ManualClock,
    seen_jtis: Mutex<std::collections::HashSet<String>>,
    issued: AtomicUsize,
}

impl Respond for AssertionChecker {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = form_of(request);
        let assertion =
            form.iter().find(|(name, _)| name == "client_assertion").map(|(_, value)| value.clone());
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_exp = false; // checked against the test's clock below
        validation.validate_aud = false;
        let public =
            std::fs::read(format!("{}/fixtures/rsa-public.pem", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap();
        let claims = assertion
            .and_then(|jwt| jsonwebtoken::decode::<serde_json::Value>(&jwt, &key, &validation).ok())
            .map(|data| data.claims);
        let valid = claims.is_some_and(|claims| {
            claims["exp"].as_i64().is_some_and(|exp| exp > oauth_client::Clock::now(&self.clock))
                && self
                    .seen_jtis
                    .lock()
                    .unwrap()
                    .insert(claims["jti"].as_str().unwrap_or_default().to_owned())
        });
        if !valid {
            return ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"}));
        }
        let serial = self.issued.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_json(
            json!({"access_token": format!("at-{serial}"), "token_type": "Bearer", "expires_in": 3600}),
        )
    }
}

/// Found by reading the code: a client assertion passed as `additional` was signed once,
/// so the manager's refreshes failed with invalid_client after its lifetime. With the
/// client's `private_key_jwt` every refresh signs a fresh one, for days.
#[tokio::test]
async fn a_private_key_jwt_client_refreshes_for_days_without_invalid_client() {
    let clock = ManualClock::at(T0);
    let checker =
        AssertionChecker { clock: clock.clone(), seen_jtis: Mutex::default(), issued: AtomicUsize::new(0) };
    let (_server, client) = serve(checker).await;
    let key = std::fs::read(format!("{}/fixtures/rsa-private.pem", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let key = oauth_client::extensions::SigningKey::rs256_pem(&key).unwrap();
    let client = client.with_client_auth(oauth_client::ClientAuth::private_key_jwt("svc", key));
    let manager = TokenManager::builder(client, ClientCredentials::new()).clock(clock.clone()).build();
    for hour in 0..72 {
        assert_eq!(manager.access_token().await.unwrap().secret(), format!("at-{hour}"), "hour {hour}");
        clock.advance(3600);
    }
}

/// Issue "Sender-constrained tokens": tokens for two resources (RFC 8707) sharing one store
/// and key never mix; each request names its resource.
#[tokio::test]
async fn tokens_for_two_resources_never_mix() {
    let (server, client) = serve(Provider::new(Some(3600), true)).await;
    let store = Arc::new(MemoryStore::new());
    let for_resource = |resource: &str| {
        TokenManager::builder(client.clone(), ClientCredentials::new().resource(resource))
            .clock(ManualClock::at(T0))
            .store(store.clone(), "one-key")
            .build()
    };
    let (a, b) = (for_resource("https://a.example/"), for_resource("https://b.example/"));
    let token_a = a.access_token().await.unwrap();
    let token_b = b.access_token().await.unwrap();
    assert_ne!(token_a, token_b);
    assert_eq!(
        for_resource("https://a.example/").access_token().await.unwrap(),
        token_a,
        "shared per resource"
    );
    let sent: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|request| form_of(request).into_iter().find(|(name, _)| name == "resource").unwrap().1)
        .collect();
    assert_eq!(sent, ["https://a.example/", "https://b.example/"]);
}

/// A token endpoint that requires the DPoP nonce `n-1` in every proof (RFC 9449 §8).
struct NonceRequiring(AtomicUsize);

impl Respond for NonceRequiring {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        use base64::Engine as _;
        let proof = header_of(request, "dpop").unwrap_or_default();
        let payload = proof.split('.').nth(1).unwrap_or_default();
        let claims: serde_json::Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        if claims["nonce"] != "n-1" {
            return ResponseTemplate::new(400)
                .insert_header("DPoP-Nonce", "n-1")
                .set_body_json(json!({"error": "use_dpop_nonce"}));
        }
        let serial = self.0.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200).insert_header("DPoP-Nonce", "n-1").set_body_json(
            json!({"access_token": format!("at-{serial}"), "token_type": "DPoP", "expires_in": 3600}),
        )
    }
}

/// Issue "Sender-constrained tokens": a DPoP nonce one manager learned is shared through the
/// store, so another process's first proof already carries it (no challenge round trip).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_nonces_are_shared_through_the_store() {
    let (server, client) = serve(NonceRequiring(AtomicUsize::new(0))).await;
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at(T0);
    let process = || {
        // Each manager with its own client and key, as separate processes would have.
        let client = OAuthClient::builder(client.token_url().as_str())
            .dpop(oauth_client::dpop::DpopKey::generate().unwrap())
            .build()
            .unwrap();
        TokenManager::builder(client, ClientCredentials::new())
            .clock(clock.clone())
            .store(store.clone(), "dpop")
            .build()
    };
    let (first, second) = (process(), process());
    first.access_token().await.unwrap();
    assert_eq!(requests(&server).await.len(), 2, "the first manager meets the challenge");
    clock.advance(3600);
    assert_eq!(second.access_token().await.unwrap().secret(), "at-1");
    assert_eq!(requests(&server).await.len(), 3, "the second refreshes with the shared nonce, unchallenged");
}

/// Issue "Fit the ecosystem": the three ways to send a resource request with the manager's
/// token — `TokenManager::send`, the reqwest middleware and the tower layer — share one path.
mod resource_requests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt as _, Full};
    use hyper_util::client::legacy::Client as HyperClient;
    use hyper_util::rt::TokioExecutor;
    use oauth_client::middleware::{LayerError, NoReplay, TokenLayer, TokenMiddleware};
    use tower_layer::Layer as _;
    use tower_service::Service as _;

    /// An API that accepts the tokens `accepts` says yes to, refuses the others with
    /// `invalid_token`, and asks for scope `admin` on `/admin`; it echoes the request body.
    struct Api {
        accepts: fn(&str) -> bool,
        refusal: &'static str,
    }

    impl Respond for Api {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let token = header_of(request, "authorization").and_then(|value| value.strip_prefix("Bearer "));
            if request.url.path() == "/admin" {
                return ResponseTemplate::new(403).insert_header(
                    "www-authenticate",
                    r#"Bearer realm="api", error="insufficient_scope", error_description="admins only", scope="admin", resource_metadata="https://api.example/.well-known/oauth-protected-resource""#,
                );
            }
            match token {
                Some(token) if (self.accepts)(token) => {
                    ResponseTemplate::new(200).set_body_bytes(request.body.clone())
                }
                _ => ResponseTemplate::new(401).insert_header("www-authenticate", self.refusal),
            }
        }
    }

    const INVALID_TOKEN: &str = r#"Bearer realm="api", error="invalid_token", error_description="revoked""#;

    /// A request reqwest cannot build is refused without its URL, whose query may carry a
    /// credential (reqwest's own error names the URL).
    #[tokio::test]
    async fn a_request_that_cannot_be_built_is_refused_without_its_url() {
        let (_server, client) = serve(Provider::new(Some(3600), false)).await;
        let tokens = manager(client, &ManualClock::at(T0));
        let http = reqwest::Client::new();
        let url = "mailto:someone?access_token=SENTINEL-url-secret";
        let sent = tokens.send(http.get(url)).await.unwrap_err();
        let authorized = tokens.bearer(http.get(url)).await.unwrap_err();
        for error in [sent, authorized] {
            assert!(matches!(error, Error::InvalidResourceRequest(_)), "{error:?}");
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("SENTINEL"), "{shown}");
        }
    }

    async fn api(accepts: fn(&str) -> bool, refusal: &'static str) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any()).respond_with(Api { accepts, refusal }).mount(&server).await;
        server
    }

    #[derive(Clone, Copy, Debug)]
    enum Via {
        Send,
        Middleware,
        Layer,
    }

    const EVERY_WAY: [Via; 3] = [Via::Send, Via::Middleware, Via::Layer];

    /// POSTs `body` to `url` with the manager's token; the status and body of the answer.
    async fn post(
        via: Via,
        tokens: &TokenManager,
        url: &str,
        body: &'static str,
    ) -> Result<(u16, String), Error> {
        match via {
            Via::Send => {
                let response = tokens.send(reqwest::Client::new().post(url).body(body)).await?;
                Ok((response.status().as_u16(), response.text().await.unwrap()))
            }
            Via::Middleware => {
                let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
                    .with(TokenMiddleware::new(tokens.clone()))
                    .build();
                match http.post(url).body(body).send().await {
                    Ok(response) => Ok((response.status().as_u16(), response.text().await.unwrap())),
                    Err(reqwest_middleware::Error::Middleware(error)) => Err(error
                        .downcast::<Error>()
                        .expect("the middleware's errors are oauth_client::Error")),
                    Err(error) => panic!("transport error: {error}"),
                }
            }
            Via::Layer => {
                let http = HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
                let mut service = TokenLayer::new(tokens.clone()).layer(http);
                let request =
                    http::Request::post(url).body(Full::new(Bytes::from_static(body.as_bytes()))).unwrap();
                match service.call(request).await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body = response.into_body().collect().await.unwrap().to_bytes();
                        Ok((status, String::from_utf8(body.to_vec()).unwrap()))
                    }
                    Err(LayerError::Token(error)) => Err(error),
                    Err(LayerError::Service(error)) => panic!("transport error: {error}"),
                }
            }
        }
    }

    /// What the API received: the token and body of each request.
    async fn received(api: &MockServer) -> Vec<(String, String)> {
        requests(api)
            .await
            .iter()
            .map(|request| {
                let token = header_of(request, "authorization").unwrap_or_default().to_owned();
                (token, String::from_utf8(request.body.clone()).unwrap())
            })
            .collect()
    }

    #[tokio::test]
    async fn a_revoked_token_is_replaced_once_and_the_request_sent_again_with_its_body() {
        for via in EVERY_WAY {
            let (server, client) = serve(Provider::new(Some(3600), false)).await;
            let tokens = manager(client, &ManualClock::at(T0));
            let api = api(|token| token != "at-0", INVALID_TOKEN).await;
            let answer = post(via, &tokens, &format!("{}/things", api.uri()), "payload").await.unwrap();
            assert_eq!(answer, (200, "payload".to_owned()), "{via:?}");
            assert_eq!(
                received(&api).await,
                [("Bearer at-0".into(), "payload".into()), ("Bearer at-1".into(), "payload".into())],
                "{via:?}"
            );
            assert_eq!(requests(&server).await.len(), 2, "{via:?}: one refresh");
            assert_eq!(tokens.access_token().await.unwrap().secret(), "at-1", "{via:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_requests_refused_together_cause_one_refresh() {
        for via in EVERY_WAY {
            let (server, client) = serve(Provider::new(Some(3600), false)).await;
            let tokens = manager(client, &ManualClock::at(T0));
            tokens.access_token().await.unwrap();
            let api = api(|token| token != "at-0", INVALID_TOKEN).await;
            let url = format!("{}/things", api.uri());
            let calls: Vec<_> = (0..50)
                .map(|_| {
                    let (tokens, url) = (tokens.clone(), url.clone());
                    tokio::spawn(async move { post(via, &tokens, &url, "x").await })
                })
                .collect();
            for call in calls {
                assert_eq!(call.await.unwrap().unwrap().0, 200, "{via:?}");
            }
            tokio::task::yield_now().await;
            assert_eq!(requests(&server).await.len(), 2, "{via:?}: the first token, then one refresh");
        }
    }

    #[tokio::test]
    async fn a_second_refusal_is_returned_not_retried() {
        for via in EVERY_WAY {
            let (server, client) = serve(Provider::new(Some(3600), false)).await;
            let tokens = manager(client, &ManualClock::at(T0));
            let api = api(|_| false, INVALID_TOKEN).await;
            let answer = post(via, &tokens, &format!("{}/things", api.uri()), "x").await.unwrap();
            assert_eq!(answer.0, 401, "{via:?}");
            assert_eq!(received(&api).await.len(), 2, "{via:?}: one retry only");
            assert_eq!(requests(&server).await.len(), 2, "{via:?}");
        }
    }

    #[tokio::test]
    async fn a_refusal_without_invalid_token_is_returned_as_it_is() {
        for via in EVERY_WAY {
            let (server, client) = serve(Provider::new(Some(3600), false)).await;
            let tokens = manager(client, &ManualClock::at(T0));
            let api = api(|_| false, r#"Bearer realm="api""#).await;
            let answer = post(via, &tokens, &format!("{}/things", api.uri()), "x").await.unwrap();
            assert_eq!(answer.0, 401, "{via:?}");
            assert_eq!(received(&api).await.len(), 1, "{via:?}");
            assert_eq!(requests(&server).await.len(), 1, "{via:?}: the token is kept");
        }
    }

    #[tokio::test]
    async fn insufficient_scope_is_a_typed_error_naming_the_scope() {
        for via in EVERY_WAY {
            let (server, client) = serve(Provider::new(Some(3600), false)).await;
            let tokens = manager(client, &ManualClock::at(T0));
            let api = api(|_| true, INVALID_TOKEN).await;
            let error = post(via, &tokens, &format!("{}/admin", api.uri()), "x").await.unwrap_err();
            let Error::InsufficientScope { status, scope, challenge } = &error else {
                panic!("{via:?}: expected InsufficientScope, got {error:?}")
            };
            assert_eq!(
                (
                    *status,
                    scope.as_deref(),
                    challenge.error_description.as_deref(),
                    challenge.resource_metadata.as_deref()
                ),
                (
                    StatusCode::FORBIDDEN,
                    Some("admin"),
                    Some("admins only"),
                    Some("https://api.example/.well-known/oauth-protected-resource")
                )
            );
            assert_eq!(
                error.to_string(),
                "the resource server answered HTTP 403: the token lacks scope (it asks for `admin`)"
            );
            assert_eq!(requests(&server).await.len(), 1, "{via:?}: a new token would not have more scope");
        }
    }

    #[tokio::test]
    async fn a_body_that_cannot_be_replayed_is_not_sent_twice_and_the_token_is_still_replaced() {
        let (server, client) = serve(Provider::new(Some(3600), false)).await;
        let tokens = manager(client, &ManualClock::at(T0));
        let api = api(|token| token != "at-0", INVALID_TOKEN).await;
        let http = HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut service = TokenLayer::new(tokens.clone()).replay_with(NoReplay).layer(http);
        let request = || http::Request::get(format!("{}/things", api.uri())).body(Full::default()).unwrap();
        assert_eq!(service.call(request()).await.unwrap().status(), 401);
        assert_eq!(service.call(request()).await.unwrap().status(), 200, "the next request has a new token");
        assert_eq!(
            received(&api).await.into_iter().map(|(token, _)| token).collect::<Vec<_>>(),
            ["Bearer at-0", "Bearer at-1"]
        );
        assert_eq!(requests(&server).await.len(), 2);
    }
}

// The read path keeps a copy of each manager's token per thread (oauth-client's
// `manager/current.rs`). These pin what that copy must never change.

/// Reads `manager`'s access token on a thread of its own (its own copies, its own runtime).
fn read_on_another_thread(manager: &TokenManager) -> String {
    let manager = manager.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(manager.access_token()).unwrap().secret().to_owned()
    })
    .join()
    .unwrap()
}

/// A token replaced or rejected through one thread is not handed out again by another thread
/// that read it before.
#[tokio::test]
async fn a_token_replaced_on_another_thread_is_not_read_here_again() {
    let (calls, source) = counting_source(json!({"token_type": "Bearer", "expires_in": 3600}));
    let manager = TokenManager::builder(unused_client(), source).build();
    // The second read is from this thread's copy.
    for _ in 0..2 {
        assert_eq!(manager.access_token().await.unwrap().secret(), "vault-0");
    }
    assert_eq!(read_on_another_thread(&manager), "vault-0");

    let other = manager.clone();
    let forced = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(other.refresh_now()).unwrap().secret().to_owned()
    })
    .join()
    .unwrap();
    assert_eq!(forced, "vault-1");
    for _ in 0..2 {
        assert_eq!(manager.access_token().await.unwrap().secret(), "vault-1");
        assert_eq!(manager.token().await.unwrap().access_token.secret(), "vault-1");
    }

    let other = manager.clone();
    std::thread::spawn(move || other.invalidate(&"vault-1".into())).join().unwrap();
    assert_eq!(manager.access_token().await.unwrap().secret(), "vault-2");
    assert_eq!(read_on_another_thread(&manager), "vault-2");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// More managers than a thread keeps copies for, read in turns and replaced while others live:
/// each read is its own manager's token.
#[tokio::test]
async fn many_managers_read_in_turns_on_one_thread_get_their_own_tokens() {
    let named = |name: String| {
        let source = from_fn(move |_previous: Option<OAuthToken>| {
            let token = vault_token(json!({"access_token": name, "token_type": "Bearer"}));
            async move { Ok(token) }
        });
        TokenManager::builder(unused_client(), source).build()
    };
    let mut managers: Vec<(String, TokenManager)> =
        (0..20).map(|index| (format!("manager-{index}"), named(format!("manager-{index}")))).collect();
    for round in 0..3 {
        for (name, manager) in &managers {
            assert_eq!(manager.access_token().await.unwrap().secret(), name, "round {round}");
            assert_eq!(&manager.token().await.unwrap().access_token.secret(), name, "round {round}");
        }
        // Dropped managers' slots are taken by new ones.
        for index in (0..20).step_by(3) {
            let name = format!("manager-{round}-{index}");
            managers[index] = (name.clone(), named(name));
        }
    }
}

/// A clock that reads another manager's token (a read inside a read on one thread) works.
#[tokio::test]
async fn a_clock_that_reads_a_manager_is_answered() {
    struct ReadingClock(TokenManager);
    impl oauth_client::manager::Clock for ReadingClock {
        fn now(&self) -> i64 {
            let read = std::pin::pin!(self.0.access_token())
                .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
            match read {
                std::task::Poll::Ready(Ok(token)) if token.secret() == "vault-0" => T0,
                other => panic!("the clock's manager answered {other:?}"),
            }
        }
    }
    let (_, inner_source) = counting_source(json!({"token_type": "Bearer"}));
    let inner = TokenManager::builder(unused_client(), inner_source).build();
    inner.access_token().await.unwrap();
    let (_, source) = counting_source(json!({"token_type": "Bearer", "expires_in": 3600}));
    let manager = TokenManager::builder(unused_client(), source).clock(ReadingClock(inner)).build();
    for _ in 0..3 {
        assert_eq!(manager.access_token().await.unwrap().secret(), "vault-0");
    }
}
