//! Helpers shared by the integration tests: a local token endpoint (wiremock) and readers
//! for what it received.

pub mod browser;
pub mod clock;
pub mod fleet;
pub mod proxy;
pub mod resource_server;
#[cfg(unix)]
pub mod terminal;
pub mod traces;

use oauth_client::{ClientAuth, OAuthClient};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The path the test servers serve their token endpoint on.
pub const TOKEN_PATH: &str = "/oauth2/token";

/// `Authorization` for client `client` with secret `secret` (HTTP Basic).
pub const AUTH: &str = "Basic Y2xpZW50OnNlY3JldA==";

/// `Authorization` for client `x` with secret `y`, where the credentials do not matter.
pub const AUTH_XY: &str = "Basic eDp5";

/// A client of `token_url` that authenticates as `client` / `secret` with HTTP Basic: it
/// sends [`AUTH`].
pub fn basic_client(token_url: &str) -> OAuthClient {
    OAuthClient::builder(token_url)
        .client_auth(ClientAuth::client_secret_basic("client", "secret"))
        .build()
        .unwrap()
}

/// When the tests' manual clocks start (Unix seconds, 2027-01-15).
pub const T0: i64 = 1_800_000_000;

/// The smallest token response: `at`, Bearer, 60 s.
pub fn token_json() -> Value {
    serde_json::json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60})
}

/// A server whose token endpoint answers every POST with `responder` (a `ResponseTemplate`,
/// or a `Respond` that counts or scripts).
pub async fn token_endpoint(responder: impl wiremock::Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path(TOKEN_PATH)).respond_with(responder).mount(&server).await;
    server
}

/// [`token_endpoint`] and a client of it.
pub async fn serve(responder: impl wiremock::Respond + 'static) -> (MockServer, OAuthClient) {
    let server = token_endpoint(responder).await;
    let client = client_for(&server);
    (server, client)
}

/// A server whose token endpoint answers every POST with `status` and the JSON `body`.
pub async fn json_endpoint(status: u16, body: Value) -> MockServer {
    token_endpoint(ResponseTemplate::new(status).set_body_json(body)).await
}

/// A client of `server`'s token endpoint.
pub fn client_for(server: &MockServer) -> OAuthClient {
    OAuthClient::new(format!("{}{TOKEN_PATH}", server.uri())).expect("a valid local URL")
}

/// The one request `server` received.
pub async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.expect("request recording is on");
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

/// The form fields of `request`, decoded, in the order they were sent.
pub fn form_of(request: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body).into_owned().collect()
}

/// A header of `request` as a string, if present.
pub fn header_of<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).map(|value| value.to_str().expect("an ASCII header value"))
}

/// Owned `(name, value)` pairs, for comparing with [`form_of`].
pub fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
}
