//! Resource-first authorization (`ResourceAccess`) against a local resource and authorization
//! server: the exact requests of the cold path, step-up with its limit, a migration to
//! another authorization server, and the refusals that stop the flow before the user.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use oauth_client::manager::BoxFuture;
use oauth_client::registration::ClientMetadata;
use oauth_client::resource_access::{ResourceAccess, UserAuthorization};
use oauth_client::{Error, RedirectError, ResourceMetadataError};
use oauth_client_tests::form_of;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The user: approves at once, recording each authorization URL; the redirect carries
/// `iss` when given one.
#[derive(Default)]
struct Approve {
    iss: Option<String>,
    urls: Mutex<Vec<reqwest::Url>>,
}

impl Approve {
    fn sending_iss(iss: &str) -> Self {
        Approve { iss: Some(iss.to_owned()), ..Approve::default() }
    }
}

impl UserAuthorization for Approve {
    fn redirect_uri(&self) -> &str {
        REDIRECT
    }

    fn authorize<'a>(&'a self, url: &'a reqwest::Url) -> BoxFuture<'a, Result<String, Error>> {
        let mut urls = self.urls.lock().unwrap();
        urls.push(url.clone());
        let state = query(url, "state").unwrap();
        let iss = self.iss.as_ref().map(|iss| format!("&iss={iss}")).unwrap_or_default();
        let redirect = format!("{REDIRECT}?code=code-{}&state={state}{iss}", urls.len());
        Box::pin(std::future::ready(Ok(redirect)))
    }
}

fn query(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// An authorization server and an MCP-like resource at `/mcp` on one local server: the
/// resource refuses a token with the answer `refusal` gives, and accepts it when none.
struct Setup {
    server: MockServer,
    user: std::sync::Arc<Approve>,
}

impl Setup {
    async fn start(
        as_metadata: impl Fn(&str) -> Value,
        refusal: fn(&str) -> Option<ResponseTemplate>,
    ) -> Self {
        let server = MockServer::start().await;
        let uri = server.uri();
        let prm = format!("{uri}/.well-known/oauth-protected-resource/mcp");
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-protected-resource/mcp"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "resource": format!("{uri}/mcp"),
                "authorization_servers": [uri],
                "scopes_supported": ["mcp:read"],
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-authorization-server"))
            .respond_with(ResponseTemplate::new(200).set_body_json(as_metadata(&uri)))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/register"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"client_id": "registered-client"})))
            .mount(&server)
            .await;
        let issued = AtomicUsize::new(0);
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(move |request: &Request| {
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                let scope = form_of(request).into_iter().find(|(name, _)| name == "scope").map(|(_, v)| v);
                ResponseTemplate::new(200).set_body_json(json!({
                    "access_token": format!("at-{n}"), "token_type": "Bearer", "expires_in": 3600,
                    "scope": scope,
                }))
            })
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/mcp"))
            .respond_with(move |request: &Request| {
                let token = request
                    .headers
                    .get("authorization")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.strip_prefix("Bearer "));
                match token {
                    None => ResponseTemplate::new(401).insert_header(
                        "www-authenticate",
                        format!(r#"Bearer resource_metadata="{prm}", scope="mcp:read""#),
                    ),
                    Some(token) => refusal(token).unwrap_or_else(|| {
                        ResponseTemplate::new(200).set_body_string(format!("ok with {token}"))
                    }),
                }
            })
            .mount(&server)
            .await;
        Setup { server, user: std::sync::Arc::new(Approve::default()) }
    }

    fn access(&self) -> ResourceAccess {
        ResourceAccess::builder(ClientMetadata::named("tests"))
            .authorization_code(self.user.clone())
            .build()
            .unwrap()
    }

    async fn send(&self, access: &ResourceAccess) -> Result<String, Error> {
        let http = reqwest::Client::new();
        let response = access.send(http.post(format!("{}/mcp", self.server.uri())).body("{}")).await?;
        Ok(format!("{} {}", response.status().as_u16(), response.text().await.unwrap()))
    }

    async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap()
    }

    async fn paths(&self) -> Vec<String> {
        self.requests()
            .await
            .iter()
            .map(|request| format!("{} {}", request.method, request.url.path()))
            .collect()
    }
}

fn metadata(uri: &str) -> Value {
    json!({
        "issuer": uri,
        "authorization_endpoint": format!("{uri}/authorize"),
        "token_endpoint": format!("{uri}/token"),
        "registration_endpoint": format!("{uri}/register"),
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["mcp:read", "mcp:write", "offline_access"],
    })
}

