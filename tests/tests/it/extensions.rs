//! The extension grants and endpoints: wire format against a local server, error cases,
//! the device-flow polling schedule under tokio's paused clock, and signed assertions.

use reqwest::StatusCode;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth_client::extensions::{
    ClientAssertion, DeviceAuthorization, DeviceAuthorizationResponse, JwtAssertion, JwtBearer, SigningKey,
    TokenExchange, TokenIntrospection, TokenRevocation, poll_device_token, token_types,
};
use oauth_client::{
    Error, FormParams, OAuthAuthorization, OAuthClient, OAuthProviderErrorKind, OAuthToken, TokenEndpoint,
};
use oauth_client_tests::{AUTH_XY as AUTH, T0, form_of, header_of, only_request, pairs, token_json as token};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A provider with every endpoint on its own path, each answering `response`.
async fn provider(endpoint_path: &str, response: ResponseTemplate) -> (MockServer, OAuthClient) {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path(endpoint_path)).respond_with(response).mount(&server).await;
    let uri = server.uri();
    let client = OAuthClient::builder(format!("{uri}/token"))
        .device_authorization_url(format!("{uri}/device"))
        .revocation_url(format!("{uri}/revoke"))
        .introspection_url(format!("{uri}/introspect"))
        .build()
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn device_authorization_request_goes_to_its_endpoint_without_grant_type() {
    let body = json!({
        "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
        "user_code": "WDJB-MJHT",
        "verification_url": "https://example.com/device",
        "verification_uri_complete": "https://example.com/device?user_code=WDJB-MJHT",
        "expires_in": "1800",
        "interval": 5,
        "message": "Enter the code"
    });
    let (server, client) = provider("/device", ResponseTemplate::new(200).set_body_json(body)).await;
    let public = FormParams::new().with("client_id", "tv-app");
    let device = client.request_device_authorization("", Some("read"), Some(&public)).await.unwrap();
    assert_eq!(device.user_code, "WDJB-MJHT");
    assert_eq!(device.verification_uri, "https://example.com/device", "Google's verification_url is read");
    assert_eq!(device.expires_in, 1800, "a string expires_in is read in lenient mode");
    assert_eq!(device.interval, Some(5));
    assert_eq!(device.extra["message"], "Enter the code");
    assert!(!format!("{device:?}").contains("GmRhmhcx"), "the device code is a credential");

    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/device");
    assert_eq!(header_of(&request, "authorization"), None, "an empty authorization sends no header");
    assert_eq!(form_of(&request), pairs(&[("scope", "read"), ("client_id", "tv-app")]));
}

#[tokio::test]
async fn device_token_request_sends_the_device_code_grant() {
    let (server, client) = provider("/token", ResponseTemplate::new(200).set_body_json(token())).await;
    client.request_token_device(AUTH, "dev-code", None).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(
        form_of(&request),
        pairs(&[("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", "dev-code")])
    );
    assert_eq!(header_of(&request, "authorization"), Some(AUTH));
}

/// A provider scripted in-process, so that tokio's paused clock drives the polling.
struct Scripted {
    client: OAuthClient,
    answers: Mutex<VecDeque<Result<OAuthToken, &'static str>>>,
    polled_at: Mutex<Vec<Duration>>,
    started: tokio::time::Instant,
}

impl TokenEndpoint for Scripted {
    fn oauth_client(&self) -> &OAuthClient {
        &self.client
    }
}

impl DeviceAuthorization for Scripted {
    // Overrides the declared method: the script answers instead of a server.
    fn request_token_device<'a>(
        &self,
        _authorization: impl Into<oauth_client::ClientAuthorization<'a>>,
        _device_code: &str,
        _additional: Option<&FormParams>,
    ) -> impl Future<Output = Result<OAuthToken, Error>> + Send {
        self.polled_at.lock().unwrap().push(self.started.elapsed());
        let answer = self.answers.lock().unwrap().pop_front().expect("the script has an answer");
        std::future::ready(answer.map_err(|code| match code {
            "timeout" => Error::Timeout,
            "503" => Error::Http {
                status: StatusCode::SERVICE_UNAVAILABLE,
                url: None,
                headers: Default::default(),
                body: String::new(),
            },
            code => Error::Provider {
                status: StatusCode::BAD_REQUEST,
                error: serde_json::from_value(json!({ "error": code })).unwrap(),
                headers: Default::default(),
            },
        }))
    }
}

fn scripted(answers: Vec<Result<OAuthToken, &'static str>>) -> Scripted {
    Scripted {
        client: OAuthClient::new("https://unused.example/token").unwrap(),
        answers: Mutex::new(answers.into()),
        polled_at: Mutex::new(Vec::new()),
        started: tokio::time::Instant::now(),
    }
}

fn device(expires_in: u64, interval: Option<u64>) -> DeviceAuthorizationResponse {
    serde_json::from_value(json!({
        "device_code": "d", "user_code": "u", "verification_uri": "https://v", "expires_in": expires_in, "interval": interval
    }))
    .unwrap()
}

fn issued() -> OAuthToken {
    serde_json::from_value(token()).unwrap()
}

fn seconds(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|s| Duration::from_secs(*s)).collect()
}

#[tokio::test(start_paused = true)]
async fn polling_waits_the_interval_and_five_more_seconds_after_slow_down() {
    let provider = scripted(vec![
        Err("authorization_pending"),
        Err("authorization_pending"),
        Err("slow_down"),
        Ok(issued()),
    ]);
    let token = poll_device_token(&provider, "", &device(600, None), None).await.unwrap();
    assert_eq!(token.access_token.secret(), "at");
    // Waits of 5, 5, 5 and then 10 s: polls at 5, 10, 15 and 25 s.
    assert_eq!(*provider.polled_at.lock().unwrap(), seconds(&[5, 10, 15, 25]));
}

#[tokio::test(start_paused = true)]
async fn polling_uses_the_providers_interval() {
    let provider = scripted(vec![Err("authorization_pending"), Ok(issued())]);
    poll_device_token(&provider, "", &device(600, Some(7)), None).await.unwrap();
    assert_eq!(*provider.polled_at.lock().unwrap(), seconds(&[7, 14]));
}

#[tokio::test(start_paused = true)]
async fn polling_stops_when_the_user_denies_or_the_code_expires_at_the_provider() {
    for (code, kind) in [
        ("access_denied", OAuthProviderErrorKind::AccessDenied),
        ("expired_token", OAuthProviderErrorKind::ExpiredToken),
    ] {
        let provider = scripted(vec![Err("authorization_pending"), Err(code)]);
        let error = poll_device_token(&provider, "", &device(600, None), None).await.unwrap_err();
        assert_eq!(error.provider_error().map(|e| &e.error), Some(&kind));
        assert_eq!(provider.polled_at.lock().unwrap().len(), 2);
    }
}

/// Found by reading the code: one 503 or timeout ended the flow (failed before the fix).
#[tokio::test(start_paused = true)]
async fn polling_rides_out_transient_failures_with_a_doubled_wait() {
    let provider = scripted(vec![Err("authorization_pending"), Err("503"), Err("timeout"), Ok(issued())]);
    poll_device_token(&provider, "", &device(600, Some(5)), None).await.unwrap();
    // Waits of 5, 5, then 10 after the 503, then 20 after the timeout.
    assert_eq!(*provider.polled_at.lock().unwrap(), seconds(&[5, 10, 20, 40]));
}

#[tokio::test(start_paused = true)]
async fn polling_with_a_zero_interval_waits_five_seconds() {
    let provider = scripted(vec![Err("authorization_pending"), Ok(issued())]);
    poll_device_token(&provider, "", &device(600, Some(0)), None).await.unwrap();
    assert_eq!(*provider.polled_at.lock().unwrap(), seconds(&[5, 10]));
}

