//! Every grant end to end against three real authorization servers, started by
//! `tests/peers/start-all.sh`: django-oauth-toolkit (validates everything, rotates refresh
//! tokens), oauth2-mock-server (validates PKCE only) and node oidc-provider (each client
//! registered for one authentication method, mTLS behind an HTTPS listener that asks for
//! client certificates).
//!
//! The tests are `#[ignore]`d, as they need the servers; `.ci/run` starts them and runs the
//! ignored tests, where a missing server fails the test.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_client::extensions::{TokenIntrospection, TokenRevocation};
use oauth_client::{
    AuthorizationRequest, BasicAuth, ClientAuth, Error, OAuthAuthorization, OAuthClient,
    OAuthProviderErrorKind, OAuthToken, PendingAuthorization, TokenEndpoint, oauth_grant,
};
use oauth_client_tests::browser::{Browser, hidden_fields};
use reqwest::StatusCode;
use serde_json::Value;

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const ODD_CLIENT_ID: &str = "odd:client id%+/&=";
const ODD_CLIENT_SECRET: &str = "p@ss:w+rd/%&= x";

/// The base URL of a peer; these tests are `#[ignore]`d, so when they run the servers must.
fn peer(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set: start the interop servers (`bash tests/peers/start-all.sh && \
             source tests/peers/run/peers.env`) before running the ignored tests"
        )
    })
}

macro_rules! peer {
    ($variable:literal) => {
        peer($variable)
    };
}

/// A grant no server supports, declared like any other.
trait Unsupported: TokenEndpoint {
    #[oauth_grant(grant_type = "urn:example:grant-type:unsupported")]
    async fn request_token_unsupported(
        &self,
        #[header("Authorization")] authorization: &str,
        #[form] scope: Option<&str>,
    ) -> Result<OAuthToken, Error>;
}

impl Unsupported for OAuthClient {}

fn auth(id: &str, secret: &str) -> String {
    BasicAuth::new(id, secret).header_value()
}

fn provider_kind(error: &Error) -> &OAuthProviderErrorKind {
    &error.provider_error().unwrap_or_else(|| panic!("expected a provider error, got {error:?}")).error
}

fn refresh_of(token: &OAuthToken) -> String {
    token.refresh_token.as_ref().expect("a refresh token").secret().to_owned()
}

/// The claims of a JWT, unverified.
fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

mod django_oauth_toolkit {
    use super::*;

    /// One test at a time against this server: its SQLite database serialises writers, and
    /// concurrent token writes made it answer 500 ("database is locked") now and then.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    pub(super) async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME.lock().await
    }

    pub(super) fn client(base: &str) -> OAuthClient {
        OAuthClient::builder(format!("{base}/o/token/"))
            .revocation_url(format!("{base}/o/revoke_token/"))
            .introspection_url(format!("{base}/o/introspect/"))
            .build()
            .unwrap()
    }

    fn authorization(base: &str) -> PendingAuthorization {
        AuthorizationRequest::new(format!("{base}/o/authorize/"), "ac-client")
            .redirect_uri(REDIRECT_URI)
            .scope("read write")
            .build()
            .unwrap()
    }

    /// Opens `page` logged out, is sent to the login form, and logs alice in.
    async fn log_in(browser: &mut Browser, base: &str, page: &str) {
        let to_login = browser.get(page).await;
        assert_eq!(to_login.status, 302, "a logged-out user is sent to the login page");
        let login_url = format!("{base}{}", to_login.location.unwrap());
        let login_page = browser.get(&login_url).await;
        let mut fields = hidden_fields(&login_page.body);
        fields.retain(|(name, _)| name == "csrfmiddlewaretoken" || name == "next");
        fields.push(("username".into(), "alice".into()));
        fields.push(("password".into(), "wonderland".into()));
        let logged_in = browser.post_form(&login_url, &fields, &login_url).await;
        assert_eq!(logged_in.status, 302, "login accepted: {}", logged_in.body);
    }

    /// Logs alice in and consents, as a browser would; returns where the provider redirected.
    async fn authorize_in_browser(base: &str, pending: &PendingAuthorization) -> String {
        let mut browser = Browser::new();
        let authorize_url = pending.url().as_str();
        log_in(&mut browser, base, authorize_url).await;
        let consent_page = browser.get(authorize_url).await;
        assert_eq!(consent_page.status, 200, "the consent page");
        let mut fields = hidden_fields(&consent_page.body);
        assert!(fields.iter().any(|(name, value)| name == "state" && value == pending.state()));
        fields.push(("allow".into(), "Authorize".into()));
        let consented = browser.post_form(&format!("{base}/o/authorize/"), &fields, authorize_url).await;
        assert_eq!(consented.status, 302, "consent accepted: {}", consented.body);
        consented.location.expect("the redirect to the client")
    }

    /// Logs alice in, enters `user_code` at the device page and accepts, as a person with a
    /// browser would.
    pub(super) async fn enter_device_code(base: &str, user_code: &str) {
        let mut browser = Browser::new();
        let device_url = format!("{base}/o/device/");
        log_in(&mut browser, base, &device_url).await;
        let code_page = browser.get(&device_url).await;
        let mut fields = hidden_fields(&code_page.body);
        fields.push(("user_code".into(), user_code.into()));
        let entered = browser.post_form(&device_url, &fields, &device_url).await;
        assert_eq!(entered.status, 302, "the code is accepted: {}", entered.body);
        let confirm_url = format!("{base}{}", entered.location.unwrap());
        let confirm_page = browser.get(&confirm_url).await;
        let mut fields = hidden_fields(&confirm_page.body);
        fields.push(("action".into(), "accept".into()));
        let accepted = browser.post_form(&confirm_url, &fields, &confirm_url).await;
        assert_eq!(accepted.status, 302, "the device is approved: {}", accepted.body);
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn client_secret_post_configured_on_the_client() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = exclusive().await;
        let with = |secret: &str| {
            OAuthClient::builder(format!("{base}/o/token/"))
                .client_auth(ClientAuth::client_secret_post("cc-client", secret))
                .build()
                .unwrap()
        };
        let token = with("cc-secret").request_token_ccg("", Some("read"), None).await.unwrap();
        assert_eq!(token.scope.as_deref(), Some("read"));
        let error = with("wrong").request_token_ccg("", None, None).await.unwrap_err();
        assert_eq!(provider_kind(&error), &OAuthProviderErrorKind::InvalidClient);
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn client_credentials() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = exclusive().await;
        let token =
            client(&base).request_token_ccg(&auth("cc-client", "cc-secret"), None, None).await.unwrap();
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.expires_in, Some(3600));
        assert_eq!(token.scope.as_deref(), Some("read write"));
        assert!(token.refresh_token.is_none());
        assert!(token.expiry.is_some());
        let narrowed = client(&base)
            .request_token_ccg(&auth("cc-client", "cc-secret"), Some("read"), None)
            .await
            .unwrap();
        assert_eq!(narrowed.scope.as_deref(), Some("read"));
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn password_then_refresh_with_rotation() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = exclusive().await;
        let (client, auth) = (client(&base), auth("pw-client", "pw-secret"));
        let first =
            client.request_token_ropcg(&auth, "alice", "wonderland", Some("read"), None).await.unwrap();
        assert_eq!(first.scope.as_deref(), Some("read"));
        let second = client.refresh_token_ropcg(&auth, &refresh_of(&first), None, None).await.unwrap();
        assert_ne!(refresh_of(&second), refresh_of(&first), "the server rotates refresh tokens");
        assert_ne!(second.access_token, first.access_token);

        let reused = client.refresh_token_ropcg(&auth, &refresh_of(&first), None, None).await.unwrap_err();
        assert_eq!(reused.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(provider_kind(&reused), &OAuthProviderErrorKind::InvalidGrant);

        let third = client.refresh_token_ropcg(&auth, &refresh_of(&second), None, None).await.unwrap();
        assert_ne!(refresh_of(&third), refresh_of(&second));

        let wrong =
            client.request_token_ropcg(&auth, "alice", "not-her-password", None, None).await.unwrap_err();
        assert_eq!(provider_kind(&wrong), &OAuthProviderErrorKind::InvalidGrant);
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn authorization_code_with_pkce_then_refresh_with_rotation() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = exclusive().await;
        let (client, auth) = (client(&base), auth("ac-client", "ac-secret"));
        let pending = authorization(&base);
        let redirect = authorize_in_browser(&base, &pending).await;
        let code = pending.code_from_redirect(&redirect).unwrap();

        let token = client
            .request_token_acg(&auth, &code, REDIRECT_URI, Some(&pending.token_params()))
            .await
            .unwrap();
        assert_eq!(token.scope.as_deref(), Some("read write"));

        let reused = client
            .request_token_acg(&auth, &code, REDIRECT_URI, Some(&pending.token_params()))
            .await
            .unwrap_err();
        assert_eq!(provider_kind(&reused), &OAuthProviderErrorKind::InvalidGrant, "a code works once");

        let refreshed = client.refresh_token_acg(&auth, &refresh_of(&token), None, None).await.unwrap();
        assert_ne!(refresh_of(&refreshed), refresh_of(&token));
        let stale = client.refresh_token_acg(&auth, &refresh_of(&token), None, None).await.unwrap_err();
        assert_eq!(
            provider_kind(&stale),
            &OAuthProviderErrorKind::InvalidGrant,
            "the rotated-out token is dead"
        );
        let next =
            client.refresh_token_acg(&auth, &refresh_of(&refreshed), Some("read"), None).await.unwrap();
        assert_eq!(
            next.scope.as_deref(),
            Some("read"),
            "the rotated-in token works, here narrowing the scope"
        );
        assert_ne!(refresh_of(&next), refresh_of(&refreshed));
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn the_pkce_challenge_binds_the_code_to_the_verifier() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = exclusive().await;
        let (client, auth) = (client(&base), auth("ac-client", "ac-secret"));

        let pending = authorization(&base);
        let code = pending.code_from_redirect(&authorize_in_browser(&base, &pending).await).unwrap();
        let missing = client.request_token_acg(&auth, &code, REDIRECT_URI, None).await.unwrap_err();
        assert_eq!(provider_kind(&missing), &OAuthProviderErrorKind::InvalidRequest);

        let pending = authorization(&base);
        let code = pending.code_from_redirect(&authorize_in_browser(&base, &pending).await).unwrap();
        let other = authorization(&base).token_params();
        let wrong = client.request_token_acg(&auth, &code, REDIRECT_URI, Some(&other)).await.unwrap_err();
        assert_eq!(provider_kind(&wrong), &OAuthProviderErrorKind::InvalidGrant);
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn basic_auth_with_reserved_characters_in_id_and_secret() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = exclusive().await;
        let token = client(&base)
            .request_token_ccg(&auth(ODD_CLIENT_ID, ODD_CLIENT_SECRET), None, None)
            .await
            .unwrap();
        assert_eq!(token.token_type, "Bearer");
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_wrong_secret_is_invalid_client_on_401() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = exclusive().await;
        let error =
            client(&base).request_token_ccg(&auth("cc-client", "wrong"), None, None).await.unwrap_err();
        assert!(matches!(error, Error::Provider { status: StatusCode::UNAUTHORIZED, .. }), "{error:?}");
        assert_eq!(provider_kind(&error), &OAuthProviderErrorKind::InvalidClient);
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn an_unsupported_grant_type_is_reported_as_such() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = exclusive().await;
        let error =
            client(&base).request_token_unsupported(&auth("cc-client", "cc-secret"), None).await.unwrap_err();
        assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(provider_kind(&error), &OAuthProviderErrorKind::UnsupportedGrantType);
    }
}