fn step_up(token: &str) -> Option<ResponseTemplate> {
    (token == "at-1").then(|| {
        ResponseTemplate::new(403).insert_header(
            "www-authenticate",
            r#"Bearer error="insufficient_scope", scope="mcp:write", resource_metadata="https://rs.example/prm""#,
        )
    })
}

#[tokio::test]
async fn the_cold_path_is_six_requests_and_the_warm_path_one() {
    let setup = Setup::start(metadata, |_| None).await;
    let access = setup.access();
    assert_eq!(setup.send(&access).await.unwrap(), "200 ok with at-1");
    assert_eq!(
        setup.paths().await,
        [
            "POST /mcp",
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-authorization-server",
            "POST /register",
            "POST /token",
            "POST /mcp",
        ],
        "the authorization request itself goes through the user's browser"
    );
    let requests = setup.requests().await;
    let registered: Value = serde_json::from_slice(&requests[3].body).unwrap();
    assert_eq!(
        registered,
        json!({
            "client_name": "tests", "redirect_uris": [REDIRECT], "application_type": "native",
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        })
    );
    let url = setup.user.urls.lock().unwrap()[0].clone();
    let uri = setup.server.uri();
    let named: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !matches!(name.as_ref(), "state" | "code_challenge"))
        .map(|(n, v)| (n.into(), v.into()))
        .collect();
    let expected = [
        ("response_type", "code"),
        ("client_id", "registered-client"),
        ("redirect_uri", REDIRECT),
        ("scope", "mcp:read offline_access"),
        ("code_challenge_method", "S256"),
        ("resource", &format!("{uri}/mcp")),
    ];
    let mut named_sorted = named.clone();
    named_sorted.sort();
    let mut expected_sorted: Vec<(String, String)> =
        expected.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect();
    expected_sorted.sort();
    assert_eq!(
        named_sorted, expected_sorted,
        "scope from the challenge, offline_access as the server lists it"
    );
    let token_form = form_of(&requests[4]);
    let field = |name: &str| token_form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    assert_eq!(field("grant_type"), Some("authorization_code"));
    assert_eq!(field("code"), Some("code-1"));
    assert_eq!(field("client_id"), Some("registered-client"));
    assert_eq!(field("resource"), Some(format!("{uri}/mcp").as_str()));
    assert!(field("code_verifier").is_some_and(|verifier| verifier.len() >= 43));

    assert_eq!(setup.send(&access).await.unwrap(), "200 ok with at-1");
    assert_eq!(setup.requests().await.len(), 7, "the held token is sent at once");
}

#[tokio::test]
async fn a_second_run_sharing_the_store_is_the_same_client_with_the_same_token() {
    let setup = Setup::start(metadata, |_| None).await;
    let store: std::sync::Arc<dyn oauth_client::manager::TokenStore> =
        std::sync::Arc::new(oauth_client::manager::MemoryStore::new());
    let run = || {
        ResourceAccess::builder(ClientMetadata::named("tests"))
            .authorization_code(setup.user.clone())
            .store(store.clone())
            .build()
            .unwrap()
    };
    assert_eq!(setup.send(&run()).await.unwrap(), "200 ok with at-1");
    let first = setup.requests().await.len();
    assert_eq!(setup.send(&run()).await.unwrap(), "200 ok with at-1");
    assert_eq!(
        setup.paths().await[first..],
        [
            "POST /mcp",
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-authorization-server",
            "POST /mcp",
        ],
        "no registration and no token request: both come from the store"
    );
    assert_eq!(setup.user.urls.lock().unwrap().len(), 1, "the user authorized once");
    let kept = store
        .load_shared(oauth_client::manager::SharedKind::ClientRegistration, &setup.server.uri())
        .await
        .unwrap()
        .expect("the registration is kept by issuer");
    assert_eq!(serde_json::from_str::<Value>(&kept).unwrap()["client_id"], "registered-client");
}