#[tokio::test(start_paused = true)]
async fn polling_stops_at_the_device_codes_own_expiry() {
    let provider = scripted(vec![Err("authorization_pending"); 10]);
    let error = poll_device_token(&provider, "", &device(12, Some(5)), None).await.unwrap_err();
    assert!(matches!(error, Error::DeviceCodeExpired { expires_in: 12 }), "{error:?}");
    assert_eq!(*provider.polled_at.lock().unwrap(), seconds(&[5, 10]), "no poll after the code expired");
}

#[tokio::test]
async fn token_exchange_sends_repeated_audiences_and_keeps_issued_token_type() {
    let mut body = token();
    body["issued_token_type"] = json!(token_types::ACCESS_TOKEN);
    body["token_type"] = json!("N_A");
    let (server, client) = provider("/token", ResponseTemplate::new(200).set_body_json(body)).await;
    let token = client
        .exchange_token(
            AUTH,
            "subject-jwt",
            token_types::JWT,
            Some("actor-jwt"),
            Some(token_types::JWT),
            &["https://backend.example"],
            &["api-a", "api-b"],
            None,
            Some("read"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(token.issued_token_type(), Some(token_types::ACCESS_TOKEN));
    assert_eq!(
        form_of(&only_request(&server).await),
        pairs(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("subject_token", "subject-jwt"),
            ("subject_token_type", token_types::JWT),
            ("actor_token", "actor-jwt"),
            ("actor_token_type", token_types::JWT),
            ("resource", "https://backend.example"),
            ("audience", "api-a"),
            ("audience", "api-b"),
            ("scope", "read"),
        ])
    );
}

#[tokio::test]
async fn token_exchange_errors_are_provider_errors() {
    let body = json!({"error": "invalid_target", "error_description": "unknown audience"});
    let (_server, client) = provider("/token", ResponseTemplate::new(400).set_body_json(body)).await;
    let error = client
        .exchange_token(AUTH, "s", token_types::ACCESS_TOKEN, None, None, &[], &["nowhere"], None, None, None)
        .await
        .unwrap_err();
    assert_eq!(error.provider_error().unwrap().error, OAuthProviderErrorKind::Other("invalid_target".into()));
}

#[tokio::test]
async fn revocation_accepts_an_empty_200_and_reports_errors() {
    let (server, client) = provider("/revoke", ResponseTemplate::new(200)).await;
    client.revoke_token(AUTH, "rt-1", Some("refresh_token"), None).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/revoke");
    assert_eq!(form_of(&request), pairs(&[("token", "rt-1"), ("token_type_hint", "refresh_token")]));

    let body = json!({"error": "unsupported_token_type"});
    let (_server, client) = provider("/revoke", ResponseTemplate::new(400).set_body_json(body)).await;
    let error = client.revoke_token(AUTH, "t", None, None).await.unwrap_err();
    assert_eq!(error.provider_error().unwrap().error, OAuthProviderErrorKind::UnsupportedTokenType);

    let (_server, client) =
        provider("/revoke", ResponseTemplate::new(503).insert_header("retry-after", "3")).await;
    let error = client.revoke_token(AUTH, "t", None, None).await.unwrap_err();
    assert!(matches!(error, Error::Http { status: StatusCode::SERVICE_UNAVAILABLE, .. }), "{error:?}");
}

#[tokio::test]
async fn introspection_decodes_the_response_and_keeps_the_rest() {
    let body = json!({
        "active": true, "scope": "read write", "client_id": "c", "username": "alice", "exp": 1_900_000_000,
        "aud": ["a", "b"], "tenant": "t-1"
    });
    let (server, client) = provider("/introspect", ResponseTemplate::new(200).set_body_json(body)).await;
    let info = client.introspect_token(AUTH, "at-1", Some("access_token"), None).await.unwrap();
    assert!(info.active);
    assert_eq!(info.scope.as_deref(), Some("read write"));
    assert_eq!(info.username.as_deref(), Some("alice"));
    assert_eq!(info.exp, Some(1_900_000_000));
    assert_eq!(info.aud, Some(json!(["a", "b"])));
    assert_eq!(info.extra["tenant"], "t-1");
    assert_eq!(
        form_of(&only_request(&server).await),
        pairs(&[("token", "at-1"), ("token_type_hint", "access_token")])
    );

    let (_server, client) =
        provider("/introspect", ResponseTemplate::new(200).set_body_json(json!({"active": false}))).await;
    assert!(!client.introspect_token(AUTH, "old", None, None).await.unwrap().active);
}

#[tokio::test]
async fn an_endpoint_that_is_not_configured_is_a_config_error() {
    let client = OAuthClient::new("https://auth.example/token").unwrap();
    let error = client.revoke_token(AUTH, "t", None, None).await.unwrap_err();
    assert!(
        matches!(&error, Error::Config(config) if config.setting() == oauth_client::Setting::Endpoint && config.message().contains("no revocation endpoint") && config.message().contains(r#".endpoint_url("revocation", ..)"#) && config.message().contains("`revocation_endpoint`")),
        "{error:?}"
    );
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn verify(
    jwt: &str,
    algorithm: Algorithm,
    key: &DecodingKey,
    audience: &str,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
    jsonwebtoken::decode::<Value>(jwt, key, &validation).map(|data| data.claims)
}

#[test]
fn signed_assertions_verify_with_the_public_key_and_carry_the_claims() {
    let audience = "https://auth.example/token";
    let keys = [
        (
            SigningKey::rs256_pem(&fixture("rsa-private.pem")).unwrap(),
            Algorithm::RS256,
            DecodingKey::from_rsa_pem(&fixture("rsa-public.pem")).unwrap(),
        ),
        (
            SigningKey::es256_pem(&fixture("ec-private.pem")).unwrap(),
            Algorithm::ES256,
            DecodingKey::from_ec_pem(&fixture("ec-public.pem")).unwrap(),
        ),
        (SigningKey::hs256(b"client-secret"), Algorithm::HS256, DecodingKey::from_secret(b"client-secret")),
    ];
    for (signing, algorithm, decoding) in keys {
        let assertion = JwtAssertion::new("svc", "user-42", audience, signing)
            .lifetime(Duration::from_secs(120))
            .key_id("k1")
            .claim("scope", "read");
        let first = assertion.sign().unwrap();
        let second = assertion.sign().unwrap();
        let claims = verify(&first, algorithm, &decoding, audience).unwrap();
        assert_eq!(claims["iss"], "svc");
        assert_eq!(claims["sub"], "user-42");
        assert_eq!(claims["aud"], audience);
        assert_eq!(claims["scope"], "read");
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 120);
        let other = verify(&second, algorithm, &decoding, audience).unwrap();
        assert_ne!(claims["jti"], other["jti"], "each assertion has its own jti");
        assert_eq!(jsonwebtoken::decode_header(&first).unwrap().kid.as_deref(), Some("k1"));
        assert!(
            verify(&first, algorithm, &decoding, "https://someone-else.example").is_err(),
            "audience is checked"
        );
    }
}

#[test]
fn a_wrong_key_does_not_verify() {
    let jwt =
        JwtAssertion::new("svc", "svc", "aud", SigningKey::rs256_pem(&fixture("rsa-private.pem")).unwrap())
            .sign()
            .unwrap();
    let other = DecodingKey::from_rsa_pem(&fixture("rsa-other-public.pem")).unwrap();
    assert!(verify(&jwt, Algorithm::RS256, &other, "aud").is_err());
    let jwt = JwtAssertion::new("svc", "svc", "aud", SigningKey::hs256(b"right")).sign().unwrap();
    assert!(verify(&jwt, Algorithm::HS256, &DecodingKey::from_secret(b"wrong"), "aud").is_err());
    assert!(
        matches!(SigningKey::rs256_pem(b"not a key"), Err(Error::Signing { what, .. }) if what == "use the RSA private key")
    );
    assert!(!format!("{:?}", SigningKey::hs256(b"SENTINEL-key")).contains("SENTINEL"));
}

#[allow(deprecated)] // pins the superseded ClientAssertion path while it exists
#[tokio::test]
async fn jwt_bearer_grant_and_client_assertion_on_the_wire() {
    let (server, client) = provider("/token", ResponseTemplate::new(200).set_body_json(token())).await;
    let assertion = JwtAssertion::new("svc", "user-42", client.token_url().as_str(), SigningKey::hs256(b"s"))
        .sign()
        .unwrap();
    client.request_token_jwt_bearer(AUTH, &assertion, Some("read"), None).await.unwrap();
    assert_eq!(
        form_of(&only_request(&server).await),
        pairs(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &assertion),
            ("scope", "read")
        ])
    );

    let (server, client) = provider("/token", ResponseTemplate::new(200).set_body_json(token())).await;
    let key = SigningKey::rs256_pem(&fixture("rsa-private.pem")).unwrap();
    let credentials = ClientAssertion::new("my-client", client.token_url().as_str(), key);
    client.request_token_ccg("", Some("read"), Some(&credentials.form_params().unwrap())).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(header_of(&request, "authorization"), None);
    let form = form_of(&request);
    assert_eq!(form[2], ("client_assertion_type".to_owned(), ClientAssertion::TYPE.to_owned()));
    let decoding = DecodingKey::from_rsa_pem(&fixture("rsa-public.pem")).unwrap();
    let claims = verify(&form[3].1, Algorithm::RS256, &decoding, client.token_url().as_str()).unwrap();
    assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("my-client"), Some("my-client")));
}

