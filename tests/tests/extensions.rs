//! The extension grants and endpoints: wire format against a local server, error cases,
//! the device-flow polling schedule under tokio's paused clock, and signed assertions.

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
use oauth_client_tests::{form_of, header_of, only_request, pairs};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AUTH: &str = "Basic eDp5";

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

fn token() -> Value {
    json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60})
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
    fn request_token_device(
        &self,
        _authorization: &str,
        _device_code: &str,
        _additional: Option<&FormParams>,
    ) -> impl Future<Output = Result<OAuthToken, Error>> + Send {
        self.polled_at.lock().unwrap().push(self.started.elapsed());
        let answer = self.answers.lock().unwrap().pop_front().expect("the script has an answer");
        std::future::ready(answer.map_err(|code| match code {
            "timeout" => Error::Timeout,
            "503" => Error::Http { status: 503, headers: Default::default(), body: String::new() },
            code => Error::Provider {
                status: 400,
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
    assert!(matches!(error, Error::Http { status: 503, .. }), "{error:?}");
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
        matches!(&error, Error::Config(message) if message.contains("no revocation endpoint") && message.contains(r#".endpoint_url("revocation", ..)"#) && message.contains("`revocation_endpoint`")),
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
    assert!(matches!(SigningKey::rs256_pem(b"not a key"), Err(Error::Config(_))));
    assert!(!format!("{:?}", SigningKey::hs256(b"SENTINEL-key")).contains("SENTINEL"));
}

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
        matches!(&error, Error::Config(message) if message.contains("https://evil.example")),
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
