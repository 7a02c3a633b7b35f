//! The token manager: single flight under concurrency, early refresh by the clock, rotation,
//! forced refresh, stores shared between managers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth_client::manager::{AuthorizationCode, ClientCredentials, MemoryStore, PasswordGrant, from_fn};
use oauth_client::{Error, OAuthClient, OAuthToken, TokenManager};
use oauth_client_tests::clock::ManualClock;
use oauth_client_tests::{TOKEN_PATH, form_of, header_of};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const T0: i64 = 1_800_000_000;
const AUTH: &str = "Basic eDp5";

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

async fn serve(responder: impl Respond + 'static) -> (MockServer, OAuthClient) {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path(TOKEN_PATH)).respond_with(responder).mount(&server).await;
    let client = OAuthClient::new(format!("{}{TOKEN_PATH}", server.uri())).unwrap();
    (server, client)
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn manager(client: OAuthClient, clock: &ManualClock) -> TokenManager {
    TokenManager::builder(client, ClientCredentials::new(AUTH)).clock(clock.clone()).build()
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
async fn a_failed_refresh_reaches_every_waiter_and_the_next_call_retries_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(150)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(Provider::new(Some(3600), true)).mount(&server).await;
    let client = OAuthClient::new(format!("{}{TOKEN_PATH}", server.uri())).unwrap();
    let manager = manager(client, &ManualClock::at(T0));

    let results = stampede(&manager, 10_000).await;
    assert!(results.iter().all(|result| matches!(result, Err(Error::Http { status: 503, .. }))));
    assert_eq!(requests(&server).await.len(), 1);

    assert_eq!(manager.access_token().await.unwrap().secret(), "at-0");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn refresh_happens_at_expiry_minus_leeway_and_not_before() {
    let (server, client) = serve(Provider::new(Some(600), true)).await;
    let clock = ManualClock::at(T0);
    let manager = TokenManager::builder(client, ClientCredentials::new(AUTH))
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
    let manager = TokenManager::builder(client, PasswordGrant::new(AUTH, "alice", "wonderland"))
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
    let manager = TokenManager::builder(client, ClientCredentials::new(AUTH))
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
    let clock = ManualClock::at(T0);
    let manager = TokenManager::builder(client, AuthorizationCode::new(AUTH))
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
    let refused = TokenManager::builder(client.clone(), AuthorizationCode::new(AUTH))
        .clock(clock.clone())
        .initial_token(code_token(Some("revoked")))
        .build();
    let error = refused.access_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::RefreshUnavailable(reason) if reason.contains("invalid_grant")),
        "{error:?}"
    );

    let without = TokenManager::builder(client, AuthorizationCode::new(AUTH))
        .clock(clock)
        .initial_token(code_token(None))
        .build();
    assert!(matches!(without.access_token().await, Err(Error::RefreshUnavailable(_))));
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
            TokenManager::builder(client.clone(), ClientCredentials::new(AUTH))
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
        assert_eq!(
            requests(&server).await.len(),
            round + 1,
            "one request per expiry window for all managers"
        );
        clock.advance(3600);
    }
}
