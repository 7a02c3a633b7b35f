//! Sign in with an AT Protocol handle against a real PDS (`@atproto/pds`) and PLC directory
//! (`@did-plc/server`), offline on loopback (`tests/peers/atproto`): handles resolved through
//! the PDS with DNS replaced by a test resolver, sign-in and consent over HTTP as the PDS's
//! pages do it, XRPC calls with DPoP-bound tokens, refresh, one session shared by two
//! processes through Redis, sign-out; and the profile's refusals, with typed errors.
//!
//! The PDS tests are `#[ignore]`d, as they need the servers; `.ci/run` starts them. The
//! refusals no real server can be made to commit are played by wiremock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use oauth_client::atproto::{
    AtprotoClient, AtprotoClientMetadata, AtprotoError, AtprotoSession, Did, Handle, IdentityResolver, Scope,
};
use oauth_client::dpop::DpopKey;
use oauth_client::manager::{BoxFuture, MemoryStore, RedisStore, TokenStore};
use oauth_client::resource_access::UserAuthorization;
use oauth_client::{ClientAuth, OAuthClient, OAuthProviderErrorKind, RefreshToken};
use oauth_client_tests::browser::Browser;
use serde_json::{Value, json};

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const PASSWORD: &str = "correct horse battery staple";

/// The development client (`http://localhost?...`), which a PDS accepts without a document.
fn app() -> AtprotoClientMetadata {
    AtprotoClientMetadata::localhost(REDIRECT_URI, &[Scope::Atproto, Scope::TransitionGeneric]).unwrap()
}

/// The PDS and PLC directory of `tests/peers/start-all.sh`.
struct Pds {
    url: String,
    plc: String,
}

impl Pds {
    fn from_env() -> Pds {
        Pds { url: peer("OAUTH_PEER_PDS_URL"), plc: peer("OAUTH_PEER_PLC_URL") }
    }

    /// A new account `<name><random>.test`, its handle and DID.
    async fn create_account(&self, name: &str) -> (Handle, Did) {
        let suffix: String = format!("{:08x}", rand_u32());
        let handle = format!("{name}{suffix}.test");
        let response = reqwest::Client::new()
            .post(format!("{}/xrpc/com.atproto.server.createAccount", self.url))
            .header("content-type", "application/json")
            .body(json!({"handle": handle, "email": format!("{name}{suffix}@example.com"), "password": PASSWORD}).to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = json_body(response).await;
        assert_eq!(status, 200, "createAccount: {body}");
        (Handle::parse(&handle).unwrap(), Did::parse(body["did"].as_str().unwrap()).unwrap())
    }

    /// Resolution at the test's PLC directory, with DNS answered by the PDS, which knows
    /// the handles it serves (`_atproto.<handle>` TXT `did=<DID>`, as a real zone would).
    fn resolver(&self) -> IdentityResolver {
        let pds = self.url.clone();
        IdentityResolver::new().plc_directory(&self.plc).dns(move |name: String| {
            let pds = pds.clone();
            async move {
                let Some(handle) = name.strip_prefix("_atproto.") else { return Ok(Vec::new()) };
                let url = format!("{pds}/xrpc/com.atproto.identity.resolveHandle?handle={handle}");
                let response =
                    reqwest::get(url).await.map_err(|error| AtprotoError::Dns(error.to_string()))?;
                if !response.status().is_success() {
                    return Ok(Vec::new());
                }
                let body = response.bytes().await.map_err(|error| AtprotoError::Dns(error.to_string()))?;
                let body: Value = serde_json::from_slice(&body).unwrap_or_default();
                Ok(vec![format!("did={}", body["did"].as_str().unwrap_or_default())])
            }
        })
    }

    fn client(&self) -> AtprotoClient {
        AtprotoClient::builder(app()).identity(self.resolver()).build().unwrap()
    }
}

fn peer(variable: &str) -> String {
    std::env::var(variable).ok().filter(|value| !value.is_empty()).unwrap_or_else(|| {
        panic!(
            "{variable} is not set: start the interop servers (`bash tests/peers/start-all.sh && \
             source tests/peers/run/peers.env`) before running the ignored tests"
        )
    })
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    static SERIAL: AtomicUsize = AtomicUsize::new(0);
    RandomState::new().hash_one(SERIAL.fetch_add(1, Ordering::SeqCst)) as u32
}

/// The user at the PDS's authorization pages, over HTTP: loads the page, signs in as
/// `username` and consents, as the pages' script does. Counts the sign-ins.
struct PdsUser {
    issuer: String,
    username: String,
    sign_ins: AtomicUsize,
    /// Time spent at the pages, for the figures.
    at_the_pages: std::sync::Mutex<std::time::Duration>,
}

impl PdsUser {
    fn new(pds: &Pds, username: &str) -> PdsUser {
        PdsUser {
            issuer: pds.url.clone(),
            username: username.to_owned(),
            sign_ins: AtomicUsize::new(0),
            at_the_pages: std::sync::Mutex::new(std::time::Duration::ZERO),
        }
    }
}

impl UserAuthorization for PdsUser {
    fn redirect_uri(&self) -> &str {
        REDIRECT_URI
    }