mod django_oauth_toolkit_extensions {
    use super::*;

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn introspection_then_revocation_of_an_access_token() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let (client, auth) = (django_oauth_toolkit::client(&base), auth("cc-client", "cc-secret"));
        let token = client.request_token_ccg(&auth, None, None).await.unwrap();
        let before = client.introspect_token(&auth, token.access_token.secret(), None, None).await.unwrap();
        assert!(before.active);
        assert_eq!(before.client_id.as_deref(), Some("cc-client"));
        assert_eq!(before.scope.as_deref(), Some("read write"));
        assert!(before.exp.is_some());

        client.revoke_token(&auth, token.access_token.secret(), Some("access_token"), None).await.unwrap();
        let after = client.introspect_token(&auth, token.access_token.secret(), None, None).await.unwrap();
        assert!(!after.active, "a revoked token is inactive");
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_revoked_refresh_token_no_longer_refreshes() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let (client, auth) = (django_oauth_toolkit::client(&base), auth("pw-client", "pw-secret"));
        let token = client.request_token_ropcg(&auth, "alice", "wonderland", None, None).await.unwrap();
        client.revoke_token(&auth, &refresh_of(&token), Some("refresh_token"), None).await.unwrap();
        let error = client.refresh_token_ropcg(&auth, &refresh_of(&token), None, None).await.unwrap_err();
        assert_eq!(provider_kind(&error), &OAuthProviderErrorKind::InvalidGrant);
    }
}

/// Issue "Fit the ecosystem": the middleware and the layer in front of a resource server that
/// checks every token by introspection at django-oauth-toolkit.
mod django_oauth_toolkit_middleware {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use oauth_client::TokenManager;
    use oauth_client::manager::ClientCredentials;
    use oauth_client::middleware::{TokenLayer, TokenMiddleware};
    use oauth_client_tests::resource_server::ResourceServer;

    /// A manager for `cc-client` that counts the tokens it got.
    fn counted_tokens(base: &str) -> (TokenManager, Arc<AtomicUsize>) {
        let issued = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&issued);
        let tokens = TokenManager::builder(
            django_oauth_toolkit::client(base)
                .with_client_auth(ClientAuth::client_secret_basic("cc-client", "cc-secret")),
            ClientCredentials::new(),
        )
        .on_update(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async {}
        })
        .build();
        (tokens, issued)
    }

    async fn revoke(base: &str, tokens: &TokenManager) {
        let token = tokens.access_token().await.unwrap();
        django_oauth_toolkit::client(base)
            .revoke_token(&auth("cc-client", "cc-secret"), token.secret(), Some("access_token"), None)
            .await
            .unwrap();
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn reqwest_middleware_survives_a_token_revoked_mid_run() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let api =
            ResourceServer::start(django_oauth_toolkit::client(&base), auth("cc-client", "cc-secret")).await;
        let (tokens, issued) = counted_tokens(&base);
        let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(TokenMiddleware::new(tokens.clone()))
            .build();
        let things = format!("{}/things", api.url);
        let first = http.post(&things).body("one").send().await.unwrap();
        assert_eq!(
            (first.status().as_u16(), first.text().await.unwrap()),
            (200, "things for one".to_owned())
        );

        revoke(&base, &tokens).await;
        let second = http.post(&things).body("two").send().await.unwrap();
        assert_eq!(
            (second.status().as_u16(), second.text().await.unwrap()),
            (200, "things for two".to_owned())
        );
        assert_eq!(issued.load(Ordering::SeqCst), 2, "one refresh");
        assert_eq!(api.seen.invalid_token.load(Ordering::SeqCst), 1, "one refusal");
        assert_eq!(api.seen.requests.load(Ordering::SeqCst), 3, "one retry");

        // cc-client may not ask for `admin`: the resource server says so, and so do we.
        let error = http.get(format!("{}/admin", api.url)).send().await.unwrap_err();
        let reqwest_middleware::Error::Middleware(error) = error else { panic!("{error:?}") };
        assert!(
            matches!(error.downcast_ref(), Some(Error::InsufficientScope { status: StatusCode::FORBIDDEN, scope: Some(scope), .. }) if scope == "admin"),
            "{error:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn tower_layer_many_requests_refused_together_cause_one_refresh() {
        use http_body_util::Full;
        use tower_layer::Layer as _;
        use tower_service::Service as _;

        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let api =
            ResourceServer::start(django_oauth_toolkit::client(&base), auth("cc-client", "cc-secret")).await;
        let (tokens, issued) = counted_tokens(&base);
        let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<Full<bytes::Bytes>>();
        let service = TokenLayer::new(tokens.clone()).layer(http);
        revoke(&base, &tokens).await;

        let calls: Vec<_> = (0..20)
            .map(|serial| {
                let mut service = service.clone();
                let request = http::Request::post(format!("{}/things", api.url))
                    .body(Full::from(format!("call {serial}")))
                    .unwrap();
                tokio::spawn(async move { service.call(request).await })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap().status(), 200);
        }
        tokio::task::yield_now().await;
        assert_eq!(issued.load(Ordering::SeqCst), 2, "the revoked token, then one refresh for all");
        let refused = api.seen.invalid_token.load(Ordering::SeqCst);
        assert!((1..=20).contains(&refused), "{refused}");
        assert_eq!(
            api.seen.requests.load(Ordering::SeqCst),
            20 + refused,
            "each refused request retried once"
        );
    }
}

/// Issue "`oauth`: a command-line client": the CLI's commands against the real servers, in
/// process (the same code as the `oauth` binary), output parsed and exit codes checked.
pub(crate) mod cli {
    use super::*;

