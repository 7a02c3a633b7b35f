//! Sentinel secrets pushed through every public type, every error path and TRACE-level
//! tracing output never show up in `Debug`, `Display` or the trace.

use std::time::Duration;

use oauth_client::extensions::SigningKey;
use oauth_client::manager::PasswordGrant;
use oauth_client::{
    AccessToken, AuthorizationRequest, BasicAuth, ClientAuth, ClientAuthorization, ClientSecret,
    ClientSecretPost, Error, FormParams, OAuthAuthorization, OAuthClient, OAuthToken, Password, PkceVerifier,
    RefreshToken, RetryPolicy,
};
use oauth_client_tests::{TOKEN_PATH, token_endpoint};
use serde_json::json;
use wiremock::ResponseTemplate;

const SENTINEL: &str = "SENTINEL7f3a";

fn secret(kind: &str) -> String {
    format!("{SENTINEL}-{kind}")
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SENTINEL), "{what} leaks a secret: {text}");
}

fn assert_error_clean(what: &str, error: &Error) {
    assert_clean(what, &format!("{error} | {error:?}"));
}

#[test]
fn debug_of_every_secret_bearing_type_is_redacted() {
    let token: OAuthToken = serde_json::from_value(json!({
        "access_token": secret("at"),
        "token_type": "Bearer",
        "refresh_token": secret("rt"),
        "id_token": secret("id"),
        "client_secret": secret("cs-echo"),
    }))
    .unwrap();
    let pending = AuthorizationRequest::new("https://a.example/authorize", "c").build().unwrap();
    let values: Vec<(&str, String)> = vec![
        ("AccessToken", format!("{:?}", AccessToken::new(secret("at")))),
        ("RefreshToken", format!("{:?}", RefreshToken::new(secret("rt")))),
        ("ClientSecret", format!("{:?}", ClientSecret::new(secret("cs")))),
        ("Password", format!("{:?}", Password::new(secret("pw")))),
        ("PkceVerifier", format!("{:?}", PkceVerifier::new(secret("pkce")))),
        ("BasicAuth", format!("{:?}", BasicAuth::new("id", secret("cs")))),
        ("ClientSecretPost", format!("{:?}", ClientSecretPost::new("id", secret("cs")))),
        ("FormParams", format!("{:?}", FormParams::new().with("code_verifier", secret("v")))),
        ("OAuthToken", format!("{token:?} {token:#?}")),
        ("PendingAuthorization", format!("{pending:?}")),
        // The password source holds the password (sources hold no client credentials: the
        // client's `ClientAuth` does).
        ("PasswordGrant", format!("{:?}", PasswordGrant::new("user", secret("pw")))),
        ("ClientAuthorization", format!("{:?}", ClientAuthorization::from(secret("basic")))),
    ];
    for (what, text) in values {
        assert_clean(what, &text);
        assert!(text.contains("[redacted]"), "{what} says what it hid: {text}");
    }
    // Client authentication methods and clients configured with them name the method only.
    let rsa = std::fs::read(format!("{}/fixtures/rsa-private.pem", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let methods = [
        ClientAuth::client_secret_basic("id", secret("cs")),
        ClientAuth::client_secret_post("id", secret("cs")),
        ClientAuth::client_secret_jwt("id", secret("cs-jwt")),
        ClientAuth::private_key_jwt("id", SigningKey::rs256_pem(&rsa).unwrap()),
    ];
    for auth in methods {
        let client =
            OAuthClient::builder("https://a.example/token").client_auth(auth.clone()).build().unwrap();
        assert_clean(auth.method(), &format!("{auth:?} {client:?}"));
        assert!(!format!("{auth:?}").contains("PRIVATE KEY"));
    }
    // The verifier of a real pending authorization stays hidden too.
    let verifier = pending.pkce_verifier().unwrap().secret().to_owned();
    assert!(!format!("{pending:?}").contains(&verifier));
}

#[tokio::test]
async fn no_error_path_and_no_trace_line_carries_a_secret() {
    let traces = oauth_client_tests::traces::TraceCapture::start(tracing::Level::TRACE);

    let auth = BasicAuth::new("client", secret("client-secret")).header_value();
    let additional =
        FormParams::new().with("code_verifier", secret("pkce")).with("client_secret", secret("cs"));
    let code = secret("code");
    let password = secret("password");
    let refresh = secret("refresh");

    let responses = [
        ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant", "error_description": "no"})),
        ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})),
        ResponseTemplate::new(500).set_body_raw("<h1>oops</h1>", "text/html"),
        ResponseTemplate::new(302).insert_header("location", "https://elsewhere.example/"),
        // A token that does not decode: its own secret values must not leak either.
        ResponseTemplate::new(200)
            .set_body_json(json!({"access_token": secret("issued-at"), "refresh_token": secret("issued-rt"), "token_type": 1})),
        ResponseTemplate::new(200).set_body_raw(
            format!("access_token={}&token_type=5&expires_in=x", secret("issued-form")),
            "application/x-www-form-urlencoded",
        ),
        ResponseTemplate::new(200).set_body_json(json!({"access_token": secret("ok"), "token_type": "Bearer"})),
        ResponseTemplate::new(503).insert_header("retry-after", "0"),
        ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
    ];
    for response in responses {
        let server = token_endpoint(response).await;
        let client = OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri()))
            .timeout(Duration::from_millis(300))
            .retry(RetryPolicy::new(1).initial_backoff(Duration::from_millis(1)))
            .build()
            .unwrap();
        let results = [
            client.request_token_ccg(&auth, Some("read"), Some(&additional)).await,
            client.request_token_acg(&auth, &code, "https://cb", Some(&additional)).await,
            client.refresh_token_acg(&auth, &refresh, None, Some(&additional)).await,
            client.request_token_ropcg(&auth, "alice", &password, None, Some(&additional)).await,
            client.refresh_token_ropcg(&auth, &refresh, None, Some(&additional)).await,
        ];
        for result in results {
            match result {
                Ok(token) => assert_clean("token", &format!("{token:?}")),
                Err(error) => assert_error_clean("error", &error),
            }
        }
    }

    // The same failures with the secret in the client's own authentication: the secret, and
    // the assertions signed with it (JWTs start with `eyJ`), stay out of errors and traces.
    for response in [
        ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})),
        ResponseTemplate::new(500).set_body_string("upstream failed"),
        ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
    ] {
        let server = token_endpoint(response).await;
        for auth in [
            ClientAuth::client_secret_post("client", secret("post")),
            ClientAuth::client_secret_jwt("client", secret("jwt-key-of-32-bytes-or-more")),
        ] {
            let client = OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri()))
                .timeout(Duration::from_millis(300))
                .client_auth(auth)
                .build()
                .unwrap();
            let error = client.request_token_ccg("", Some("read"), None).await.unwrap_err();
            assert_error_clean("error with client authentication", &error);
            assert!(!format!("{error} {error:?}").contains("eyJ"), "{error:?}");
        }
    }

    // Errors raised before anything is sent.
    let client = OAuthClient::new("http://127.0.0.1:9/token").unwrap();
    let bad_header = format!("Basic {}\r\n", secret("header"));
    let error = client.request_token_ccg(&bad_header, None, None).await.unwrap_err();
    assert!(matches!(&error, Error::InvalidHeader { name, .. } if name == "Authorization"), "{error:?}");
    assert_error_clean("config error", &error);
    let error =
        OAuthClient::new(format!("ftp://{}.example/", secret("url-is-not-secret-but-check"))).unwrap_err();
    assert!(matches!(error, Error::Config(_)));
    let error = client.request_token_ropcg(&auth, "alice", &password, None, None).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_error_clean("transport error", &error);

    // A redirect that carries the provider's error.
    let pending = AuthorizationRequest::new("https://a.example/authorize", "c")
        .state("state-0123456789ab")
        .build()
        .unwrap();
    let error =
        pending.code_from_redirect("https://cb.example/?error=access_denied&state=other").unwrap_err();
    assert_error_clean("redirect error", &Error::from(error));

    let trace = traces.text();
    assert!(trace.contains("oauth_token_request"), "the trace has the request spans: {trace}");
    assert!(trace.contains("grant_type=\"client_credentials\""), "{trace}");
    assert!(trace.contains("status=400"), "{trace}");
    assert_clean("the trace", &trace);
    assert!(!trace.contains("eyJ"), "no assertion in the trace: {trace}");
}