    fn authorize<'a>(&'a self, url: &'a reqwest::Url) -> BoxFuture<'a, Result<String, oauth_client::Error>> {
        self.sign_ins.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            let started = std::time::Instant::now();
            let redirect = sign_in_and_consent(&self.issuer, url, &self.username).await;
            *self.at_the_pages.lock().unwrap() += started.elapsed();
            Ok(redirect)
        })
    }
}

/// The authorization pages' steps: the page (which sets the device and CSRF cookies), the
/// sign-in and consent API calls (same-origin, CSRF header, referred by the page), and the
/// redirect endpoint, which sends the browser back to the client. Returns that redirect.
async fn sign_in_and_consent(issuer: &str, authorize: &reqwest::Url, username: &str) -> String {
    let mut browser = Browser::new();
    let http = browser.http();
    let navigate = |url: &str, site: &str| {
        http.get(url)
            .header("sec-fetch-site", site)
            .header("sec-fetch-mode", "navigate")
            .header("sec-fetch-dest", "document")
            .header("referer", authorize.as_str())
    };
    let page = navigate(authorize.as_str(), "cross-site");
    let page = browser.send(page).await;
    assert_eq!(page.status, 200, "the authorization page: {}", page.body);
    let api = |browser: &Browser, endpoint: &str, body: Value| {
        browser
            .http()
            .post(format!("{issuer}/@atproto/oauth-provider/~api/{endpoint}"))
            .header("sec-fetch-mode", "same-origin")
            .header("sec-fetch-site", "same-origin")
            .header("origin", issuer)
            .header("referer", authorize.as_str())
            .header("x-csrf-token", browser.cookie("csrf-token").expect("the page sets a CSRF cookie"))
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    let sign_in = api(
        &browser,
        "sign-in",
        json!({"locale": "en", "username": username, "password": PASSWORD, "remember": true}),
    );
    let signed_in = browser.send(sign_in).await;
    assert_eq!(signed_in.status, 200, "sign-in: {}", signed_in.body);
    let account: Value = serde_json::from_str(&signed_in.body).unwrap();
    let consent = api(&browser, "consent", json!({"did": account["account"]["did"]}));
    let consented = browser.send(consent).await;
    assert_eq!(consented.status, 200, "consent: {}", consented.body);
    let redirect: Value = serde_json::from_str(&consented.body).unwrap();
    let back = navigate(redirect["url"].as_str().expect("a redirect URL"), "same-origin");
    let back = browser.send(back).await;
    back.location.unwrap_or_else(|| panic!("a redirect to the client, got {}: {}", back.status, back.body))
}

async fn json_body(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// `com.atproto.server.getSession` through the session: who the PDS says the token is for.
async fn who_am_i(session: &AtprotoSession) -> Value {
    let response = session
        .send(reqwest::Client::new().get(session.xrpc("com.atproto.server.getSession")))
        .await
        .unwrap();
    let status = response.status();
    let body = json_body(response).await;
    assert_eq!(status, 200, "getSession: {body}");
    body
}

/// Issue "Sign in with an AT Protocol handle": from a handle to XRPC calls on the account's
/// PDS — resolution (DNS, PLC directory, the handle claimed back), PAR, PKCE, DPoP with the
/// servers' nonces, `iss`, the token's `sub` — then a write, a refresh (the single-use
/// refresh token replaced), a restore from the store, and sign-out, after which the session
/// is gone from the store and its refresh token refused by the server.
#[tokio::test]
#[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
async fn a_handle_signs_in_calls_xrpc_refreshes_and_signs_out() {
    let pds = Pds::from_env();
    let (handle, did) = pds.create_account("alice").await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = DpopKey::generate().unwrap();
    let client = AtprotoClient::builder(app())
        .identity(pds.resolver())
        .dpop_key(key.clone())
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    let alice = PdsUser::new(&pds, handle.as_str());

    let session = client.sign_in(handle.as_str(), &alice).await.unwrap();
    assert_eq!(session.did(), &did);
    assert_eq!(session.handle(), Some(&handle));
    assert_eq!((session.pds(), session.issuer()), (pds.url.as_str(), pds.url.as_str()));
    assert_eq!(who_am_i(&session).await["did"], did.as_str());

    let post = json!({
        "repo": did.as_str(),
        "collection": "app.bsky.feed.post",
        "record": {"$type": "app.bsky.feed.post", "text": "hello from oauth-client", "createdAt": "2026-12-04T00:00:00.000Z"},
    });
    let created = session
        .send(
            reqwest::Client::new()
                .post(session.xrpc("com.atproto.repo.createRecord"))
                .header("content-type", "application/json")
                .body(post.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let created = json_body(created).await;
    assert!(
        created["uri"].as_str().unwrap().starts_with(&format!("at://{did}/app.bsky.feed.post/")),
        "{created}"
    );

    let before = session.token_manager().token().await.unwrap();
    let refreshed = session.token_manager().refresh_now().await.unwrap();
    let after = session.token_manager().token().await.unwrap();
    assert_ne!(refreshed, before.access_token);
    assert_ne!(after.refresh_token, before.refresh_token, "a single-use refresh token is replaced");
    assert_eq!(who_am_i(&session).await["did"], did.as_str());

    let restored = client.restore(&did).await.unwrap().expect("the session kept by DID");
    assert_eq!(who_am_i(&restored).await["handle"], handle.as_str());
    assert_eq!(alice.sign_ins.load(Ordering::SeqCst), 1);

    let last_refresh = after.refresh_token.clone().expect("a refresh token");
    session.sign_out().await.unwrap();
    assert!(client.restore(&did).await.unwrap().is_none(), "the session is gone from the store");
    let refused = refresh_with(&pds, &key, &last_refresh).await;
    assert_eq!(refused, Some(OAuthProviderErrorKind::InvalidGrant), "the revoked refresh token");
}

/// A refresh with `refresh_token` at the PDS, as the development client with `key`: the
/// provider's error kind, or `None` when it succeeds.
async fn refresh_with(
    pds: &Pds,
    key: &DpopKey,
    refresh_token: &RefreshToken,
) -> Option<OAuthProviderErrorKind> {
    use oauth_client::OAuthAuthorization as _;
    let client = OAuthClient::discover(&pds.url)
        .await
        .unwrap()
        .client_auth(ClientAuth::none(app().client_id()))
        .dpop(key.clone())
        .build()
        .unwrap();
    let refreshed = client
        .refresh_token_acg(oauth_client::ClientAuthorization::Configured, refresh_token.secret(), None, None)
        .await;
    match refreshed {
        Ok(_) => None,
        Err(error) => Some(error.provider_error().expect("the provider's refusal").error.clone()),
    }
}

/// Issue "Sign in with an AT Protocol handle": two processes (two clients, two Redis
/// connections, the one DPoP key) share a session by DID. Five times both refresh at once;
/// the store's lock and compare-and-set make it one refresh at a time with the newest refresh
/// token — the PDS revokes a session whose refresh token is used twice, so it still working
/// afterwards, in both, is the proof that none was.
#[tokio::test]
#[ignore = "needs the interop servers (tests/peers/start-all.sh) and redis-server"]
async fn two_processes_share_one_session_through_redis_without_reusing_a_refresh_token() {
    let _one = crate::redis_store::ONE_AT_A_TIME.lock().await;
    let redis = crate::redis_store::RedisServer::start();
    let pds = Pds::from_env();
    let (handle, did) = pds.create_account("bob").await;
    let key = DpopKey::generate().unwrap();
    let process = || {
        AtprotoClient::builder(app())
            .identity(pds.resolver())
            .dpop_key(key.clone())
            .store(Arc::new(RedisStore::new(&redis.url).unwrap()))
            .build()
            .unwrap()
    };
    let (first, second) = (process(), process());
    let bob = PdsUser::new(&pds, handle.as_str());
    let one = first.sign_in(handle.as_str(), &bob).await.unwrap();
    let other = second.restore(&did).await.unwrap().expect("the session in Redis");
    assert_eq!(who_am_i(&other).await["did"], did.as_str());

    let mut access_tokens = std::collections::BTreeSet::new();
    for _ in 0..5 {
        let (a, b) = tokio::join!(one.token_manager().refresh_now(), other.token_manager().refresh_now());
        access_tokens.insert(a.unwrap().secret().to_owned());
        access_tokens.insert(b.unwrap().secret().to_owned());
    }
    assert!(access_tokens.len() >= 5, "each round refreshed at least once: {}", access_tokens.len());
    assert_eq!(who_am_i(&one).await["did"], did.as_str());
    assert_eq!(who_am_i(&other).await["did"], did.as_str());
    other.token_manager().refresh_now().await.expect("the newest refresh token still works");
    assert_eq!(bob.sign_ins.load(Ordering::SeqCst), 1);
}

/// Issue "Sign in with an AT Protocol handle": a handle that names a DID whose document does
/// not claim it back is not that account's; and a token the server issued for another
/// account than the one resolved at the start is refused after the code exchange.
#[tokio::test]
#[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
async fn a_handle_not_claimed_back_and_a_token_for_another_account_are_refused() {
    let pds = Pds::from_env();
    let (alice_handle, alice) = pds.create_account("carol").await;
    let (dave_handle, dave) = pds.create_account("dave").await;

    let pointing_at_alice = {
        let did = alice.to_string();
        IdentityResolver::new()
            .plc_directory(&pds.plc)
            .dns(move |_name: String| std::future::ready(Ok(vec![format!("did={did}")])))
    };
    match pointing_at_alice.resolve("mallory.test").await {
        Err(AtprotoError::HandleNotClaimed { handle, did }) => {
            assert_eq!((handle.as_str(), did.as_str()), ("mallory.test", alice.as_str()));
        }
        other => panic!("expected HandleNotClaimed, got {other:?}"),
    }

    // Sign-in starts for alice's handle; dave signs in at the PDS's page instead.
    let dave_user = PdsUser::new(&pds, dave_handle.as_str());
    match pds.client().sign_in(alice_handle.as_str(), &dave_user).await {
        Err(AtprotoError::SubjectMismatch { expected, found }) => {
            assert_eq!((expected.as_str(), found.as_str()), (alice.as_str(), dave.as_str()));
        }
        other => panic!("expected SubjectMismatch, got {other:?}"),
    }
}

/// Issue "Sign in with an AT Protocol handle": sign-in may start from the PDS's URL, with no
/// handle; the account is learnt from the token's `sub`, resolved, and its PDS must be served
/// by the authorization server that issued the token.
#[tokio::test]
#[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
async fn sign_in_from_the_pds_url_learns_the_account_from_the_token() {
    let pds = Pds::from_env();
    let (handle, did) = pds.create_account("erin").await;
    let erin = PdsUser::new(&pds, handle.as_str());
    let session = pds.client().sign_in(&pds.url, &erin).await.unwrap();
    assert_eq!((session.did(), session.handle()), (&did, Some(&handle)));
    assert_eq!(who_am_i(&session).await["handle"], handle.as_str());
}

/// An authorization server's metadata as the AT Protocol profile requires it, at `base`.
fn profile_metadata(base: &str) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "pushed_authorization_request_endpoint": format!("{base}/oauth/par"),
        "require_pushed_authorization_requests": true,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": ["ES256"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
        "scopes_supported": ["atproto", "transition:generic"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
    })
}

/// A DID document naming `pds` as the account's PDS (none when `None`).
fn did_document(did: &str, handle: &str, pds: Option<&str>) -> Value {
    let service: Vec<Value> = pds
        .map(|pds| json!({"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}))
        .into_iter()
        .collect();
    json!({"id": did, "alsoKnownAs": [format!("at://{handle}")], "service": service})
}

/// Issue "Sign in with an AT Protocol handle": a DID document without an `#atproto_pds`
/// service names no server to sign in at.
#[tokio::test]
async fn a_did_document_without_a_pds_is_refused() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let plc = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/did:plc:nopds"))
        .respond_with(ResponseTemplate::new(200).set_body_json(did_document(
            "did:plc:nopds",
            "nopds.test",
            None,
        )))
        .mount(&plc)
        .await;
    let resolver = IdentityResolver::new()
        .plc_directory(plc.uri())
        .dns(|_name: String| std::future::ready(Ok(vec!["did=did:plc:nopds".to_owned()])));
    match resolver.resolve("nopds.test").await {
        Err(AtprotoError::NoPds { did }) => assert_eq!(did, "did:plc:nopds"),
        other => panic!("expected NoPds, got {other:?}"),
    }
}

/// Issue "Sign in with an AT Protocol handle": sign-in from an entryway's URL, whose token
/// names an account (`sub`) whose PDS is served by another authorization server, is refused:
/// that server, not the entryway, speaks for the account.
#[tokio::test]
async fn a_token_from_a_server_that_does_not_serve_the_account_is_refused() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};
    let entryway = MockServer::start().await;
    let pds = MockServer::start().await;
    let did = "did:plc:elsewhere";
    let state = Arc::new(std::sync::Mutex::new(String::new()));
    let json_at = |at: &'static str, body: Value| {
        Mock::given(method("GET")).and(path(at)).respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    json_at("/.well-known/oauth-authorization-server", profile_metadata(&entryway.uri()))
        .mount(&entryway)
        .await;
    json_at("/did:plc:elsewhere", did_document(did, "elsewhere.test", Some(&pds.uri())))
        .mount(&entryway)
        .await;
    let pushed = Arc::clone(&state);
    Mock::given(method("POST"))
        .and(path("/oauth/par"))
        .respond_with(move |request: &Request| {
            let form: std::collections::HashMap<String, String> =
                form_urlencoded::parse(&request.body).into_owned().collect();
            *pushed.lock().unwrap() = form["state"].clone();
            ResponseTemplate::new(201)
                .set_body_json(json!({"request_uri": "urn:request:1", "expires_in": 60}))
        })
        .mount(&entryway)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-1", "token_type": "DPoP", "expires_in": 3600, "refresh_token": "rt-1",
            "scope": "atproto", "sub": did,
        })))
        .mount(&entryway)
        .await;
    let resource = json!({"resource": pds.uri(), "authorization_servers": [pds.uri()]});
    json_at("/.well-known/oauth-protected-resource", resource).mount(&pds).await;
    json_at("/.well-known/oauth-authorization-server", profile_metadata(&pds.uri())).mount(&pds).await;

    /// Approves at once: back to the client with the pushed request's state.
    struct Approve {
        issuer: String,
        state: Arc<std::sync::Mutex<String>>,
    }
    impl UserAuthorization for Approve {
        fn redirect_uri(&self) -> &str {
            REDIRECT_URI
        }
        fn authorize<'a>(
            &'a self,
            _: &'a reqwest::Url,
        ) -> BoxFuture<'a, Result<String, oauth_client::Error>> {
            let state = self.state.lock().unwrap().clone();
            Box::pin(std::future::ready(Ok(format!(
                "{REDIRECT_URI}?code=c1&state={state}&iss={}",
                self.issuer
            ))))
        }
    }
    let client = AtprotoClient::builder(app())
        .identity(IdentityResolver::new().plc_directory(entryway.uri()))
        .build()
        .unwrap();
    let user = Approve { issuer: entryway.uri(), state };
    match client.sign_in(&entryway.uri(), &user).await {
        Err(AtprotoError::IssuerMismatch { did: account, expected, found }) => {
            assert_eq!((account.as_str(), expected, found), (did, pds.uri(), entryway.uri()));
        }
        other => panic!("expected IssuerMismatch, got {other:?}"),
    }
}