#[tokio::test]
async fn more_scope_is_asked_for_with_the_scope_held_and_the_same_client() {
    let setup = Setup::start(metadata, step_up).await;
    let access = setup.access();
    assert_eq!(setup.send(&access).await.unwrap(), "200 ok with at-2");
    let scopes: Vec<String> =
        setup.user.urls.lock().unwrap().iter().map(|url| query(url, "scope").unwrap()).collect();
    assert_eq!(scopes, ["mcp:read offline_access", "mcp:read offline_access mcp:write"]);
    let paths = setup.paths().await;
    assert_eq!(paths.iter().filter(|p| *p == "POST /register").count(), 1, "one registration: {paths:?}");
    assert_eq!(
        paths.iter().filter(|p| p.starts_with("GET /.well-known")).count(),
        2,
        "a step-up does not discover again: {paths:?}"
    );
}

#[tokio::test]
async fn a_scope_never_granted_stops_after_three_authorizations_with_a_typed_error() {
    let setup = Setup::start(metadata, |_| {
        Some(ResponseTemplate::new(403).insert_header(
            "www-authenticate",
            r#"Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="https://rs.example/prm""#,
        ))
    })
    .await;
    let error = setup.send(&setup.access()).await.unwrap_err();
    let Error::InsufficientScope { scope, challenge, .. } = &error else { panic!("{error:?}") };
    assert_eq!(scope.as_deref(), Some("mcp:admin"));
    assert_eq!(challenge.resource_metadata.as_deref(), Some("https://rs.example/prm"), "kept for the caller");
    assert_eq!(setup.user.urls.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn no_user_is_sent_to_a_server_without_pkce_s256() {
    let setup = Setup::start(
        |uri| {
            let mut without = metadata(uri);
            without["code_challenge_methods_supported"] = json!(["plain"]);
            without
        },
        |_| None,
    )
    .await;
    let error = setup.send(&setup.access()).await.unwrap_err();
    assert!(
        matches!(&error, Error::ResourceMetadata(ResourceMetadataError::PkceNotSupported { issuer }) if *issuer == setup.server.uri()),
        "{error:?}"
    );
    assert!(setup.user.urls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_redirect_from_another_issuer_is_refused_before_the_token_request() {
    let mut setup = Setup::start(metadata, |_| None).await;
    setup.user = std::sync::Arc::new(Approve::sending_iss("https://evil.example"));
    let error = setup.send(&setup.access()).await.unwrap_err();
    assert!(matches!(error, Error::Redirect(RedirectError::IssuerMismatch { .. })), "{error:?}");
    assert!(!setup.paths().await.contains(&"POST /token".to_owned()));
    // The same issuer with a trailing slash is another string: RFC 9207 compares exactly.
    setup.user = std::sync::Arc::new(Approve::sending_iss(&format!("{}/", setup.server.uri())));
    let error = setup.send(&setup.access()).await.unwrap_err();
    assert!(matches!(error, Error::Redirect(RedirectError::IssuerMismatch { .. })), "{error:?}");
}

#[tokio::test]
async fn metadata_for_another_resource_stops_the_flow() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/mcp"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-protected-resource/mcp"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "resource": "https://evil.example/mcp", "authorization_servers": [server.uri()],
        })))
        .mount(&server)
        .await;
    let access = ResourceAccess::builder(ClientMetadata::named("tests"))
        .authorization_code(std::sync::Arc::new(Approve::default()))
        .build()
        .unwrap();
    let error = access.send(reqwest::Client::new().post(format!("{}/mcp", server.uri()))).await.unwrap_err();
    assert!(
        matches!(&error, Error::ResourceMetadata(ResourceMetadataError::ResourceMismatch { found, .. }) if found == "https://evil.example/mcp"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_server_without_registration_or_documents_needs_a_pre_registered_client() {
    let setup = Setup::start(
        |uri| {
            let mut closed = metadata(uri);
            closed.as_object_mut().unwrap().remove("registration_endpoint");
            closed
        },
        |_| None,
    )
    .await;
    let error = setup.send(&setup.access()).await.unwrap_err();
    assert!(
        matches!(&error, Error::ResourceMetadata(ResourceMetadataError::NoClientRegistration { issuer }) if *issuer == setup.server.uri()),
        "{error:?}"
    );
    let documented = ResourceAccess::builder(ClientMetadata::named("tests"))
        .authorization_code(setup.user.clone())
        .client_id_metadata_document("https://agent.example/client.json")
        .build()
        .unwrap();
    let error = setup.send(&documented).await.unwrap_err();
    assert!(matches!(error, Error::ResourceMetadata(ResourceMetadataError::NoClientRegistration { .. })));
}

#[tokio::test]
async fn a_resource_that_moves_to_another_authorization_server_gets_a_new_registration_there() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let (first, second, resource) =
        (MockServer::start().await, MockServer::start().await, MockServer::start().await);
    for (server, client_id) in [(&first, "client-at-first"), (&second, "client-at-second")] {
        let uri = server.uri();
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-authorization-server"))
            .respond_with(ResponseTemplate::new(200).set_body_json(metadata(&uri)))
            .mount(server)
            .await;
        Mock::given(method("POST"))
            .and(path("/register"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"client_id": client_id})))
            .mount(server)
            .await;
        let token = format!("token-from-{client_id}");
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": token, "token_type": "Bearer"})),
            )
            .mount(server)
            .await;
    }
    let moved = Arc::new(AtomicBool::new(false));
    let (prm_moved, api_moved) = (moved.clone(), moved.clone());
    let (first_uri, second_uri, rs) = (first.uri(), second.uri(), resource.uri());
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-protected-resource/mcp"))
        .respond_with(move |_: &Request| {
            let server = if prm_moved.load(Ordering::SeqCst) { &second_uri } else { &first_uri };
            ResponseTemplate::new(200)
                .set_body_json(json!({"resource": format!("{rs}/mcp"), "authorization_servers": [server]}))
        })
        .mount(&resource)
        .await;
    Mock::given(method("POST"))
        .and(path("/mcp"))
        .respond_with(move |request: &Request| {
            let token =
                request.headers.get("authorization").and_then(|value| value.to_str().ok()).unwrap_or("");
            let expected = if api_moved.load(Ordering::SeqCst) { "second" } else { "first" };
            if token.ends_with(&format!("client-at-{expected}")) {
                ResponseTemplate::new(200)
            } else {
                ResponseTemplate::new(401).insert_header("www-authenticate", r#"Bearer realm="mcp""#)
            }
        })
        .mount(&resource)
        .await;
    let user = Arc::new(Approve::default());
    let access = ResourceAccess::builder(ClientMetadata::named("tests"))
        .authorization_code(user.clone())
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let send = || access.send(http.post(format!("{}/mcp", resource.uri())));
    assert_eq!(send().await.unwrap().status(), 200);
    moved.store(true, Ordering::SeqCst);
    assert_eq!(send().await.unwrap().status(), 200, "re-authorized at the second server");

    let at_second = second.received_requests().await.unwrap();
    let registered = at_second.iter().filter(|request| request.url.path() == "/register").count();
    assert_eq!(registered, 1, "a new registration at the second server");
    let leaked = at_second.iter().any(|request| {
        String::from_utf8_lossy(&request.body).contains("client-at-first")
            || request.url.query().is_some_and(|query| query.contains("client-at-first"))
    });
    assert!(!leaked, "nothing of the first server's client reaches the second");
    let client_ids: Vec<String> =
        user.urls.lock().unwrap().iter().map(|url| query(url, "client_id").unwrap()).collect();
    assert_eq!(client_ids, ["client-at-first", "client-at-second"]);
}

