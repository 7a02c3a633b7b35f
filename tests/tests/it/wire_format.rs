//! What each of the five grants puts on the wire, and what it makes of a token response.

use std::time::{SystemTime, UNIX_EPOCH};

use oauth_client::{BasicAuth, FormParams, OAuthAuthorization, OAuthToken};
use oauth_client_tests::{
    AUTH, TOKEN_PATH, client_for, form_of, header_of, json_endpoint, only_request, pairs,
};
use serde_json::json;
use wiremock::MockServer;

fn token_body() -> serde_json::Value {
    json!({
        "access_token": "at-123",
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": "rt-456",
        "scope": "read write",
        "id_token": "eyJ.payload.sig",
        "x_tenant": 42
    })
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Asserts the request line and headers every grant sends.
async fn assert_common_headers(server: &MockServer) -> Vec<(String, String)> {
    let request = only_request(server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), TOKEN_PATH);
    assert_eq!(header_of(&request, "authorization"), Some(AUTH));
    assert_eq!(header_of(&request, "content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(header_of(&request, "accept"), Some("application/json"));
    form_of(&request)
}

fn assert_decoded(token: &OAuthToken, before: i64, after: i64) {
    assert_eq!(token.access_token.secret(), "at-123");
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.expires_in, Some(3600));
    assert_eq!(token.scope.as_deref(), Some("read write"));
    assert_eq!(token.refresh_token.as_ref().map(|t| t.secret()), Some("rt-456"));
    let expiry = token.expiry.expect("expiry is set from expires_in");
    assert!((before + 3600..=after + 3600).contains(&expiry), "expiry {expiry} not receipt + 3600");
    assert_eq!(token.extra.len(), 2);
    assert_eq!(token.extra["id_token"], json!("eyJ.payload.sig"));
    assert_eq!(token.extra["x_tenant"], json!(42));
}

#[tokio::test]
async fn client_credentials_sends_scope_and_additional_fields() {
    let server = json_endpoint(200, token_body()).await;
    let extra = FormParams::new().with("audience", "https://api.example").with("resource", "r&d=1");
    let before = unix_now();
    let token = client_for(&server).request_token_ccg(AUTH, Some("read write"), Some(&extra)).await.unwrap();
    let after = unix_now();
    let form = assert_common_headers(&server).await;
    assert_eq!(
        form,
        pairs(&[
            ("grant_type", "client_credentials"),
            ("scope", "read write"),
            ("audience", "https://api.example"),
            ("resource", "r&d=1"),
        ])
    );
    assert_decoded(&token, before, after);
}

/// Found by the issue "Fit the ecosystem": an additional field named like a declared one was
/// sent twice (RFC 6749 §3.2 forbids it); it now replaces the declared one in its place.
#[tokio::test]
async fn an_additional_field_replaces_the_declared_one_in_its_place() {
    let server = json_endpoint(200, token_body()).await;
    let extra =
        FormParams::new().with("audience", "api").with("scope", "admin").with("grant_type", "urn:custom");
    client_for(&server).request_token_ccg(AUTH, Some("read"), Some(&extra)).await.unwrap();
    assert_eq!(
        assert_common_headers(&server).await,
        pairs(&[("grant_type", "urn:custom"), ("scope", "admin"), ("audience", "api")])
    );
}

#[tokio::test]
async fn declared_repeatable_fields_stay_repeatable_and_give_way_together() {
    use oauth_client::extensions::{TokenExchange, token_types};
    // The form a token exchange with two declared audiences and `extra` sends.
    async fn sent_with(extra: FormParams) -> Vec<(String, String)> {
        let server = json_endpoint(200, token_body()).await;
        client_for(&server)
            .exchange_token(
                AUTH,
                "subject",
                token_types::JWT,
                None,
                None,
                &[],
                &["a1", "a2"],
                None,
                None,
                Some(&extra),
            )
            .await
            .unwrap();
        form_of(&server.received_requests().await.unwrap()[0])
    }
    let values = |form: &[(String, String)], name: &str| {
        form.iter().filter(|(key, _)| key == name).map(|(_, value)| value.clone()).collect::<Vec<_>>()
    };
    // Two declared audiences are sent twice; additional resources are appended, repeated.
    let form = sent_with(FormParams::new().with("resource", "r1").with("resource", "r2")).await;
    assert_eq!(values(&form, "audience"), ["a1", "a2"]);
    assert_eq!(values(&form, "resource"), ["r1", "r2"]);
    // An additional audience replaces both declared ones, in the first one's place.
    let form = sent_with(FormParams::new().with("audience", "only")).await;
    assert_eq!(values(&form, "audience"), ["only"]);
}

#[test]
fn secrets_are_taken_from_what_callers_hold() {
    let id = String::from("client");
    let secret = String::from("s3cret");
    let from_refs = BasicAuth::new(&id, &secret).header_value();
    let from_owned = BasicAuth::new(id.clone(), secret.clone()).header_value();
    let from_cow = BasicAuth::new(id.as_str(), std::borrow::Cow::Borrowed(secret.as_str())).header_value();
    assert_eq!(from_refs, from_owned);
    assert_eq!(from_refs, from_cow);
}

#[tokio::test]
async fn client_credentials_omits_absent_scope() {
    let server = json_endpoint(200, token_body()).await;
    client_for(&server).request_token_ccg(AUTH, None, None).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(std::str::from_utf8(&request.body).unwrap(), "grant_type=client_credentials");
}

#[tokio::test]
async fn authorization_code_sends_code_and_redirect_uri() {
    let server = json_endpoint(200, token_body()).await;
    let extra: FormParams = [("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")].into();
    let before = unix_now();
    let token = client_for(&server)
        .request_token_acg(AUTH, "SplxlOBeZQQYbYS6WxSbIA", "https://app.example/cb?x=1", Some(&extra))
        .await
        .unwrap();
    let after = unix_now();
    let form = assert_common_headers(&server).await;
    assert_eq!(
        form,
        pairs(&[
            ("grant_type", "authorization_code"),
            ("code", "SplxlOBeZQQYbYS6WxSbIA"),
            ("redirect_uri", "https://app.example/cb?x=1"),
            ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        ])
    );
    assert_decoded(&token, before, after);
    // The redirect URI is percent-encoded on the wire, not sent raw.
    let raw = String::from_utf8(only_request(&server).await.body).unwrap();
    assert!(raw.contains("redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1"), "{raw}");
}

#[tokio::test]
async fn refresh_acg_sends_refresh_token_without_absent_scope() {
    let server = json_endpoint(200, token_body()).await;
    let extra = FormParams::new().with("client_id", "app");
    let before = unix_now();
    let token = client_for(&server).refresh_token_acg(AUTH, "rt-old", None, Some(&extra)).await.unwrap();
    let after = unix_now();
    let form = assert_common_headers(&server).await;
    assert_eq!(
        form,
        pairs(&[("grant_type", "refresh_token"), ("refresh_token", "rt-old"), ("client_id", "app")])
    );
    assert_decoded(&token, before, after);
}

#[tokio::test]
async fn password_grant_sends_username_password_and_scope() {
    let server = json_endpoint(200, token_body()).await;
    let before = unix_now();
    let token = client_for(&server)
        .request_token_ropcg(AUTH, "alice", "wonder land+&=%", Some("read"), None)
        .await
        .unwrap();
    let after = unix_now();
    let form = assert_common_headers(&server).await;
    assert_eq!(
        form,
        pairs(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "wonder land+&=%"),
            ("scope", "read"),
        ])
    );
    assert_decoded(&token, before, after);
}