/// The figures of BENCHMARKS.md's AT Protocol section (`benches/run.sh` runs this and reads
/// its `ATPROTO_FIGURES` line): from a handle to the first XRPC response, twenty times, each
/// a new account and a new client, every HTTP request of the client counted by a forward
/// proxy. DNS answers from memory (a resolver's cache would); the user's browser steps are
/// timed apart, as they are the PDS's pages and password check, not the client.
#[tokio::test]
#[ignore = "figures for BENCHMARKS.md (benches/run.sh); needs the interop servers"]
async fn sign_in_figures() {
    use std::time::{Duration, Instant};
    let pds = Pds::from_env();
    let proxy = oauth_client_tests::proxy::CountingProxy::start().await;
    let http = proxy.client();
    let (mut totals, mut clients) = (Vec::new(), Vec::new());
    let mut requests = Vec::new();
    for _ in 0..20 {
        let (handle, did) = pds.create_account("fig").await;
        let record = format!("did={did}");
        let resolver = IdentityResolver::new()
            .plc_directory(&pds.plc)
            .http_client(http.clone())
            .dns(move |_name: String| std::future::ready(Ok(vec![record.clone()])));
        let client =
            AtprotoClient::builder(app()).identity(resolver).http_client(http.clone()).build().unwrap();
        let user = PdsUser::new(&pds, handle.as_str());
        proxy.take();
        let started = Instant::now();
        let session = client.sign_in(handle.as_str(), &user).await.unwrap();
        let response = session.send(http.get(session.xrpc("com.atproto.server.getSession"))).await.unwrap();
        assert_eq!(response.status(), 200);
        let total = started.elapsed();
        totals.push(total);
        clients.push(total - *user.at_the_pages.lock().unwrap());
        requests = proxy.take();
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1000.0
    };
    let paths: Vec<String> = requests
        .iter()
        .map(|line| {
            let (method, url) = line.split_once(' ').unwrap();
            let url = reqwest::Url::parse(url).unwrap();
            if url.as_str().starts_with(&pds.plc) {
                format!("{method} PLC /<did>")
            } else {
                format!("{method} PDS {}", url.path())
            }
        })
        .collect();
    let figures = json!({
        "runs": totals.len(),
        "client_requests": paths.len(),
        "requests": paths,
        "median_total_ms": median(&mut totals),
        "median_client_ms": median(&mut clients),
    });
    println!("ATPROTO_FIGURES {figures}");
}

