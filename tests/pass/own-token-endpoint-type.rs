//! A user's own type implements `TokenEndpoint` and gets the standard grants.

use oauth_client::{OAuthAuthorization, OAuthClient, TokenEndpoint};

pub struct Provider {
    client: OAuthClient,
}

impl TokenEndpoint for Provider {
    fn oauth_client(&self) -> &OAuthClient {
        &self.client
    }
}

impl OAuthAuthorization for Provider {}

fn spawnable<T: Send>(_: &T) {}

fn main() {
    let provider = Provider { client: OAuthClient::new("https://auth.example/token").unwrap() };
    let future = provider.request_token_ccg("Basic eA==", Some("read"), None);
    spawnable(&future);
}