#[tokio::test]
async fn refresh_ropcg_sends_refresh_token_and_scope() {
    let server = json_endpoint(200, token_body()).await;
    let before = unix_now();
    let token = client_for(&server).refresh_token_ropcg(AUTH, "rt-old", Some("read"), None).await.unwrap();
    let after = unix_now();
    let form = assert_common_headers(&server).await;
    assert_eq!(
        form,
        pairs(&[("grant_type", "refresh_token"), ("refresh_token", "rt-old"), ("scope", "read")])
    );
    assert_decoded(&token, before, after);
}

#[tokio::test]
async fn basic_auth_header_value_is_what_the_server_receives() {
    let server = json_endpoint(200, token_body()).await;
    let auth = BasicAuth::new("odd:client id", "p@ss:w+rd/%&=").header_value();
    client_for(&server).request_token_ccg(&auth, None, None).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(header_of(&request, "authorization"), Some(auth.as_str()));
    // base64("odd%3Aclient%20id:p%40ss%3Aw%2Brd%2F%25%26%3D")
    assert_eq!(auth, "Basic b2RkJTNBY2xpZW50JTIwaWQ6cCU0MHNzJTNBdyUyQnJkJTJGJTI1JTI2JTNE");
}

#[tokio::test]
async fn token_without_expires_in_has_no_expiry() {
    let server = json_endpoint(200, json!({"access_token": "a", "token_type": "bearer"})).await;
    let token = client_for(&server).request_token_ccg(AUTH, None, None).await.unwrap();
    assert_eq!(token.expires_in, None);
    assert_eq!(token.expiry, None);
    assert_eq!(token.refresh_token, None);
    assert!(token.extra.is_empty());
}