/// Issue "Sign in with an AT Protocol handle": `oauth atproto DID` — the URL printed, the
/// user signs in at the PDS's pages, the browser comes back to the command's loopback
/// listener — prints who signed in and the XRPC method's answer; a procedure with `--input`.
#[tokio::test]
#[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
async fn the_cli_signs_in_and_calls_an_xrpc_method() {
    use crate::interop::cli::Lines;
    let pds = Pds::from_env();
    let (handle, did) = pds.create_account("cli").await;
    let run = |method: &str, extra: &[&str]| {
        let mut args: Vec<String> = ["oauth", "atproto", did.as_str(), method, "--plc-directory", &pds.plc]
            .map(str::to_owned)
            .to_vec();
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        let (sender, lines) = std::sync::mpsc::channel();
        let command = std::thread::spawn(move || {
            let mut out = Vec::new();
            let code = oauth_cli::run(args, &mut out, &mut Lines(sender, Vec::new()));
            (code, String::from_utf8(out).unwrap())
        });
        let (issuer, username) = (pds.url.clone(), handle.as_str().to_owned());
        async move {
            // "Open this URL and sign in; the redirect comes back to LISTENER:", then the URL.
            let (url, lines) = tokio::task::spawn_blocking(move || {
                lines.iter().find(|line| line.contains("comes back to")).expect("the listener");
                (lines.recv().expect("the authorization URL"), lines)
            })
            .await
            .unwrap();
            let url = reqwest::Url::parse(&url).unwrap();
            let redirect = sign_in_and_consent(&issuer, &url, &username).await;
            let page = reqwest::get(&redirect).await.unwrap();
            assert_eq!(page.status(), 200, "{redirect}");
            let (code, out) = tokio::task::spawn_blocking(move || command.join().unwrap()).await.unwrap();
            let said: Vec<String> = lines.try_iter().collect();
            (code, out, said.join("\n"))
        }
    };
    let (code, out, said) = run("com.atproto.server.getSession", &[]).await;
    assert_eq!(code, oauth_cli::EXIT_OK, "{out}{said}");
    // The command resolves with the system's DNS, which has no `.test` zone: the handle the
    // DID document claims cannot be verified back, so it is not shown.
    assert_eq!(said, format!("Signed in as {did} at {}", pds.url));
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (answer["did"].as_str(), answer["handle"].as_str()),
        (Some(did.as_str()), Some(handle.as_str()))
    );

    let record = json!({"repo": did.as_str(), "collection": "app.bsky.feed.post",
        "record": {"$type": "app.bsky.feed.post", "text": "from the terminal", "createdAt": "2026-12-04T00:00:00.000Z"}});
    let (code, out, said) = run("com.atproto.repo.createRecord", &["--input", &record.to_string()]).await;
    assert_eq!(code, oauth_cli::EXIT_OK, "{out}{said}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert!(
        answer["uri"].as_str().unwrap().starts_with(&format!("at://{did}/app.bsky.feed.post/")),
        "{answer}"
    );
}

/// `oauth atproto` with what cannot work says what to fix, with the usage exit code: a name
/// that is no handle, scopes without `atproto`.
#[tokio::test]
async fn the_cli_names_a_bad_handle_and_missing_atproto_scope() {
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        async move {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = oauth_cli::run_async(args, &mut out, &mut err).await;
            (code, String::from_utf8(err).unwrap())
        }
    };
    let (code, err) = run(&["oauth", "atproto", "alice"]).await;
    assert_eq!(
        (code, err.as_str()),
        (
            oauth_cli::EXIT_USAGE,
            "error: `alice` is not a handle: a handle is a domain name with at least two labels\n"
        )
    );
    let (code, err) = run(&["oauth", "atproto", "alice.test", "--scope", "transition:generic"]).await;
    assert_eq!(
        (code, err.as_str()),
        (oauth_cli::EXIT_USAGE, "error: client metadata: the scopes must include `atproto`\n")
    );
}
