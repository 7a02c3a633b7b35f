//! Methods that post to endpoints other than the token endpoint send no `grant_type`.

use oauth_client::{oauth_grant, Error, OAuthClient, OAuthToken, TokenEndpoint};

pub trait Endpoints: TokenEndpoint {
    #[oauth_grant(endpoint = "revocation")]
    async fn revoke(&self, #[header("Authorization")] authorization: &str, #[form] token: &str) -> Result<(), Error>;

    #[oauth_grant(endpoint = "introspection")]
    async fn introspect(&self, #[form] token: &str) -> Result<serde_json::Value, Error>;

    #[oauth_grant(endpoint = "device_authorization")]
    async fn device(&self, #[form] client_id: &str) -> Result<serde_json::Value, Error>;

    #[oauth_grant(endpoint = "token", grant_type = "client_credentials")]
    async fn explicit_token_endpoint(&self, #[form] scope: Option<&str>) -> Result<OAuthToken, Error>;
}

impl Endpoints for OAuthClient {}

fn main() {
    let client = OAuthClient::new("https://auth.example/token").unwrap();
    let _ = client.revoke("", "t");
    let _ = client.explicit_token_endpoint(None);
}