#[tokio::test]
async fn header_value_with_line_break_is_an_invalid_header_error_and_nothing_is_sent() {
    let server = json_endpoint(200, token_body()).await;
    let error = client_for(&server).request_token_ccg("Basic a\r\nX-Evil: 1", None, None).await.unwrap_err();
    assert!(
        matches!(error, oauth_client::Error::InvalidHeader { ref name, .. } if name == "Authorization"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the header `Authorization` is not a valid HTTP header",
        "the value is not shown"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

// Client authentication configured on the client (`ClientAuth`), applied per attempt.

mod client_auth {
    use std::collections::HashSet;
    use std::time::Duration;

    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use oauth_client::ClientAuthorization::{self, Configured};
    use oauth_client::extensions::{AssertionAudience, JwtClientAuth, SigningKey, TokenRevocation};
    use oauth_client::{
        Attempt, AuthenticateClient, BasicAuth, ClientAuth, Endpoint, Error, OAuthAuthorization, OAuthClient,
        RetryPolicy,
    };
    use oauth_client_tests::{TOKEN_PATH, form_of, header_of, pairs};
    use reqwest::header::{HeaderName, HeaderValue};
    use serde_json::{Value, json};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// A provider that answers `first` once (if given), then a token, on every path.
    async fn provider(first: Option<ResponseTemplate>) -> MockServer {
        let server = MockServer::start().await;
        if let Some(first) = first {
            Mock::given(method("POST")).respond_with(first).up_to_n_times(1).mount(&server).await;
        }
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "at", "token_type": "Bearer"})),
            )
            .mount(&server)
            .await;
        server
    }

    fn client(server: &MockServer, auth: ClientAuth) -> OAuthClient {
        OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri())).client_auth(auth).build().unwrap()
    }

    async fn requests(server: &MockServer) -> Vec<Request> {
        server.received_requests().await.unwrap()
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[tokio::test]
    async fn each_secret_method_puts_its_credentials_where_the_rfc_says() {
        // (auth, Authorization header, extra form fields)
        let cases = [
            (ClientAuth::none("public app"), None, vec![("client_id", "public app")]),
            (
                ClientAuth::client_secret_basic("my client", "p+w/d"),
                Some("Basic bXklMjBjbGllbnQ6cCUyQnclMkZk"),
                vec![],
            ),
            (
                ClientAuth::client_secret_basic_unescaped("my client", "p+w/d"),
                Some("Basic bXkgY2xpZW50OnArdy9k"),
                vec![],
            ),
            (
                ClientAuth::client_secret_post("my client", "p+w/d"),
                None,
                vec![("client_id", "my client"), ("client_secret", "p+w/d")],
            ),
        ];
        for (auth, header, extra) in cases {
            let server = provider(None).await;
            let method = auth.method();
            client(&server, auth).request_token_ccg(Configured, Some("read"), None).await.unwrap();
            let request = &requests(&server).await[0];
            assert_eq!(header_of(request, "authorization"), header, "{method}");
            let mut expected = vec![("grant_type", "client_credentials"), ("scope", "read")];
            expected.extend(extra);
            assert_eq!(form_of(request), pairs(&expected), "{method}");
        }
    }

    #[tokio::test]
    async fn a_callers_own_authorization_header_is_sent_instead_of_the_configured_method() {
        let server = provider(None).await;
        let client = client(&server, ClientAuth::client_secret_post("configured", "secret"));
        // Every spelling the header-string signatures accepted still compiles and is sent as given.
        let owned = String::from("Basic Y2FsbGVyOnM=");
        client.request_token_ccg("Basic Y2FsbGVyOnM=", None, None).await.unwrap();
        client.request_token_ccg(&owned, None, None).await.unwrap();
        client.request_token_ccg(owned.as_str(), None, None).await.unwrap();
        client.request_token_ccg(owned.clone(), None, None).await.unwrap();
        client.request_token_ccg(&BasicAuth::new("caller", "s"), None, None).await.unwrap();
        client.request_token_ccg(ClientAuthorization::Header(owned.into()), None, None).await.unwrap();
        for request in requests(&server).await {
            assert_eq!(header_of(&request, "authorization"), Some("Basic Y2FsbGVyOnM="));
            assert_eq!(form_of(&request), pairs(&[("grant_type", "client_credentials")]));
        }
    }

    #[tokio::test]
    async fn configured_and_the_old_empty_string_both_apply_the_clients_method() {
        let server = provider(None).await;
        let client = client(&server, ClientAuth::client_secret_post("configured", "secret"));
        client.request_token_ccg(Configured, None, None).await.unwrap();
        client.request_token_ccg("", None, None).await.unwrap();
        client.request_token_ccg(ClientAuthorization::default(), None, None).await.unwrap();
        let expected = pairs(&[
            ("grant_type", "client_credentials"),
            ("client_id", "configured"),
            ("client_secret", "secret"),
        ]);
        let received = requests(&server).await;
        assert_eq!(received.len(), 3);
        for request in received {
            assert_eq!(header_of(&request, "authorization"), None);
            assert_eq!(form_of(&request), expected);
        }
    }

    fn field(request: &Request, name: &str) -> String {
        form_of(request).into_iter().find(|(key, _)| key == name).map(|(_, value)| value).unwrap()
    }

    /// Decodes and verifies `jwt` with jsonwebtoken (not the code under test's signing path).
    fn verified(jwt: &str, algorithm: Algorithm, key: &DecodingKey, audience: &str) -> Value {
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud", "jti"]);
        jsonwebtoken::decode::<Value>(jwt, key, &validation).expect("the assertion verifies").claims
    }

    #[tokio::test]
    async fn jwt_methods_sign_a_fresh_assertion_for_every_attempt() {
        let secret = b"a client secret of at least 32 bytes";
        let keys = [
            (
                ClientAuth::private_key_jwt(
                    "svc",
                    SigningKey::rs256_pem(&fixture("rsa-private.pem")).unwrap().key_id("k1"),
                ),
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(&fixture("rsa-public.pem")).unwrap(),
                "private_key_jwt",
            ),
            (
                ClientAuth::private_key_jwt(
                    "svc",
                    SigningKey::ps256_pem(&fixture("rsa-private.pem")).unwrap(),
                ),
                Algorithm::PS256,
                DecodingKey::from_rsa_pem(&fixture("rsa-public.pem")).unwrap(),
                "private_key_jwt",
            ),
            (
                ClientAuth::private_key_jwt(
                    "svc",
                    SigningKey::es256_pem(&fixture("ec-private.pem")).unwrap(),
                ),
                Algorithm::ES256,
                DecodingKey::from_ec_pem(&fixture("ec-public.pem")).unwrap(),
                "private_key_jwt",
            ),
            (
                ClientAuth::private_key_jwt(
                    "svc",
                    SigningKey::eddsa_pem(&fixture("ed25519-private.pem")).unwrap(),
                ),
                Algorithm::EdDSA,
                DecodingKey::from_ed_pem(&fixture("ed25519-public.pem")).unwrap(),
                "private_key_jwt",
            ),
            (
                ClientAuth::client_secret_jwt("svc", secret),
                Algorithm::HS256,
                DecodingKey::from_secret(secret),
                "client_secret_jwt",
            ),
        ];
        for (auth, algorithm, key, method_name) in keys {
            assert_eq!(auth.method(), method_name);
            // A 429 first: the retry must carry a new assertion, not the first one again.
            let server = provider(Some(ResponseTemplate::new(429))).await;
            let client = OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri()))
                .issuer("https://issuer.example")
                .client_auth(auth)
                .retry(RetryPolicy::new(1).initial_backoff(Duration::from_millis(1)))
                .build()
                .unwrap();
            client.request_token_ccg("", None, None).await.unwrap();
            let sent = requests(&server).await;
            assert_eq!(sent.len(), 2, "{algorithm:?}");
            let mut jtis = HashSet::new();
            for request in &sent {
                assert_eq!(header_of(request, "authorization"), None);
                assert_eq!(field(request, "client_id"), "svc");
                assert_eq!(field(request, "client_assertion_type"), CLIENT_ASSERTION_TYPE);
                let claims =
                    verified(&field(request, "client_assertion"), algorithm, &key, "https://issuer.example");
                assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("svc"), Some("svc")));
                assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 60);
                jtis.insert(claims["jti"].as_str().unwrap().to_owned());
            }
            assert_eq!(jtis.len(), 2, "{algorithm:?}: a new jti for the retry");
        }
    }

    #[tokio::test]
    async fn the_assertion_audience_is_configurable() {
        let secret = b"a client secret of at least 32 bytes";
        let key = DecodingKey::from_secret(secret);
        let server = provider(None).await;
        let token_url = format!("{}{TOKEN_PATH}", server.uri());
        let revocation_url = format!("{}/revoke", server.uri());
        for (audience, expected) in [
            (None, token_url.clone()), // no issuer known: the token endpoint
            (Some(AssertionAudience::TokenEndpoint), token_url.clone()),
            (Some(AssertionAudience::RequestedEndpoint), revocation_url.clone()),
            (Some(AssertionAudience::Exactly("https://aud.example".into())), "https://aud.example".into()),
        ] {
            let mut auth = JwtClientAuth::new("svc", SigningKey::hs256(secret));
            if let Some(audience) = audience {
                auth = auth.audience(audience);
            }
            let client = OAuthClient::builder(&token_url)
                .revocation_url(&revocation_url)
                .client_auth(auth.into())
                .build()
                .unwrap();
            client.revoke_token("", "a-token", None, None).await.unwrap();
            let sent = requests(&server).await;
            let claims =
                verified(&field(sent.last().unwrap(), "client_assertion"), Algorithm::HS256, &key, &expected);
            assert_eq!(claims["aud"], expected.as_str());
        }
    }

    /// A vendor's method: an HMAC-like header over the URL and the time of each attempt.
    struct VendorSignature;

    impl AuthenticateClient for VendorSignature {
        fn authenticate(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
            let value = format!(
                "v1 url={} t={} endpoint={}",
                attempt.url().path(),
                attempt.now(),
                attempt.endpoint().name()
            );
            let value = HeaderValue::from_str(&value).map_err(|_| {
                Error::from(oauth_client::ConfigError::new(oauth_client::Setting::Custom, "header"))
            })?;
            attempt.insert_header(HeaderName::from_static("x-vendor-signature"), value);
            attempt.add_form("vendor_client", "acme");
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_teams_own_method_sees_each_attempt_and_adds_to_it() {
        let server = provider(None).await;
        let auth = ClientAuth::custom("vendor_signature", VendorSignature);
        assert_eq!(format!("{auth:?}"), r#"ClientAuth { method: "vendor_signature", client_id: None }"#);
        client(&server, auth).request_token_ccg("", None, None).await.unwrap();
        let request = &requests(&server).await[0];
        let signature = header_of(request, "x-vendor-signature").unwrap();
        assert!(signature.starts_with(&format!("v1 url={TOKEN_PATH} t=")), "{signature}");
        assert!(signature.ends_with(" endpoint=token"), "{signature}");
        assert_eq!(
            form_of(request),
            pairs(&[("grant_type", "client_credentials"), ("vendor_client", "acme")])
        );
    }

    #[tokio::test]
    async fn mtls_methods_send_the_client_id_to_the_providers_mtls_aliases() {
        let server = provider(None).await;
        let client = OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri()))
            .mtls_endpoint_alias(Endpoint::TOKEN, format!("{}/mtls/token", server.uri()))
            .client_auth(ClientAuth::tls_client_auth("device-17"))
            .build()
            .unwrap();
        client.request_token_ccg("", None, None).await.unwrap();
        let request = &requests(&server).await[0];
        assert_eq!(request.url.path(), "/mtls/token");
        assert_eq!(
            form_of(request),
            pairs(&[("grant_type", "client_credentials"), ("client_id", "device-17")])
        );
        // Without mTLS the alias is not used.
        let plain = OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri()))
            .mtls_endpoint_alias(Endpoint::TOKEN, format!("{}/mtls/token", server.uri()))
            .client_auth(ClientAuth::client_secret_post("c", "s"))
            .build()
            .unwrap();
        plain.request_token_ccg("", None, None).await.unwrap();
        assert_eq!(requests(&server).await[1].url.path(), TOKEN_PATH);
    }

    #[tokio::test]
    async fn discovery_finds_every_named_endpoint_and_the_mtls_aliases() {
        let server = MockServer::start().await;
        let base = server.uri();
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-authorization-server"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": base,
                "token_endpoint": format!("{base}/token"),
                "pushed_authorization_request_endpoint": format!("{base}/par"),
                "vendor_consent_endpoint": format!("{base}/consent"),
                "mtls_endpoint_aliases": {"token_endpoint": format!("{base}/mtls/token")},
            })))
            .mount(&server)
            .await;
        let client = OAuthClient::discover(&base).await.unwrap().build().unwrap();
        assert_eq!(client.issuer(), Some(base.as_str()));
        assert_eq!(client.endpoint(Endpoint::PUSHED_AUTHORIZATION_REQUEST).unwrap().path(), "/par");
        assert_eq!(client.endpoint(Endpoint::named("vendor_consent")).unwrap().path(), "/consent");
        assert_eq!(client.endpoint(Endpoint::TOKEN).unwrap().path(), "/token");
        let mtls = client.with_client_auth(ClientAuth::tls_client_auth("c"));
        assert_eq!(mtls.endpoint(Endpoint::TOKEN).unwrap().path(), "/mtls/token");
    }
}