#[tokio::test]
async fn discovery_fills_in_every_endpoint() {
    let server = MockServer::start().await;
    let issuer = server.uri();
    let metadata = json!({
        "issuer": issuer, "token_endpoint": format!("{issuer}/token"),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "device_authorization_endpoint": format!("{issuer}/device"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "grant_types_supported": ["client_credentials"]
    });
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(metadata))
        .mount(&server)
        .await;
    let client = OAuthClient::discover(&issuer).await.unwrap().build().unwrap();
    assert_eq!(client.token_url().as_str(), format!("{issuer}/token"));
    assert_eq!(client.authorization_url().unwrap().as_str(), format!("{issuer}/authorize"));
    assert_eq!(client.device_authorization_url().unwrap().as_str(), format!("{issuer}/device"));
    assert_eq!(client.revocation_url().unwrap().as_str(), format!("{issuer}/revoke"));
    assert_eq!(client.introspection_url().unwrap().as_str(), format!("{issuer}/introspect"));
}

/// Discovery without a caller's `reqwest::Client` works in every runtime of the host. The
/// library kept one client process-wide for documents; its pooled connections are driven by
/// the runtime that opened them, so a second runtime's discovery went out on a connection of
/// the first — hanging while that runtime idled, "runtime dropped the dispatch task" once it
/// shut down (the PDS test that failed CI so). The first runtime stays idle here; a hang is
/// the failure, so it is bounded.
#[test]
fn discovery_without_a_client_works_from_a_second_runtime_while_the_first_idles() {
    let runtime = || tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let first = runtime();
    // wiremock serves from a thread of its own, so it answers whichever runtime asks.
    let server = first.block_on(MockServer::start());
    let issuer = server.uri();
    first.block_on(
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-authorization-server"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"issuer": issuer, "token_endpoint": format!("{issuer}/t")})),
            )
            .mount(&server),
    );
    let discover = || async {
        let found = OAuthClient::discover(&issuer).await.unwrap().build().unwrap();
        found.token_url().to_string()
    };
    assert_eq!(first.block_on(discover()), format!("{issuer}/t"));

    let second = runtime();
    let found = second.block_on(async { tokio::time::timeout(Duration::from_secs(30), discover()).await });
    assert_eq!(found.expect("discovery hung on a connection of the idle runtime"), format!("{issuer}/t"));
    drop(first);
}

