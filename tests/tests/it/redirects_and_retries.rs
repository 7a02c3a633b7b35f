//! Redirects are never followed; retries happen only when asked for, and never for a code.

use reqwest::StatusCode;
use std::time::Duration;

use oauth_client::{
    BasicAuth, ClientSecretPost, Error, FormParams, OAuthAuthorization, OAuthClient, RetryPolicy,
};
use oauth_client_tests::{AUTH_XY, TOKEN_PATH, form_of, header_of, json_endpoint, only_request, pairs};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn token() -> serde_json::Value {
    json!({"access_token": "at", "token_type": "Bearer"})
}

/// A server answering `first` `times` times, then a token.
async fn flaky(first: ResponseTemplate, times: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(first)
        .up_to_n_times(times)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(token()))
        .mount(&server)
        .await;
    server
}

fn retrying_client(server: &MockServer) -> OAuthClient {
    let policy =
        RetryPolicy::new(3).initial_backoff(Duration::from_millis(1)).max_backoff(Duration::from_millis(20));
    OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri())).retry(policy).build().unwrap()
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn a_redirect_is_reported_and_not_followed() {
    let target = json_endpoint(200, token()).await;
    let location = format!("{}{TOKEN_PATH}", target.uri());
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", location.as_str()))
        .mount(&server)
        .await;
    let client = OAuthClient::new(format!("{}{TOKEN_PATH}", server.uri())).unwrap();
    let error = client.request_token_acg(AUTH_XY, "code", "https://cb", None).await.unwrap_err();
    assert!(
        matches!(&error, Error::UnexpectedRedirect { status: StatusCode::TEMPORARY_REDIRECT, location: Some(l) } if *l == location),
        "{error:?}"
    );
    assert_eq!(requests(&target).await, 0, "the code was not forwarded");
}

#[tokio::test]
async fn an_answer_from_another_origin_is_refused_even_with_a_following_http_client() {
    let target = json_endpoint(200, token()).await;
    let location = format!("{}/elsewhere", target.uri());
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", location.as_str()))
        .mount(&server)
        .await;
    // A user's client with reqwest's default policy, which follows redirects.
    let follows = reqwest::Client::new();
    let client =
        OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri())).http_client(follows).build().unwrap();
    let error = client.request_token_ccg(AUTH_XY, None, None).await.unwrap_err();
    assert!(
        matches!(&error, Error::UnexpectedRedirect { location: Some(l), .. } if *l == location),
        "{error:?}"
    );
}

#[tokio::test]
async fn without_a_policy_nothing_is_retried() {
    let server = flaky(ResponseTemplate::new(503), 1).await;
    let client = OAuthClient::new(format!("{}{TOKEN_PATH}", server.uri())).unwrap();
    let error = client.request_token_ccg(AUTH_XY, None, None).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn transient_statuses_are_retried_until_success() {
    for status in [429, 500, 502, 503] {
        let server = flaky(ResponseTemplate::new(status).insert_header("retry-after", "0"), 2).await;
        let token = retrying_client(&server).request_token_ccg(AUTH_XY, None, None).await.unwrap();
        assert_eq!(token.access_token.secret(), "at");
        assert_eq!(requests(&server).await, 3, "two failures, then success ({status})");
    }
}

#[tokio::test]
async fn retries_stop_after_the_policy_limit() {
    let server = flaky(ResponseTemplate::new(503), 10).await;
    let error = retrying_client(&server).request_token_ccg(AUTH_XY, None, None).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(requests(&server).await, 4, "one attempt and three retries");
}

#[tokio::test]
async fn provider_errors_are_not_retried() {
    let server = flaky(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})), 1).await;
    let error = retrying_client(&server).request_token_ccg(AUTH_XY, None, None).await.unwrap_err();
    assert!(error.provider_error().is_some());
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn an_authorization_code_is_retried_only_when_asked_per_call() {
    let server = flaky(ResponseTemplate::new(503), 1).await;
    let client = retrying_client(&server);
    let error = client.request_token_acg(AUTH_XY, "code", "https://cb", None).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(requests(&server).await, 1, "a single-use code is not replayed");

    let server = flaky(ResponseTemplate::new(503), 1).await;
    let client = retrying_client(&server).retrying_single_use_credentials();
    client.request_token_acg(AUTH_XY, "code", "https://cb", None).await.unwrap();
    assert_eq!(requests(&server).await, 2);
}

/// Found by reading the code: a refresh that timed out after the provider rotated the token
/// was sent again with the consumed refresh token (failed before the fix: 2 requests).
#[tokio::test]
async fn a_timed_out_refresh_is_not_sent_again() {
    let server =
        flaky(ResponseTemplate::new(200).set_body_json(token()).set_delay(Duration::from_secs(2)), 1).await;
    let client = retrying_client(&server).with_timeout(Duration::from_millis(300));
    let error = client.refresh_token_acg(AUTH_XY, "rt-1", None, None).await.unwrap_err();
    assert!(matches!(error, Error::Timeout), "{error:?}");
    assert_eq!(requests(&server).await, 1, "the possibly consumed refresh token is not replayed");
}

