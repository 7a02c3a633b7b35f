//! Every generated future is `Send`: it can be spawned on a multi-threaded runtime.

use std::future::Future;

use oauth_client::{
    Error, FormParams, OAuthAuthorization, OAuthClient, OAuthToken, TokenEndpoint, oauth_grant,
};
use oauth_client_tests::{client_for, json_endpoint};
use serde_json::json;

fn require_send<F: Future + Send>(future: F) -> F {
    future
}

trait Custom: TokenEndpoint {
    #[oauth_grant(grant_type = "urn:example:custom")]
    async fn custom(&self, #[form] subject: String, #[form] count: Option<u32>) -> Result<OAuthToken, Error>;
}

impl Custom for OAuthClient {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_grant_future_can_be_spawned() {
    let server = json_endpoint(200, json!({"access_token": "a", "token_type": "Bearer"})).await;
    let client = client_for(&server);
    let auth = String::from("Basic eA==");
    let extra = FormParams::new().with("k", "v");

    let mut tasks = Vec::new();
    macro_rules! spawn {
        (|$client:ident, $auth:ident, $extra:ident| $call:expr) => {{
            let ($client, $auth, $extra) = (client.clone(), auth.clone(), extra.clone());
            tasks.push(tokio::spawn(async move {
                let ($client, $auth, $extra) = (&$client, $auth.as_str(), &$extra);
                require_send($call).await
            }));
        }};
    }
    spawn!(|c, a, e| c.request_token_ccg(a, Some("s"), Some(e)));
    spawn!(|c, a, e| c.request_token_acg(a, "code", "https://cb", Some(e)));
    spawn!(|c, a, e| c.refresh_token_acg(a, "rt", None, Some(e)));
    spawn!(|c, a, e| c.request_token_ropcg(a, "u", "p", None, Some(e)));
    spawn!(|c, a, e| c.refresh_token_ropcg(a, "rt", Some("s"), Some(e)));
    spawn!(|c, _a, _e| c.custom("subject".to_owned(), Some(3)));

    for task in tasks {
        let token = task.await.expect("the task ran").expect("the grant succeeded");
        assert_eq!(token.access_token.secret(), "a");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 6);
}