#[tokio::test]
async fn discovery_falls_back_to_openid_configuration_and_checks_the_issuer() {
    let server = MockServer::start().await;
    let issuer = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"issuer": issuer, "token_endpoint": format!("{issuer}/t")})),
        )
        .mount(&server)
        .await;
    let client = OAuthClient::discover(&issuer).await.unwrap().build().unwrap();
    assert_eq!(client.token_url().as_str(), format!("{issuer}/t"));
    assert_eq!(client.revocation_url(), None);

    let impostor = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"issuer": "https://evil.example", "token_endpoint": "https://evil.example/t"}),
        ))
        .mount(&impostor)
        .await;
    let error = OAuthClient::discover(&impostor.uri()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Config(config) if config.message().contains("https://evil.example")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_declared_extension_trait_works_for_a_users_own_endpoint_type() {
    struct Provider(OAuthClient);
    impl TokenEndpoint for Provider {
        fn oauth_client(&self) -> &OAuthClient {
            &self.0
        }
    }
    impl TokenRevocation for Provider {}
    let (server, client) = provider("/revoke", ResponseTemplate::new(200)).await;
    Provider(client).revoke_token(AUTH, "t", None, None).await.unwrap();
    assert_eq!(only_request(&server).await.url.path(), "/revoke");
}

/// Issue "OpenID Connect": ID tokens checked against a provider double whose key set the test
/// controls (rotation, unknown keys, `Cache-Control`), and every way a token can be wrong.
mod id_tokens {
    use std::sync::Arc;

    use jsonwebtoken::jwk::{Jwk, JwkSet};
    use jsonwebtoken::{EncodingKey, Header};
    use oauth_client::AuthorizationRequest;
    use oauth_client::oidc::{Expected, IdTokenError, IdTokenVerifier, JwksCache, OidcError};
    use oauth_client_tests::clock::ManualClock;
    use wiremock::{Request, Respond};

    use super::*;

    const ISSUER: &str = "https://login.example.com";
    const CLIENT: &str = "my-app";

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// A signing key of the provider double, with its `kid`.
    struct Signer {
        kid: String,
        algorithm: Algorithm,
        key: EncodingKey,
    }

    impl Signer {
        fn rsa(kid: &str) -> Self {
            Signer {
                kid: kid.into(),
                algorithm: Algorithm::RS256,
                key: EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).unwrap(),
            }
        }

        fn ec(kid: &str) -> Self {
            Signer {
                kid: kid.into(),
                algorithm: Algorithm::ES256,
                key: EncodingKey::from_ec_pem(&fixture("ec-private.pem")).unwrap(),
            }
        }

        fn jwk(&self) -> Jwk {
            let mut jwk = Jwk::from_encoding_key(&self.key, self.algorithm).unwrap();
            jwk.common.key_id = Some(self.kid.clone());
            jwk
        }

        fn sign(&self, claims: &Value) -> String {
            let mut header = Header::new(self.algorithm);
            header.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&header, claims, &self.key).unwrap()
        }
    }

    /// Serves the key set the test puts in it, with an optional `Cache-Control`.
    struct KeySetEndpoint {
        keys: Arc<Mutex<Vec<Jwk>>>,
        cache_control: Option<&'static str>,
    }

    impl Respond for KeySetEndpoint {
        fn respond(&self, _: &Request) -> ResponseTemplate {
            let set = JwkSet { keys: self.keys.lock().unwrap().clone() };
            let response = ResponseTemplate::new(200).set_body_json(&set);
            match self.cache_control {
                Some(value) => response.insert_header("cache-control", value),
                None => response,
            }
        }
    }

    struct Provider {
        server: MockServer,
        keys: Arc<Mutex<Vec<Jwk>>>,
        clock: ManualClock,
        verifier: IdTokenVerifier,
    }

    impl Provider {
        async fn start(keys: Vec<Jwk>, cache_control: Option<&'static str>) -> Self {
            let server = MockServer::start().await;
            let keys = Arc::new(Mutex::new(keys));
            Mock::given(method("GET"))
                .and(path("/jwks"))
                .respond_with(KeySetEndpoint { keys: Arc::clone(&keys), cache_control })
                .mount(&server)
                .await;
            let clock = ManualClock::at(T0);
            let cache = JwksCache::new(&format!("{}/jwks", server.uri()), reqwest::Client::new())
                .unwrap()
                .clock(clock.clone());
            let verifier = IdTokenVerifier::new(ISSUER, CLIENT, cache)
                .algorithms([Algorithm::RS256, Algorithm::ES256])
                .clock(clock.clone());
            Provider { server, keys, clock, verifier }
        }

        async fn fetches(&self) -> usize {
            self.server.received_requests().await.unwrap().len()
        }
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": T0 + 300, "iat": T0, "nonce": "n-0S6_WzA2Mj", "email": "alice@example.com"})
    }

    fn with(changes: Value) -> Value {
        let mut claims = claims();
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        claims
    }

    async fn verify(
        provider: &Provider,
        token: &str,
    ) -> Result<oauth_client::oidc::IdTokenClaims, IdTokenError> {
        match provider.verifier.verify(token, Expected::nothing().nonce("n-0S6_WzA2Mj")).await {
            Ok(claims) => Ok(claims),
            Err(OidcError::IdToken(error)) => Err(error),
            Err(other) => panic!("expected an ID token error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_valid_token_gives_its_claims_and_the_keys_are_fetched_once() {
        let signer = Signer::rsa("k1");
        let provider = Provider::start(vec![signer.jwk()], None).await;
        let got = verify(&provider, &signer.sign(&claims())).await.unwrap();
        assert_eq!(
            (got.iss.as_str(), got.sub.as_str(), got.aud.as_slice()),
            (ISSUER, "alice", &[CLIENT.to_owned()][..])
        );
        assert_eq!(got.extra["email"], "alice@example.com");
        verify(&provider, &signer.sign(&claims())).await.unwrap();
        assert_eq!(provider.fetches().await, 1);
    }

    #[tokio::test]
    async fn every_wrong_claim_is_refused_with_its_own_error() {
        let signer = Signer::ec("k1");
        let provider = Provider::start(vec![signer.jwk()], None).await;
        let cases = [
            (
                with(json!({"aud": "someone-else"})),
                IdTokenError::WrongAudience { client_id: CLIENT.into(), found: vec!["someone-else".into()] },
            ),
            (
                with(json!({"iss": "https://evil.example"})),
                IdTokenError::WrongIssuer { expected: ISSUER.into(), found: "https://evil.example".into() },
            ),
            (with(json!({"exp": T0 - 61})), IdTokenError::Expired { exp: T0 - 61, now: T0 }),
            (with(json!({"iat": T0 + 61})), IdTokenError::IssuedInTheFuture { iat: T0 + 61, now: T0 }),
            (with(json!({"nonce": null})), IdTokenError::MissingNonce),
            (with(json!({"nonce": "another"})), IdTokenError::NonceMismatch),
            (with(json!({"aud": [CLIENT, "other"]})), IdTokenError::MissingAuthorizedParty),
            (with(json!({"azp": "other"})), IdTokenError::WrongAuthorizedParty { found: "other".into() }),
        ];
        for (claims, expected) in cases {
            assert_eq!(verify(&provider, &signer.sign(&claims)).await.unwrap_err(), expected, "{claims}");
        }
        // Within the leeway (60 s): accepted.
        verify(&provider, &signer.sign(&with(json!({"exp": T0 - 59, "iat": T0 + 59})))).await.unwrap();
        verify(&provider, &signer.sign(&with(json!({"aud": [CLIENT, "other"], "azp": CLIENT}))))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn forged_signatures_and_algorithms_are_refused() {
        let signer = Signer::rsa("k1");
        let provider = Provider::start(vec![signer.jwk()], None).await;
        let b64 = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        let unsigned = format!("{}.{}.", b64(&json!({"alg": "none", "kid": "k1"})), b64(&claims()));
        assert_eq!(
            verify(&provider, &unsigned).await.unwrap_err(),
            IdTokenError::UnsupportedAlgorithm("none".into())
        );

        // HS256 "signed" with the public key's bytes: the key confusion attack.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let confused =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&fixture("rsa-public.pem")))
                .unwrap();
        assert_eq!(
            verify(&provider, &confused).await.unwrap_err(),
            IdTokenError::UnsupportedAlgorithm("HS256".into())
        );

        // A valid signature by another key under the same kid.
        let impostor = Signer {
            kid: "k1".into(),
            algorithm: Algorithm::ES256,
            key: EncodingKey::from_ec_pem(&fixture("ec-private.pem")).unwrap(),
        };
        assert!(
            matches!(
                verify(&provider, &impostor.sign(&claims())).await.unwrap_err(),
                IdTokenError::UnknownKey { .. }
            ),
            "an RSA key never checks ES256"
        );

        let token = signer.sign(&claims());
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.rsplit_once('.').unwrap();
        let tampered = format!("{head}.{}.{signature}", b64(&with(json!({"sub": "mallory"}))));
        assert_eq!(verify(&provider, &tampered).await.unwrap_err(), IdTokenError::BadSignature);
        assert!(matches!(verify(&provider, "not.a-jwt").await.unwrap_err(), IdTokenError::Malformed(_)));
    }

    #[tokio::test]
    async fn hmac_tokens_need_the_client_secret() {
        let provider = Provider::start(vec![], None).await;
        let verifier = provider
            .verifier
            .clone()
            .algorithms([Algorithm::HS256])
            .client_secret("s3cret-of-the-client-0123456789ab");
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(b"s3cret-of-the-client-0123456789ab"),
        )
        .unwrap();
        assert_eq!(verifier.verify(&token, Expected::nothing()).await.unwrap().sub, "alice");
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(b"guess"),
        )
        .unwrap();
        assert!(matches!(
            verifier.verify(&forged, Expected::nothing()).await,
            Err(OidcError::IdToken(IdTokenError::BadSignature))
        ));
        assert_eq!(provider.fetches().await, 0, "HMAC never reads the public key set");
    }

    #[tokio::test]
    async fn at_hash_c_hash_and_max_age() {
        let signer = Signer::rsa("k1");
        let provider = Provider::start(vec![signer.jwk()], None).await;
        // OIDC Core §3.1.3.6: the left half of SHA-256, base64url.
        let half = |value: &str| {
            use base64::Engine as _;
            use sha2::Digest as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(&sha2::Sha256::digest(value.as_bytes())[..16])
        };
        let token = signer.sign(&with(
            json!({"at_hash": half("the-access-token"), "c_hash": half("the-code"), "auth_time": T0 - 100}),
        ));
        let check = |access: &'static str, code: &'static str, max_age: u64| {
            let verifier = provider.verifier.clone();
            let token = token.clone();
            async move {
                verifier
                    .verify(&token, Expected::nothing().access_token(access).code(code).max_age(max_age))
                    .await
            }
        };
        check("the-access-token", "the-code", 100).await.unwrap();
        assert!(matches!(
            check("another-token", "the-code", 100).await,
            Err(OidcError::IdToken(IdTokenError::AccessTokenHashMismatch))
        ));
        assert!(matches!(
            check("the-access-token", "another-code", 100).await,
            Err(OidcError::IdToken(IdTokenError::CodeHashMismatch))
        ));
        assert!(matches!(
            check("the-access-token", "the-code", 30).await,
            Err(OidcError::IdToken(IdTokenError::AuthenticationTooOld { auth_time, max_age: 30 })) if auth_time == T0 - 100
        ));
        let no_auth_time = signer.sign(&claims());
        assert!(matches!(
            provider.verifier.verify(&no_auth_time, Expected::nothing().max_age(30)).await,
            Err(OidcError::IdToken(IdTokenError::MissingAuthTime))
        ));
    }

    #[tokio::test]
    async fn a_rotated_key_is_picked_up_with_one_fetch() {
        let (old, new) = (Signer::rsa("2026-11"), Signer::ec("2026-12"));
        let provider = Provider::start(vec![old.jwk()], None).await;
        verify(&provider, &old.sign(&claims())).await.unwrap();
        // The provider publishes the new key next to the old one, then signs with it.
        provider.keys.lock().unwrap().push(new.jwk());
        provider.clock.advance(61);
        let later = with(json!({"exp": T0 + 600}));
        verify(&provider, &new.sign(&later)).await.unwrap();
        verify(&provider, &old.sign(&later)).await.unwrap();
        assert_eq!(provider.fetches().await, 2, "one fetch for the new key");
        // Then the old key is retired: tokens signed with it are refused once the set is
        // fetched again; those of the new key keep working without a fetch.
        provider.keys.lock().unwrap().remove(0);
        verify(&provider, &new.sign(&later)).await.unwrap();
        assert_eq!(provider.fetches().await, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_thousand_unknown_key_ids_cause_one_fetch() {
        let signer = Signer::rsa("k1");
        let provider = Arc::new(Provider::start(vec![signer.jwk()], None).await);
        verify(&provider, &signer.sign(&claims())).await.unwrap();
        provider.clock.advance(61);
        let signed = signer.sign(&claims());
        let (_, payload_and_signature) = signed.split_once('.').unwrap();
        let sprayed: Vec<_> = (0..1000)
            .map(|serial| {
                use base64::Engine as _;
                let provider = Arc::clone(&provider);
                // Only the header changes: the key is looked up before any signature check.
                let header = json!({"alg": "RS256", "kid": format!("made-up-{serial}")}).to_string();
                let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
                let token = format!("{header}.{payload_and_signature}");
                tokio::spawn(async move { verify(&provider, &token).await })
            })
            .collect();
        for call in sprayed {
            assert!(matches!(call.await.unwrap(), Err(IdTokenError::UnknownKey { kid: Some(_) })));
        }
        tokio::task::yield_now().await;
        assert_eq!(provider.fetches().await, 2, "the first fetch, and one refetch for all 1,000");
        verify(&provider, &signer.sign(&claims())).await.unwrap();
    }

    #[tokio::test]
    async fn cache_control_max_age_is_honoured() {
        let signer = Signer::rsa("k1");
        let provider = Provider::start(vec![signer.jwk()], Some("public, max-age=120")).await;
        verify(&provider, &signer.sign(&claims())).await.unwrap();
        provider.clock.advance(119);
        verify(&provider, &signer.sign(&with(json!({"exp": T0 + 600})))).await.unwrap();
        assert_eq!(provider.fetches().await, 1);
        provider.clock.advance(2);
        verify(&provider, &signer.sign(&with(json!({"exp": T0 + 600})))).await.unwrap();
        assert_eq!(provider.fetches().await, 2, "fetched again after max-age");
    }

    /// Two processes sharing a store fetch the provider's keys once between them, and once
    /// more after a rotation, whichever meets the new key first.
    #[tokio::test]
    async fn a_fleet_shares_the_key_set_through_the_store() {
        let (old, new) = (Signer::rsa("k1"), Signer::ec("k2"));
        let provider = Provider::start(vec![old.jwk()], None).await;
        let store = Arc::new(oauth_client::manager::MemoryStore::new());
        let process = || {
            let cache = JwksCache::new(&format!("{}/jwks", provider.server.uri()), reqwest::Client::new())
                .unwrap()
                .clock(provider.clock.clone())
                .shared_through(store.clone());
            IdTokenVerifier::new(ISSUER, CLIENT, cache)
                .algorithms([Algorithm::RS256, Algorithm::ES256])
                .clock(provider.clock.clone())
        };
        let (first, second) = (process(), process());
        let check = |verifier: &IdTokenVerifier, token: String| {
            let verifier = verifier.clone();
            async move { verifier.verify(&token, Expected::nothing()).await.map(|claims| claims.sub) }
        };
        check(&first, old.sign(&claims())).await.unwrap();
        check(&second, old.sign(&claims())).await.unwrap();
        assert_eq!(provider.fetches().await, 1, "the second process read the stored set");
        assert_eq!((first.keys().fetches(), second.keys().fetches()), (1, 0));

        provider.keys.lock().unwrap().push(new.jwk());
        provider.clock.advance(61);
        let later = with(json!({"exp": T0 + 600}));
        check(&second, new.sign(&later)).await.unwrap();
        check(&first, new.sign(&later)).await.unwrap();
        assert_eq!(provider.fetches().await, 2, "one fetch for the new key, for the fleet");
    }

    /// RFC 9701: a signed introspection answer is accepted only with its type, issuer and
    /// audience; a JSON answer to a request for a signed one is refused (a downgrade).
    #[tokio::test]
    async fn signed_introspection_answers_are_checked() {
        use oauth_client::oidc::SignedIntrospection;
        let signer = Signer::rsa("k1");
        let provider = Provider::start(vec![signer.jwk()], None).await;
        let answer = |typ: Option<&str>, claims: Value| {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some("k1".into());
            header.typ = typ.map(str::to_owned);
            jsonwebtoken::encode(&header, &claims, &signer.key).unwrap()
        };
        let introspection = |aud: &str| json!({"iss": ISSUER, "aud": aud, "iat": T0, "token_introspection": {"active": true, "client_id": CLIENT}});
        let cases = [
            (Some(answer(Some("token-introspection+jwt"), introspection(CLIENT))), None),
            (Some(answer(Some("JWT"), introspection(CLIENT))), Some("type")),
            (Some(answer(Some("token-introspection+jwt"), introspection("other"))), Some("audience")),
            (None, Some("decode")),
        ];
        for (jwt, refusal) in cases {
            let endpoint = MockServer::start().await;
            let response = match &jwt {
                Some(jwt) => ResponseTemplate::new(200)
                    .set_body_raw(jwt.clone(), "application/token-introspection+jwt"),
                None => ResponseTemplate::new(200).set_body_json(json!({"active": true})),
            };
            Mock::given(method("POST"))
                .and(path("/introspect"))
                .and(wiremock::matchers::header("accept", "application/token-introspection+jwt"))
                .respond_with(response)
                .mount(&endpoint)
                .await;
            let client = OAuthClient::builder(format!("{}/token", endpoint.uri()))
                .issuer(ISSUER)
                .introspection_url(format!("{}/introspect", endpoint.uri()))
                .endpoint_url(oauth_client::Endpoint::JWKS, format!("{}/jwks", provider.server.uri()))
                .build()
                .unwrap();
            let signed = SignedIntrospection::for_client(&client, CLIENT)
                .unwrap()
                .clock(provider.clock.clone(), Duration::from_secs(60));
            let result = signed.introspect(&client, AUTH, "the-token", None).await;
            match (refusal, result) {
                (None, Ok(info)) => {
                    assert_eq!((info.active, info.client_id.as_deref()), (true, Some(CLIENT)))
                }
                (Some("type"), Err(OidcError::IntrospectionResponse(IdTokenError::WrongType { found }))) => {
                    assert_eq!(found.as_deref(), Some("JWT"))
                }
                (
                    Some("audience"),
                    Err(OidcError::IntrospectionResponse(IdTokenError::WrongAudience { .. })),
                ) => {}
                (Some("decode"), Err(OidcError::Request(Error::Decode { status: StatusCode::OK, .. }))) => {}
                (refusal, result) => panic!("expected {refusal:?}, got {result:?}"),
            }
        }
    }

    /// A key set is read like any metadata document: more than 1 MiB is refused, not held.
    #[tokio::test]
    async fn an_oversized_key_set_is_refused() {
        let server = MockServer::start().await;
        let huge = format!(r#"{{"keys":[],"padding":"{}"}}"#, "x".repeat(1024 * 1024 + 1));
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(huge, "application/json"))
            .mount(&server)
            .await;
        let cache = JwksCache::new(&format!("{}/jwks", server.uri()), reqwest::Client::new()).unwrap();
        let verifier = IdTokenVerifier::new(ISSUER, CLIENT, cache);
        let token = Signer::rsa("k1").sign(&claims());
        match verifier.verify(&token, Expected::nothing()).await {
            Err(OidcError::IdToken(IdTokenError::KeySetUnavailable(why))) => {
                assert!(why.contains("larger than the limit"), "{why}")
            }
            other => panic!("expected the key set refused for its size, got {other:?}"),
        }
    }

    #[test]
    fn an_openid_request_carries_a_nonce_and_max_age() {
        let pending = AuthorizationRequest::new("https://login.example.com/authorize", CLIENT)
            .scope("openid email")
            .max_age(300)
            .build()
            .unwrap();
        let nonce = pending.nonce().expect("a nonce for an openid scope").to_owned();
        assert_eq!(nonce.len(), 22, "128 bits, base64url");
        let sent: Vec<(String, String)> = pending.url().query_pairs().into_owned().collect();
        assert!(sent.contains(&("nonce".into(), nonce)));
        assert!(sent.contains(&("max_age".into(), "300".into())));
        assert_eq!(pending.max_age(), Some(300));
        let plain = AuthorizationRequest::new("https://login.example.com/authorize", CLIENT)
            .scope("read")
            .build()
            .unwrap();
        assert_eq!(plain.nonce(), None);
        assert!(!plain.url().query_pairs().any(|(name, _)| name == "nonce"));
    }
}

/// `method = "GET"`: the declared fields go in the query (after the endpoint URL's own), with
/// no body and no `Content-Type`; headers as declared.
#[tokio::test]
async fn a_get_request_sends_its_fields_in_the_query() {
    use oauth_client::{Endpoint, oauth_grant};

    trait Lookup: TokenEndpoint {
        #[oauth_grant(endpoint = "vendor_lookup", method = "GET", client_auth = false)]
        async fn look_up(
            &self,
            #[header("Authorization")] authorization: &str,
            #[form] user: &str,
            #[form] fields: &[&str],
        ) -> Result<Value, Error>;
    }
    impl Lookup for OAuthClient {}

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/lookup"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"found": true})))
        .mount(&server)
        .await;
    let client = OAuthClient::builder(format!("{}/token", server.uri()))
        .endpoint_url(Endpoint::named("vendor_lookup"), format!("{}/lookup?v=2", server.uri()))
        .client_auth(oauth_client::ClientAuth::client_secret_post("id", "never-in-a-url"))
        .build()
        .unwrap();
    let found = client.look_up("Bearer at", "alice & bob", &["email", "name"]).await.unwrap();
    assert_eq!(found, json!({"found": true}));
    let request = only_request(&server).await;
    assert_eq!(request.url.query(), Some("v=2&user=alice+%26+bob&fields=email&fields=name"));
    assert!(request.body.is_empty());
    assert_eq!(header_of(&request, "content-type"), None);
    assert_eq!(header_of(&request, "authorization"), Some("Bearer at"));
}

/// RFC 9728 refusals: metadata about another resource (an impersonation attempt) — named by
/// the challenge or found at the well-known location when the challenge names none — and no
/// metadata anywhere are typed errors; nothing is discovered.
#[tokio::test]
async fn resource_metadata_that_cannot_be_trusted_is_refused() {
    use oauth_client::ResourceMetadataError;
    use reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-protected-resource"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"resource": "https://elsewhere.example/", "authorization_servers": ["https://as.example"]}),
        ))
        .mount(&server)
        .await;
    let challenge = |value: String| {
        let mut headers = HeaderMap::new();
        headers.insert(WWW_AUTHENTICATE, HeaderValue::from_str(&value).unwrap());
        headers
    };
    let things = format!("{}/things", server.uri());
    let unnamed = challenge(r#"Bearer realm="api""#.into());
    let error = OAuthClient::discover_from_challenge(&things, &unnamed).await.unwrap_err();
    assert!(
        matches!(&error, Error::ResourceMetadata(ResourceMetadataError::ResourceMismatch { found, .. }) if found == "https://elsewhere.example/"),
        "the origin's well-known metadata is about another resource: {error:?}"
    );
    let empty = MockServer::start().await;
    let error =
        OAuthClient::discover_from_challenge(&format!("{}/things", empty.uri()), &unnamed).await.unwrap_err();
    assert!(matches!(error, Error::ResourceMetadata(ResourceMetadataError::NoResourceMetadata)), "{error:?}");
    let named =
        format!(r#"Bearer resource_metadata="{}/.well-known/oauth-protected-resource""#, server.uri());
    let error = OAuthClient::discover_from_challenge(&things, &challenge(named)).await.unwrap_err();
    let Error::ResourceMetadata(ResourceMetadataError::ResourceMismatch { expected, found }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!((expected.as_str(), found.as_str()), (things.as_str(), "https://elsewhere.example/"));
}

/// RFC 7591/7592 on the wire: registration posts the metadata as JSON with the initial access
/// token; the configuration endpoint is read with GET, replaced with PUT (JSON), deleted with
/// DELETE (204); no secret in `Debug`.
#[tokio::test]
async fn registration_requests_carry_json_and_the_right_methods() {
    use oauth_client::registration::{ClientMetadata, ClientRegistrationManagement, DynamicRegistration};
    use wiremock::matchers::header;

    let server = MockServer::start().await;
    let registered = json!({
        "client_id": "c-1", "client_secret": "s3cr3t-registered", "client_id_issued_at": 1_800_000_000,
        "registration_access_token": "rat-1", "registration_client_uri": format!("{}/reg/c-1", server.uri()),
        "grant_types": ["client_credentials"], "client_name": "report", "vendor_flag": true,
    });
    Mock::given(method("POST"))
        .and(path("/reg"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(201).set_body_json(&registered))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/reg/c-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&registered))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/reg/c-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&registered))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/reg/c-1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = OAuthClient::builder(format!("{}/token", server.uri()))
        .endpoint_url(oauth_client::Endpoint::REGISTRATION, format!("{}/reg", server.uri()))
        .build()
        .unwrap();

    let mut metadata = ClientMetadata::for_grants(["client_credentials"]);
    metadata.client_name = Some("report".into());
    let registration = client.register_client(Some("Bearer initial"), &metadata).await.unwrap();
    assert_eq!(registration.client_id, "c-1");
    assert_eq!(registration.client_secret.as_ref().map(|secret| secret.secret()), Some("s3cr3t-registered"));
    assert_eq!(registration.metadata.extra["vendor_flag"], json!(true));
    let debug = format!("{registration:?}");
    assert!(!debug.contains("s3cr3t-registered") && !debug.contains("rat-1"), "{debug}");
    let mut update = registration.metadata.clone();
    update.extra.insert("client_secret".into(), json!("s3cr3t-registered"));
    let debug = format!("{update:?}");
    assert!(!debug.contains("s3cr3t-registered") && debug.contains("vendor_flag"), "{debug}");

    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(header_of(sent, "authorization"), Some("Bearer initial"));
    let body: Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(body, json!({"grant_types": ["client_credentials"], "client_name": "report"}));

    let manage = registration.configuration_client(&client).unwrap();
    let authorization = registration.management_authorization().unwrap();
    assert_eq!(manage.read_client_registration(&authorization).await.unwrap(), registration);
    manage.update_client_registration(&authorization, &registration.metadata).await.unwrap();
    manage.delete_client_registration(&authorization).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let methods: Vec<&str> = requests.iter().map(|request| request.method.as_str()).collect();
    assert_eq!(methods, ["POST", "GET", "PUT", "DELETE"]);
    assert!(requests[1..].iter().all(|request| header_of(request, "authorization") == Some("Bearer rat-1")));
    assert_eq!(header_of(&requests[2], "content-type"), Some("application/json"));
    assert!(requests[3].body.is_empty());
}