mod challenge {
    use std::sync::Mutex;

    use oauth_client::{
        Attempt, AttemptResponse, AuthenticateClient, ClientAuth, Error, OAuthAuthorization, OAuthClient,
    };
    use oauth_client_tests::{TOKEN_PATH, form_of};
    use reqwest::header::HeaderValue;
    use serde_json::json;
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// Answers a server's nonce challenge: sends the last nonce it saw, and asks for one
    /// retry when a 400 carries a new one (the shape of DPoP's `use_dpop_nonce`).
    #[derive(Default)]
    struct NonceAnswering {
        nonce: Mutex<Option<String>>,
        seen_form: Mutex<Vec<String>>,
    }

    impl AuthenticateClient for NonceAnswering {
        fn authenticate(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
            assert_eq!(attempt.method(), "POST");
            self.seen_form
                .lock()
                .unwrap()
                .extend(attempt.form().map(|(name, value)| format!("{name}={value}")));
            if let Some(nonce) = self.nonce.lock().unwrap().clone() {
                attempt.add_form("nonce", &nonce);
            }
            Ok(())
        }

        fn wants_retry(&self, response: &AttemptResponse<'_>) -> bool {
            // A custom method may log what it sees: the body (a token, perhaps) is not shown.
            let shown = format!("{response:?}");
            assert!(!shown.contains("body") && !shown.contains("n-1"), "{shown}");
            let nonce = response.headers().get("x-nonce").and_then(|value: &HeaderValue| value.to_str().ok());
            match nonce {
                Some(nonce) if response.status() == 400 => {
                    *self.nonce.lock().unwrap() = Some(nonce.to_owned());
                    true
                }
                _ => false,
            }
        }
    }