#[tokio::test]
async fn the_loopback_listener_returns_the_redirect_and_ignores_other_paths() {
    use oauth_client::resource_access::LoopbackListener;
    use std::time::Duration;
    let listener = LoopbackListener::bind("http://127.0.0.1:0/callback").await.unwrap();
    let redirect_uri = listener.redirect_uri().to_owned();
    assert!(redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with("/callback"));
    assert!(!redirect_uri.contains(":0/"), "the bound port: {redirect_uri}");
    let browser = {
        let redirect_uri = redirect_uri.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let favicon = http.get(redirect_uri.replace("/callback", "/favicon.ico")).send().await.unwrap();
            let landed = http.get(format!("{redirect_uri}?code=abc&state=xyz")).send().await.unwrap();
            (favicon.status().as_u16(), landed.status().as_u16())
        })
    };
    assert_eq!(listener.receive().await.unwrap(), format!("{redirect_uri}?code=abc&state=xyz"));
    assert_eq!(browser.await.unwrap(), (404, 200));

    let error = listener.timeout(Duration::from_millis(50)).receive().await.unwrap_err();
    assert!(matches!(error, Error::Redirect(RedirectError::NotReceived { .. })), "{error:?}");
    let error = LoopbackListener::bind("http://localhost:0/callback").await.unwrap_err();
    assert!(
        matches!(&error, Error::Config(config) if config.setting() == oauth_client::Setting::AuthorizationRequest),
        "RFC 8252 §7.3 asks for the IP literal: {error:?}"
    );
}