/// `oauth device` against a provider double: the user code and where to enter it are shown,
/// `authorization_pending` is polled through, and the token printed (redacted in `--json`).
#[tokio::test]
async fn the_cli_device_command_shows_the_code_and_polls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/device"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "device_code": "dc-1", "user_code": "WDJB-MJHT", "verification_uri": "https://example.com/device",
            "verification_uri_complete": "https://example.com/device?user_code=WDJB-MJHT", "expires_in": 600, "interval": 1,
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "authorization_pending"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "device-token-secret", "token_type": "Bearer", "expires_in": 60}),
        ))
        .mount(&server)
        .await;
    let (token_url, device_url) = (format!("{}/token", server.uri()), format!("{}/device", server.uri()));
    let args = [
        "oauth",
        "--token-url",
        &token_url,
        "--device-authorization-url",
        &device_url,
        "--client-id",
        "tv",
        "--auth",
        "none",
        "device",
        "--json",
    ];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = oauth_cli::run_async(args, &mut out, &mut err).await;
    let (out, err) = (String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap());
    assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
    assert_eq!(
        err,
        "To sign in, open https://example.com/device and enter the code WDJB-MJHT\n\
         (or open https://example.com/device?user_code=WDJB-MJHT)\n"
    );
    let token: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (token["token_type"].as_str(), token["access_token"].as_str()),
        (Some("Bearer"), Some("[redacted]"))
    );
    let polls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|request| request.url.path() == "/token")
        .count();
    assert_eq!(polls, 2, "one authorization_pending, then the token");
}