    #[tokio::test]
    async fn client_authentication_answers_a_challenge_once() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400)
                    .insert_header("x-nonce", "n-1")
                    .set_body_json(json!({"error": "use_nonce"})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "at", "token_type": "Bearer"})),
            )
            .mount(&server)
            .await;
        let auth = std::sync::Arc::new(NonceAnswering::default());
        struct Shared(std::sync::Arc<NonceAnswering>);
        impl AuthenticateClient for Shared {
            fn authenticate(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
                self.0.authenticate(attempt)
            }
            fn wants_retry(&self, response: &AttemptResponse<'_>) -> bool {
                self.0.wants_retry(response)
            }
        }
        let client = OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri()))
            .client_auth(ClientAuth::custom("nonce", Shared(auth.clone())))
            .build()
            .unwrap();
        client.request_token_ccg("", Some("read"), None).await.unwrap();
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 2);
        assert!(!form_of(&requests[0]).iter().any(|(name, _)| name == "nonce"));
        assert!(form_of(&requests[1]).contains(&("nonce".to_owned(), "n-1".to_owned())));
        assert_eq!(auth.seen_form.lock().unwrap()[..2], ["grant_type=client_credentials", "scope=read"]);

        // A server that challenges every time gets one retry, then its error.
        let stubborn = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400)
                    .insert_header("x-nonce", "again")
                    .set_body_json(json!({"error": "use_nonce"})),
            )
            .mount(&stubborn)
            .await;
        let client = OAuthClient::builder(format!("{}{TOKEN_PATH}", stubborn.uri()))
            .client_auth(ClientAuth::custom("nonce", NonceAnswering::default()))
            .build()
            .unwrap();
        let error = client.request_token_ccg("", None, None).await.unwrap_err();
        assert_eq!(error.status(), Some(reqwest::StatusCode::BAD_REQUEST));
        assert_eq!(stubborn.received_requests().await.unwrap().len(), 2);
    }
}

