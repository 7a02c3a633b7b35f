//! What each of the five grants puts on the wire, and what it makes of a token response.

use std::time::{SystemTime, UNIX_EPOCH};

use oauth_client::{BasicAuth, FormParams, OAuthAuthorization, OAuthToken};
use oauth_client_tests::{TOKEN_PATH, client_for, form_of, header_of, json_endpoint, only_request, pairs};
use serde_json::json;
use wiremock::MockServer;

const AUTH: &str = "Basic Y2xpZW50OnNlY3JldA==";

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
async fn header_value_with_line_break_is_a_config_error_and_nothing_is_sent() {
    let server = json_endpoint(200, token_body()).await;
    let error = client_for(&server).request_token_ccg("Basic a\r\nX-Evil: 1", None, None).await.unwrap_err();
    assert!(
        matches!(error, oauth_client::Error::Config(ref message) if message.contains("`authorization`")),
        "{error:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