/// `oauth -v` shows response headers, but not a session cookie (a credential like a token).
#[tokio::test]
async fn cli_verbose_output_redacts_cookies_the_provider_sets() {
    let (_server, token_url) = token_endpoint_answering(
        ResponseTemplate::new(200)
            .insert_header("set-cookie", "session=cookie-secret-9d2c; HttpOnly")
            .insert_header("x-request-id", "req-17")
            .set_body_json(token()),
    )
    .await;
    let (code, _, err) = oauth_cli_run(&[
        "--token-url",
        &token_url,
        "--client-id",
        "x",
        "--client-secret",
        "y",
        "client-credentials",
        "-v",
    ])
    .await;
    assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
    assert!(err.contains("set-cookie: [redacted]") && err.contains("x-request-id: req-17"), "{err}");
    assert!(!err.contains("cookie-secret-9d2c"), "{err}");
}

/// A mock provider whose `/token` answers `response`, and that URL.
async fn token_endpoint_answering(response: ResponseTemplate) -> (MockServer, String) {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/token")).respond_with(response).mount(&server).await;
    let token_url = format!("{}/token", server.uri());
    (server, token_url)
}

/// Runs `oauth ARGS` in process: the exit code, standard output and standard error.
async fn oauth_cli_run(args: &[&str]) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = std::iter::once("oauth").chain(args.iter().copied());
    let code = oauth_cli::run_async(args, &mut out, &mut err).await;
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