mod dpop {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use oauth_client::dpop::DpopKey;
    use oauth_client::extensions::TokenRevocation;
    use oauth_client::manager::ClientCredentials;
    use oauth_client::{OAuthAuthorization, OAuthClient, TokenManager};
    use oauth_client_tests::header_of;
    use serde_json::{Value, json};
    use sha2::{Digest, Sha256};
    use wiremock::matchers::{header_exists, method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    /// The proof's header and claims, verified with the key in its own `jwk` header as a
    /// server does (jsonwebtoken, not the code under test).
    fn verified_proof(request: &Request) -> (jsonwebtoken::Header, Value) {
        let proof = header_of(request, "dpop").expect("a DPoP proof");
        let header = jsonwebtoken::decode_header(proof).unwrap();
        let key = DecodingKey::from_jwk(header.jwk.as_ref().expect("the public key in the header")).unwrap();
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let claims =
            jsonwebtoken::decode::<Value>(proof, &key, &validation).expect("the proof verifies").claims;
        (header, claims)
    }

    fn token(token_type: &str) -> Value {
        json!({"access_token": "dpop-bound-at", "token_type": token_type, "expires_in": 3600})
    }

    #[tokio::test]
    async fn token_requests_carry_a_fresh_proof_and_answer_a_nonce_challenge_once() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(
                ResponseTemplate::new(400)
                    .insert_header("DPoP-Nonce", "server-nonce-1")
                    .set_body_json(json!({"error": "use_dpop_nonce", "error_description": "nonce required"})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token("DPoP")))
            .mount(&server)
            .await;
        let key = DpopKey::generate().unwrap();
        let client = OAuthClient::builder(format!("{}/token?tenant=a", server.uri()))
            .dpop(key.clone())
            .build()
            .unwrap();
        let issued = client.request_token_ccg("Basic eDp5", None, None).await.unwrap();
        assert_eq!(issued.token_type, "DPoP");

        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 2, "the challenge, then the answer");
        let (first_header, first) = verified_proof(&requests[0]);
        let (_, second) = verified_proof(&requests[1]);
        assert_eq!(first_header.typ.as_deref(), Some("dpop+jwt"));
        assert_eq!(first_header.alg, Algorithm::ES256);
        for claims in [&first, &second] {
            assert_eq!(claims["htm"], "POST");
            assert_eq!(claims["htu"], format!("{}/token", server.uri()), "no query, no fragment");
            assert!(claims["iat"].as_i64().unwrap() > 1_700_000_000);
            assert!(claims.get("ath").is_none(), "no access token at the token endpoint");
        }
        assert!(first.get("nonce").is_none());
        assert_eq!(second["nonce"], "server-nonce-1");
        assert_ne!(first["jti"], second["jti"], "a new proof for the retry");