#[tokio::test]
async fn a_refresh_is_retried_when_the_provider_certainly_did_not_process_it() {
    for (refusal, retried) in [
        (ResponseTemplate::new(429), true),
        (ResponseTemplate::new(503).insert_header("Retry-After", "0"), true),
        (ResponseTemplate::new(503), false),
        (ResponseTemplate::new(500), false),
    ] {
        let server = flaky(refusal, 1).await;
        let result = retrying_client(&server).refresh_token_acg(AUTH_XY, "rt-1", None, None).await;
        assert_eq!(result.is_ok(), retried, "{result:?}");
        assert_eq!(requests(&server).await, if retried { 2 } else { 1 });
    }
}

#[tokio::test]
async fn a_client_assertion_is_not_replayed_after_a_server_error() {
    let server = flaky(ResponseTemplate::new(502), 1).await;
    let assertion = FormParams::new()
        .with("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        .with("client_assertion", "eyJ.e30.sig");
    let error = retrying_client(&server).request_token_ccg("", None, Some(&assertion)).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(requests(&server).await, 1);
    // A plain client-credentials request with the same failure is retried.
    let server = flaky(ResponseTemplate::new(502), 1).await;
    retrying_client(&server).request_token_ccg(AUTH_XY, None, None).await.unwrap();
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_refresh() {
    // Nothing listens on the port at first; the server appears before the retry.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = OAuthClient::builder(format!("http://{address}{TOKEN_PATH}"))
        .retry(RetryPolicy::new(1).initial_backoff(Duration::from_millis(300)))
        .build()
        .unwrap();
    let call = tokio::spawn(async move { client.refresh_token_acg(AUTH_XY, "rt-1", None, None).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let listener = std::net::TcpListener::bind(address).unwrap();
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token()))
        .mount(&server)
        .await;
    call.await.unwrap().unwrap();
    assert_eq!(requests(&server).await, 1);
}

#[test]
fn backoff_doubles_honours_retry_after_and_is_capped() {
    let policy =
        RetryPolicy::new(5).initial_backoff(Duration::from_millis(100)).max_backoff(Duration::from_secs(1));
    let waits: Vec<_> = (1..=5).map(|retry| policy.backoff(retry, None)).collect();
    assert_eq!(waits, [100, 200, 400, 800, 1000].map(Duration::from_millis));
    assert_eq!(policy.backoff(1, Some(Duration::from_millis(700))), Duration::from_millis(700));
    assert_eq!(policy.backoff(1, Some(Duration::from_secs(60))), Duration::from_secs(1));
}

#[tokio::test]
#[allow(deprecated)] // pins the superseded ClientSecretPost path while it exists
async fn client_secret_post_sends_credentials_in_the_form_and_no_authorization_header() {
    let server = json_endpoint(200, token()).await;
    let client = OAuthClient::new(format!("{}{TOKEN_PATH}", server.uri())).unwrap();
    let credentials = ClientSecretPost::new("my client", "s3cr:t");
    client.request_token_ccg("", Some("read"), Some(&credentials.form_params())).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(header_of(&request, "authorization"), None);
    assert_eq!(
        form_of(&request),
        pairs(&[
            ("grant_type", "client_credentials"),
            ("scope", "read"),
            ("client_id", "my client"),
            ("client_secret", "s3cr:t"),
        ])
    );
    assert!(!format!("{credentials:?}").contains("s3cr:t"));
}

#[tokio::test]
async fn unescaped_basic_sends_the_raw_credentials() {
    let server = json_endpoint(200, token()).await;
    let client = OAuthClient::new(format!("{}{TOKEN_PATH}", server.uri())).unwrap();
    let auth = BasicAuth::new("my client", "p+w/d").unescaped_header_value();
    client.request_token_ccg(&auth, None, None).await.unwrap();
    let request = only_request(&server).await;
    // base64("my client:p+w/d")
    assert_eq!(header_of(&request, "authorization"), Some("Basic bXkgY2xpZW50OnArdy9k"));
}

/// Every automatic retry leaves the same DEBUG event, whichever the server: why, and where
/// (host and path) — a DPoP nonce challenge at the token endpoint, an `invalid_token` at a
/// resource server.
#[tokio::test]
async fn automatic_retries_leave_the_same_debug_event_at_every_server() {
    use oauth_client::TokenManager;
    use oauth_client::dpop::DpopKey;
    use oauth_client::manager::ClientCredentials;

    let traces = oauth_client_tests::traces::TraceCapture::start(tracing::Level::DEBUG);
    let nonce_challenge = ResponseTemplate::new(400)
        .insert_header("DPoP-Nonce", "n1")
        .set_body_json(json!({"error": "use_dpop_nonce"}));
    let server = flaky(nonce_challenge, 1).await;
    Mock::given(method("GET"))
        .and(path("/api"))
        .respond_with(
            ResponseTemplate::new(401).insert_header("WWW-Authenticate", r#"Bearer error="invalid_token""#),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;

    let client = OAuthClient::builder(format!("{}{TOKEN_PATH}", server.uri()))
        .dpop(DpopKey::generate().unwrap())
        .build()
        .unwrap();
    let tokens = TokenManager::builder(client, ClientCredentials::new()).build();
    let answer = tokens.send(reqwest::Client::new().get(format!("{}/api", server.uri()))).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);

    let text = traces.text();
    let events: Vec<&str> = text.lines().filter(|line| line.contains("sending the request again")).collect();
    assert_eq!(
        events,
        [
            r#"DEBUG sending the request again reason="use_dpop_nonce" host="127.0.0.1" path="/oauth2/token""#,
            r#"DEBUG sending the request again reason="invalid_token" host="127.0.0.1" path="/api""#,
        ],
        "{text}"
    );
}