    /// Runs `oauth ARGS`; the exit code, standard output and standard error.
    async fn oauth(args: &[&str]) -> (i32, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code =
            oauth_cli::run_async(std::iter::once("oauth").chain(args.iter().copied()), &mut out, &mut err)
                .await;
        (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn client_credentials_as_json_and_as_a_summary_never_showing_the_token() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let token_url = format!("{base}/o/token/");
        let common = ["--token-url", &token_url, "--client-id", "cc-client", "--client-secret", "cc-secret"];
        let (code, out, err) = oauth(&[&common[..], &["client-credentials", "--json", "-v"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        let json: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["token_type"], "Bearer");
        assert_eq!(json["access_token"], "[redacted]");
        assert_eq!(json["scope"], "read write");
        assert!(json["expiry"].as_i64().is_some());
        // -v: the exchange as the library traced it, credentials redacted.
        assert!(
            err.contains(&format!("> POST {token_url}\n")) && err.contains("> authorization: [redacted]\n"),
            "{err}"
        );
        assert!(err.contains("< 200\n") && err.contains(r#"  "access_token": "[redacted]","#), "{err}");

        let (code, out, _) = oauth(&[&common[..], &["client-credentials", "--scope", "read"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK);
        assert!(out.starts_with("Bearer token, valid 1 h (until 20"), "{out}");
        assert!(out.contains("scope \"read\", no refresh token"), "{out}");

        let (code, out, _) =
            oauth(&[&common[..], &["client-credentials", "--json", "--show-secrets"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK);
        let shown: Value = serde_json::from_str(&out).unwrap();
        let secret = shown["access_token"].as_str().unwrap();
        assert_ne!(secret, "[redacted]");
        let info = django_oauth_toolkit::client(&base)
            .introspect_token(&auth("cc-client", "cc-secret"), secret, None, None)
            .await
            .unwrap();
        assert!(info.active, "--show-secrets prints the real token");
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_refused_client_exits_with_the_provider_code_and_its_rfc_6749_error() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let token_url = format!("{base}/o/token/");
        let sentinel = "sentinel-secret-4f1d";
        let args = [
            "--token-url",
            &token_url,
            "--client-id",
            "cc-client",
            "--client-secret",
            sentinel,
            "-v",
            "client-credentials",
        ];
        let (code, out, err) = oauth(&args).await;
        assert_eq!(code, oauth_cli::EXIT_PROVIDER);
        assert!(out.is_empty());
        assert!(err.contains("< 401\n"), "{err}");
        assert!(err.contains("error code (RFC 6749 §5.2): invalid_client"), "{err}");
        assert!(err.contains("hint: check `--client-id` and the secret or key"), "{err}");
        assert!(!err.contains(sentinel), "the secret never appears: {err}");
        let with_post = [&args[..6], &["--auth", "post", "-v", "client-credentials"]].concat();
        let (code, _, err) = oauth(&with_post).await;
        assert_eq!(code, oauth_cli::EXIT_PROVIDER);
        assert!(err.contains("> client_secret=[redacted]\n"), "{err}");
        assert!(!err.contains(sentinel), "nor in the form: {err}");

        let (code, _, err) = oauth(&["client-credentials"]).await;
        assert_eq!(code, oauth_cli::EXIT_USAGE, "{err}");
        assert!(err.contains("--issuer URL"), "{err}");
        let (code, _, _) = oauth(&[
            "--token-url",
            "http://127.0.0.1:9/token",
            "--client-id",
            "x",
            "--client-secret",
            "y",
            "client-credentials",
        ])
        .await;
        assert_eq!(code, oauth_cli::EXIT_TRANSPORT, "nothing listens on port 9");
        let (code, _, _) = oauth(&["no-such-command"]).await;
        assert_eq!(code, oauth_cli::EXIT_USAGE);
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn password_then_refresh_then_introspect_and_revoke() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let token_url = format!("{base}/o/token/");
        let (introspection_url, revocation_url) =
            (format!("{base}/o/introspect/"), format!("{base}/o/revoke_token/"));
        let common = [
            "--token-url",
            &token_url,
            "--introspection-url",
            &introspection_url,
            "--revocation-url",
            &revocation_url,
            "--client-id",
            "pw-client",
            "--client-secret",
            "pw-secret",
        ];
        let (code, out, err) = oauth(
            &[
                &common[..],
                &["password", "--username", "alice", "--password", "wonderland", "--json", "--show-secrets"],
            ]
            .concat(),
        )
        .await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        let token: Value = serde_json::from_str(&out).unwrap();
        let refresh = token["refresh_token"].as_str().unwrap().to_owned();
        let (code, out, err) = oauth(
            &[&common[..], &["refresh", "--refresh-token", &refresh, "--json", "--show-secrets"]].concat(),
        )
        .await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        let access =
            serde_json::from_str::<Value>(&out).unwrap()["access_token"].as_str().unwrap().to_owned();

        let introspect = [&common[..], &["introspect", "--token", &access]].concat();
        let (code, out, err) = oauth(&introspect).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        let info: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(info["active"], true);
        // The times as dates beside the epochs.
        let exp_utc = info["exp_utc"].as_str().unwrap_or_else(|| panic!("exp as a date: {info}"));
        assert!(exp_utc.starts_with("20") && exp_utc.ends_with(" UTC"), "{exp_utc}");
        let (code, out, _) =
            oauth(&[&common[..], &["revoke", "--token", &access, "--hint", "access_token"]].concat()).await;
        assert_eq!(
            (code, out.as_str()),
            (
                oauth_cli::EXIT_OK,
                "revoked (RFC 7009: the provider answers the same for a token it did not know)\n"
            )
        );
        let (code, out, _) = oauth(&introspect).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "an inactive token is an answer");
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["active"], false);
        let (code, _, err) = oauth(&[&introspect[..], &["--check"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OTHER, "`--check` fails on an inactive token: {err}");
        assert!(err.contains("the token is not active"), "{err}");
    }

    /// Standard error as lines on a channel, so the test reads the authorization URL while
    /// the command waits for the redirect.
    pub(crate) struct Lines(pub(crate) std::sync::mpsc::Sender<String>, pub(crate) Vec<u8>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.1.extend_from_slice(bytes);
            while let Some(end) = self.1.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = self.1.drain(..=end).collect();
                let _ = self.0.send(String::from_utf8_lossy(&line).trim_end().to_owned());
            }
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Runs `oauth ARGS` (a `code --listen` command) on a thread, logs in and consents in a
    /// "browser" (HTTP) at the URL it prints, lets the browser follow the redirect to the
    /// command's loopback listener, and returns the command's exit code and output with the
    /// authorization URL it printed.
    async fn code_through_listener(issuer: &str, args: Vec<String>) -> (i32, String, String) {
        let (sender, lines) = std::sync::mpsc::channel();
        let command = std::thread::spawn(move || {
            let mut out = Vec::new();
            let code = oauth_cli::run(args, &mut out, &mut Lines(sender, Vec::new()));
            (code, String::from_utf8(out).unwrap())
        });
        // "Open this URL and log in; the redirect comes back to LISTENER:", then the URL.
        let (listener, url, lines) = tokio::task::spawn_blocking(move || {
            let announced = lines.iter().find(|line| line.contains("comes back to")).expect("the listener");
            let listener = announced.rsplit(' ').next().unwrap().trim_end_matches(':').to_owned();
            (listener, lines.recv().expect("the authorization URL"), lines)
        })
        .await
        .unwrap();
        let redirect = super::oidc_provider::login_and_consent_to(issuer, &url, &listener).await;
        let page = reqwest::get(&redirect).await.unwrap();
        assert_eq!(page.status(), 200, "{redirect}");
        assert!(page.text().await.unwrap().contains("you can close this window"));
        let (code, out) = tokio::task::spawn_blocking(move || command.join().unwrap()).await.unwrap();
        // What else the command said (errors), for the failure messages.
        let said: Vec<String> = lines.try_iter().collect();
        (code, format!("{out}{}", said.join("\n")), url)
    }

    /// `oauth code --listen`: the URL is printed, the login happens in a "browser" (HTTP),
    /// the browser is redirected to the command's loopback listener, and the command redeems
    /// the code (PKCE, state, `iss` checked) and prints the token with the ID token's claims.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn code_receives_the_redirect_on_its_loopback_listener() {
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let args = [
            "oauth",
            "--issuer",
            &issuer,
            "--client-id",
            "cli-client",
            "--auth",
            "none",
            "code",
            "--redirect-uri",
            "http://127.0.0.1:0/callback",
            "--listen",
            "--scope",
            "openid",
            "--json",
        ]
        .map(str::to_owned);
        let (code, out, _) = code_through_listener(&issuer, args.to_vec()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{out}");
        let token: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(token["access_token"], "[redacted]");
        assert_eq!(token["id_token_claims_unverified"]["sub"], "alice");
        assert_eq!(token["id_token_claims_unverified"]["aud"], "cli-client");
    }

    /// The README's session, no token on the command line: `code --listen --prompt consent`
    /// with `offline_access`, saved to an owner-only file, then `refresh`, `introspect` and
    /// `revoke` each reading the token back with `@FILE`; after the revocation the refresh
    /// token is refused.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_session_from_login_to_revocation_through_a_saved_file() {
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let directory = std::env::temp_dir().join(format!("oauth-cli-session-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let saved = directory.join("token.json").display().to_string();
        let at_saved = format!("@{saved}");
        let common = [
            "--issuer",
            &issuer,
            "--client-id",
            "cli-session-client",
            "--client-secret",
            "cli-session-secret",
        ];
        let login = [
            &["oauth"][..],
            &common[..],
            &[
                "code",
                "--redirect-uri",
                "http://127.0.0.1:0/callback",
                "--listen",
                "--listen-timeout",
                "60",
                "--scope",
                "openid offline_access",
                "--prompt",
                "consent",
                "--save",
                &saved,
            ],
        ]
        .concat();
        let (code, out, url) =
            code_through_listener(&issuer, login.iter().map(|arg| arg.to_string()).collect()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{out}");
        assert!(url.contains("prompt=consent"), "{url}");
        assert!(out.contains("refresh token"), "{out}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let first: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
        let first_refresh =
            first["refresh_token"].as_str().expect("offline_access gave a refresh token").to_owned();

        let (code, out, err) =
            oauth(&[&common[..], &["refresh", "--refresh-token", &at_saved, "--save", &saved]].concat())
                .await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert!(out.starts_with("Bearer token"), "{out}");
        assert!(!out.contains(&first_refresh), "the summary shows no token: {out}");
        let second: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
        assert_ne!(second["access_token"], first["access_token"]);

        let (code, out, err) = oauth(&[&common[..], &["introspect", "--token", &at_saved]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        let info: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            (info["active"].as_bool(), info["client_id"].as_str()),
            (Some(true), Some("cli-session-client"))
        );

        let revoke = ["revoke", "--token", &at_saved, "--hint", "refresh_token"];
        let (code, out, err) = oauth(&[&common[..], &revoke[..]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert!(out.starts_with("revoked"), "{out}");
        let (code, _, err) = oauth(&[&common[..], &["refresh", "--refresh-token", &at_saved]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_PROVIDER, "the revoked refresh token is refused: {err}");
        assert!(err.contains("invalid_grant"), "{err}");
        std::fs::remove_dir_all(&directory).unwrap();
    }

    /// `oauth code --par --dpop --resource R --authorization-details JSON`, for a client that
    /// must push its requests and bind its tokens: only the reference crosses the browser, and
    /// the token is DPoP-bound, for the resource, with the details the user consented to.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn code_with_par_dpop_a_resource_and_authorization_details() {
        use oauth_client::extensions::TokenIntrospection;
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let details = r#"[{"type":"account_information","actions":["read"]}]"#;
        let args = [
            "oauth",
            "--issuer",
            &issuer,
            "--client-id",
            "cli-par-client",
            "--auth",
            "none",
            "--dpop",
            "--resource",
            "https://api.example/",
            "code",
            "--redirect-uri",
            "http://127.0.0.1:0/callback",
            "--listen",
            "--par",
            "--scope",
            "api:read",
            "--authorization-details",
            details,
            "--json",
            "--show-secrets",
        ]
        .map(str::to_owned);
        let (code, out, url) = code_through_listener(&issuer, args.to_vec()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{out}");
        let names: Vec<String> =
            reqwest::Url::parse(&url).unwrap().query_pairs().map(|(name, _)| name.into_owned()).collect();
        assert_eq!(names, ["client_id", "request_uri"], "the request was pushed: {url}");
        let token: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(token["token_type"], "DPoP");
        let introspector = OAuthClient::discover(&issuer)
            .await
            .unwrap()
            .client_auth(ClientAuth::client_secret_post("post-client", "post-client-secret"))
            .build()
            .unwrap();
        let info = introspector
            .introspect_token("", token["access_token"].as_str().unwrap(), None, None)
            .await
            .unwrap();
        assert!(info.active);
        assert!(info.extra["cnf"]["jkt"].is_string(), "bound to the run's key: {info:?}");
        assert_eq!(info.aud, Some(serde_json::json!("https://api.example/")));
        assert_eq!(
            info.extra["authorization_details"],
            serde_json::json!([{"type": "account_information", "actions": ["read"]}])
        );
    }

    /// The library's declared token exchange and JWT bearer grants, offered by the CLI from
    /// their declarations, against oidc-provider's handlers for them.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn declared_token_exchange_and_jwt_bearer_commands() {
        use oauth_client::extensions::{JwtAssertion, SigningKey};
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let common = [
            "--issuer",
            &issuer,
            "--client-id",
            "exchange-client",
            "--client-secret",
            "exchange-client-secret",
            "--auth",
            "post",
            "--json",
        ];
        let (code, out, err) =
            oauth(&[&common[..], &["client-credentials", "--show-secrets"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        let subject: Value = serde_json::from_str(&out).unwrap();
        let subject = subject["access_token"].as_str().unwrap().to_owned();
        let access_token_type = "urn:ietf:params:oauth:token-type:access_token";
        let exchange = ["token-exchange", "--subject-token-type", access_token_type, "--subject-token"];
        let (code, out, err) =
            oauth(&[&common[..], &exchange[..], &[&subject, "--audience", "https://api.example/"]].concat())
                .await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        let exchanged: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(exchanged["issued_token_type"], access_token_type);
        assert_eq!(exchanged["access_token"], "[redacted]");
        let (code, _, err) = oauth(&[&common[..], &exchange[..], &["not-a-token"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_PROVIDER, "{err}");
        assert!(err.contains("error code (RFC 6749 §5.2): invalid_grant"), "{err}");
        let (code, _, err) =
            oauth(&[&common[..], &["token-exchange", "--subject-token", &subject]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_USAGE, "a required declared field: {err}");

        let assertion = JwtAssertion::new(
            "exchange-client",
            "alice",
            issuer.clone(),
            SigningKey::rs256_pem(&crate::interop::oidc_provider::fixture("rsa-private.pem")).unwrap(),
        )
        .sign()
        .unwrap();
        let bearer = ["jwt-bearer", "--assertion", &assertion];
        let (code, out, err) = oauth(&[&common[..], &bearer[..]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["token_type"], "Bearer");
        let (code, _, err) = oauth(&[&common[..], &bearer[..]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_PROVIDER, "the assertion is single-use: {err}");
    }

    /// `--auth private-key-jwt --private-key FILE`, `--auth tls --cert --cert-key --ca-cert`
    /// and `--dpop-key FILE`: each client authenticates only as it is registered to.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn keys_and_certificates_from_files() {
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let certs = peer!("OAUTH_PEER_OIDC_CERTS");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let fixtures = format!("{}/fixtures", env!("CARGO_MANIFEST_DIR"));
        let private_key_jwt = |key: &str, alg: &str| {
            [
                "--issuer".to_owned(),
                issuer.clone(),
                "--client-id".into(),
                "private-key-client".into(),
                "--auth".into(),
                "private-key-jwt".into(),
                "--private-key".into(),
                format!("{fixtures}/{key}"),
                "--key-alg".into(),
                alg.into(),
                "client-credentials".into(),
            ]
        };
        let run = |args: Vec<String>| async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            oauth(&args).await
        };
        let (code, out, err) = run(private_key_jwt("rsa-private.pem", "RS256").to_vec()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert!(out.starts_with("Bearer token"), "{out}");
        let (code, _, err) = run(private_key_jwt("ec-private.pem", "ES256").to_vec()).await;
        assert_eq!(code, oauth_cli::EXIT_PROVIDER, "another key: {err}");
        assert!(err.contains("invalid_client"), "{err}");
        let (code, _, err) = run(private_key_jwt("ec-private.pem", "RS256").to_vec()).await;
        assert_eq!(code, oauth_cli::EXIT_USAGE, "an EC key is no RS256 key: {err}");

        let mtls = [
            "--issuer",
            &issuer,
            "--client-id",
            "mtls-client",
            "--auth",
            "tls",
            "--ca-cert",
            &format!("{certs}/ca.pem"),
            "client-credentials",
            "--json",
        ];
        let certificate =
            ["--cert", &format!("{certs}/client.pem"), "--cert-key", &format!("{certs}/client.key")];
        let (code, out, err) = oauth(&[&certificate[..], &mtls[..]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["token_type"], "Bearer");
        let (code, _, err) = oauth(&mtls).await;
        assert_eq!(code, oauth_cli::EXIT_USAGE, "{err}");
        assert!(err.contains("needs `--cert FILE --cert-key FILE`"), "{err}");

        let key = oauth_client::dpop::DpopKey::generate().unwrap();
        let key_file = std::env::temp_dir().join(format!("oauth-cli-dpop-{}.pem", std::process::id()));
        std::fs::write(&key_file, key.to_pkcs8_pem()).unwrap();
        let dpop_client = [
            "--issuer",
            &issuer,
            "--client-id",
            "dpop-client",
            "--client-secret",
            "dpop-client-secret",
            "--auth",
            "post",
            "client-credentials",
            "--json",
        ];
        let (code, out, err) =
            oauth(&[&["--dpop-key", key_file.to_str().unwrap()][..], &dpop_client[..]].concat()).await;
        std::fs::remove_file(&key_file).unwrap();
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["token_type"], "DPoP");
        let (code, _, err) = oauth(&dpop_client).await;
        assert_eq!(code, oauth_cli::EXIT_PROVIDER, "this client's tokens must be bound: {err}");
    }

    /// `oauth device` for django-oauth-toolkit's public device client, then `options`.
    fn device_command(base: &str, options: &[&str]) -> Vec<String> {
        let token_url = format!("{base}/o/token/");
        let device_url = format!("{base}/o/device-authorization/");
        let args = ["oauth", "--token-url", &token_url, "--device-authorization-url", &device_url];
        let client = ["--client-id", "device-client", "--auth", "none", "device"];
        [&args[..], &client[..], options].concat().into_iter().map(str::to_owned).collect()
    }

    /// `oauth device` against django-oauth-toolkit, its screen in a pseudo-terminal: the code
    /// and where to enter it, a spinner while the user signs in (in a "browser", over HTTP),
    /// the spinner wiped, and the token on standard output only.
    #[cfg(unix)]
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn device_signs_in_at_django_oauth_toolkit_with_a_spinner_on_the_terminal() {
        use std::io::IsTerminal as _;
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let terminal = oauth_client_tests::terminal::Terminal::open();
        let mut device = terminal.device.try_clone().unwrap();
        let args = device_command(&base, &["--json"]);
        let command = std::thread::spawn(move || {
            let mut out = Vec::new();
            let cli = oauth_cli::Oauth::new().terminal(device.is_terminal());
            let code = cli.run(args, &mut out, &mut device);
            (code, String::from_utf8(out).unwrap())
        });
        let terminal = std::sync::Arc::new(terminal);
        let waiting = std::sync::Arc::clone(&terminal);
        let shown =
            tokio::task::spawn_blocking(move || waiting.wait_for("waiting for you to finish signing in"))
                .await
                .unwrap();
        let verification = format!("To sign in, open {base}/o/device/ and enter the code ");
        let user_code: String = shown
            .split_once(&verification)
            .unwrap_or_else(|| panic!("the screen: {shown:?}"))
            .1
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(!user_code.is_empty(), "{shown:?}");
        django_oauth_toolkit::enter_device_code(&base, &user_code).await;

        let (code, out) = tokio::task::spawn_blocking(move || command.join().unwrap()).await.unwrap();
        assert_eq!(code, oauth_cli::EXIT_OK, "{}", terminal.screen());
        let token: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            (token["token_type"].as_str(), token["access_token"].as_str()),
            (Some("Bearer"), Some("[redacted]"))
        );
        let screen = terminal.wait_for(&format!("\r{}\r", " ".repeat(40)));
        // The terminal turns each "\n" into "\r\n" (ONLCR).
        assert!(screen.starts_with(&format!("{verification}{user_code}\r\n")), "{screen:?}");
        assert!(screen.contains("\r| waiting for you to finish signing in"), "{screen:?}");
        assert!(
            screen.ends_with(&format!("\r{}\r", " ".repeat(40))),
            "the spinner is wiped last: {screen:?}"
        );
        assert!(!screen.contains("access_token"), "the token goes to standard output only");
    }

    /// The same command with its diagnostics going to a pipe: no spinner.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn no_spinner_when_the_diagnostics_are_not_a_terminal() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let (sender, lines) = std::sync::mpsc::channel();
        let args = device_command(&base, &["--scope", "read"]);
        let command = std::thread::spawn(move || {
            let (mut out, mut err) = (Vec::new(), Lines(sender, Vec::new()));
            let code = oauth_cli::run(args, &mut out, &mut err);
            (code, String::from_utf8(out).unwrap(), String::from_utf8(err.1).unwrap())
        });
        let first = tokio::task::spawn_blocking(move || lines.recv().unwrap()).await.unwrap();
        let user_code = first.rsplit(' ').next().unwrap().to_owned();
        django_oauth_toolkit::enter_device_code(&base, &user_code).await;
        let (code, out, rest) = tokio::task::spawn_blocking(move || command.join().unwrap()).await.unwrap();
        assert_eq!(code, oauth_cli::EXIT_OK, "{first}");
        assert!(out.starts_with("Bearer token, valid 1 h"), "{out}");
        assert!(out.contains("scope \"read\""), "{out}");
        assert!(rest.is_empty(), "nothing after the instructions: {rest:?}");
    }

    /// Against oauth2-mock-server, whose access tokens are JWTs: the summary shows their
    /// claims, marked as not verified; password and refresh work the same way, and its
    /// metadata is refused for naming another issuer.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn grants_at_oauth2_mock_server_show_the_jwt_claims_unverified() {
        let base = peer!("OAUTH_PEER_MOCK_URL");
        let token_url = format!("{base}/token");
        let common = ["--token-url", &token_url, "--client-id", "mock-client", "--client-secret", "s"];
        let (code, out, err) =
            oauth(&[&common[..], &["client-credentials", "--scope", "read"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert!(out.contains("access token claims (decoded, NOT verified):"), "{out}");
        assert!(out.contains(r#""scope": "read""#), "{out}");

        let password = ["password", "--username", "bob", "--password", "pw", "--json", "--show-secrets"];
        let (code, out, err) = oauth(&[&common[..], &password[..]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        let token: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(token["access_token_claims_unverified"]["sub"], "bob");
        let refresh_token = token["refresh_token"].as_str().expect("a refresh token").to_owned();
        let (code, out, err) =
            oauth(&[&common[..], &["refresh", "--refresh-token", &refresh_token, "--json"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap()["access_token_claims_unverified"]["sub"],
            "johndoe"
        );

        // The mock names itself `http://localhost:PORT` whatever address it is reached at:
        // the metadata is refused as another issuer's.
        let (code, _, err) = oauth(&["--issuer", &base, "discover"]).await;
        assert_eq!(code, oauth_cli::EXIT_OTHER, "{err}");
        assert!(err.contains("is for issuer `http://localhost:") && err.contains("(RFC 8414 §3.3)"), "{err}");
    }

    /// A profile of the configuration file fills what flags and environment leave unset; a
    /// flag wins over it.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_profile_gives_the_settings_flags_do_not() {
        let base = peer!("OAUTH_PEER_DOT_URL");
        let _serial = django_oauth_toolkit::exclusive().await;
        let config = std::env::temp_dir().join(format!("oauth-cli-profiles-{}.toml", std::process::id()));
        std::fs::write(
            &config,
            format!(
                "[profiles.dot]\ntoken_url = \"{base}/o/token/\"\nclient_id = \"cc-client\"\n\
                 client_secret = \"cc-secret\"\nauth = \"post\"\n\
                 [profiles.narrow]\ntoken_url = \"{base}/o/token/\"\nclient_id = \"cc-client\"\n\
                 client_secret = \"cc-secret\"\nauth = \"client_secret_post\"\nscope = \"read\"\n"
            ),
        )
        .unwrap();
        let config = config.to_str().unwrap();
        let (code, out, err) =
            oauth(&["--config", config, "--profile", "dot", "client-credentials", "--json"]).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["scope"], "read write");
        let (code, _, err) = oauth(&[
            "--config",
            config,
            "--profile",
            "dot",
            "--client-secret",
            "wrong",
            "client-credentials",
        ])
        .await;
        assert_eq!(code, oauth_cli::EXIT_PROVIDER, "the flag wins: {err}");
        let (code, _, err) = oauth(&["--config", config, "--profile", "prod", "client-credentials"]).await;
        assert_eq!(code, oauth_cli::EXIT_USAGE);
        assert!(err.contains("has no profile `prod`; its profiles: `dot`, `narrow`"), "{err}");
        // A profile's scope (and the RFC name of its method) for a command given none; a flag wins.
        let narrow = ["--config", config, "--profile", "narrow", "client-credentials", "--json"];
        let (code, out, err) = oauth(&narrow).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["scope"], "read");
        let (code, out, err) = oauth(&[&narrow[..], &["--scope", "write"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["scope"], "write");
        let rfc_name = ["--token-url", &format!("{base}/o/token/"), "--client-id", "cc-client"];
        let (code, _, err) = oauth(
            &[
                &rfc_name[..],
                &["--client-secret", "cc-secret", "--auth", "client_secret_post", "client-credentials"],
            ]
            .concat(),
        )
        .await;
        assert_eq!(code, oauth_cli::EXIT_OK, "`--auth` takes the RFC name `discover` prints: {err}");
        std::fs::remove_file(config).unwrap();
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn discover_prints_the_metadata_and_issuer_runs_a_grant() {
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let (code, out, err) = oauth(&["--issuer", &issuer, "discover"]).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        let metadata: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(metadata["issuer"], issuer.as_str());
        assert_eq!(metadata["token_endpoint"], format!("{issuer}/token"));
        let args = [
            "--issuer",
            &issuer,
            "--client-id",
            "post-client",
            "--client-secret",
            "post-client-secret",
            "--auth",
            "post",
            "client-credentials",
            "--json",
        ];
        let (code, out, err) = oauth(&args).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["token_type"], "Bearer");
        // Refused: the hint names the methods the discovered metadata lists.
        let (code, _, err) = oauth(&[&args[..5], &["wrong-secret", "client-credentials"]].concat()).await;
        assert_eq!(code, oauth_cli::EXIT_PROVIDER, "{err}");
        assert!(err.contains("; the provider accepts ") && err.contains("client_secret_post"), "{err}");
    }
}

mod oauth2_mock_server {
    use super::*;

    fn client(base: &str) -> OAuthClient {
        OAuthClient::new(format!("{base}/token")).unwrap()
    }

    /// The mock's authorize endpoint redirects at once, with no login.
    async fn authorize(base: &str) -> (PendingAuthorization, String) {
        let pending = AuthorizationRequest::new(format!("{base}/authorize"), "mock-client")
            .redirect_uri(REDIRECT_URI)
            .scope("openid read")
            .build()
            .unwrap();
        let page = Browser::new().get(pending.url().as_str()).await;
        assert_eq!(page.status, 302);
        let code = pending.code_from_redirect(&page.location.unwrap()).unwrap();
        (pending, code)
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn client_credentials() {
        let base = peer!("OAUTH_PEER_MOCK_URL");
        let token =
            client(&base).request_token_ccg(&auth("mock-client", "s"), Some("read"), None).await.unwrap();
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.scope.as_deref(), Some("read"));
        assert_eq!(jwt_claims(token.access_token.secret())["scope"], "read");
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn password_then_refresh() {
        let base = peer!("OAUTH_PEER_MOCK_URL");
        let (client, auth) = (client(&base), auth("mock-client", "s"));
        let first =
            client.request_token_ropcg(&auth, "alice", "wonderland", Some("read"), None).await.unwrap();
        assert!(first.extra.contains_key("id_token"), "unknown members are kept");
        let second = client.refresh_token_ropcg(&auth, &refresh_of(&first), None, None).await.unwrap();
        assert_ne!(refresh_of(&second), refresh_of(&first), "a new refresh token each time");
        client.refresh_token_ropcg(&auth, &refresh_of(&second), None, None).await.unwrap();
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn authorization_code_with_pkce_then_refresh() {
        let base = peer!("OAUTH_PEER_MOCK_URL");
        let (client, auth) = (client(&base), auth("mock-client", "s"));
        let (pending, code) = authorize(&base).await;
        let token = client
            .request_token_acg(&auth, &code, REDIRECT_URI, Some(&pending.token_params()))
            .await
            .unwrap();
        let id_token = token.extra["id_token"].as_str().expect("an id_token");
        assert_eq!(jwt_claims(id_token)["aud"], "mock-client");
        let refreshed = client.refresh_token_acg(&auth, &refresh_of(&token), None, None).await.unwrap();
        assert_ne!(refresh_of(&refreshed), refresh_of(&token));
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn the_mock_checks_the_pkce_verifier() {
        let base = peer!("OAUTH_PEER_MOCK_URL");
        let (_pending, code) = authorize(&base).await;
        let other = AuthorizationRequest::new("https://x.example/a", "c").build().unwrap().token_params();
        let error = client(&base)
            .request_token_acg(&auth("mock-client", "s"), &code, REDIRECT_URI, Some(&other))
            .await
            .unwrap_err();
        assert_eq!(provider_kind(&error), &OAuthProviderErrorKind::InvalidRequest);
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn basic_auth_sends_the_form_urlencoded_client_id() {
        // The mock does not decode the Basic credentials: the id_token's `aud` shows the id as
        // it was sent, which is the RFC 6749 §2.3.1 encoding.
        let base = peer!("OAUTH_PEER_MOCK_URL");
        let token = client(&base)
            .request_token_ropcg(&auth(ODD_CLIENT_ID, ODD_CLIENT_SECRET), "alice", "wonderland", None, None)
            .await
            .unwrap();
        let id_token = token.extra["id_token"].as_str().unwrap();
        assert_eq!(jwt_claims(id_token)["aud"], "odd%3Aclient%20id%25%2B%2F%26%3D");
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn discovery_reads_the_mocks_metadata_and_revocation_works() {
        let base = peer!("OAUTH_PEER_MOCK_URL");
        // The mock names itself `http://localhost:PORT` whatever address it is reached at.
        let issuer = base.replace("127.0.0.1", "localhost");
        let client = OAuthClient::discover(&issuer).await.unwrap().build().unwrap();
        assert_eq!(client.token_url().as_str(), format!("{issuer}/token"));
        assert_eq!(client.authorization_url().unwrap().as_str(), format!("{issuer}/authorize"));
        let token = client.request_token_ccg(&auth("mock-client", "s"), None, None).await.unwrap();
        client
            .revoke_token(&auth("mock-client", "s"), token.access_token.secret(), None, None)
            .await
            .unwrap();
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn unsupported_grant_type_is_a_provider_error() {
        // This mock answers an unknown grant type with `invalid_grant`, not the RFC's
        // `unsupported_grant_type`; the client reports what the server said.
        let base = peer!("OAUTH_PEER_MOCK_URL");
        let error =
            client(&base).request_token_unsupported(&auth("mock-client", "s"), None).await.unwrap_err();
        assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(provider_kind(&error), &OAuthProviderErrorKind::InvalidGrant);
    }
}

/// Client authentication against node oidc-provider, each client registered for one method
/// only: a wrong secret or key, a replayed assertion, a missing client certificate or another
/// method is `invalid_client` there.
pub(crate) mod oidc_provider {
    /// The provider's signing keys change in one test (three phases, each its own provider
    /// instance): it holds this for writing, every other test of the provider for reading.
    pub(crate) static KEY_PHASES: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

    use oauth_client::extensions::{ClientAssertion, SigningKey};
    use oauth_client::manager::ClientCredentials;
    use oauth_client::{ClientAuth, OAuthAuthorization, OAuthClient, OAuthProviderErrorKind, TokenManager};
    use oauth_client_tests::browser::Browser;

    use super::{peer, provider_kind};

    const JWT_SECRET: &str = "jwt-secret-client-secret-of-at-least-32-bytes";

    pub(crate) fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    async fn discovered(issuer: &str, auth: ClientAuth) -> OAuthClient {
        OAuthClient::discover(issuer).await.unwrap().client_auth(auth).build().unwrap()
    }

    fn invalid_client(error: &oauth_client::Error) -> bool {
        provider_kind(error) == &OAuthProviderErrorKind::InvalidClient
            && error.status() == Some(reqwest::StatusCode::UNAUTHORIZED)
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn client_secret_post_is_accepted_and_another_method_refused() {
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let client =
            discovered(&issuer, ClientAuth::client_secret_post("post-client", "post-client-secret")).await;
        let token = client.request_token_ccg("", None, None).await.unwrap();
        assert_eq!(token.token_type, "Bearer");
        let wrong = client.with_client_auth(ClientAuth::client_secret_post("post-client", "wrong"));
        assert!(invalid_client(&wrong.request_token_ccg("", None, None).await.unwrap_err()));
        // oidc-provider takes Basic and post as one method (both carry the secret itself), but
        // an assertion keyed with the secret is another method, which this client is not
        // registered for.
        let basic =
            client.with_client_auth(ClientAuth::client_secret_basic("post-client", "post-client-secret"));
        basic.request_token_ccg("", None, None).await.unwrap();
        let jwt = client.with_client_auth(ClientAuth::client_secret_jwt("post-client", "post-client-secret"));
        assert!(invalid_client(&jwt.request_token_ccg("", None, None).await.unwrap_err()));
    }

    #[allow(deprecated)] // shows what the superseded ClientAssertion path meets
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn client_secret_jwt_signs_a_fresh_assertion_every_time() {
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let client =
            discovered(&issuer, ClientAuth::client_secret_jwt("jwt-secret-client", JWT_SECRET)).await;
        for _ in 0..3 {
            client.request_token_ccg("", None, None).await.unwrap();
        }
        let wrong = client.with_client_auth(ClientAuth::client_secret_jwt(
            "jwt-secret-client",
            "another secret of 32 bytes or more!",
        ));
        assert!(invalid_client(&wrong.request_token_ccg("", None, None).await.unwrap_err()));

        // What a once-signed assertion passed as form fields gets: refused the second time.
        let assertion = ClientAssertion::new(
            "jwt-secret-client",
            issuer.clone(),
            SigningKey::hs256(JWT_SECRET.as_bytes()),
        )
        .form_params()
        .unwrap();
        let plain = OAuthClient::discover(&issuer).await.unwrap().build().unwrap();
        plain.request_token_ccg("", None, Some(&assertion)).await.unwrap();
        let replayed = plain.request_token_ccg("", None, Some(&assertion)).await.unwrap_err();
        assert!(invalid_client(&replayed), "the provider refuses a replayed jti: {replayed:?}");
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn private_key_jwt_is_accepted_with_the_registered_key_only() {
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let key = SigningKey::rs256_pem(&fixture("rsa-private.pem")).unwrap();
        let client = discovered(&issuer, ClientAuth::private_key_jwt("private-key-client", key)).await;
        for _ in 0..3 {
            client.request_token_ccg("", None, None).await.unwrap();
        }
        let other_key = SigningKey::es256_pem(&fixture("ec-private.pem")).unwrap();
        let wrong = client.with_client_auth(ClientAuth::private_key_jwt("private-key-client", other_key));
        assert!(invalid_client(&wrong.request_token_ccg("", None, None).await.unwrap_err()));
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_private_key_jwt_token_manager_refreshes_again_and_again() {
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let key = SigningKey::rs256_pem(&fixture("rsa-private.pem")).unwrap();
        let client = discovered(&issuer, ClientAuth::private_key_jwt("private-key-client", key)).await;
        let manager = TokenManager::builder(client, ClientCredentials::new()).build();
        let mut tokens = std::collections::HashSet::new();
        for _ in 0..5 {
            tokens.insert(manager.refresh_now().await.unwrap().secret().to_owned());
        }
        assert_eq!(tokens.len(), 5, "five refreshes, five tokens, no invalid_client");
    }

    fn now() -> i64 {
        oauth_client::Clock::now(&oauth_client::SystemClock)
    }

    /// The client whose tokens must be DPoP-bound, signing its proofs with `key`.
    async fn dpop_client(issuer: &str, key: &oauth_client::dpop::DpopKey) -> OAuthClient {
        OAuthClient::discover(issuer)
            .await
            .unwrap()
            .client_auth(ClientAuth::client_secret_post("dpop-client", "dpop-client-secret"))
            .dpop(key.clone())
            .build()
            .unwrap()
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn dpop_bound_tokens_with_server_nonces() {
        use oauth_client::dpop::DpopKey;
        use oauth_client::extensions::TokenIntrospection;
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let key = DpopKey::generate().unwrap();
        let client = dpop_client(&issuer, &key).await;
        // The first proof has no nonce; the server's use_dpop_nonce challenge is answered.
        let token = client.request_token_ccg("", None, None).await.unwrap();
        assert_eq!(token.token_type, "DPoP");
        client.request_token_ccg("", None, None).await.unwrap();

        let introspector =
            discovered(&issuer, ClientAuth::client_secret_post("post-client", "post-client-secret")).await;
        let info = introspector.introspect_token("", token.access_token.secret(), None, None).await.unwrap();
        assert!(info.active);
        assert_eq!(info.extra["cnf"]["jkt"], key.thumbprint(), "bound to the key's RFC 7638 thumbprint");

        // The provider refuses a proof for another URL and a proof sent twice.
        let token_url = client.endpoint(oauth_client::Endpoint::TOKEN).unwrap().clone();
        let http = reqwest::Client::new();
        let post = |proof: String| {
            http.post(token_url.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("DPoP", proof)
                .body("grant_type=client_credentials&client_id=dpop-client&client_secret=dpop-client-secret")
                .send()
        };
        let challenge = post(key.proof("POST", &token_url, now(), None, None).unwrap()).await.unwrap();
        let nonce =
            challenge.headers().get("dpop-nonce").expect("a nonce challenge").to_str().unwrap().to_owned();
        let other = reqwest::Url::parse(&format!("{issuer}/elsewhere")).unwrap();
        let wrong_htu = post(key.proof("POST", &other, now(), Some(&nonce), None).unwrap()).await.unwrap();
        assert_eq!(wrong_htu.status(), 400, "a proof for another URL");
        let proof = key.proof("POST", &token_url, now(), Some(&nonce), None).unwrap();
        assert_eq!(post(proof.clone()).await.unwrap().status(), 200);
        assert_eq!(post(proof).await.unwrap().status(), 400, "a replayed jti");

        // The same client without a key: refused, since its tokens must be bound.
        let unbound =
            discovered(&issuer, ClientAuth::client_secret_post("dpop-client", "dpop-client-secret")).await;
        let error = unbound.request_token_ccg("", None, None).await.unwrap_err();
        assert_eq!(error.status(), Some(reqwest::StatusCode::BAD_REQUEST), "{error:?}");
    }

    /// A resource server on 127.0.0.1 that accepts a DPoP-bound token only with a valid proof
    /// (RFC 9449 §7): signed by the key whose thumbprint is the token's `cnf.jkt` (as the
    /// provider's introspection said), for this method and URL, with `ath` the token's hash,
    /// a `jti` not seen before, and its own current nonce (first asked for with a challenge).
    struct VerifyingResourceServer {
        token: String,
        jkt: String,
        nonce: &'static str,
        seen_jtis: std::sync::Mutex<std::collections::HashSet<String>>,
    }

    impl wiremock::Respond for VerifyingResourceServer {
        fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
            let refuse = |why: &str| {
                wiremock::ResponseTemplate::new(401).insert_header(
                    "WWW-Authenticate",
                    format!(r#"DPoP error="invalid_token", error_description="{why}""#).as_str(),
                )
            };
            let header = |name: &str| {
                request.headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
            };
            if header("authorization") != Some(format!("DPoP {}", self.token)) {
                return refuse("not the DPoP-bound token");
            }
            let Some(proof) = header("dpop") else { return refuse("no proof") };
            // The URL the client addressed: its Host header (wiremock's own URL says `localhost`).
            let url = format!("http://{}{}", header("host").unwrap_or_default(), request.url.path());
            let claims = match oauth_client_tests::resource_server::verify_dpop_proof(
                &proof,
                &self.token,
                &self.jkt,
                request.method.as_str(),
                &url,
            ) {
                Ok(claims) => claims,
                Err(why) => return refuse(why),
            };
            if !self.seen_jtis.lock().unwrap().insert(claims["jti"].as_str().unwrap_or_default().to_owned()) {
                return refuse("jti replayed");
            }
            if claims["nonce"] != self.nonce {
                return wiremock::ResponseTemplate::new(401)
                    .insert_header(
                        "WWW-Authenticate",
                        r#"DPoP error="use_dpop_nonce", error_description="nonce required""#,
                    )
                    .insert_header("DPoP-Nonce", self.nonce);
            }
            wiremock::ResponseTemplate::new(200).set_body_string("the protected things")
        }
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_dpop_bound_token_at_a_verifying_resource_server() {
        use oauth_client::dpop::DpopKey;
        use oauth_client::extensions::TokenIntrospection;
        use oauth_client::manager::ClientCredentials;
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let tokens_key = DpopKey::generate().unwrap();
        let client = dpop_client(&issuer, &tokens_key).await;
        let tokens = TokenManager::builder(client, ClientCredentials::new()).build();
        let token = tokens.access_token().await.unwrap();
        // The resource server learns the binding from the provider, as a real one would.
        let introspector =
            discovered(&issuer, ClientAuth::client_secret_post("post-client", "post-client-secret")).await;
        let info = introspector.introspect_token("", token.secret(), None, None).await.unwrap();
        let jkt = info.extra["cnf"]["jkt"].as_str().expect("a DPoP-bound token").to_owned();

        let api = wiremock::MockServer::start().await;
        let verifier = VerifyingResourceServer {
            token: token.secret().to_owned(),
            jkt,
            nonce: "rs-nonce-1",
            seen_jtis: std::sync::Mutex::default(),
        };
        wiremock::Mock::given(wiremock::matchers::method("GET")).respond_with(verifier).mount(&api).await;
        let http = reqwest::Client::new();
        for _ in 0..3 {
            let response = tokens.send(http.get(format!("{}/things?page=1", api.uri()))).await.unwrap();
            assert_eq!(response.status(), 200, "{:?}", response.headers().get("www-authenticate"));
        }
        assert_eq!(
            api.received_requests().await.unwrap().len(),
            4,
            "one nonce challenge, then the nonce is remembered"
        );

        // Proofs a client must never send are refused by the same server: one for another
        // URL, and one sent twice.
        let send_with = |proof: String| {
            http.get(format!("{}/things", api.uri()))
                .header("Authorization", format!("DPoP {}", token.secret()))
                .header("DPoP", proof)
                .send()
        };
        let now = oauth_client::Clock::now(&oauth_client::SystemClock);
        let other_url = reqwest::Url::parse(&format!("{}/other", api.uri())).unwrap();
        let wrong_htu =
            tokens_key.proof("GET", &other_url, now, Some("rs-nonce-1"), Some(token.secret())).unwrap();
        assert_eq!(send_with(wrong_htu).await.unwrap().status(), 401, "wrong htu");
        let things = reqwest::Url::parse(&format!("{}/things", api.uri())).unwrap();
        let once = tokens_key.proof("GET", &things, now, Some("rs-nonce-1"), Some(token.secret())).unwrap();
        assert_eq!(send_with(once.clone()).await.unwrap().status(), 200);
        assert_eq!(send_with(once).await.unwrap().status(), 401, "a replayed jti");

        // A proof of another key for the same token is refused by the same server.
        let stranger = DpopKey::generate().unwrap();
        let url = reqwest::Url::parse(&format!("{}/things", api.uri())).unwrap();
        let proof = stranger
            .proof(
                "GET",
                &url,
                oauth_client::Clock::now(&oauth_client::SystemClock),
                Some("rs-nonce-1"),
                Some(token.secret()),
            )
            .unwrap();
        let refused = http
            .get(url)
            .header("Authorization", format!("DPoP {}", token.secret()))
            .header("DPoP", proof)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
    }

    /// Logs in as alice and consents through oidc-provider's development pages, following
    /// every redirect; returns the redirect to the client.
    async fn login_and_consent(issuer: &str, authorize_url: &str) -> String {
        login_and_consent_to(issuer, authorize_url, super::REDIRECT_URI).await
    }

    /// [`login_and_consent`] for a client whose redirect URIs start with `redirect_prefix`.
    pub(super) async fn login_and_consent_to(
        issuer: &str,
        authorize_url: &str,
        redirect_prefix: &str,
    ) -> String {
        let mut browser = Browser::new();
        let absolute = |location: &str| {
            if location.starts_with("http") { location.to_owned() } else { format!("{issuer}{location}") }
        };
        let mut page = browser.get(authorize_url).await;
        for _ in 0..10 {
            let location = page
                .location
                .clone()
                .unwrap_or_else(|| panic!("a redirect, got {}: {}", page.status, page.body));
            if location.starts_with(redirect_prefix) {
                return location;
            }
            let url = absolute(&location);
            page = browser.get(&url).await;
            if page.location.is_some() {
                continue;
            }
            // An interaction page: answer its prompt.
            let fields: Vec<(String, String)> = if page.body.contains(r#"name="prompt" value="login""#) {
                vec![
                    ("prompt".into(), "login".into()),
                    ("login".into(), "alice".into()),
                    ("password".into(), "any".into()),
                ]
            } else {
                assert!(
                    page.body.contains(r#"name="prompt" value="consent""#),
                    "a login or consent page: {}",
                    page.body
                );
                vec![("prompt".into(), "consent".into())]
            };
            page = browser.post_form(&url, &fields, &url).await;
        }
        panic!("no redirect to the client after ten steps");
    }

    /// Issue "OpenID Connect": a login with `openid` in each of the provider's three key
    /// phases (k1; k2 signing with k1 still published; k2 alone), each ID token validated;
    /// the rotation costs exactly one extra key-set fetch. UserInfo is tied to the ID token.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn openid_login_validated_across_a_signing_key_rotation() {
        use oauth_client::oidc::{Expected, IdTokenError, IdTokenVerifier, JwksCache, UserInfo};
        use oauth_client::{AuthorizationRequest, OAuthToken};

        use super::REDIRECT_URI;
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        // No other test talks to the provider while its keys change.
        let _phases = KEY_PHASES.write().await;
        let http = reqwest::Client::new();
        let key_phase = |phase: u8| {
            let request = http.post(format!("{issuer}/test/key-phase/{phase}"));
            async move { assert_eq!(request.send().await.unwrap().status(), 204) }
        };
        key_phase(0).await;
        let client = OAuthClient::discover(&issuer)
            .await
            .unwrap()
            .client_auth(ClientAuth::client_secret_basic("oidc-client", "oidc-client-secret"))
            .build()
            .unwrap();
        // Fetch again at once on an unknown key: the phases follow each other within seconds.
        let keys = JwksCache::for_client(&client).unwrap().refetch_interval(std::time::Duration::ZERO);
        let verifier = IdTokenVerifier::new(&issuer, "oidc-client", keys);
        let log_in = || async {
            let pending = AuthorizationRequest::for_client(&client, "oidc-client")
                .unwrap()
                .redirect_uri(REDIRECT_URI)
                .scope("openid")
                .build()
                .unwrap();
            let redirect = login_and_consent(&issuer, pending.url().as_str()).await;
            let code = pending.code_from_redirect(&redirect).unwrap();
            let token = client
                .request_token_acg("", &code, REDIRECT_URI, Some(&pending.token_params()))
                .await
                .unwrap();
            (pending, token)
        };
        let kid_of = |token: &OAuthToken| {
            let id_token = token.extra["id_token"].as_str().unwrap();
            jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap()
        };

        let (pending, token) = log_in().await;
        assert_eq!(kid_of(&token), "k1");
        let claims =
            verifier.verify_token_response(&token, Expected::from_authorization(&pending)).await.unwrap();
        assert_eq!((claims.iss.as_str(), claims.sub.as_str()), (issuer.as_str(), "alice"));
        assert_eq!(claims.nonce.as_deref(), pending.nonce());
        let info = client.user_info(&format!("Bearer {}", token.access_token.secret())).await.unwrap();
        info.check_subject(&claims).unwrap();
        assert_eq!(verifier.keys().fetches(), 1);

        key_phase(1).await;
        let (pending, token) = log_in().await;
        assert_eq!(kid_of(&token), "k2", "the new key signs");
        verifier.verify_token_response(&token, Expected::from_authorization(&pending)).await.unwrap();
        assert_eq!(verifier.keys().fetches(), 2, "one fetch for the new key");

        key_phase(2).await;
        let (pending, token) = log_in().await;
        let claims =
            verifier.verify_token_response(&token, Expected::from_authorization(&pending)).await.unwrap();
        assert_eq!(verifier.keys().fetches(), 2, "the old key's retirement costs nothing");
        let replayed =
            verifier.verify_token_response(&token, Expected::nothing().nonce("another-login")).await;
        assert!(
            matches!(replayed, Err(oauth_client::oidc::OidcError::IdToken(IdTokenError::NonceMismatch))),
            "{replayed:?}"
        );
        let mut someone_else = claims.clone();
        someone_else.sub = "mallory".into();
        let info = client.user_info(&format!("Bearer {}", token.access_token.secret())).await.unwrap();
        assert!(matches!(info.check_subject(&someone_else), Err(IdTokenError::SubjectMismatch)));
        key_phase(0).await;
    }

    /// Issue "OpenID Connect and discovery": a resource server's 401 leads the client to its
    /// metadata (RFC 9728), its authorization server (discovered), and a token for that
    /// resource (RFC 8707), which the resource server accepts; a token for no resource it
    /// refuses.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_resource_server_leads_the_client_to_its_authorization_server() {
        use oauth_client::manager::ClientCredentials;
        use oauth_client_tests::resource_server::ResourceServer;
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let post_client = || ClientAuth::client_secret_post("post-client", "post-client-secret");
        let introspector = discovered(&issuer, post_client()).await;
        let api = ResourceServer::start_protected(introspector, String::new(), vec![issuer.clone()]).await;
        let things = format!("{}/things", api.url);
        let http = reqwest::Client::new();
        let refused = http.get(&things).send().await.unwrap();
        assert_eq!(refused.status(), 401);

        let found = OAuthClient::discover_from_challenge(&things, refused.headers()).await.unwrap();
        assert_eq!(found.resource_indicator(), format!("{}/", api.url));
        assert_eq!(found.authorization_server.issuer, issuer);
        let client = found.client_builder().client_auth(post_client()).build().unwrap();
        let tokens = TokenManager::builder(
            client.clone(),
            ClientCredentials::new().resource(found.resource_indicator()),
        )
        .build();
        let response = tokens.send(http.post(&things).body("rfc9728")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "things for rfc9728");

        let for_no_resource = TokenManager::builder(client, ClientCredentials::new()).build();
        let response = for_no_resource.send(http.get(&things)).await.unwrap();
        assert_eq!(response.status(), 401, "a token for no resource is refused, after one retry");
    }

    /// alice at oidc-provider's development pages, as a `UserAuthorization`: each
    /// authorization is a new browser that logs in and consents.
    struct Alice {
        issuer: String,
        logins: std::sync::atomic::AtomicUsize,
    }

    impl oauth_client::resource_access::UserAuthorization for Alice {
        fn redirect_uri(&self) -> &str {
            "http://127.0.0.1:9/callback"
        }

        fn authorize<'a>(
            &'a self,
            url: &'a reqwest::Url,
        ) -> oauth_client::manager::BoxFuture<'a, Result<String, oauth_client::Error>> {
            self.logins.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                Ok(login_and_consent_to(&self.issuer, url.as_str(), self.redirect_uri()).await)
            })
        }
    }

    /// Issue "Resource-first authorization": oidc-provider as the authorization server of a
    /// resource that knows nothing of the client. From the resource's 401 `ResourceAccess`
    /// finds the provider, has alice authorize (PKCE, `resource`, `iss`), gets a token bound
    /// to a DPoP key (the provider advertises DPoP and demands nonces) that the resource
    /// accepts only with a valid proof; `/admin`'s `insufficient_scope` leads to a second
    /// authorization for `admin` as well, after which the same call succeeds.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn resource_access_with_step_up_and_dpop_bound_tokens() {
        use std::sync::atomic::Ordering;

        use oauth_client::registration::ClientMetadata;
        use oauth_client::resource_access::ResourceAccess;
        use oauth_client_tests::resource_server::ResourceServer;
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let introspector =
            discovered(&issuer, ClientAuth::client_secret_post("post-client", "post-client-secret")).await;
        let api = ResourceServer::start_protected(introspector, String::new(), vec![issuer.clone()]).await;
        let alice = std::sync::Arc::new(Alice { issuer: issuer.clone(), logins: Default::default() });
        let access = ResourceAccess::builder(ClientMetadata::named("interop"))
            .authorization_code(alice.clone())
            .pre_registered_for(
                &issuer,
                ClientAuth::client_secret_basic("cli-session-client", "cli-session-secret"),
            )
            .build()
            .unwrap();
        let http = reqwest::Client::new();

        let things = access.send(http.post(format!("{}/things", api.url)).body("mcp")).await.unwrap();
        assert_eq!(
            (things.status().as_u16(), things.text().await.unwrap()),
            (200, "things for mcp".to_owned())
        );
        let again = access.send(http.post(format!("{}/things", api.url)).body("again")).await.unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(alice.logins.load(Ordering::SeqCst), 1);

        let admin = access.send(http.get(format!("{}/admin", api.url))).await.unwrap();
        assert_eq!((admin.status().as_u16(), admin.text().await.unwrap()), (200, "admin things".to_owned()));
        assert_eq!(alice.logins.load(Ordering::SeqCst), 2, "one step-up");
        // 401 without a token; /things twice; /admin refused for scope, then accepted.
        assert_eq!(api.seen.requests.load(Ordering::SeqCst), 5);
        assert_eq!(api.seen.dpop_proofs.load(Ordering::SeqCst), 4, "every token came with a valid proof");
        assert_eq!(api.seen.invalid_token.load(Ordering::SeqCst), 0);
    }

    /// Issue "OpenID Connect and discovery": a client registers itself (RFC 7591, with the
    /// provider's initial access token), gets a token with its new credentials, reads and
    /// renames its registration, and deletes it (RFC 7592), after which it is refused.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_client_registers_itself_uses_its_credentials_and_deletes_itself() {
        use oauth_client::registration::{ClientMetadata, ClientRegistrationManagement, DynamicRegistration};
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let provider = OAuthClient::discover(&issuer).await.unwrap().build().unwrap();
        let mut metadata = ClientMetadata::for_grants(["client_credentials"]);
        metadata.response_types = Some(Vec::new());
        metadata.redirect_uris = Some(Vec::new());
        metadata.token_endpoint_auth_method = Some("client_secret_basic".into());
        metadata.client_name = Some("nightly-report".into());
        let refused = provider.register_client(None, &metadata).await.unwrap_err();
        assert_eq!(
            refused.status(),
            Some(reqwest::StatusCode::UNAUTHORIZED),
            "registration needs the initial access token: {refused:?}"
        );
        let registration = provider
            .register_client(Some("Bearer initial-access-token-for-the-tests"), &metadata)
            .await
            .unwrap();
        let secret = registration.client_secret.clone().expect("a secret for client_secret_basic");
        assert_eq!(registration.metadata.client_name.as_deref(), Some("nightly-report"));

        let client = provider
            .with_client_auth(ClientAuth::client_secret_basic(&registration.client_id, secret.clone()));
        let token = client.request_token_ccg("", None, None).await.unwrap();
        assert!(!token.access_token.secret().is_empty());

        let manage = registration.configuration_client(&provider).unwrap();
        let authorization = registration.management_authorization().unwrap();
        let read = manage.read_client_registration(&authorization).await.unwrap();
        assert_eq!(read.client_id, registration.client_id);
        let mut renamed = read.metadata.clone();
        renamed.client_name = Some("weekly-report".into());
        renamed.extra.insert("client_id".into(), registration.client_id.clone().into());
        renamed.extra.insert("client_secret".into(), secret.secret().into());
        let updated = manage.update_client_registration(&authorization, &renamed).await.unwrap();
        assert_eq!(updated.metadata.client_name.as_deref(), Some("weekly-report"));

        manage.delete_client_registration(&authorization).await.unwrap();
        let gone = client.request_token_ccg("", None, None).await.unwrap_err();
        assert_eq!(provider_kind(&gone), &OAuthProviderErrorKind::InvalidClient);
    }

    /// Issue "OpenID Connect": introspection answered as a signed JWT (RFC 9701), checked with
    /// the provider's keys; the JSON answer stays available to the same client.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn a_signed_introspection_response_is_verified() {
        use oauth_client::extensions::TokenIntrospection;
        use oauth_client::oidc::SignedIntrospection;
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let client =
            discovered(&issuer, ClientAuth::client_secret_post("post-client", "post-client-secret")).await;
        let token = client.request_token_ccg("", None, None).await.unwrap();
        let signed = SignedIntrospection::for_client(&client, "post-client").unwrap();
        let info = signed.introspect(&client, "", token.access_token.secret(), None).await.unwrap();
        assert!(info.active);
        assert_eq!(info.client_id.as_deref(), Some("post-client"));
        assert_eq!(signed.keys().fetches(), 1);
        let plain = client.introspect_token("", token.access_token.secret(), None, None).await.unwrap();
        assert_eq!(plain.client_id, info.client_id);
        let unknown = signed.introspect(&client, "", "not-a-token", None).await.unwrap();
        assert!(!unknown.active);
    }

    /// A rich authorization request's detail type (RFC 9396), as the caller models it.
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct AccountInformation {
        r#type: String,
        actions: Vec<String>,
    }

    /// The whole FAPI-2.0-style flow against a client that requires PAR, a signed request
    /// object and DPoP-bound tokens: pushed and signed request with PKCE, a resource
    /// indicator, authorization details (RAR) and `dpop_jkt`; the redirect's `iss` checked; the code redeemed and the
    /// token refreshed with DPoP proofs (nonces answered) and private_key_jwt.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn authorization_code_with_par_jar_dpop_and_resource_then_refresh() {
        use oauth_client::dpop::DpopKey;
        use oauth_client::extensions::TokenIntrospection;
        use oauth_client::{AuthorizationRequest, RedirectError};
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let rsa = fixture("rsa-private.pem");
        let dpop = DpopKey::generate().unwrap();
        let client = OAuthClient::discover(&issuer)
            .await
            .unwrap()
            .client_auth(ClientAuth::private_key_jwt("web-client", SigningKey::rs256_pem(&rsa).unwrap()))
            .dpop(dpop.clone())
            .build()
            .unwrap();
        let request = || {
            AuthorizationRequest::for_client(&client, "web-client")
                .unwrap()
                .redirect_uri(super::REDIRECT_URI)
                .scope("api:read")
                .resource("https://api.example/")
                .authorization_details(&[AccountInformation {
                    r#type: "account_information".into(),
                    actions: vec!["read".into()],
                }])
                .dpop_jkt(dpop.thumbprint())
                .signed(SigningKey::rs256_pem(&rsa).unwrap())
        };

        // Not pushed: this client must use PAR, so the provider refuses the request.
        let unpushed = request().build().unwrap();
        let refused = Browser::new().get(unpushed.url().as_str()).await;
        assert!(
            refused.location.as_deref().is_some_and(|location| location.contains("error=invalid_request"))
                || refused.status == 400,
            "an unpushed request is refused: {} {:?}",
            refused.status,
            refused.location
        );

        let pending = request().push(&client).await.unwrap();
        let names: Vec<String> = pending.url().query_pairs().map(|(name, _)| name.into_owned()).collect();
        assert_eq!(names, ["client_id", "request_uri"], "only the reference crosses the browser");
        let redirect = login_and_consent(&issuer, pending.url().as_str()).await;
        assert!(redirect.contains("iss="), "the provider sends iss (RFC 9207): {redirect}");
        // The same redirect as if from another issuer is refused.
        let forged = AuthorizationRequest::for_client(&client, "web-client")
            .unwrap()
            .issuer("https://evil.example")
            .state(pending.state())
            .build()
            .unwrap();
        assert!(matches!(forged.code_from_redirect(&redirect), Err(RedirectError::IssuerMismatch { .. })));
        let code = pending.code_from_redirect(&redirect).unwrap();

        let token = client
            .request_token_acg("", &code, super::REDIRECT_URI, Some(&pending.token_params()))
            .await
            .unwrap();
        assert_eq!(token.token_type, "DPoP");
        let refresh = token.refresh_token.clone().expect("a refresh token");
        let refreshed = client.refresh_token_acg("", refresh.secret(), None, None).await.unwrap();
        assert_eq!(refreshed.token_type, "DPoP");

        let introspector =
            discovered(&issuer, ClientAuth::client_secret_post("post-client", "post-client-secret")).await;
        let info =
            introspector.introspect_token("", refreshed.access_token.secret(), None, None).await.unwrap();
        assert!(info.active);
        assert_eq!(info.extra["cnf"]["jkt"], dpop.thumbprint());
        assert_eq!(
            info.aud,
            Some(serde_json::json!("https://api.example/")),
            "the token is for the indicated resource"
        );
        assert_eq!(info.scope.as_deref(), Some("api:read"));
    }

    /// A DPoP client proves possession at every endpoint: its DPoP-bound token works at
    /// UserInfo (a proof with `ath`, the provider's nonce required there too), and a
    /// revocation with a proof ends the token, as UserInfo then says.
    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn userinfo_and_revocation_with_a_dpop_bound_token() {
        use oauth_client::dpop::DpopKey;
        use oauth_client::extensions::TokenRevocation;
        use oauth_client::oidc::UserInfo;
        use oauth_client::{AuthorizationRequest, Error};
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let dpop = DpopKey::generate().unwrap();
        let client = OAuthClient::discover(&issuer)
            .await
            .unwrap()
            .client_auth(ClientAuth::none("cli-par-client"))
            .dpop(dpop)
            .build()
            .unwrap();
        let pending = AuthorizationRequest::for_client(&client, "cli-par-client")
            .unwrap()
            .redirect_uri(super::REDIRECT_URI)
            .scope("openid")
            .push(&client)
            .await
            .unwrap();
        let redirect = login_and_consent(&issuer, pending.url().as_str()).await;
        let code = pending.code_from_redirect(&redirect).unwrap();
        let token = client
            .request_token_acg("", &code, super::REDIRECT_URI, Some(&pending.token_params()))
            .await
            .unwrap();
        assert_eq!(token.token_type, "DPoP");
        let bound = format!("DPoP {}", token.access_token.secret());
        let info = client.user_info(&bound).await.unwrap();
        assert_eq!(info.sub, "alice");

        // Without a proof the provider refuses the same token.
        let http = reqwest::Client::new();
        let userinfo = client.endpoint(oauth_client::Endpoint::USERINFO).unwrap().clone();
        let unproven = http.get(userinfo).header("Authorization", &bound).send().await.unwrap();
        assert_eq!(unproven.status(), 400, "oidc-provider: invalid_request, the DPoP proof is missing");

        client.revoke_token("", token.access_token.secret(), Some("access_token"), None).await.unwrap();
        let after: Error = client.user_info(&bound).await.unwrap_err();
        assert_eq!(after.status().map(|status| status.as_u16()), Some(401), "{after:?}");
        assert!(!after.to_string().contains("client authentication"), "{after}");
    }

    #[tokio::test]
    #[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
    async fn tls_client_auth_presents_the_certificate_at_the_mtls_alias() {
        let issuer = peer!("OAUTH_PEER_OIDC_URL");
        let _phases = crate::interop::oidc_provider::KEY_PHASES.read().await;
        let mtls_url = peer!("OAUTH_PEER_OIDC_MTLS_URL");
        let certs = peer!("OAUTH_PEER_OIDC_CERTS");
        let read = |name: &str| std::fs::read(format!("{certs}/{name}")).unwrap();
        let ca = reqwest::Certificate::from_pem(&read("ca.pem")).unwrap();
        let identity =
            reqwest::Identity::from_pem(&[read("client.pem"), read("client.key")].concat()).unwrap();
        let with_certificate = OAuthClient::discover(&issuer)
            .await
            .unwrap()
            .identity(identity)
            .add_root_certificate(ca.clone())
            .client_auth(ClientAuth::tls_client_auth("mtls-client"))
            .build()
            .unwrap();
        assert_eq!(
            with_certificate.endpoint(oauth_client::Endpoint::TOKEN).unwrap().as_str(),
            format!("{mtls_url}/token"),
            "the metadata's mtls_endpoint_aliases"
        );
        let token = with_certificate.request_token_ccg("", None, None).await.unwrap();
        assert_eq!(token.token_type, "Bearer");

        let without_certificate = OAuthClient::discover(&issuer)
            .await
            .unwrap()
            .add_root_certificate(ca)
            .client_auth(ClientAuth::tls_client_auth("mtls-client"))
            .build()
            .unwrap();
        assert!(invalid_client(&without_certificate.request_token_ccg("", None, None).await.unwrap_err()));
    }
}