/// Tokens, secrets and assertions are base64url: one in 64 starts with `-`, and the command
/// line takes it as a value, not as a flag (seen with a real token from oidc-provider).
#[tokio::test]
async fn cli_values_may_start_with_a_hyphen() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token()))
        .mount(&server)
        .await;
    let token_url = format!("{}/token", server.uri());
    let common = [
        "oauth",
        "--token-url",
        &token_url,
        "--client-id",
        "-client",
        "--client-secret",
        "-secret",
        "--auth",
        "post",
    ];
    let exchange = [
        "token-exchange",
        "--subject-token",
        "-aSubjectToken",
        "--subject-token-type",
        token_types::ACCESS_TOKEN,
    ];
    let refresh = ["refresh", "--refresh-token", "-aRefreshToken"];
    for command in [&exchange[..], &refresh[..]] {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = oauth_cli::run_async([&common[..], command].concat(), &mut out, &mut err).await;
        assert_eq!(code, oauth_cli::EXIT_OK, "{}", String::from_utf8_lossy(&err));
    }
    let forms: Vec<Vec<(String, String)>> =
        server.received_requests().await.unwrap().iter().map(form_of).collect();
    assert_eq!(forms[0][1], ("subject_token".to_owned(), "-aSubjectToken".to_owned()));
    assert_eq!(forms[1][1], ("refresh_token".to_owned(), "-aRefreshToken".to_owned()));
    assert!(forms.iter().all(|form| form.contains(&("client_secret".to_owned(), "-secret".to_owned()))));
}

/// RFC 9728 discovery through the caller's HTTP client (a proxy, extra roots, a header its
/// network needs): both metadata documents are fetched with it, and the client built from
/// what was found sends its token requests with it too. The crate's own client, for
/// comparison, sends no such header.
#[tokio::test]
async fn resource_discovery_uses_the_callers_http_client() {
    use oauth_client::ClientAuth;
    use reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};

    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-protected-resource/mcp"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resource": format!("{base}/mcp"), "authorization_servers": [base]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"issuer": base, "token_endpoint": format!("{base}/token")})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"access_token": "at", "token_type": "Bearer"})),
        )
        .mount(&server)
        .await;
    let mut defaults = HeaderMap::new();
    defaults.insert("x-caller", HeaderValue::from_static("mine"));
    // A credential the caller's network needs, which `Debug` of what was found must not show.
    defaults.insert("x-gateway-key", HeaderValue::from_static("SENTINEL-gateway-key"));
    let http = reqwest::Client::builder().default_headers(defaults).build().unwrap();
    let callers = |requests: &[wiremock::Request]| {
        requests.iter().map(|request| header_of(request, "x-caller").is_some()).collect::<Vec<bool>>()
    };

    let found = OAuthClient::discover_resource_with(&http, &format!("{base}/mcp")).await.unwrap();
    assert_eq!(found.resource_indicator(), format!("{base}/mcp"));
    assert!(!format!("{found:?}").contains("SENTINEL"), "{found:?}");
    assert!(format!("{found:?}").contains("callers_http_client: true"), "{found:?}");
    let mut challenge = HeaderMap::new();
    let named = format!(r#"Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp""#);
    challenge.insert(WWW_AUTHENTICATE, HeaderValue::from_str(&named).unwrap());
    let found = OAuthClient::discover_from_challenge_with(&http, &format!("{base}/mcp/tools"), &challenge)
        .await
        .unwrap();
    let client =
        found.client_builder().client_auth(ClientAuth::client_secret_basic("c", "s")).build().unwrap();
    client.request_token_ccg("", None, None).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(callers(&requests), [true; 5], "two discoveries of two documents, then the token");

    OAuthClient::discover_resource(&format!("{base}/mcp")).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(callers(&requests[5..]), [false, false], "the crate's own client");
}