/// A gateway's error page that echoes the provider's answer: each credential member, in
/// any case or spelling, loses its value in the error whatever the page's content type.
#[tokio::test]
async fn credentials_echoed_in_a_non_json_error_page_are_redacted() {
    let members = [
        ("access_token", "at"),
        ("refreshToken", "rt"),
        ("ID_TOKEN", "id"),
        ("client_secret", "cs"),
        ("assertion", "as"),
        ("deviceCode", "dc"),
        ("password", "pw"),
    ];
    let json_members: Vec<String> =
        members.iter().map(|(name, kind)| format!(r#""{name}":"{}""#, secret(kind))).collect();
    let bodies = [
        ("text/html", format!("<html>upstream said {{{}}}</html>", json_members.join(","))),
        (
            "text/plain",
            members.iter().map(|(name, kind)| format!("{name}={} ", secret(kind))).collect::<String>(),
        ),
        (
            "application/xml",
            members
                .iter()
                .map(|(name, kind)| format!("<{name}>{}</{name}>", secret(kind)))
                .collect::<String>(),
        ),
    ];
    for (content_type, body) in bodies {
        let server =
            token_endpoint(ResponseTemplate::new(502).set_body_raw(body.clone(), content_type)).await;
        let client = oauth_client_tests::client_for(&server);
        let error = client.request_token_ccg("Basic eDp5", None, None).await.unwrap_err();
        let Error::Http { body: kept, .. } = &error else { panic!("{error:?}") };
        assert_error_clean(content_type, &error);
        assert_eq!(kept.matches("[redacted]").count(), members.len(), "{content_type}: {kept}");
    }
}