        // The key's thumbprint, computed here from the header's JWK as RFC 7638 says.
        let jwk = serde_json::to_value(first_header.jwk.unwrap()).unwrap();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        assert_eq!(key.thumbprint(), URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())));
        assert!(jwk.get("d").is_none(), "no private key in the proof");
    }

    #[tokio::test]
    async fn the_nonce_is_remembered_from_one_request_to_the_next() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(
                ResponseTemplate::new(200).insert_header("DPoP-Nonce", "n-2").set_body_json(token("DPoP")),
            )
            .mount(&server)
            .await;
        let client = OAuthClient::builder(format!("{}/token", server.uri()))
            .dpop(DpopKey::generate_ed25519().unwrap())
            .build()
            .unwrap();
        client.request_token_ccg("Basic eDp5", None, None).await.unwrap();
        client.request_token_ccg("Basic eDp5", None, None).await.unwrap();
        let requests = server.received_requests().await.unwrap();
        let (header, first) = verified_proof(&requests[0]);
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert!(first.get("nonce").is_none());
        assert_eq!(verified_proof(&requests[1]).1["nonce"], "n-2", "the nonce of the previous response");
    }

    /// An authorization server that, like AT Protocol's, requires a proof with its nonce from
    /// a DPoP client at every endpoint — and answers 200 to a revocation it ignored (RFC 7009
    /// lets it), so a missing proof would go unnoticed but for this check.
    struct RequiresProofAndNonce {
        nonce: &'static str,
        /// The endpoint's URL, which `htu` must name.
        url: String,
    }

    impl wiremock::Respond for RequiresProofAndNonce {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let Some(_) = header_of(request, "dpop") else {
                return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_dpop_proof"}));
            };
            let (header, claims) = verified_proof(request);
            if header.typ.as_deref() != Some("dpop+jwt")
                || claims["htm"] != "POST"
                || claims["htu"] != *self.url
            {
                return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_dpop_proof"}));
            }
            if claims["nonce"] != self.nonce {
                return ResponseTemplate::new(400)
                    .insert_header("DPoP-Nonce", self.nonce)
                    .set_body_json(json!({"error": "use_dpop_nonce"}));
            }
            ResponseTemplate::new(200).insert_header("x-revoked", "yes")
        }
    }

    #[tokio::test]
    async fn a_revocation_carries_a_proof_and_answers_the_nonce_challenge() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/revoke"))
            .respond_with(RequiresProofAndNonce {
                nonce: "revocation-nonce",
                url: format!("{}/revoke", server.uri()),
            })
            .mount(&server)
            .await;
        let client = OAuthClient::builder(format!("{}/token", server.uri()))
            .revocation_url(format!("{}/revoke", server.uri()))
            .dpop(DpopKey::generate().unwrap())
            .build()
            .unwrap();
        client.revoke_token("Basic eDp5", "dpop-bound-at", None, None).await.unwrap();
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 2, "the challenge, then the answer");
        assert!(verified_proof(&requests[0]).1.get("nonce").is_none());
        let (_, answered) = verified_proof(&requests[1]);
        assert_eq!(answered["nonce"], "revocation-nonce");
        assert!(answered.get("ath").is_none(), "a revocation presents no access token");
        // The same server, later: the remembered nonce goes with the first attempt.
        client.revoke_token("Basic eDp5", "another", None, None).await.unwrap();
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn userinfo_with_a_dpop_bound_token_carries_a_proof_with_its_hash() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/me"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sub": "alice"})))
            .mount(&server)
            .await;
        let client = OAuthClient::builder(format!("{}/token", server.uri()))
            .endpoint_url(oauth_client::Endpoint::USERINFO, format!("{}/me", server.uri()))
            .dpop(DpopKey::generate().unwrap())
            .build()
            .unwrap();
        use oauth_client::oidc::UserInfo as _;
        let info = client.user_info("DPoP dpop-bound-at").await.unwrap();
        assert_eq!(info.sub, "alice");
        let request = &server.received_requests().await.unwrap()[0];
        assert_eq!(header_of(request, "authorization"), Some("DPoP dpop-bound-at"));
        let (_, claims) = verified_proof(request);
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], format!("{}/me", server.uri()));
        assert_eq!(claims["ath"], URL_SAFE_NO_PAD.encode(Sha256::digest(b"dpop-bound-at")));
    }

    /// A nonce the client remembered goes stale: the server's challenge with a new one is
    /// answered once, with the new nonce.
    #[tokio::test]
    async fn a_stale_nonce_is_replaced_by_the_challenges_new_one() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).insert_header("DPoP-Nonce", "old").set_body_json(token("DPoP")),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400)
                    .insert_header("DPoP-Nonce", "new")
                    .set_body_json(json!({"error": "use_dpop_nonce"})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token("DPoP")))
            .mount(&server)
            .await;
        let client = OAuthClient::builder(format!("{}/token", server.uri()))
            .dpop(DpopKey::generate().unwrap())
            .build()
            .unwrap();
        client.request_token_ccg("Basic eDp5", None, None).await.unwrap();
        client.request_token_ccg("Basic eDp5", None, None).await.unwrap();
        let requests = server.received_requests().await.unwrap();
        let nonces: Vec<Value> =
            requests.iter().map(|request| verified_proof(request).1["nonce"].clone()).collect();
        assert_eq!(nonces, [Value::Null, json!("old"), json!("new")]);
    }

    #[tokio::test]
    async fn resource_requests_send_the_bound_token_with_a_proof_and_its_hash() {
        let provider = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token("DPoP")))
            .mount(&provider)
            .await;
        let api = MockServer::start().await;
        Mock::given(method("GET"))
            .and(header_exists("dpop"))
            .respond_with(
                ResponseTemplate::new(401)
                    .insert_header("WWW-Authenticate", r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#)
                    .insert_header("DPoP-Nonce", "resource-nonce"),
            )
            .up_to_n_times(1)
            .mount(&api)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("things"))
            .mount(&api)
            .await;
        let client = OAuthClient::builder(format!("{}/token", provider.uri()))
            .dpop(DpopKey::generate().unwrap())
            .build()
            .unwrap();
        let tokens = TokenManager::builder(client, ClientCredentials::new()).build();
        let response =
            tokens.send(reqwest::Client::new().get(format!("{}/things?page=2", api.uri()))).await.unwrap();
        assert_eq!(response.text().await.unwrap(), "things");

        let requests = api.received_requests().await.unwrap();
        assert_eq!(requests.len(), 2, "one answer to the nonce challenge");
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(b"dpop-bound-at"));
        for (request, nonce) in requests.iter().zip([None, Some("resource-nonce")]) {
            assert_eq!(header_of(request, "authorization"), Some("DPoP dpop-bound-at"));
            let (_, claims) = verified_proof(request);
            assert_eq!(claims["htm"], "GET");
            assert_eq!(claims["htu"], format!("{}/things", api.uri()));
            assert_eq!(claims["ath"], ath.as_str());
            assert_eq!(claims.get("nonce").and_then(Value::as_str), nonce);
        }
    }

    #[tokio::test]
    async fn the_bearer_helper_sends_a_dpop_bound_token_as_dpop_with_a_proof() {
        let provider = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token("DPoP")))
            .mount(&provider)
            .await;
        let api = MockServer::start().await;
        Mock::given(method("PUT")).respond_with(ResponseTemplate::new(204)).mount(&api).await;
        let client = OAuthClient::builder(format!("{}/token", provider.uri()))
            .dpop(DpopKey::generate().unwrap())
            .build()
            .unwrap();
        let tokens = TokenManager::builder(client, ClientCredentials::new()).build();
        let request =
            tokens.bearer(reqwest::Client::new().put(format!("{}/things/7", api.uri()))).await.unwrap();
        request.send().await.unwrap();
        let sent = &api.received_requests().await.unwrap()[0];
        assert_eq!(header_of(sent, "authorization"), Some("DPoP dpop-bound-at"));
        let (_, claims) = verified_proof(sent);
        assert_eq!(
            (claims["htm"].as_str(), claims["htu"].as_str()),
            (Some("PUT"), Some(format!("{}/things/7", api.uri()).as_str()))
        );
        assert_eq!(claims["ath"], URL_SAFE_NO_PAD.encode(Sha256::digest(b"dpop-bound-at")).as_str());
    }

    #[tokio::test]
    async fn a_bearer_token_is_sent_as_bearer_even_with_a_dpop_key() {
        let provider = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token("Bearer")))
            .mount(&provider)
            .await;
        let api = MockServer::start().await;
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&api).await;
        let client = OAuthClient::builder(format!("{}/token", provider.uri()))
            .dpop(DpopKey::generate().unwrap())
            .build()
            .unwrap();
        let tokens = TokenManager::builder(client, ClientCredentials::new()).build();
        tokens.send(reqwest::Client::new().get(api.uri())).await.unwrap();
        let request = &api.received_requests().await.unwrap()[0];
        assert_eq!(header_of(request, "authorization"), Some("Bearer dpop-bound-at"));
        assert_eq!(header_of(request, "dpop"), None);
    }

    #[test]
    fn the_key_round_trips_through_pem_and_never_prints_its_private_half() {
        let key = DpopKey::generate().unwrap();
        let pem = key.to_pkcs8_pem();
        assert_eq!(DpopKey::from_pkcs8_pem(&pem).unwrap().thumbprint(), key.thumbprint());
        let debug = format!("{key:?}");
        assert!(debug.contains(key.thumbprint()) && debug.contains("[redacted]"), "{debug}");
        let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
        assert!(!debug.contains(&body[..20]));
        assert!(DpopKey::from_pkcs8_pem("not a key").is_err());
    }
}