/// The exit codes of the README's table, one case each that a mock provider can produce: a
/// success, a missing endpoint (usage, with the flag to give it), a refusal without an OAuth
/// error object (404), an unavailable provider (503), a timeout.
#[tokio::test]
async fn cli_exit_codes_follow_the_readme() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"access_token": "at", "token_type": "Bearer"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/missing"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/down"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let run = |path: &'static str, command: &'static [&'static str]| {
        let token_url = format!("{}{path}", server.uri());
        async move {
            let mut args = vec!["oauth".to_owned(), "--token-url".to_owned(), token_url];
            args.extend(["--client-id", "c", "--client-secret", "s", "--timeout", "1"].map(str::to_owned));
            args.extend(command.iter().map(|arg| arg.to_string()));
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = oauth_cli::run_async(args, &mut out, &mut err).await;
            (code, String::from_utf8(err).unwrap())
        }
    };
    assert_eq!(run("/token", &["client-credentials"]).await.0, oauth_cli::EXIT_OK);
    let (code, err) = run("/token", &["client-credentials", "--print", "id-token"]).await;
    assert_eq!(code, oauth_cli::EXIT_OTHER, "no ID token to print: {err}");
    let (code, err) = run("/token", &["revoke", "--token", "t"]).await;
    assert_eq!(code, oauth_cli::EXIT_USAGE, "{err}");
    assert!(err.contains("no revocation endpoint") && err.contains("`--revocation-url`"), "{err}");
    assert_eq!(run("/missing", &["client-credentials"]).await.0, oauth_cli::EXIT_PROVIDER);
    // Plain http beyond loopback: the library's builder advice, said as the command line can act on it.
    let args = [
        "oauth",
        "--token-url",
        "http://auth.example/token",
        "--client-id",
        "c",
        "--auth",
        "none",
        "client-credentials",
    ];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = oauth_cli::run_async(args, &mut out, &mut err).await;
    let err = String::from_utf8(err).unwrap();
    assert_eq!(code, oauth_cli::EXIT_USAGE, "{err}");
    assert!(err.contains("hint: `oauth` speaks plain http to loopback addresses only"), "{err}");
    assert_eq!(run("/down", &["client-credentials"]).await.0, oauth_cli::EXIT_TRANSPORT);
    assert_eq!(run("/slow", &["client-credentials"]).await.0, oauth_cli::EXIT_TIMEOUT);
}

/// `oauth -v` in curl's style, pinned: the request line, one header per line, the form one
/// field per line, the status, the response headers, the JSON body pretty-printed, with the
/// client secret and the token (sentinels) absent.
#[tokio::test]
async fn cli_verbose_transcript_is_pinned() {
    let body =
        r#"{"access_token":"at-sentinel-51c2","expires_in":3600,"scope":"read","token_type":"Bearer"}"#;
    let (_server, token_url) =
        token_endpoint_answering(ResponseTemplate::new(200).set_body_raw(body, "application/json")).await;
    let args = [
        "--token-url",
        &token_url,
        "--client-id",
        "x",
        "--client-secret",
        "cs-sentinel-7e1f",
        "--auth",
        "post",
    ];
    let (code, _, err) =
        oauth_cli_run(&[&args[..], &["client-credentials", "--scope", "read", "-v"]].concat()).await;
    assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
    // The date changes from run to run.
    let transcript: String =
        err.lines().filter(|line| !line.starts_with("< date: ")).map(|line| format!("{line}\n")).collect();
    assert_eq!(
        transcript,
        format!(
            "> POST {token_url}\n\
             >\n\
             > grant_type=client_credentials\n\
             > scope=read\n\
             > client_id=x\n\
             > client_secret=[redacted]\n\
             < 200\n\
             < content-type: application/json\n\
             < content-length: 90\n\
             <\n\
             {{\n  \"access_token\": \"[redacted]\",\n  \"expires_in\": 3600,\n  \"scope\": \"read\",\n  \"token_type\": \"Bearer\"\n}}\n\
             * token endpoint answered bytes=90 status=200\n"
        )
    );
    assert!(!err.contains("sentinel"), "{err}");
}

/// What a person at a terminal sees (the summary, no token) and what a pipe gets with
/// `--print` (the token alone), from the same answer.
#[cfg(unix)]
#[tokio::test]
async fn cli_human_output_on_a_terminal_and_machine_output_in_a_pipe() {
    let body =
        json!({"access_token": "at-pipe-3b7a", "token_type": "Bearer", "expires_in": 3600, "scope": "read"});
    let (_server, token_url) = token_endpoint_answering(ResponseTemplate::new(200).set_body_json(body)).await;
    let args = |extra: &[&str]| {
        let mut args: Vec<String> = [
            "oauth",
            "--token-url",
            &token_url,
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "client-credentials",
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(extra.iter().map(|arg| arg.to_string()));
        args
    };
    let terminal = oauth_client_tests::terminal::Terminal::open();
    let mut screen_side = terminal.device.try_clone().unwrap();
    let human = args(&[]);
    let code = tokio::task::spawn_blocking(move || oauth_cli::run(human, &mut screen_side, &mut Vec::new()))
        .await
        .unwrap();
    assert_eq!(code, oauth_cli::EXIT_OK);
    let screen = tokio::task::spawn_blocking(move || terminal.wait_for("no refresh token")).await.unwrap();
    assert!(screen.starts_with("Bearer token, valid 1 h (until 20"), "{screen:?}");
    assert!(!screen.contains("at-pipe-3b7a"), "{screen:?}");

    let piped = ["--token-url", &token_url, "--client-id", "c", "--client-secret", "s", "client-credentials"];
    let (code, pipe, err) = oauth_cli_run(&[&piped[..], &["--print", "access-token"]].concat()).await;
    assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
    assert_eq!(pipe, "at-pipe-3b7a\n");
}

/// Issue "Resource-first authorization": a 401 that names no `resource_metadata` sends the
/// client to the well-known locations of the URL asked (its path inserted, then the
/// origin's), and the authorization server's metadata is looked for in the MCP order (OAuth
/// with the path inserted, OpenID with the path inserted, OpenID with the path appended).
#[tokio::test]
async fn resource_discovery_falls_back_to_the_well_known_locations_in_the_mcp_order() {
    let server = MockServer::start().await;
    let base = server.uri();
    let issuer = format!("{base}/tenant1");
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-protected-resource"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resource": base, "authorization_servers": [issuer]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration/tenant1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/token"),
            "code_challenge_methods_supported": ["S256"],
        })))
        .mount(&server)
        .await;
    // Everything else answers 404 (wiremock's default).
    use reqwest::header::{HeaderMap, HeaderValue};
    let mut refusal = HeaderMap::new();
    refusal.insert("www-authenticate", HeaderValue::from_static(r#"Bearer realm="mcp", scope="tools:call""#));
    let requested = format!("{base}/mcp");
    let found = OAuthClient::discover_from_challenge(&requested, &refusal).await.unwrap();
    assert_eq!(found.authorization_server.issuer, issuer);
    assert!(found.authorization_server.supports_pkce_s256());
    let asked: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| request.url.path().to_owned())
        .collect();
    assert_eq!(
        asked,
        [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-authorization-server/tenant1",
            "/.well-known/openid-configuration/tenant1",
        ]
    );
    let challenge = oauth_client::ResourceChallenge::from_headers(&refusal).unwrap();
    assert_eq!((challenge.scope.as_deref(), challenge.resource_metadata), (Some("tools:call"), None));
}
